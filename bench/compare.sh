#!/usr/bin/env bash
# The gateway against what an operator would otherwise run, in one run on one machine
# (docs/benchmark.md explains the arms and how to read the numbers).
#
#   bench/compare.sh [options]
#
# Arms, all driven by wrk (Lua scripts in bench/wrk/) in alternating rounds, against one
# fixed-answer upstream speaking the Authlete envelope (examples/bench_upstream.rs):
#   token        POST /token, a pending CIBA poll (400 authorization_pending, the expected answer):
#                the gateway (ciba.enforce_interval = false, so every poll reaches the upstream),
#                nginx as a keep-alive reverse proxy to the upstream, and the upstream directly
#   backchannel  POST /backchannel/authentication (two upstream calls, the pending cap lifted)
#                vs node-oidc-provider 9 in CIBA poll mode (bench/node, in-memory adapter)
#   discovery    the gateway's cached discovery vs nginx serving the same file
# then the gateway's peak RSS (VmHWM) while wrk holds --rss-connections keep-alive connections
# on discovery, and notification fan-out: --notifications ping-mode requests created through a
# gateway with its embedded emulator, approved in one burst at POST /device/decisions and
# delivered to an nginx receiver (204), with state.backend = "memory" and, when Redis is at
# hand, "redis": one burst per backend and round, each on a fresh gateway, the median reported.
# Writes <out>/compare.md (a Markdown table) and <out>/compare.svg (a chart).
#
# Options (defaults in brackets):
#   --debug                 use the debug binaries `cargo test` builds (CI) [release build]
#   --no-build              use the binaries already built, without running cargo build
#   --duration SECS         seconds per arm and round [10]
#   --rounds N              alternating rounds [3]
#   --warmup SECS           seconds of unrecorded load per arm before the rounds [2]
#   --connections N         wrk connections [64]
#   --threads N             wrk threads [nproc]
#   --rss-connections N     connections held for the RSS measurement [1000]
#   --rss-duration SECS     seconds of that load [10]
#   --notifications N       ping requests of the fan-out [10000]
#   --redis-url URL         run the fan-out with a redis backend too, on this Redis
#                           [start redis-server on a free port when it is installed]
#   --no-redis              no redis fan-out
#   --users N               users in the gateway's directory, which the requests cycle over [10000]
#   --out DIR               where compare.md and compare.svg go [docs/bench]
#
# Needs: cargo, wrk, nginx, gnuplot, node + `npm ci` in bench/node, curl, python3 (Debian:
# apt-get install wrk nginx gnuplot-nox curl python3 nodejs npm; redis-server optional).
# Exit status 1 if any arm answers other than expected (a status, a socket error, a missing
# notification); nothing about speed is asserted.

set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
COMMAND="bench/compare.sh${*:+ $*}"
PROFILE=release
BUILD=1
DURATION=10
ROUNDS=3
WARMUP=2
CONNECTIONS=64
THREADS=$(nproc)
RSS_CONNECTIONS=1000
RSS_DURATION=10
NOTIFICATIONS=10000
REDIS_URL=""
NO_REDIS=0
OUT_DIR="$ROOT/docs/bench"
USERS=10000

usage() { sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) PROFILE=debug ;;
    --no-build) BUILD=0 ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --rss-connections) RSS_CONNECTIONS=$2; shift ;;
    --rss-duration) RSS_DURATION=$2; shift ;;
    --notifications) NOTIFICATIONS=$2; shift ;;
    --redis-url) REDIS_URL=$2; shift ;;
    --no-redis) NO_REDIS=1 ;;
    --out) OUT_DIR=$2; shift ;;
    --users) USERS=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for number in "$DURATION" "$ROUNDS" "$WARMUP" "$CONNECTIONS" "$THREADS" "$RSS_CONNECTIONS" \
  "$RSS_DURATION" "$NOTIFICATIONS" "$USERS"; do
  [[ "$number" =~ ^[0-9]+$ ]] || { echo "not a whole number: $number" >&2; exit 2; }
