#!/usr/bin/env python3
"""Soak: mixed CIBA flows through a gateway in front of the Authlete emulator, for a while, per
state backend, watching the gateway's memory and file descriptors (docs/benchmark.md, "Soak").

    bench/soak.py [--duration 600] [--rate 6] [--backends memory,redis] [--out docs/soak]

Each flow is one backchannel request of one of three clients (poll, ping, push) with one of three
plans: the device approves it, denies it, or never answers (the request then ends at the
gateway's deadline for ping and push, at Authlete's expiry for poll). The device is the script
itself: it receives the gateway's signed device webhook (Standard Webhooks, signature checked),
waits a human-like moment and posts the decision to POST /device/decisions. The ping and push
clients' notification endpoint is the script too, and a flaky one: it refuses one first attempt
in five with 503 and answers one in ten only after the gateway's per-attempt timeout.

The emulator runs as a process of its own (`authlete-gateway emulator`, which keeps expired
records for an hour), so the gateway's memory is the gateway's alone; poll entries live
--state-lifetime seconds after their last write (ciba.max_request_lifetime_secs, 3600 by default),
so the state the gateway keeps turns over several times within a run and must not grow.

Every 5 s it samples the gateway's RSS and open file descriptors (and Redis's key count). At the
end it checks that every issued request ended in exactly one outcome, the one its plan expects
(tokens, access_denied, or expired_token / transaction_failed), that every ping and push
notification was delivered exactly once as the client saw it, that the gateway's own counters
agree (gateway_notifications_total delivered, nothing failed, lost or abandoned), that nothing
answered 5xx, and that the gateway stops cleanly on SIGTERM. It writes <out>/soak.md (the counts
and the drift of the curves), <out>/soak.svg (the curves, with gnuplot) and one TSV of samples
per backend. Exit status 1 when a check fails.

Needs: python3, gnuplot (Debian: gnuplot-nox), the release binary (built with cargo when
missing or with --build), and redis-server for the redis backend (started on a free port).
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("poll", "ping", "push")
PLANS = (("approve", 60), ("deny", 25), ("timeout", 15))
EXPECTED = {"approve": "tokens", "deny": "access_denied", "timeout": "failed"}
SAMPLE_SECS = 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(*parts):
    print("==>", *parts, file=sys.stderr, flush=True)


class Http:
    """One keep-alive connection per thread to one origin."""

    def __init__(self, port, timeout):
        self.port, self.timeout, self.local = port, timeout, threading.local()

    def request(self, method, path, body=None, headers=None):
        """Retries once when a kept-alive connection turns out closed before it answered."""
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                return response.status, dict((k.lower(), v) for k, v in response.getheaders()), data
            except (http.client.HTTPException, OSError) as e:
                conn.close()
                self.local.conn = None
                stale = isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
                if attempt == 1 or not (reused and stale):
                    raise
        raise AssertionError("unreachable")


class Soak:
    def __init__(self, args, backend, tmp):
        self.args, self.backend, self.tmp = args, backend, tmp
        self.lock = threading.Lock()
        self.plans = {}  # binding message -> plan
        self.events = {}  # auth_req_id -> threading.Event (ping/push)
        self.notified = {}  # auth_req_id -> the first delivered notification's body
        self.bearers = {}  # auth_req_id -> its Authorization header
        self.duplicates = 0
        self.attempts = {}  # auth_req_id -> notification attempts seen
        self.refused = 0
        self.webhooks = {"authentication_request": 0, "cancelled": 0, "bad_signature": 0}
        self.decisions = {"sent": 0, "204": 0, "other": 0}
        self.outcomes = []  # (mode, plan, outcome)
        self.problems = []
        self.in_flight = 0
        self.secret = os.urandom(24)
        self.decision_key = os.urandom(32)
        self.decider = ThreadPoolExecutor(max_workers=16)

    # -- the device and the clients' notification endpoint -----------------------------------
    def receiver(self):
        soak = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/device":
                    self.answer(soak.on_webhook(self.headers, body))
                elif self.path.startswith("/notify/"):
                    status, delay = soak.on_notification(self.headers, body)
                    if delay:
                        time.sleep(delay)
                    self.answer(status)
                else:
                    self.answer(404)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def on_webhook(self, headers, body):
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        expected = base64.b64encode(
            hmac.new(self.secret, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        ).decode()
        signatures = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            with self.lock:
                self.webhooks["bad_signature"] += 1
            return 401
        message = json.loads(body)
        kind = message.get("type")
        with self.lock:
            self.webhooks[kind] = self.webhooks.get(kind, 0) + 1
            plan = self.plans.get(message.get("binding_message") or "")
        if kind == "authentication_request" and plan in ("approve", "deny"):
            self.decider.submit(self.decide, message["decision_token"], plan)
        return 204

    def decide(self, token, plan):
        time.sleep(random.uniform(0.2, 3.0))  # the user reading the prompt
        status, _, data = self.gateway.request(
            "POST",
            "/device/decisions",
            body=json.dumps({"decision": plan}),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with self.lock:
            self.decisions["sent"] += 1
            self.decisions["204" if status == 204 else "other"] += 1
            if status != 204:
                self.problems.append(f"decision {plan}: {status} {data[:200]!r}")

    def on_notification(self, headers, body):
        message = json.loads(body)
        auth_req_id = message.get("auth_req_id", "")
        token = headers.get("authorization", "")
        with self.lock:
            attempt = self.attempts[auth_req_id] = self.attempts.get(auth_req_id, 0) + 1
            flaky = int(hashlib.sha256(auth_req_id.encode()).hexdigest()[:4], 16) % 10
            if attempt == 1 and flaky in (0, 1):
                self.refused += 1
                return 503, 0
            if attempt == 1 and flaky == 2:
                self.refused += 1
                return 503, self.args.notification_timeout_ms / 1000 + 0.5
            if auth_req_id in self.notified:
                self.duplicates += 1
            else:
                self.notified[auth_req_id] = message
                self.bearers[auth_req_id] = token
            event = self.events.get(auth_req_id)
        if event:
            event.set()
        return 204, 0

    # -- the clients --------------------------------------------------------------------------
    def flow(self, n, mode, plan):
        binding = f"soak {n}"
        with self.lock:
            self.plans[binding] = plan
            self.in_flight += 1
        try:
            outcome = self.run_flow(n, mode, binding)
        except Exception as e:  # noqa: BLE001 - every failure is a finding of the soak
            outcome = f"exception {type(e).__name__}: {e}"
        with self.lock:
            self.in_flight -= 1
            self.outcomes.append((mode, plan, outcome))
            if outcome != EXPECTED[plan]:
                self.problems.append(f"{mode}/{plan}: {outcome}")

    def run_flow(self, n, mode, binding):
        basic = "Basic " + base64.b64encode(f"soak-{mode}:soak-{mode}-secret".encode()).decode()
        form = {
            "scope": "openid",
            "login_hint": f"user{n % self.args.users}@example.com",
            "binding_message": binding,
            "requested_expiry": str(self.args.expiry),
        }
        notification_token = f"t{n}-{os.urandom(6).hex()}"
        if mode != "poll":
            form["client_notification_token"] = f"n-{notification_token}"
        headers = {"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"}
        status, _, data = self.gateway.request(
            "POST", "/backchannel/authentication", urllib.parse.urlencode(form), headers
        )
        if status != 200:
            return f"backchannel {status} {data[:120]!r}"
        ack = json.loads(data)
        auth_req_id, interval = ack["auth_req_id"], ack.get("interval", 5)
        give_up = time.monotonic() + self.args.expiry + 30
        if mode != "poll":
            event = threading.Event()
            with self.lock:
                self.events[auth_req_id] = event
                if auth_req_id in self.notified:
                    event.set()
            if not event.wait(max(0, give_up - time.monotonic())):
                return "no notification"
            with self.lock:
                if self.bearers[auth_req_id] != f"Bearer n-{notification_token}":
                    return "notification with another client_notification_token"
            if mode == "push":
                with self.lock:
                    return classify(self.notified[auth_req_id])
        token_form = urllib.parse.urlencode(
            {"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": auth_req_id}
        )
        while time.monotonic() < give_up:
            if mode == "poll":
                time.sleep(interval)
            status, _, data = self.gateway.request("POST", "/token", token_form, headers)
            answer = json.loads(data) if data else {}
            if status == 400 and answer.get("error") == "authorization_pending" and mode == "poll":
                continue
            if status == 400 and answer.get("error") == "slow_down" and mode == "poll":
                interval += 5
                continue
            if status not in (200, 400):
                return f"token {status} {data[:120]!r}"
            return classify(answer)
        return "no outcome"

    # -- the run ------------------------------------------------------------------------------
    def config(self, port, admin, rx, redis_url, authlete, emulator_port):
        secret = "whsec_" + base64.b64encode(self.secret).decode()
        clients = "".join(
            f"""
