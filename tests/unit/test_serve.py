"""`regdoctor serve` on loopback: the metrics parsed by prometheus_client's own parser (names, types, labels),
series that go away with their finding, /report.json readable by `fleet`, bounded HTTP handling, SIGTERM;
and the pure parts (phases from steps, the bounded history, the schedule)."""

from __future__ import annotations

import datetime as dt
import doctest
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from regdoctor.model import EndpointResult, Step
from regdoctor.serve import history, samples, scheduler
from regdoctor.serve.history import History
from regdoctor.serve.metrics import METRICS
from regdoctor.serve.samples import endpoint_sample
from regdoctor.serve.scheduler import Schedule

EXE = str(Path(sys.executable).with_name("regdoctor"))


@pytest.mark.parametrize("module", [samples, history, scheduler])
def test_doctests(module: Any) -> None:
    assert doctest.testmod(module).failed == 0


def test_phases_follow_blackbox() -> None:
    e = EndpointResult(host="r.io", port=443, role="registry", steps=(
        Step("dns", "resolve", "pass", 10.0),
        Step("proxy", "decide", "pass", 0.1),
        Step("tcp", "connect proxy", "pass", 20.0),
        Step("proxy", "CONNECT", "pass", 5.0),
        Step("tls", "handshake", "pass", 30.0, evidence={"chain": [
            {"not_after": "2031-01-01T00:00:00+00:00"}, {"not_after": "2030-06-01T00:00:00+00:00"}]}),
        Step("http", "GET /v2/", "pass", 40.0, evidence={"status": 401, "first_byte_ms": 35.0}),
        Step("auth", "token", "pass", 50.0),
        Step("http", "GET /v2/x", "pass", 99.0, evidence={"status": 200}),
        Step("registry", "manifest", "fail", 7.0, code="REGISTRY_MANIFEST_UNKNOWN"),
    ))
    s = endpoint_sample(e)
    phases = dict(s.phases)
    assert phases == pytest.approx({"resolve": 0.010, "connect": 0.025, "tls": 0.030, "processing": 0.035,
                                    "transfer": 0.005})
    assert s.status_code == 401 and s.success is False and s.dns_s == pytest.approx(0.01)
    earliest = dt.datetime(2030, 6, 1, tzinfo=dt.UTC).timestamp()
    assert s.cert_expiry == earliest  # the earliest of the chain, not the leaf's
    assert dict(s.layers)["auth"] == pytest.approx(0.05) and dict(s.layers)["http"] == pytest.approx(0.139)


def test_unreached_phases_are_zero_and_skipped_layers_absent() -> None:
    e = EndpointResult(host="r.io", port=443, role="data", steps=(
        Step("dns", "resolve", "pass", 1.0), Step("tcp", "connect", "fail", 1500.0, code="TCP_TIMEOUT"),
        Step("tls", "handshake", "skip", 0.0), Step("http", "GET /", "skip", 0.0)))
    s = endpoint_sample(e)
    assert dict(s.phases)["tls"] == 0 and dict(s.phases)["processing"] == 0 and s.status_code == 0
    assert set(dict(s.layers)) == {"dns", "tcp"} and s.cert_expiry is None


def test_history_is_bounded_over_many_distinct_causes() -> None:
    h = History(window=60, max_causes=32)
    for i in range(20_000):
        h.record(float(i), "problems", [("TCP_TIMEOUT", "tcp", f"h{i}.io"), ("DNS_NXDOMAIN", "dns", "x")], {})
    assert len(h.rounds) == 60 and len(h.causes) <= 61  # the window's live causes are never forgotten
    snap = h.snapshot()
    top = next(c for c in snap["causes"] if c["code"] == "DNS_NXDOMAIN")
    assert top["rounds_total"] == 20_000 and top["rounds_in_window"] == 60
    assert snap["causes_forgotten"] > 19_000 and len(json.dumps(snap)) < 200_000


def test_history_counts_an_intermittent_cause() -> None:
    h = History(window=60)
    for i in range(100):
        bad = i % 20 == 0
        key = ("DATA_ENDPOINT_BLOCKED", "data", "r.westeurope.data.azurecr.io")
        h.record(float(i), "problems" if bad else "ok", [key] if bad else [], {key[2]: "data"},
                 {key: ("tcp", "TCP_TIMEOUT")})
    c = h.snapshot()["causes"][0]
    assert c["summary"] == ("3 of the last 60 rounds failed at tcp to r.westeurope.data.azurecr.io "
                            "(DATA_ENDPOINT_BLOCKED via TCP_TIMEOUT)")
    assert c["rounds_total"] == 5 and c["first_seen"] == "1970-01-01T00:00:00Z"


def test_schedule_jitter_bounds() -> None:
    rng = random.Random(7)
    s = Schedule(interval=10, jitter=0.2)
    starts = [s.next_start(0.0, rng) for _ in range(1000)]
    assert min(starts) >= 8 and max(starts) <= 12 and len(set(starts)) > 900