done
((DURATION > 0 && ROUNDS > 0 && CONNECTIONS > 0 && THREADS > 0 && NOTIFICATIONS > 0 && USERS > 0)) \
  || { echo "--duration, --rounds, --connections, --threads, --notifications, --users must be > 0" >&2; exit 2; }
((THREADS <= CONNECTIONS)) || THREADS=$CONNECTIONS

fail() { echo "compare.sh: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in cargo wrk gnuplot node curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (see the header of $0)"
done
[[ -x "$NGINX" ]] || fail "nginx is not installed (see the header of $0)"
[[ -d "$ROOT/bench/node/node_modules/oidc-provider" ]] \
  || fail "node-oidc-provider is missing: run \`npm ci\` in bench/node"

# ---------------------------------------------------------------------------------------------
# Processes and files of this run: every process started here is stopped on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gateway-compare.XXXXXX")
chmod 755 "$TMP" # nginx workers (nobody, when run as root) read the files served
PIDS=()
cleanup() {
  local status=$?
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0)); then
    echo "compare.sh: failed; logs were in $TMP:" >&2
    tail -n 5 "$TMP"/*.log 2>/dev/null >&2 || true
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts a process in the background, its output in $TMP/<name>.log; sets LAST_PID.
start() {
  local name=$1
  shift
  "$@" >"$TMP/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# Stops one process started by `start` and forgets it.
stop() {
  local pid=$1 kept=()
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (at most 60 s) until URL answers over HTTP (any status, or with a 4th argument a 2xx);
# fails if PID died.
await_http() {
  local url=$1 pid=$2 name=$3 status
  for _ in $(seq 600); do
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)
    if [[ -n "${4:-}" ]]; then [[ "$status" == 2* ]] && return 0; else [[ "$status" != 000 ]] && return 0; fi
    kill -0 "$pid" 2>/dev/null || fail "$name exited: $(tail -n 20 "$TMP/$name.log")"
    sleep 0.1
  done
  fail "$name did not answer at $url within 60 s"
}

# The value of one Prometheus series (0 when absent) on an admin listener.
metric() {
  curl -s --max-time 5 "$1/metrics" | awk -v key="$2" '$1 == key { print $2; found = 1 } END { if (!found) print 0 }'
}
# The sum of the series of NAME whose labels contain LABELS; with a 4th argument GOOD, also the
# sum of those among them whose labels lack GOOD: "SUM OTHERS", from one request.
metric_sums() {
  curl -s --max-time 5 "$1/metrics" \
    | awk -v name="$2" -v labels="$3" -v good="${4:-}" '
        ($1 == name || index($1, name "{") == 1) && (labels == "" || index($1, labels)) {
          s += $2
          if (good != "" && index($1, name "{") == 1 && !index($1, good)) e += $2
        }
        END { print s + 0, e + 0 }'
}
# The sum of the series of NAME whose labels contain LABELS.
metric_sum() {
  local sums
  sums=$(metric_sums "$@")
  echo "${sums%% *}"
}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) > RSS_CONNECTIONS + 100)) \
  || fail "open-file limit $(ulimit -n) is too low for --rss-connections $RSS_CONNECTIONS"

# ---------------------------------------------------------------------------------------------
cd "$ROOT"
if ((BUILD)); then
  say "building the gateway and the fixed-answer upstream ($PROFILE)"
  if [[ "$PROFILE" == release ]]; then
    cargo build --release --bin authlete-gateway --example bench_upstream >&2
  else
    cargo build --bin authlete-gateway --example bench_upstream >&2
  fi
fi
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
GATEWAY_BIN="$TARGET_DIR/$PROFILE/authlete-gateway"
UPSTREAM_BIN="$TARGET_DIR/$PROFILE/examples/bench_upstream"
[[ -x "$GATEWAY_BIN" && -x "$UPSTREAM_BIN" ]] || fail "no $PROFILE build in $TARGET_DIR (drop --no-build)"

# ---------------------------------------------------------------------------------------------
# Ports, documents, bodies.
UP_PORT=$(free_port)
GW_PORT=$(free_port)
GW_ADMIN_PORT=$(free_port)
NGX_PROXY_PORT=$(free_port)
NGX_STATIC_PORT=$(free_port)
NGX_RECEIVER_PORT=$(free_port)
NODE_PORT=$(free_port)
GW="http://127.0.0.1:$GW_PORT"
GW_ADMIN="http://127.0.0.1:$GW_ADMIN_PORT"

# The discovery document the upstream serves as Authlete's service/configuration and nginx as a
# file: what Authlete publishes for a CIBA service, with this gateway's URLs.
mkdir -p "$TMP/www/.well-known"
chmod -R 755 "$TMP/www"
python3 - "$GW" >"$TMP/discovery.json" <<'EOF'
import json, sys
base = sys.argv[1]
print(json.dumps({
    "issuer": base,
    "token_endpoint": f"{base}/token",
    "backchannel_authentication_endpoint": f"{base}/backchannel/authentication",
    "jwks_uri": f"{base}/jwks",
    "userinfo_endpoint": f"{base}/userinfo",
    "introspection_endpoint": f"{base}/introspection",
    "revocation_endpoint": f"{base}/revocation",
    "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
    "response_types_supported": ["none"],
    "grant_types_supported": ["urn:openid:params:grant-type:ciba", "refresh_token"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
    "token_endpoint_auth_methods_supported": [
        "client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt",
        "tls_client_auth"],
    "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256", "HS256"],
    "claims_supported": ["sub", "name", "given_name", "family_name", "email", "email_verified",
                         "phone_number", "address", "birthdate", "locale"],
    "claims_parameter_supported": False,
    "request_parameter_supported": True,
    "backchannel_token_delivery_modes_supported": ["poll", "ping", "push"],
    "backchannel_authentication_request_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
    "backchannel_user_code_parameter_supported": True,
    "tls_client_certificate_bound_access_tokens": True,
    "dpop_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
    "code_challenge_methods_supported": ["S256"],
}, indent=1))
EOF
cp "$TMP/discovery.json" "$TMP/www/.well-known/openid-configuration"
chmod 644 "$TMP/www/.well-known/openid-configuration"

CLIENT_BASIC="Basic $(printf %s 'bench-client:bench-client-secret' | base64 -w0)"
printf 'grant_type=urn%%3Aopenid%%3Aparams%%3Agrant-type%%3Aciba&auth_req_id=bench-req-pending\n' \
  >"$TMP/token.bodies"
for ((i = 0; i < USERS; i++)); do
  printf 'scope=openid&login_hint=user%d%%40example.com\n' "$i"
done >"$TMP/backchannel.bodies"

# The static directory: $1 users (default --users).
users_toml() {
  for ((i = 0; i < ${1:-$USERS}; i++)); do
    printf '\n[[users.static]]\nsubject = "user%d"\nlogin_hints = ["user%d@example.com"]\n' "$i" "$i"
  done
}

# The gateway in front of the fixed-answer upstream (Authlete API v3 paths), listening on $1/$2,
# with $3 users in its directory (default --users).
gateway_config() {
  cat <<EOF
[server]
listen = "127.0.0.1:$1"
public_url = "$GW"
shutdown_timeout_secs = 2

[admin]
listen = "127.0.0.1:$2"
console = true

[authlete]
backend = "remote"
base_url = "http://127.0.0.1:$UP_PORT"
service_id = "1001"
access_token = "bench-access-token"

[device]
channel = "console"
decision_keys = ["$(head -c 32 /dev/urandom | base64 -w0)"]

[ciba]
# Every poll reaches the upstream, and no backchannel request is refused for its user's count.
enforce_interval = false
max_pending_per_user = 100000000

[log]
level = "warn"
EOF
  users_toml "${3:-$USERS}"
}

# ---------------------------------------------------------------------------------------------
say "starting the upstream, the gateway, nginx and node-oidc-provider"
start upstream "$UPSTREAM_BIN" --listen "127.0.0.1:$UP_PORT" --discovery "$TMP/discovery.json" \
  --users "$USERS"
UPSTREAM_PID=$LAST_PID
await_http "http://127.0.0.1:$UP_PORT/" "$UPSTREAM_PID" upstream

gateway_config "$GW_PORT" "$GW_ADMIN_PORT" >"$TMP/gateway.toml"
"$GATEWAY_BIN" --config "$TMP/gateway.toml" --check-config >&2
start gateway "$GATEWAY_BIN" --config "$TMP/gateway.toml"
GATEWAY_PID=$LAST_PID
await_http "$GW_ADMIN/readyz" "$GATEWAY_PID" gateway ready

mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  log_format delivery '\$msec \$status \$request_uri';
  log_format device escape=json '\$request_uri \$request_body';

  upstream bench_upstream {
    server 127.0.0.1:$UP_PORT;
    keepalive 128;
  }
  # The reverse proxy: keep-alive connections to the upstream.
  server {
    listen 127.0.0.1:$NGX_PROXY_PORT;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
  # The discovery document as a static file, cacheable as the gateway serves it.
  server {
    listen 127.0.0.1:$NGX_STATIC_PORT;
    root $TMP/www;
    location = /.well-known/openid-configuration {
      default_type application/json;
      add_header Cache-Control "public, max-age=300";
    }
  }
  # The clients' notification endpoint: 204 to every notification, each one logged; and the
  # authentication device's webhook, whose messages (with their decision tokens) are logged.
  server {
    listen 127.0.0.1:$NGX_RECEIVER_PORT;
    location / {
      access_log $TMP/notifications.log delivery;
      return 204;
    }
    location /device/ {
      access_log $TMP/webhooks.log device;
      proxy_pass http://127.0.0.1:$NGX_RECEIVER_PORT/accepted;
    }
    location /accepted {
      access_log off;
      return 204;
    }
  }
}
EOF
start nginx "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx-error.log" -c "$TMP/nginx/nginx.conf"
NGINX_PID=$LAST_PID
await_http "http://127.0.0.1:$NGX_STATIC_PORT/" "$NGINX_PID" nginx

start node-oidc-provider node "$ROOT/bench/node/provider.js" "$NODE_PORT"
NODE_PID=$LAST_PID
await_http "http://127.0.0.1:$NODE_PORT/.well-known/openid-configuration" "$NODE_PID" node-oidc-provider

# ---------------------------------------------------------------------------------------------
# The arms: name | URL | method | bodies file | Authorization | expected status.
ARMS=(
  "gateway /token|$GW/token|POST|$TMP/token.bodies|$CLIENT_BASIC|400"
  "nginx /token|http://127.0.0.1:$NGX_PROXY_PORT/token|POST|$TMP/token.bodies|$CLIENT_BASIC|400"
  "upstream /token|http://127.0.0.1:$UP_PORT/token|POST|$TMP/token.bodies|$CLIENT_BASIC|400"
  "gateway /backchannel|$GW/backchannel/authentication|POST|$TMP/backchannel.bodies|$CLIENT_BASIC|200"
  "node-oidc-provider /backchannel|http://127.0.0.1:$NODE_PORT/backchannel|POST|$TMP/backchannel.bodies|$CLIENT_BASIC|200"
  "gateway discovery|$GW/.well-known/openid-configuration|GET|||200"
  "nginx discovery|http://127.0.0.1:$NGX_STATIC_PORT/.well-known/openid-configuration|GET|||200"
)

# One request by curl, its status and body checked: each arm must answer what it is meant to.
check_answer() {
  local name=$1 url=$2 method=$3 bodies=$4 auth=$5 expected=$6 args=() status
  [[ -n "$auth" ]] && args+=(-H "Authorization: $auth")
  [[ -n "$bodies" ]] && args+=(--data-binary "$(head -n 1 "$bodies")")
  status=$(curl -s -o "$TMP/answer" -D "$TMP/answer-headers" -w '%{http_code}' -X "$method" \
    "${args[@]}" "$url")
  [[ "$status" == "$expected" ]] || fail "$name answered $status, not $expected: $(head -c 300 "$TMP/answer")"
  # wrk measures keep-alive connections: an arm that closes its connection after each answer
  # would measure a TCP handshake per request instead.
  if grep -qi '^connection: *close' "$TMP/answer-headers"; then
    fail "$name closes its connection after the answer"
  fi
  case "$name" in
    */token) grep -q '"error":"authorization_pending"' "$TMP/answer" \
      || fail "$name did not answer authorization_pending: $(head -c 300 "$TMP/answer")" ;;
    */backchannel) grep -q '"auth_req_id"' "$TMP/answer" \
      || fail "$name issued no auth_req_id: $(head -c 300 "$TMP/answer")" ;;
    *discovery) cmp -s "$TMP/answer" "$TMP/discovery.json" \
      || fail "$name did not serve the discovery document" ;;
  esac
}

