"""The report of bench/compare.sh: medians over the rounds, the ratios and goals of the
comparison, a Markdown table (compare.md) and the gnuplot script of the chart (compare.svg).

Reads the environment compare.sh exports; prints the table on standard output."""

import datetime
import os
import statistics

env = os.environ
out_dir = env["OUT_DIR"]
tmp = env["TMP"]

rounds = {}
for line in open(env["RESULTS"]):
    name, _round, rps, p50, p99 = line.rstrip("\n").split("\t")
    rounds.setdefault(name, []).append((float(rps), float(p50) / 1000, float(p99) / 1000))
arms = {
    name: tuple(statistics.median(r[i] for r in runs) for i in range(3))
    for name, runs in rounds.items()
}
bursts = {}
for line in open(env["FANOUT"]):
    backend, rate, _secs = line.rstrip("\n").split("\t")
    bursts.setdefault(backend, []).append(int(rate))
fanout = {backend: statistics.median(rates) for backend, rates in bursts.items()}


def ratio(a, b, i):
    return arms[a][i] / arms[b][i]


rss_mib = int(env["RSS_PEAK"]) / 1024
rss_connections = int(env["RSS_CONNECTIONS"])
goals = [
    ("`POST /token`: gateway / nginx, throughput",
     ratio("gateway /token", "nginx /token", 0), "≥ 0.8", lambda v: v >= 0.8, "{:.2f}"),
    ("`POST /token`: gateway / nginx, p99",
     ratio("gateway /token", "nginx /token", 2), "≤ 2", lambda v: v <= 2, "{:.2f}"),
    ("`POST /backchannel/authentication`: gateway / node-oidc-provider, throughput",
     ratio("gateway /backchannel", "node-oidc-provider /backchannel", 0), "≥ 8",
     lambda v: v >= 8, "{:.1f}"),
    ("discovery: gateway / nginx, throughput",
     ratio("gateway discovery", "nginx discovery", 0), "≥ 1.0", lambda v: v >= 1.0, "{:.2f}"),
    (f"gateway peak RSS, {rss_connections:,} connections on discovery (MiB)",
     rss_mib, "≤ 32", lambda v: v <= 32, "{:.1f}"),
]
fanout_goals = {"memory": 20000, "redis": 5000}
for backend, rate in fanout.items():
    goal = fanout_goals[backend]
    goals.append((
        f"notifications/s, {int(env['NOTIFICATIONS']):,} approved in a burst (`{backend}`)",
        rate, f"≥ {goal:,}", lambda v, g=goal: v >= g, "{:,.0f}"))

versions = (
    f"wrk {env['WRK_VERSION']}, nginx {env['NGINX_VERSION']}, "
    f"node-oidc-provider {env['OIDC_VERSION']} (Node.js {env['NODE_VERSION']})"
)
if env.get("REDIS_VERSION"):
    versions += f", Redis {env['REDIS_VERSION']}"
when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
machine = (
    f"{env['NPROC']} CPUs ({env['CPU_MODEL']}), load average {env['LOAD_BEFORE']} before the "
    f"rounds and {env['LOAD_AFTER']} after"
)
settings = (
    f"authlete-gateway {env['GATEWAY_VERSION']} ({env['PROFILE']} build); "
    f"{env['ROUNDS']} alternating rounds of {env['DURATION']} s per arm, "
    f"{env['CONNECTIONS']} connections, {env['THREADS']} wrk threads; medians over the rounds "
    f"(the fan-out: one burst per round and backend)"
)

lines = [
    f"`{env['COMMAND']}`, {when}",
    "",
    f"- machine: {machine}",
    f"- {settings}",
    f"- {versions}",
    "",
    "| arm | req/s | p50 ms | p99 ms |",
    "|---|---:|---:|---:|",
]
for name, (rps, p50, p99) in arms.items():
    lines.append(f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} |")
lines += [
    "",
    "| measure | value | goal | met |",
    "|---|---:|---|---|",
]
for label, value, goal, met, fmt in goals:
    lines.append(f"| {label} | {fmt.format(value)} | {goal} | {'yes' if met(value) else 'no'} |")
lines += [
    "",
    f"Also measured: the gateway's peak RSS after the rounds (its pending registry holding every "
    f"backchannel request of the run) {int(env['GATEWAY_HWM_AFTER']) / 1024:.1f} MiB, "
    f"node-oidc-provider's {int(env['NODE_HWM']) / 1024:.1f} MiB; a fresh gateway idles at "
    f"{int(env['RSS_IDLE']) / 1024:.1f} MiB and served {int(env['RSS_RPS']):,} req/s of "
    f"discovery over {rss_connections:,} connections; the fan-out bursts, each backend's in the order run, "
    + "; ".join(
        f"`{b}` " + ", ".join(f"{rate:,}" for rate in rates) + " notifications/s"
        for b, rates in bursts.items()
    )
    + ".",
]
markdown = "\n".join(lines) + "\n"
with open(os.path.join(out_dir, "compare.md"), "w") as f:
    f.write(markdown)
print(markdown)

# The chart: throughput and p99 per arm, side by side; one colour per product.
colours = {"gateway": 1, "nginx": 2, "upstream": 3, "node-oidc-provider": 4}
data = os.path.join(tmp, "compare.dat")
with open(data, "w") as f:
    for i, (name, (rps, _p50, p99)) in enumerate(arms.items()):
        colour = colours.get(name.split(" ")[0], 3)
        f.write(f'{i} "{name}" {rps:.1f} {p99:.3f} {colour}\n')
svg = os.path.join(out_dir, "compare.svg")
title = (f"wrk, {env['CONNECTIONS']} connections, median of {env['ROUNDS']} rounds of "
         f"{env['DURATION']} s; {env['NPROC']} CPUs")
with open(os.path.join(tmp, "compare.gnuplot"), "w") as f:
    f.write(f"""set terminal svg size 1100,480 dynamic enhanced font "sans,11" background "white"
set output "{svg}"
set multiplot layout 1,2 title "authlete-gateway, nginx and node-oidc-provider: {title}"
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by 30 right nomirror
set ytics nomirror
unset key
set yrange [0:*]
set linetype 1 lc rgb "#1f5fa8"
set linetype 2 lc rgb "#3c9a3c"
set linetype 3 lc rgb "#9a9a9a"
set linetype 4 lc rgb "#d9822b"
set title "throughput (req/s, higher is better)"
plot "{data}" using 1:3:5:xtic(2) with boxes lc variable, \\
     "" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,0.7 font ",9"
set title "p99 latency (ms, lower is better)"
plot "{data}" using 1:4:5:xtic(2) with boxes lc variable, \\
     "" using 1:4:(sprintf("%.2f", $4)) with labels offset 0,0.7 font ",9"
unset multiplot
""")