def test_rounds_of_one_target_never_overlap() -> None:
    active, overlaps, runs = [0], [0], [0]
    lock = threading.Lock()

    def slow_round() -> None:
        with lock:
            active[0] += 1
            overlaps[0] = max(overlaps[0], active[0])
        time.sleep(0.05)  # longer than the interval
        with lock:
            active[0] -= 1
            runs[0] += 1

    sch = scheduler.Scheduler([slow_round], Schedule(0.01, 0.0), lambda i, e: None)
    sch.start()
    time.sleep(0.5)
    assert sch.stop(2.0)
    assert overlaps[0] == 1 and runs[0] >= 5


def test_a_raising_round_is_reported_and_the_schedule_goes_on() -> None:
    errors: list[str] = []

    def bad() -> None:
        raise RuntimeError("bug")

    sch = scheduler.Scheduler([bad], Schedule(0.01, 0.0), lambda i, e: errors.append(str(e)))
    sch.start()
    time.sleep(0.2)
    assert sch.alive() and sch.stop(1.0) and len(errors) > 3


# ---------------------------------------------------------------------- the real command on loopback


class _Registry(BaseHTTPRequestHandler):
    """Answers GET /v2/ as an open registry does (the HTTP layer passes); nothing else exists."""

    def do_GET(self) -> None:
        body = b"{}" if self.path == "/v2/" else b'{"errors":[{"code":"NAME_UNKNOWN"}]}'
        self.send_response(200 if self.path == "/v2/" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url

    def get(self, path: str, accept: str | None = None) -> tuple[int, str, str]:
        host, port = self.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", path, headers={"Accept": accept} if accept else {})
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        return r.status, r.getheader("Content-Type") or "", body

    def metrics(self) -> dict[str, Any]:
        return {f.name: f for f in text_string_to_metric_families(self.get("/metrics")[2])}

    def rounds(self) -> float:
        fam = self.metrics().get("regdoctor_check_rounds")
        return sum(s.value for s in fam.samples if s.name.endswith("_total")) if fam else 0.0

    def wait_rounds(self, n: float, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.rounds() < n:
            assert time.monotonic() < deadline, f"fewer than {n} rounds"
            time.sleep(0.05)


def start_serve(*args: str, env: dict[str, str] | None = None) -> Served:
    proc = subprocess.Popen([EXE, "serve", "--listen", "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"listening on (http://\S+)", line)
    assert m, line
    return Served(proc, m.group(1))


@pytest.fixture
def served() -> Iterator[tuple[Served, int, HTTPServer]]:
    registry = HTTPServer(("127.0.0.1", 0), _Registry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    closed = free_port()
    s = start_serve(f"127.0.0.1:{closed}", f"localhost:{registry.server_address[1]}/lab/app:1", "--plain-http",
                    "--interval", "0.1", "--timeout", "1", "--label", "pool=np1", env={"NODE_NAME": "aks-np1-0"})
    try:
        yield s, closed, registry
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
        s.proc.wait()
        registry.shutdown()


def test_metric_names_types_labels(served: tuple[Served, int, HTTPServer]) -> None:
    s, closed, registry = served
    s.wait_rounds(4)
    fams = s.metrics()
    for name, (kind, _) in METRICS.items():
        assert name in fams, name
        assert fams[name].type == kind, (name, fams[name].type)
    ep = {"registry", "target", "endpoint", "role", "node"}
    for name in ("probe_success", "probe_duration_seconds", "probe_dns_lookup_time_seconds", "probe_http_status_code"):
        assert {frozenset(x.labels) for x in fams[name].samples} == {frozenset(ep)}, name
    phases = {x.labels["phase"] for x in fams["probe_http_duration_seconds"].samples}
    assert phases == {"resolve", "connect", "tls", "processing", "transfer"}
    assert {x.labels["node"] for x in fams["probe_success"].samples} == {"aks-np1-0"}
    success = {x.labels["endpoint"]: x.value for x in fams["probe_success"].samples}
    reg_port = registry.server_address[1]
    assert success == {f"127.0.0.1:{closed}": 0.0, f"localhost:{reg_port}": 0.0}  # the repository is unknown
    codes = {x.labels["endpoint"]: x.value for x in fams["probe_http_status_code"].samples}
    assert codes[f"127.0.0.1:{closed}"] == 0 and codes[f"localhost:{reg_port}"] == 200
    finding = {(x.labels["code"], x.labels["layer"], x.labels["host"], x.labels["role"], x.labels["root_cause"])
               for x in fams["regdoctor_finding"].samples}
    assert ("TCP_REFUSED", "tcp", "127.0.0.1", "registry", "true") in finding
    assert {x.labels["version"] for x in fams["regdoctor_build_info"].samples} == {"0.1.0"}
    assert "process_resident_memory_bytes" in fams  # the process's own metrics, for the soak
    status, ctype, text = s.get("/metrics", accept="application/openmetrics-text; version=1.0.0")
    assert status == 200 and ctype.startswith("application/openmetrics-text") and text.rstrip().endswith("# EOF")


def test_finding_series_go_away_with_the_finding(served: tuple[Served, int, HTTPServer]) -> None:
    s, closed, _ = served
    s.wait_rounds(2)
    assert any(x.labels["code"] == "TCP_REFUSED" for x in s.metrics()["regdoctor_finding"].samples)
    up = HTTPServer(("127.0.0.1", closed), _Registry)  # the refused port starts answering
    threading.Thread(target=up.serve_forever, daemon=True).start()
    try:
        before = s.rounds()
        s.wait_rounds(before + 4)
        fams = s.metrics()
        assert not any(x.labels["host"] == "127.0.0.1" for x in fams["regdoctor_finding"].samples)
        succ = {x.labels["endpoint"]: x.value for x in fams["probe_success"].samples}
        assert succ[f"127.0.0.1:{closed}"] == 1.0
        window = {x.labels["code"]: x.value for x in fams["regdoctor_root_cause_window_rounds"].samples
                  if x.labels["host"] == "127.0.0.1"}
        assert window["TCP_REFUSED"] >= 1  # the history still remembers it
        hist = json.loads(s.get("/history.json")[2])
        tgt = next(t for t in hist["targets"] if t["registry"] == f"127.0.0.1:{closed}")
        cause = tgt["history"]["causes"][0]
        assert cause["code"] == "TCP_REFUSED" and re.match(r"\d+ of the last \d+ rounds failed at tcp to 127\.0\.0\.1",
                                                           cause["summary"])
    finally:
        up.shutdown()
        up.server_close()


def test_report_json_healthz_and_stdout_lines_feed_fleet(served: tuple[Served, int, HTTPServer]) -> None:
    s, _, _ = served
    s.wait_rounds(4)
    status, ctype, body = s.get("/report.json")
    doc = json.loads(body)
    assert status == 200 and ctype.startswith("application/json")
    assert list(doc)[:3] == ["schema", "tool", "status"] and doc["node"] == {"name": "aks-np1-0",
                                                                            "labels": {"pool": "np1"}}
    assert len(doc["targets"]) == 2 and doc["serve"]["targets"][0]["history"]["window"] == 60
    assert s.get("/healthz")[:1] == (200,) and s.get("/nope")[0] == 404
    s.proc.send_signal(signal.SIGTERM)
    out, err = s.proc.communicate(timeout=15)
    assert s.proc.returncode == 0 and "stopped" in err and "Traceback" not in err
    lines = out.splitlines()
    assert len(lines) >= 4 and all(json.loads(x)["tool"] == "regdoctor" for x in lines)
    fleet = subprocess.run([EXE, "fleet", "-", "--json"], input=out + body, capture_output=True, text=True,
                           check=False)
    verdict = json.loads(fleet.stdout)
    assert fleet.returncode == 1 and verdict["nodes_total"] == 1 and verdict["input"]["superseded_reports"] >= 4


def test_http_handlers_are_bounded(served: tuple[Served, int, HTTPServer]) -> None:
    s, _, _ = served
    s.wait_rounds(1)
    host, port = s.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port))) for _ in range(60)]  # connect, never speak
    try:
        time.sleep(0.5)
        threads = int(re.search(r"Threads:\s+(\d+)", Path(f"/proc/{s.proc.pid}/status").read_text()).group(1))  # type: ignore[union-attr]
        assert threads < 30, threads  # 8 handler slots, the rounds' probes, the server: not one per connection
    finally:
        for c in idle:
            c.close()
    deadline = time.monotonic() + 15
    while True:  # once the idle ones are gone, scrapes are answered again
        try:
            if s.get("/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize("args, message", [
    (["r.io", "--listen", "nonsense"], "--listen"),
    (["r.io", "--listen", "127.0.0.1:99999"], "--listen"),
    (["r.io", "r.io"], "twice"),
    (["r.io", "--label", "x"], "KEY=VALUE"),
    (["not a ref!"], ""),
])
def test_bad_usage_exit_2(args: list[str], message: str) -> None:
    r = subprocess.run([EXE, "serve", *args], capture_output=True, text=True, timeout=20, check=False)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr


def test_port_in_use_is_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([EXE, "serve", "r.io", "--listen", f"127.0.0.1:{port}"], capture_output=True, text=True,
                           timeout=20, check=False)
    assert r.returncode == 2 and "cannot listen" in r.stderr


@pytest.mark.parametrize("argv, banned", [
    (["--version"], ("prometheus_client", "yaml")),
    (["fleet", "-"], ("prometheus_client", "yaml", "rich")),
    (["k8s", "npd-config", "r.io"], ("prometheus_client", "yaml")),
    (["check", "--help"], ("prometheus_client", "yaml")),
])
def test_heavy_imports_stay_lazy(argv: list[str], banned: tuple[str, ...]) -> None:
    code = ("import sys\nfrom regdoctor.cli import cli\n"
            f"try:\n    cli.main({argv!r}, standalone_mode=False)\nexcept BaseException: pass\n"
            f"print('loaded:' + ','.join(m for m in {banned!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, input="", check=True)
    assert r.stdout.strip().splitlines()[-1] == "loaded:", r.stdout