[[emulator.clients]]
client_id = "soak-{m}"
client_secret = "soak-{m}-secret"
delivery_mode = "{m}"
{'' if m == 'poll' else f'notification_endpoint = "http://127.0.0.1:{rx}/notify/{m}"'}
"""
            for m in MODES
        )
        users = "".join(
            f'\n[[users.static]]\nsubject = "user{i}"\nlogin_hints = ["user{i}@example.com"]\n'
            for i in range(self.args.users)
        )
        state = ""
        if redis_url:
            state = f"""
[state]
backend = "redis"

[state.redis]
url = "{redis_url}"
key_prefix = "agw-soak-{os.getpid()}"
key_hash_secret = "{os.urandom(32).hex()}"
"""
        return f"""
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
shutdown_timeout_secs = 10

[admin]
listen = "127.0.0.1:{admin}"

[authlete]
{authlete}

[ciba]
max_request_lifetime_secs = {self.args.state_lifetime}

[device]
channel = "webhook"
decision_keys = ["{base64.b64encode(self.decision_key).decode()}"]

[device.webhook]
url = "http://127.0.0.1:{rx}/device"
secrets = ["{secret}"]
allow_insecure_http = true

[notifications]
allowed_networks = ["127.0.0.0/8"]
allow_insecure_http = true
timeout_ms = {self.args.notification_timeout_ms}
max_backoff_ms = 2000

