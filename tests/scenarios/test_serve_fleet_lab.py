"""`serve` and `fleet` in the fault lab: metrics that move when a fault is switched on and off between rounds,
memory that stays flat over thousands of rounds, and a simulated cluster of 9 nodes (network namespaces, each
with its own fault mix) merged by `fleet` into the right groups.

The nodes (tests/lab/fleetlab.py) reach the lab's ACR imitation registry.lab.test:5611, whose blobs redirect to
the data endpoint pullreg.westeurope.data.azurecr.io (the lab data host, DATA_IP)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lab.fleetlab import (
    FLEET_PROXY_IP,
    PROXY_NO_DATA,
    PROXY_OPEN,
    FleetLab,
    NftFault,
    fetch_in,
    fleet_lab,
    regdoctor_exe,
    rss_kib,
    spawn_in,
    stop_process,
)
from lab.lab import DATA_IP, SERVER_IP, Lab

pytestmark = pytest.mark.lab

ACR_REF = "registry.lab.test:5611/lab/hello:latest"
DATA = "pullreg.westeurope.data.azurecr.io"
PORT = 9737


class Exporter:
    """A `regdoctor serve` in a lab netns, scraped from inside that netns."""

    def __init__(self, lab: Lab, ns: str, proc: subprocess.Popen[bytes], port: int = PORT) -> None:
        self.lab, self.ns, self.proc, self.port = lab, ns, proc, port

    def get(self, path: str) -> str:
        return fetch_in(self.lab, self.ns, f"http://127.0.0.1:{self.port}{path}")

    def metrics(self) -> dict[str, Any]:
        return {f.name: f for f in text_string_to_metric_families(self.get("/metrics"))}

    def rounds(self, fams: dict[str, Any] | None = None) -> float:
        fams = fams or self.metrics()
        fam = fams.get("regdoctor_check_rounds")
        return sum(s.value for s in fam.samples if s.name.endswith("_total")) if fam else 0.0

    def wait(self, n: float, timeout: float = 60, poll: float = 0.2) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fams = self.metrics()
                if self.rounds(fams) >= n:
                    return fams
            except Exception:  # not listening yet
                if self.proc.poll() is not None:
                    raise
            assert time.monotonic() < deadline, f"fewer than {n} rounds after {timeout} s"
            time.sleep(poll)


@pytest.fixture
def start(lab: Lab) -> Iterator[Callable[..., Exporter]]:
    procs: list[subprocess.Popen[bytes]] = []

    def run(*args: str, ns: str | None = None, port: int = PORT) -> Exporter:
        proc = spawn_in(lab, ns or lab.client_ns, [regdoctor_exe(), "serve", "--listen", f"127.0.0.1:{port}", *args],
                        stdout=subprocess.DEVNULL)
        procs.append(proc)
        return Exporter(lab, ns or lab.client_ns, proc, port)

    yield run
    for p in procs:
        stop_process(p)


def by_endpoint(fams: dict[str, Any], name: str) -> dict[str, float]:
    return {s.labels["endpoint"]: s.value for s in fams[name].samples}


def findings(fams: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(s.labels["code"], s.labels["layer"], s.labels["host"]) for s in fams["regdoctor_finding"].samples}


def test_values_move_when_a_fault_is_switched_on_and_off(lab: Lab, start: Callable[..., Exporter]) -> None:
    ex = start(ACR_REF, "--ca", str(lab.ca_file), "--interval", "0.3", "--timeout", "1", "--node", "lab-node")
    fams = ex.wait(2)
    assert by_endpoint(fams, "probe_success") == {"registry.lab.test:5611": 1.0, f"{DATA}:443": 1.0}
    assert by_endpoint(fams, "probe_http_status_code")[f"{DATA}:443"] == 206  # the ranged blob GET
    assert findings(fams) == set()
    expiry = by_endpoint(fams, "probe_ssl_earliest_cert_expiry")[f"{DATA}:443"]
    assert expiry > time.time() + 300 * 86400  # the lab leaf is valid for 825 days
    tls = {s.labels["phase"]: s.value for s in fams["probe_http_duration_seconds"].samples
           if s.labels["endpoint"] == f"{DATA}:443"}
    assert tls["tls"] > 0 and tls["connect"] > 0 and tls["processing"] > 0

    with NftFault(lab, lab.client_ns, f"    ip daddr {DATA_IP} drop"):
        fams = ex.wait(ex.rounds() + 2)
        succ = by_endpoint(fams, "probe_success")
        # the registry's own layers pass; its pull path fails at the blob that redirects to the data endpoint
        assert succ[f"{DATA}:443"] == 0.0 and succ["registry.lab.test:5611"] == 0.0
        assert by_endpoint(fams, "probe_http_status_code")["registry.lab.test:5611"] == 401
        assert ("DATA_ENDPOINT_BLOCKED", "data", DATA) in findings(fams)
        assert by_endpoint(fams, "probe_http_status_code")[f"{DATA}:443"] == 0
        connect = {s.labels["phase"]: s.value for s in fams["probe_http_duration_seconds"].samples
                   if s.labels["endpoint"] == f"{DATA}:443"}
        assert connect["connect"] >= 0.9 and connect["tls"] == 0  # the SYN waited out its deadline
        assert {s.labels["target"]: s.value for s in fams["regdoctor_check_success"].samples} == {ACR_REF: 0.0}

    fams = ex.wait(ex.rounds() + 2)
    assert findings(fams) == set()  # the series went away with the finding
    assert by_endpoint(fams, "probe_success")[f"{DATA}:443"] == 1.0
    hist = json.loads(ex.get("/history.json"))["targets"][0]["history"]
    cause = next(c for c in hist["causes"] if c["code"] == "DATA_ENDPOINT_BLOCKED")
    assert cause["broke_at"] == {"layer": "tcp", "code": "TCP_TIMEOUT"} and cause["role"] == "data"
    n = hist["rounds_in_window"]
    assert cause["summary"] == (f"{cause['rounds_in_window']} of the last {n} rounds failed at tcp to {DATA} "
                                "(DATA_ENDPOINT_BLOCKED via TCP_TIMEOUT)")
    assert 2 <= cause["rounds_in_window"] < n
    report = json.loads(ex.get("/report.json"))
    assert report["status"] == "ok" and report["node"]["name"] == "lab-node"
    ex.proc.send_signal(15)
    assert ex.proc.wait(timeout=15) == 0


def test_memory_is_flat_over_thousands_of_rounds(lab: Lab, start: Callable[..., Exporter]) -> None:
    """≥ 2,000 rounds of the whole pull path (token-free registry :5000) at 10 ms, with a fault switched on
    and off every second so finding series keep appearing and disappearing; the exporter's own RSS and
    thread count must not grow, nor the number of series it serves."""
    ex = start("registry.lab.test:5000/lab/hello:latest", "--plain-http", "--interval", "0.01", "--jitter", "0",
               "--timeout", "1", "--history", "60")
    fault = NftFault(lab, lab.client_ns, f"    ip daddr {SERVER_IP} tcp dport 5000 reject with tcp reset")
    warm_rounds, end_rounds = 300, 2300
    try:
        fams = ex.wait(warm_rounds, timeout=120, poll=1.0)
        warm_rss, warm_threads = rss_kib(ex.proc.pid), _threads(ex.proc.pid)
        warm_series = sum(len(f.samples) for f in fams.values())
        t0, r0 = time.monotonic(), ex.rounds(fams)
        seen_fault = seen_ok = False
        while (r := ex.rounds(fams := ex.metrics())) < end_rounds:
            assert time.monotonic() - t0 < 300, f"only {r} rounds"
            if findings(fams):
                seen_fault = True
            else:
                seen_ok = True
            fault.off() if fault.active else fault.on()
            time.sleep(1.0)
        fault.off()
        fams = ex.wait(ex.rounds() + 20)
        rate = (ex.rounds(fams) - r0) / (time.monotonic() - t0)
        end_rss, end_threads = rss_kib(ex.proc.pid), _threads(ex.proc.pid)
        series = sum(len(f.samples) for f in fams.values())
    finally:
        fault.off()
    print(f"soak: {ex.rounds(fams):.0f} rounds, {rate:.0f}/s; RSS {warm_rss} -> {end_rss} KiB; "
          f"threads {warm_threads} -> {end_threads}; series {warm_series} -> {series}")
    assert seen_fault and seen_ok
    assert end_rss - warm_rss < 3 * 1024, (warm_rss, end_rss)  # < 3 MiB over ~2,000 rounds
    assert end_threads <= warm_threads + 4
    assert abs(series - warm_series) <= 8  # no series left behind by the findings that came and went


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


# ---------------------------------------------------------------------- a simulated cluster

POOLS = {  # name -> (pool, zone, fault)
    "node-1": ("np1", "1", None), "node-2": ("np1", "2", None), "node-3": ("np1", "1", None),
    "node-4": ("np2", "3", "drop-data"), "node-5": ("np2", "3", "drop-data"), "node-6": ("np2", "3", "drop-data"),
    "node-7": ("np3", "1", "broken-dns"), "node-8": ("np3", "2", "via-proxy"), "node-9": ("np3", "3", "proxy-no-data"),
}
SERVE_NODES = {"node-3", "node-6", "node-8"}  # these run `serve`; the others `check --json` once


@pytest.fixture(scope="module")
def cluster(lab: Lab) -> Iterator[FleetLab]:
    with fleet_lab(lab) as fl:
        for name, (pool, zone, fault) in POOLS.items():
            kw: dict[str, Any] = {}
            if fault == "drop-data":  # the pool's egress (an NSG/firewall rule) drops the data endpoint
                kw["nft_rules"] = f"    ip daddr {DATA_IP} drop"
            elif fault == "broken-dns":  # the node's resolver is its gateway, where no DNS server listens
                kw["resolv"] = f"nameserver 10.201.{len(fl.nodes) + 1}.1\noptions timeout:1 attempts:1\n"
            elif fault == "via-proxy":  # egress only through the proxy (and to the resolver)
                kw["env"] = {"HTTPS_PROXY": f"http://{FLEET_PROXY_IP}:{PROXY_OPEN}"}
                kw["nft_rules"] = f"    ip daddr 10.200.0.0/24 ip daddr != {{ {FLEET_PROXY_IP}, 10.200.0.53 }} drop"
            elif fault == "proxy-no-data":  # the proxy's allow-list forgot *.data.azurecr.io
                kw["env"] = {"HTTPS_PROXY": f"http://{FLEET_PROXY_IP}:{PROXY_NO_DATA}"}
            fl.add_node(name, {"pool": pool, "zone": zone}, **kw)
        yield fl


def test_simulated_fleet_is_grouped_by_cause_and_pool(lab: Lab, cluster: FleetLab, tmp_path: Any) -> None:
    common = [ACR_REF, "--ca", str(lab.ca_file), "--timeout", "1.5"]
    procs = {}
    logs_of: dict[str, Any] = {}
    for n in cluster.nodes:
        if n.name in SERVE_NODES:  # stdout to a file, as the container runtime drains it (a pipe would fill up)
            argv = [regdoctor_exe(), "serve", *common, "--interval", "0.5", "--listen", f"127.0.0.1:{PORT}",
                    *n.label_args()]
            logs_of[n.name] = (tmp_path / f"{n.name}.stdout").open("wb")
            n.env["NODE_NAME"] = n.name  # the DaemonSet sets it from spec.nodeName (the Downward API)
            procs[n.name] = cluster.spawn(n, argv, stdout=logs_of[n.name].fileno())
        else:
            argv = [regdoctor_exe(), "check", *common, "--json", "--node", n.name, *n.label_args()]
            procs[n.name] = cluster.spawn(n, argv)
    for n in cluster.nodes:  # serve nodes: wait for two rounds, then SIGTERM (the DaemonSet's pod deletion)
        if n.name in SERVE_NODES:
            Exporter(lab, n.ns, procs[n.name]).wait(2)
            stop_process(procs[n.name])
    outputs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert b"Traceback" not in err, err
        if name in logs_of:
            logs_of[name].close()
            out = (tmp_path / f"{name}.stdout").read_bytes()
        outputs[name] = (proc.returncode, out.decode())
    for name, (rc, _) in outputs.items():
        want = 0 if name in SERVE_NODES or POOLS[name][2] is None else 1
        assert rc == want, (name, rc, outputs[name][1][:500])
    # the check nodes' reports as files (one per node), the serve nodes' as `kubectl logs --prefix` would show them
    reports = tmp_path / "reports"
    reports.mkdir()
    logs = []
    for name, (_, out) in outputs.items():
        if name in SERVE_NODES:
            logs += [f"[pod/regdoctor-{name}/regdoctor] {line}" for line in out.splitlines()]
            logs.append(f"[pod/regdoctor-{name}/regdoctor] regdoctor serve: stopped")
        else:
            (reports / f"{name}.json").write_text(out)
    text = subprocess.run([regdoctor_exe(), "fleet", str(reports), "-"], input="\n".join(logs), capture_output=True,
                          text=True, check=False)
    res = subprocess.run([regdoctor_exe(), "fleet", str(reports), "-", "--json"], input="\n".join(logs),
                         capture_output=True, text=True, check=False)
    print(text.stdout)
    assert text.returncode == 1 and res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["nodes_total"], doc["nodes_ok"], doc["nodes_problems"]) == (9, 4, 5)
    assert doc["input"]["skipped_lines"] == len(SERVE_NODES) and doc["input"]["superseded_reports"] >= 3
    dns = next(g for g in doc["groups"] if g["layer"] == "dns")
    assert dns["code"].startswith("DNS_") and dns["host"] == "registry.lab.test" and dns["nodes"] == ["node-7"]
    groups = {(g["code"], g["broke_at"]["layer"], g["host"]): g for g in doc["groups"]}
    assert set(groups) == {("DATA_ENDPOINT_BLOCKED", "tcp", DATA), ("DATA_ENDPOINT_BLOCKED", "proxy", DATA),
                           (dns["code"], "dns", "registry.lab.test")}
    pool = groups["DATA_ENDPOINT_BLOCKED", "tcp", DATA]
    assert sorted(pool["nodes"]) == ["node-4", "node-5", "node-6"] and pool["role"] == "data"
    assert pool["summary"] == (f"3 of 9 nodes (pool np2, zone 3) fail at tcp to {DATA} "
                               "(DATA_ENDPOINT_BLOCKED via TCP_TIMEOUT), every node of pool np2")
    assert groups["DATA_ENDPOINT_BLOCKED", "proxy", DATA]["nodes"] == ["node-9"]
    assert groups["DATA_ENDPOINT_BLOCKED", "proxy", DATA]["broke_at"]["code"] == "PROXY_DENIED"
    by_pool = {(x["key"], x["value"]): x for x in doc["by_label"]}
    assert (by_pool["pool", "np1"]["ok"], by_pool["pool", "np2"]["ok"], by_pool["pool", "np3"]["ok"]) == (3, 0, 1)
    assert "3 of 9 nodes (pool np2, zone 3) fail at tcp to" in text.stdout
    data_row = next(r for r in doc["matrix"] if r["endpoint"] == f"{DATA}:443")
    assert data_row["layers"]["tcp"]["fail"] == 3 and data_row["layers"]["proxy"]["fail"] == 1
