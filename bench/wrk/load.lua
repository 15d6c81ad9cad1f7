-- wrk script of bench/compare.sh: one arm's load. Settings come from the environment:
--   BENCH_METHOD  GET (default) or POST
--   BENCH_BODIES  a file of request bodies, one a line, cycled over (none: no body)
--   BENCH_CTYPE   Content-Type of the bodies (default application/x-www-form-urlencoded)
--   BENCH_AUTH    an Authorization header value
-- With one body or none the request is built once (wrk's static request); with several,
-- each thread builds them once and cycles. done() prints one line for the script to parse:
--   RESULT requests= duration_us= p50_us= p99_us= status_errors= socket_errors=
-- where status_errors counts answers with a status of 400 or more (wrk's own count).

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local auth = os.getenv("BENCH_AUTH")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

local bodies = {}
local file = os.getenv("BENCH_BODIES")
if file and file ~= "" then
  for line in io.lines(file) do
    if line ~= "" then
      bodies[#bodies + 1] = line
    end
  end
  wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/x-www-form-urlencoded"
end

if #bodies == 1 then
  wrk.body = bodies[1]
elseif #bodies > 1 then
  local requests, next_index = nil, 0
  function request()
    if not requests then
      requests = {}
      for i, body in ipairs(bodies) do
        requests[i] = wrk.format(nil, nil, nil, body)
      end
    end
    next_index = next_index % #requests + 1
    return requests[next_index]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