# One wrk run of an arm; appends "name<TAB>round<TAB>req/s<TAB>p50 µs<TAB>p99 µs" to results.
run_arm() {
  local round=$1 secs=$2 name url method bodies auth expected out line
  IFS='|' read -r name url method bodies auth expected <<<"$3"
  out=$(BENCH_METHOD=$method BENCH_BODIES=$bodies BENCH_AUTH=$auth \
    wrk -t "$THREADS" -c "$CONNECTIONS" -d "${secs}s" --latency -s "$ROOT/bench/wrk/load.lua" "$url") \
    || fail "wrk failed on $name: $out"
  line=$(grep '^RESULT ' <<<"$out") || fail "no result from wrk on $name: $out"
  local requests duration_us p50_us p99_us status_errors socket_errors
  # The RESULT line is key=number pairs, all of them declared just above.
  eval "$(sed 's/^RESULT //' <<<"$line" | tr ' ' '\n')"
  ((requests > 0)) || fail "$name: no request completed"
  ((socket_errors == 0)) || fail "$name: $socket_errors socket errors (connect, read, write, timeout)"
  if ((expected >= 400)); then
    ((status_errors == requests)) || fail "$name: $((requests - status_errors)) answers were not $expected"
  else
    ((status_errors == 0)) || fail "$name: $status_errors answers with a status of 400 or more"
  fi
  [[ "$round" == warmup ]] && return 0
  printf '%s\t%s\t%.1f\t%s\t%s\n' "$name" "$round" \
    "$(python3 -c "print($requests * 1e6 / $duration_us)")" "$p50_us" "$p99_us" >>"$TMP/results.tsv"
  printf '   %-34s round %s: %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' "$name" "$round" \
    "$(python3 -c "print($requests * 1e6 / $duration_us)")" \
    "$(python3 -c "print($p50_us / 1000)")" "$(python3 -c "print($p99_us / 1000)")" >&2
}