[emulator]
listen = "127.0.0.1:{emulator_port}"
polling_interval_secs = {self.args.interval}

[log]
level = "warn"
{state}{clients}{users}"""

    def run(self, binary, redis_url, redis_port):
        """The emulator runs as a process of its own (`authlete-gateway emulator`), so that the
        gateway's memory is the gateway's alone."""
        rx = self.receiver()
        port, admin, emulator_port = free_port(), free_port(), free_port()
        rx_port = rx.server_address[1]
        emulator_path = os.path.join(self.tmp, f"emulator-{self.backend}.toml")
        with open(emulator_path, "w") as f:
            f.write(self.config(port, admin, rx_port, None, 'backend = "embedded"', emulator_port))
        banner = os.path.join(self.tmp, f"emulator-{self.backend}.out")
        with open(banner, "w") as out, open(banner + ".log", "w") as err:
            emulator = subprocess.Popen([binary, "emulator", "--config", emulator_path], stdout=out, stderr=err)
        try:
            authlete = await_emulator(banner, emulator)
            path = os.path.join(self.tmp, f"gateway-{self.backend}.toml")
            with open(path, "w") as f:
                f.write(self.config(port, admin, rx_port, redis_url, authlete, emulator_port))
            return self.drive(binary, path, port, admin, redis_port, emulator)
        finally:
            emulator.terminate()
            emulator.wait(10)
            rx.shutdown()

    def drive(self, binary, path, port, admin, redis_port, emulator):
        log = open(os.path.join(self.tmp, f"gateway-{self.backend}.log"), "w")
        gateway = subprocess.Popen([binary, "--config", path], stdout=log, stderr=subprocess.STDOUT)
        try:
            self.gateway = Http(port, 30)
            self.admin = Http(admin, 10)
            await_ready(self.admin, gateway)
            samples = []
            stop = threading.Event()

            def sampler():
                start = time.monotonic()
                while True:
                    at = time.monotonic() - start
                    samples.append(sample(gateway.pid, emulator.pid, at, self, redis_port))
                    if stop.wait(SAMPLE_SECS):
                        return

            threading.Thread(target=sampler, daemon=True).start()
            weights = [w for _, w in PLANS]
            rng = random.Random(7)
            workers = ThreadPoolExecutor(max_workers=self.args.rate * (self.args.expiry + 40))
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < self.args.duration:
                mode = MODES[n % 3]
                plan = rng.choices([p for p, _ in PLANS], weights)[0]
                workers.submit(self.flow, n, mode, plan)
                n += 1
                time.sleep(max(0, start + n / self.args.rate - time.monotonic()))
            say(f"{self.backend}: {n} flows started in {self.args.duration} s; waiting for them to end")
            workers.shutdown(wait=True)
            self.decider.shutdown(wait=True)
            time.sleep(SAMPLE_SECS)  # one last sample at rest
            stop.set()
            metrics = self.admin.request("GET", "/metrics")[2].decode()
            gateway.send_signal(signal.SIGTERM)
            try:
                code = gateway.wait(30)
            except subprocess.TimeoutExpired:
                gateway.kill()
                code = "killed after 30 s"
        except BaseException:
            gateway.kill()
            gateway.wait()
            raise
        finally:
            self.decider.shutdown(wait=False, cancel_futures=True)
        log.close()
        result = self.report(n, samples, metrics, code)
        if result["problems"]:
            with open(log.name) as f:
                say(f"{self.backend}: the gateway's last log lines:\n" + "".join(f.readlines()[-30:]))
        return result

    def report(self, issued, samples, metrics, code):
        count = {}
        for mode, plan, outcome in self.outcomes:
            key = (mode, plan, outcome if outcome in ("tokens", "access_denied", "failed") else "other")
            count[key] = count.get(key, 0) + 1
        notifying = sum(1 for mode, _, _ in self.outcomes if mode != "poll")
        delivered = metric_sum(metrics, "gateway_notifications_total", 'outcome="delivered"')
        not_delivered = metric_sum(metrics, "gateway_notifications_total") - delivered
        server_errors = metric_sum(metrics, "gateway_http_requests_total", 'status="5')
        if len(self.outcomes) != issued:
            self.problems.append(f"{issued} flows started, {len(self.outcomes)} ended")
        if len(self.notified) != notifying:
            self.problems.append(f"{notifying} ping/push requests, {len(self.notified)} notified")
        if delivered != notifying or not_delivered:
            ended = ", ".join(
                line for line in metrics.splitlines() if line.startswith("gateway_notifications_total{")
            )
            self.problems.append(f"{notifying} ping/push requests; {ended}")
        if server_errors:
            self.problems.append(f"{server_errors:.0f} answers 5xx")
        if self.webhooks["bad_signature"]:
            self.problems.append(f"{self.webhooks['bad_signature']} webhook messages with a bad signature")
        if code != 0:
            self.problems.append(f"gateway exit status after SIGTERM: {code}")
        return {
            "backend": self.backend,
            "issued": issued,
            "count": count,
            "notifying": notifying,
            "notified": len(self.notified),
            "duplicates": self.duplicates,
            "refused": self.refused,
            "delivered_metric": delivered,
            "attempts": {
                r: metric_sum(metrics, "gateway_notification_attempts_total", f'result="{r}"')
                for r in ("2xx", "5xx", "timeout", "connect_error")
            },
            "webhooks": dict(self.webhooks),
            "decisions": dict(self.decisions),
            "samples": samples,
            "problems": list(self.problems),
            "exit": code,
        }


def classify(answer):
    if answer.get("access_token"):
        return "tokens"
    error = answer.get("error")
    if error == "access_denied":
        return "access_denied"
    if error in ("expired_token", "transaction_failed"):
        return "failed"
    return f"unexpected {json.dumps(answer)[:120]}"


def await_ready(admin, process):
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with {process.returncode}")
        try:
            if admin.request("GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the gateway did not become ready in 10 s")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def await_emulator(banner, process):
    """The `[authlete]` section that points a gateway at the emulator, from its banner."""
    for _ in range(200):
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited with {process.returncode}: {open(banner + '.log').read()[-500:]}")
        text = open(banner).read()
        found = re.search(r"base_url = (\S+) service_id = (\S+)\s+access_token = (\S+)", text)
        if found:
            base_url, service_id, token = found.groups()
            return f'backend = "remote"\nbase_url = "{base_url}"\nservice_id = "{service_id}"\naccess_token = "{token}"'
        time.sleep(0.05)
    raise SystemExit("the emulator did not print its credentials in 10 s")


def sample(pid, emulator_pid, at, soak, redis_port):
    rss = rss_kib(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    keys = ""
    if redis_port:
        out = subprocess.run(
            ["redis-cli", "-p", str(redis_port), "dbsize"], capture_output=True, text=True, check=False
        )
        keys = out.stdout.strip()
    return (round(at, 1), rss, fds, soak.in_flight, keys, rss_kib(emulator_pid))


def metric_sum(text, name, labels=""):
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and labels in line.split(" ")[0]:
            total += float(line.rsplit(" ", 1)[1])
    return total


def drift(samples, column, warmup, until):
    """Under load (from `warmup` to `until` s): the mean of the last minute over the mean of the
    first minute, minus one, and the lowest and highest sample."""
    after = [s for s in samples if warmup <= s[0] <= until]
    if len(after) < 4:
        return 0.0, 0, 0
    per_minute = max(1, 60 // SAMPLE_SECS)
    first = after[:per_minute]
    last = after[-per_minute:]
    a = sum(s[column] for s in first) / len(first)
    b = sum(s[column] for s in last) / len(last)
    return (b / a - 1) if a else 0.0, min(s[column] for s in after), max(s[column] for s in after)


def start_redis(tmp):
    port = free_port()
    os.makedirs(os.path.join(tmp, "redis"), exist_ok=True)
    log = open(os.path.join(tmp, "redis.log"), "w")
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", os.path.join(tmp, "redis")],
        stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False)
        if out.stdout.strip() == "PONG":
            return process, port
        time.sleep(0.1)
    raise SystemExit("redis-server did not answer PING in 10 s")


def write(results, args, out):
    os.makedirs(out, exist_ok=True)
    warmup = args.warmup
    for r in results:
        rss_drift = drift(r["samples"], 1, warmup, args.duration)[0]
        if abs(rss_drift) > 0.10:
            r["problems"].append(f"RSS drifted {rss_drift:+.1%} under load (more than 10 %)")
    lines = [
        "# Soak",
        "",
        f"`{args.command}` on {os.cpu_count()} CPUs ({cpu_model()}), "
        f"{args.duration} s per backend at {args.rate} flows/s, requests living {args.expiry} s.",
        "",
        "| backend | flows | tokens | access_denied | failed | other | ping/push notified | duplicates "
        "| first attempts refused | RSS under load (MiB) | RSS drift | fds under load | fd drift "
        "| fds idle, before → after | problems |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        by = {}
        for (mode, plan, outcome), k in r["count"].items():
            by[outcome] = by.get(outcome, 0) + k
        rss_drift, rss_min, rss_max = drift(r["samples"], 1, warmup, args.duration)
        fd_drift, fd_min, fd_max = drift(r["samples"], 2, warmup, args.duration)
        idle = f"{r['samples'][0][2]} → {r['samples'][-1][2]}"
        lines.append(
            f"| {r['backend']} | {r['issued']} | {by.get('tokens', 0)} | {by.get('access_denied', 0)} "
            f"| {by.get('failed', 0)} | {by.get('other', 0)} | {r['notified']} of {r['notifying']} "
            f"| {r['duplicates']} | {r['refused']} | {rss_min / 1024:.1f}–{rss_max / 1024:.1f} "
            f"| {rss_drift:+.1%} | {fd_min}–{fd_max} | {fd_drift:+.1%} | {idle} | {len(r['problems'])} |"
        )
    lines += ["", "Outcomes per client and plan (expected: approve → tokens, deny → access_denied, "
              "timeout → failed):", "", "| backend | client | plan | outcome | requests |", "|---|---|---|---|---|"]
    for r in results:
        for (mode, plan, outcome), k in sorted(r["count"].items()):
            lines.append(f"| {r['backend']} | {mode} | {plan} | {outcome} | {k} |")
    lines += ["", "Notification attempts and device traffic:", "",
              "| backend | attempts 2xx | 5xx | timeout | connect_error | webhook messages | cancelled "
              "| decisions sent | answered 204 |", "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        a, w, d = r["attempts"], r["webhooks"], r["decisions"]
        lines.append(
            f"| {r['backend']} | {a['2xx']:.0f} | {a['5xx']:.0f} | {a['timeout']:.0f} | {a['connect_error']:.0f} "
            f"| {w.get('authentication_request', 0)} | {w.get('cancelled', 0)} | {d['sent']} | {d['204']} |"
        )
    problems = [f"- {r['backend']}: {p}" for r in results for p in r["problems"][:20]]
    lines += ["", "Problems:" if problems else "No problems: every check passed.", ""] + problems
    lines += ["", f"Under load: from the end of a {warmup} s warm-up to the last new flow; drift: the "
              f"mean of its last minute against the mean of its first. Idle: the first sample, before "
              f"any flow, and the last, once every flow ended. Samples every {SAMPLE_SECS} s: "
              f"`soak-<backend>.tsv`.", ""]
    with open(os.path.join(out, "soak.md"), "w") as f:
        f.write("\n".join(lines))
    for r in results:
        with open(os.path.join(out, f"soak-{r['backend']}.tsv"), "w") as f:
            f.write("seconds\trss_kib\tfds\tflows_in_flight\tredis_keys\temulator_rss_kib\n")
            for s in r["samples"]:
                f.write("\t".join(str(v) for v in s) + "\n")
    plot([r["backend"] for r in results], out)
    print("\n".join(lines))


def plot(backends, out):
    """<out>/soak.svg from the samples in <out>/soak-<backend>.tsv."""
    commands = [
        "set terminal svg size 900,620 dynamic font 'sans,11' background rgb 'white'",
        f"set output '{os.path.join(out, 'soak.svg')}'",
        "set datafile separator '\\t'",
        "set key bottom right",
        "set grid",
        "set multiplot layout 2,1 title 'Gateway under a mixed CIBA soak (samples every 5 s)'",
        "set ylabel 'RSS (MiB)'",
        "set yrange [0:*]",
        "plot " + ", ".join(
            f"'{os.path.join(out, 'soak-' + backend + '.tsv')}' skip 1 using ($1/60):($2/1024) "
            f"with lines lw 2 title '{backend}'" for backend in backends),
        "set ylabel 'open file descriptors'",
        "set xlabel 'minutes'",
        "plot " + ", ".join(
            f"'{os.path.join(out, 'soak-' + backend + '.tsv')}' skip 1 using ($1/60):3 "
            f"with lines lw 2 title '{backend}'" for backend in backends),
        "unset multiplot",
    ]
    subprocess.run(["gnuplot"], input="\n".join(commands), text=True, check=True)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return re.sub(r"\s+", " ", line.split(":", 1)[1]).strip()
    return "unknown CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=600, help="seconds of new flows per backend [600]")
    parser.add_argument("--rate", type=int, default=6, help="flows started per second [6]")
    parser.add_argument("--expiry", type=int, default=20, help="requested_expiry of each request [20]")
    parser.add_argument("--interval", type=int, default=2, help="polling interval the emulator issues [2]")
    parser.add_argument("--users", type=int, default=500, help="users the requests cycle over [500]")
    parser.add_argument("--warmup", type=int, default=180, help="seconds left out of the drift [180]")
    parser.add_argument("--state-lifetime", type=int, default=120,
                        help="ciba.max_request_lifetime_secs: how long poll entries outlive their last write [120]")
    parser.add_argument("--notification-timeout-ms", type=int, default=1000,
                        help="the gateway's per-attempt notification timeout [1000]")
    parser.add_argument("--backends", default="memory,redis", help="state backends, in order [memory,redis]")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "soak"), help="output directory [docs/soak]")
    parser.add_argument("--build", action="store_true", help="run cargo build --release first")
    args = parser.parse_args()
    args.command = "bench/soak.py" + "".join(f" {a}" for a in sys.argv[1:])
    binary = os.path.join(ROOT, "target", "release", "authlete-gateway")
    if args.build or not os.path.exists(binary):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in ("memory", "redis"):
            raise SystemExit(f"unknown backend {b}")
    if "redis" in backends and not shutil.which("redis-server"):
        raise SystemExit("the redis backend needs redis-server (apt-get install redis-server)")
    tmp = tempfile.mkdtemp(prefix="agw-soak-")
    redis = None
    results = []
    try:
        for backend in backends:
            redis_url, redis_port = None, None
            if backend == "redis":
                redis, redis_port = start_redis(tmp)
                redis_url = f"redis://127.0.0.1:{redis_port}"
            say(f"{backend}: {args.duration} s of mixed flows at {args.rate}/s")
            results.append(Soak(args, backend, tmp).run(binary, redis_url, redis_port))
            if redis:
                redis.terminate()
                redis.wait(10)
                redis = None
        write(results, args, args.out)
    finally:
        if redis:
            redis.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
