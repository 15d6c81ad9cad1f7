#!/usr/bin/env bash
# Compares the state backends (docs/benchmark.md, "State backends"): starts a throwaway
# redis-server on a free loopback port, runs the load benchmark with --redis-url against it, and
# stops it again. By default twice: without persistence (--save "" --appendonly no), then with
# the append-only file fsynced every second (--appendonly yes --appendfsync everysec), the usual
# setting for a Redis that is to keep its data across its own restart.
#
#   benches/gateway_load/state.sh [none|aof|both] [benchmark options...]
#   e.g. benches/gateway_load/state.sh both --requests 10000
#
# Needs redis-server (7.0 or later) on the PATH; REDIS_SERVER names another binary.
set -euo pipefail

redis_server=${REDIS_SERVER:-redis-server}
modes=both
case "${1:-}" in
  none|aof|both) modes=$1; shift ;;
esac
case $modes in
  both) modes="none aof" ;;
esac

command -v "$redis_server" >/dev/null || { echo "$redis_server is not installed" >&2; exit 1; }
cd "$(dirname "$0")/../.."
# Build first, so that the build does not run beside Redis.
cargo bench --bench gateway_load --no-run

dir=$(mktemp -d)
pid=
stop() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
trap 'stop; rm -rf "$dir"' EXIT

# Whether a Redis answers PONG on 127.0.0.1:$1.
answers() {
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 1 reply <&3 || reply=
  exec 3>&-
  [ "${reply%$'\r'}" = "+PONG" ]
}

# Starts Redis with the given persistence options on a free port; sets $pid and $port.
start() {
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 30000))
    answers "$port" && continue # taken by another Redis
    rm -rf "${dir:?}"/*
    "$redis_server" --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" "$@" \
      --logfile "$dir/redis.log" &
    pid=$!
    for _ in $(seq 50); do
      answers "$port" && return 0
      kill -0 "$pid" 2>/dev/null || break # exited: most likely the port was taken
      sleep 0.1
    done
    stop
  done
  echo "redis-server did not start" >&2
  exit 1
}

for mode in $modes; do
  case $mode in
    none) start --appendonly no ;;
    aof) start --appendonly yes --appendfsync everysec ;;
  esac
  echo "== redis-server on 127.0.0.1:$port, persistence: $mode"
  cargo bench --bench gateway_load -- --redis-url "redis://127.0.0.1:$port" "$@"
  stop
done