say "checking each arm's answer"
for arm in "${ARMS[@]}"; do
  IFS='|' read -r name url method bodies auth expected <<<"$arm"
  check_answer "$name" "$url" "$method" "$bodies" "$auth" "$expected"
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$TMP/results.tsv"
if ((WARMUP > 0)); then
  say "warm-up: ${WARMUP} s per arm"
  for arm in "${ARMS[@]}"; do run_arm warmup "$WARMUP" "$arm"; done
fi
for ((round = 1; round <= ROUNDS; round++)); do
  say "round $round of $ROUNDS: ${DURATION} s per arm, $CONNECTIONS connections, $THREADS wrk threads"
  order=("${ARMS[@]}")
  if ((round % 2 == 0)); then # every other round in the reverse order
    order=()
    for ((i = ${#ARMS[@]} - 1; i >= 0; i--)); do order+=("${ARMS[i]}"); done
  fi
  for arm in "${order[@]}"; do run_arm "$round" "$DURATION" "$arm"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

vm_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
NODE_HWM=$(vm_hwm_kib "$NODE_PID")
GATEWAY_HWM_AFTER=$(vm_hwm_kib "$GATEWAY_PID")
stop "$NODE_PID"
stop "$GATEWAY_PID"

# ---------------------------------------------------------------------------------------------
say "peak RSS of a fresh gateway while wrk holds $RSS_CONNECTIONS connections on discovery"
RSS_PORT=$(free_port)
RSS_ADMIN_PORT=$(free_port)
# A small directory: the RSS of the process itself, not of a large static user list.
gateway_config "$RSS_PORT" "$RSS_ADMIN_PORT" 64 >"$TMP/gateway-rss.toml"
start gateway-rss "$GATEWAY_BIN" --config "$TMP/gateway-rss.toml"
RSS_PID=$LAST_PID
await_http "http://127.0.0.1:$RSS_ADMIN_PORT/readyz" "$RSS_PID" gateway-rss ready
check_answer "gateway discovery" "http://127.0.0.1:$RSS_PORT/.well-known/openid-configuration" GET "" "" 200
RSS_IDLE=$(vm_hwm_kib "$RSS_PID")
rss_threads=$((THREADS < RSS_CONNECTIONS ? THREADS : RSS_CONNECTIONS))
out=$(BENCH_METHOD=GET wrk -t "$rss_threads" -c "$RSS_CONNECTIONS" -d "${RSS_DURATION}s" \
  -s "$ROOT/bench/wrk/load.lua" "http://127.0.0.1:$RSS_PORT/.well-known/openid-configuration") \
  || fail "wrk failed on the RSS arm: $out"
line=$(grep '^RESULT ' <<<"$out")
eval "$(sed 's/^RESULT //' <<<"$line" | tr ' ' '\n' | sed 's/^/rss_/')"
# shellcheck disable=SC2154 # set by the eval above
{ ((rss_socket_errors == 0)) && ((rss_status_errors == 0)) && ((rss_requests > 0)); } \
  || fail "RSS arm: $rss_requests requests, $rss_status_errors bad statuses, $rss_socket_errors socket errors"
RSS_PEAK=$(vm_hwm_kib "$RSS_PID")
RSS_RPS=$(python3 -c "print(round($rss_requests * 1e6 / $rss_duration_us))")
stop "$RSS_PID"
printf '   peak RSS %.1f MiB (%.1f MiB idle), %s req/s over %s connections\n' \
  "$(python3 -c "print($RSS_PEAK / 1024)")" "$(python3 -c "print($RSS_IDLE / 1024)")" "$RSS_RPS" \
  "$RSS_CONNECTIONS" >&2

# ---------------------------------------------------------------------------------------------
# Notification fan-out through a gateway with its embedded emulator.
REDIS_VERSION=""
if ((NO_REDIS == 0)) && [[ -z "$REDIS_URL" ]] && command -v redis-server >/dev/null; then
  REDIS_PORT=$(free_port)
  mkdir -p "$TMP/redis"
  start redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$TMP/redis"
  REDIS_PID=$LAST_PID
  for _ in $(seq 100); do
    grep -q 'Ready to accept connections' "$TMP/redis.log" && break
    kill -0 "$REDIS_PID" 2>/dev/null || fail "redis-server exited: $(tail -n 5 "$TMP/redis.log")"
    sleep 0.1
  done
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi
BACKENDS=(memory)
if ((NO_REDIS == 0)) && [[ -n "$REDIS_URL" ]]; then
  BACKENDS+=(redis)
  REDIS_VERSION=$(redis-server --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p' || true)
fi

PING_BASIC="Basic $(printf %s 'bench-ping:bench-ping-secret' | base64 -w0)"
for ((i = 0; i < NOTIFICATIONS; i++)); do
  printf 'scope=openid&login_hint=user%d%%40example.com&client_notification_token=bench-notification-%d\n' \
    "$((i % 64))" "$i"
done >"$TMP/ping.bodies"

# Waits (at most SECS) until the sum of the series NAME{...LABELS...} on ADMIN reaches TARGET;
# fails at once when the series NAME{...BAD...} (answers or outcomes other than the expected
# ones) are above 0. One request per look and five looks a second: during a burst the script's
# own polling shares the two cores with what it measures (at 20 looks a second with two
# requests each, about an eighth of the machine's CPU time during a burst).
await_metric() {
  local admin=$1 name=$2 labels=$3 target=$4 secs=$5 what=$6 bad=${7:-} value errors
  for _ in $(seq $((secs * 5))); do
    read -r value errors < <(metric_sums "$admin" "$name" "$labels" "$bad")
    [[ "${errors%.*}" -eq 0 ]] || fail "$what: $errors other answers or outcomes ($name, not $bad)"
    [[ "${value%.*}" -ge "$target" ]] && return 0
    sleep 0.2
  done
  fail "$what: $value of $target within $secs s"
}

# One burst with backend $1, on a fresh gateway; $2 names the burst (its receiver paths, its
# logs and its Redis keys are its own).
fanout() {
  local backend=$1 burst=$2 port admin_port admin gw pid wrk_pid start_ns end_ns prefix
  port=$(free_port)
  admin_port=$(free_port)
  admin="http://127.0.0.1:$admin_port"
  gw="http://127.0.0.1:$port"
  prefix="agw-bench-$$-$burst"
  {
    cat <<EOF
[server]
listen = "127.0.0.1:$port"
public_url = "$gw"
shutdown_timeout_secs = 2

[admin]
listen = "127.0.0.1:$admin_port"
console = true

[authlete]
backend = "embedded"

[ciba]
max_pending_per_user = $NOTIFICATIONS

[device]
channel = "webhook"

[device.webhook]
url = "http://127.0.0.1:$NGX_RECEIVER_PORT/device/$burst"
secrets = ["whsec_$(head -c 24 /dev/urandom | base64 -w0)"]
allow_insecure_http = true

[notifications]
queue_capacity = $((NOTIFICATIONS > 10000 ? NOTIFICATIONS : 10000))
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true

[log]
level = "warn"

[[emulator.clients]]
client_id = "bench-ping"
client_secret = "bench-ping-secret"
delivery_mode = "ping"
notification_endpoint = "http://127.0.0.1:$NGX_RECEIVER_PORT/notify/$burst"
EOF
    if [[ "$backend" == redis ]]; then
      cat <<EOF

[state]
backend = "redis"

[state.redis]
url = "$REDIS_URL"
key_prefix = "$prefix"
key_hash_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EOF
    fi
    users_toml 64
  } >"$TMP/gateway-$burst.toml"
  start "gateway-$burst" "$GATEWAY_BIN" --config "$TMP/gateway-$burst.toml"
  pid=$LAST_PID
  await_http "$admin/readyz" "$pid" "gateway-$burst" ready
  if [[ "$backend" == redis ]]; then
    await_metric "$admin" gateway_state_backend_up "" 1 10 "the redis state backend"
  fi

  # The requests, created through the gateway (each answered 200); their decision tokens come
  # from the device webhook's messages.
  BENCH_LINES="$TMP/ping.bodies" BENCH_KIND=form BENCH_AUTH=$PING_BASIC BENCH_THREADS=$THREADS \
    start "create-$burst" wrk -t "$THREADS" -c "$CONNECTIONS" -d 600s -s "$ROOT/bench/wrk/once.lua" \
    "$gw/backchannel/authentication"
  wrk_pid=$LAST_PID
  await_metric "$admin" gateway_http_requests_total 'route="/backchannel/authentication"' \
    "$NOTIFICATIONS" 600 "ping requests answered ($burst)" 'status="200"'
  stop "$wrk_pid"
  local created
  created=$(metric "$admin" 'gateway_http_requests_total{method="POST",route="/backchannel/authentication",status="200"}')
  ((${created%.*} == NOTIFICATIONS)) \
    || fail "$burst: $((NOTIFICATIONS - ${created%.*})) backchannel requests were not answered 200"
  await_metric "$admin" gateway_webhook_messages_total 'type="authentication_request"' \
    "$NOTIFICATIONS" 600 "webhook messages ($burst)" 'outcome="delivered"'
  python3 - "/device/$burst" "$TMP/webhooks.log" >"$TMP/tokens-$burst" <<'PY'
import json, sys
for line in open(sys.argv[2]):
    uri, _, body = line.rstrip("\n").partition(" ")
    if uri == sys.argv[1]:
        message = json.loads(json.loads('"' + body + '"'))
        if message.get("type") == "authentication_request":
            print(message["decision_token"])
PY
  [[ $(wc -l <"$TMP/tokens-$burst") -eq $NOTIFICATIONS ]] \
    || fail "$burst: $(wc -l <"$TMP/tokens-$burst") decision tokens received, not $NOTIFICATIONS ($(wc -l <"$TMP/webhooks.log") webhook messages logged)"

  # The burst: every request approved, from the first decision sent to the last delivery.
  start_ns=$(date +%s%N)
  BENCH_LINES="$TMP/tokens-$burst" BENCH_KIND=decision BENCH_THREADS=$THREADS \
    start "decide-$burst" wrk -t "$THREADS" -c "$CONNECTIONS" -d 600s -s "$ROOT/bench/wrk/once.lua" \
    "$gw/device/decisions"
  wrk_pid=$LAST_PID
  await_metric "$admin" gateway_notifications_total "" "$NOTIFICATIONS" 600 \
    "notifications ended ($burst)" 'outcome="delivered"'
  stop "$wrk_pid"
  local decided delivered delivered_log
  decided=$(metric "$admin" 'gateway_http_requests_total{method="POST",route="/device/decisions",status="204"}')
  ((${decided%.*} == NOTIFICATIONS)) || fail "$burst: ${decided%.*} decisions answered 204, not $NOTIFICATIONS"
  delivered=$(metric_sum "$admin" gateway_notifications_total 'outcome="delivered"')
  ((${delivered%.*} == NOTIFICATIONS)) || fail "$burst: ${delivered%.*} notifications delivered, not $NOTIFICATIONS"
  stop "$pid"
  # The receiver's log has the time of each delivery (nginx writes it as it answers).
  delivered_log=$(grep -c " 204 /notify/$burst\$" "$TMP/notifications.log" || true)
  ((delivered_log == NOTIFICATIONS)) || fail "$burst: the receiver logged $delivered_log notifications, not $NOTIFICATIONS"
  end_ns=$(awk -v p="/notify/$burst" '$3 == p && $1 > m { m = $1 } END { printf "%.0f", m * 1e9 }' \
    "$TMP/notifications.log")
  local rate
  rate=$(python3 -c "print(round($NOTIFICATIONS / (($end_ns - $start_ns) / 1e9)))")
  printf '%s\t%s\t%.3f\n' "$backend" "$rate" "$(python3 -c "print(($end_ns - $start_ns) / 1e9)")" \
    >>"$TMP/fanout.tsv"
  printf '   %s: %s notifications in %.3f s: %s/s\n' "$burst" "$NOTIFICATIONS" \
    "$(python3 -c "print(($end_ns - $start_ns) / 1e9)")" "$rate" >&2
  if [[ "$backend" == redis && -z "${REDIS_PID:-}" ]] && command -v redis-cli >/dev/null; then
    redis-cli -u "$REDIS_URL" --scan --pattern "{$prefix}*" \
      | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null
  fi
}

: >"$TMP/fanout.tsv"
for ((round = 1; round <= ROUNDS; round++)); do
  for backend in "${BACKENDS[@]}"; do
    say "notification fan-out ($backend, burst $round of $ROUNDS): $NOTIFICATIONS ping requests approved at once"
    fanout "$backend" "$backend-$round"
  done
done

# ---------------------------------------------------------------------------------------------
say "results"
mkdir -p "$OUT_DIR"
WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }' || true)
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's|.*nginx/||')
OIDC_VERSION=$(node -p 'require(process.argv[1]).version' \
  "$ROOT/bench/node/node_modules/oidc-provider/package.json")
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
export RESULTS="$TMP/results.tsv" FANOUT="$TMP/fanout.tsv" OUT_DIR PROFILE DURATION ROUNDS \
  CONNECTIONS THREADS RSS_CONNECTIONS RSS_PEAK RSS_IDLE RSS_RPS NOTIFICATIONS NODE_HWM \
  GATEWAY_HWM_AFTER WRK_VERSION NGINX_VERSION OIDC_VERSION CPU_MODEL LOAD_BEFORE LOAD_AFTER \
  REDIS_VERSION NODE_VERSION="$(node --version)" NPROC="$(nproc)" \
  GATEWAY_VERSION="$("$GATEWAY_BIN" --version 2>/dev/null | awk '{ print $NF }')" \
  COMMAND TMP
python3 "$ROOT/bench/report.py"
gnuplot "$TMP/compare.gnuplot"
say "wrote $OUT_DIR/compare.md and $OUT_DIR/compare.svg"
