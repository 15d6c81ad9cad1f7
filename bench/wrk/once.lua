-- wrk script of bench/compare.sh: sends each line of a file exactly once, then idles.
--   BENCH_LINES    the file; each line is one request (a form body, or a bearer token)
--   BENCH_KIND     "form": the line is the body of a form POST (with BENCH_AUTH, an
--                  Authorization header value); "decision": the line is a decision token,
--                  sent as `Authorization: Bearer <line>` with BENCH_BODY as the JSON body
--   BENCH_THREADS  wrk's --threads (each thread sends the lines i with i % threads = its index)
--   BENCH_FILLER   a path that answers 404, sent by connections that have nothing left
-- A thread stops once every line of its share has been answered. wrk itself returns only at
-- the end of its --duration: the caller watches the gateway's metrics and stops it.

local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

local lines = {}
local mine, next_index, answered = nil, 0, 0
local kind = os.getenv("BENCH_KIND") or "form"
local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local filler = nil
-- wrk calls request() once on the first thread before the run, to inspect the request, and
-- never sends that one: that thread answers it with the filler.
local inspecting = false

function init(args)
  for line in io.lines(os.getenv("BENCH_LINES")) do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  mine = {}
  for i, line in ipairs(lines) do
    if (i - 1) % threads == index then
      local headers = {}
      local body
      if kind == "decision" then
        headers["Authorization"] = "Bearer " .. line
        headers["Content-Type"] = "application/json"
        body = os.getenv("BENCH_BODY") or '{"decision":"approve"}'
      else
        local auth = os.getenv("BENCH_AUTH")
        if auth and auth ~= "" then
          headers["Authorization"] = auth
        end
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = line
      end
      mine[#mine + 1] = wrk.format("POST", nil, headers, body)
    end
  end
  filler = wrk.format("GET", os.getenv("BENCH_FILLER") or "/bench-filler-not-found")
  inspecting = index == 0
end

function request()
  if inspecting then
    inspecting = false
    return filler
  end
  if next_index < #mine then
    next_index = next_index + 1
    return mine[next_index]
  end
  return filler
end

function response(status, headers, body)
  if status ~= 404 then
    answered = answered + 1
  end
  if answered >= #mine then
    wrk.thread:stop()
  end
end
