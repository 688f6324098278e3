"""What a healthy check does not pay for (no sockets: the probe function is replaced).

- the catalogue (``kb/codes.toml``) is read only for a finding (and then only that code's table):
  a healthy run never reads it;
- one TLS context per trust setting per run, shared by its endpoints, and a fresh one per run
  (a long ``serve`` sees a CA installed meanwhile);
- without ``--as``, the runtime audit behind the "daemon would go another way" note runs beside
  the probes, not after them, and the note still comes.
"""

from __future__ import annotations

import ssl
import threading
import time
from pathlib import Path

import pytest

from regdoctor import kb
from regdoctor.credentials import load_client_config
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Step
from regdoctor.net.tls import ContextCache
from regdoctor.probe.options import ProbeOptions
from regdoctor.probe.run import Job, PullOptions, check, run_jobs
from regdoctor.runtime.model import Actor, Origin, Value
from regdoctor.runtime.source import Source
from regdoctor.runtime.vantage import Beside, check_from
from regdoctor.target import parse_target


def _passing(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
    return [EndpointResult(host=job.host, port=job.port, role=job.role, steps=(
        Step("dns", "resolve", "pass", 1.0, "ok"), Step("tcp", "connect", "pass", 1.0, "ok"),
        Step("http", "GET /v2/", "pass", 1.0, "200 OK")))]


def test_a_healthy_run_never_parses_the_catalogue(tmp_path: Path) -> None:
    config = load_client_config({"HOME": str(tmp_path), "PATH": ""})
    assert not config.problems
    kb._source.cache_clear()
    kb._entry.cache_clear()
    try:
        report = check([parse_target("r.example/app:1")], ProbeOptions(timeout=1), PullOptions(config=config),
                       probe=_passing)
        assert report.status == "ok" and not report.findings
        assert kb._source.cache_info().misses == 0  # nothing asked for a code's texts: the file was not read
    finally:
        kb._entry.cache_clear()


def test_one_tls_context_per_trust_setting_per_run() -> None:
    seen: list[tuple[str, ssl.SSLContext, ssl.SSLContext]] = []
    lock = threading.Lock()

    def probe(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
        with lock:
            seen.append((job.host, opts.tls_context(verify=False), opts.tls_context(verify=False)))
        return _passing(job, opts, pull)

    jobs = [Job(f"h{i}.example", 443, "registry") for i in range(4)]
    run_jobs(jobs, ProbeOptions(timeout=1, plain_http=True), probe=probe)
    first = seen[0][1]
    assert len(seen) == 4 and all(a is first and b is first for _, a, b in seen)  # one context for the run
    seen.clear()
    run_jobs(jobs, ProbeOptions(timeout=1, plain_http=True), probe=probe)
    assert all(a is not first for _, a, _ in seen)  # the next run builds its own (``first`` is still alive)


def test_the_context_cache_keys_on_the_trust_setting(tmp_path: Path) -> None:
    cache = ContextCache()
    assert cache.get(verify=False) is cache.get(verify=False)
    assert cache.get(verify=False) is not cache.get()  # the system store: another setting
    missing = str(tmp_path / "nope.pem")
    for _ in range(2):  # a failed build is not cached: each caller sees the error
        with pytest.raises(FileNotFoundError):
            cache.get(missing)
    cache.prepare(missing)  # a prepared build that fails is silent; get() raises where it is used
    with pytest.raises(FileNotFoundError):
        cache.get(missing)


def _wait_for(path: Path, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > end:
            return False
        time.sleep(0.005)
    return True


def test_the_audit_runs_beside_the_probes_and_the_note_still_comes(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each side waits for the other to have started: run one after the other, both would time out."""
    probing, auditing, met = tmp_path / "probing", tmp_path / "auditing", tmp_path / "met"
    met.mkdir()
    daemon = Actor(name="dockerd", label="Docker daemon (dockerd)", applies_to="image pulls",
                   live=(Value("HTTPS_PROXY", "http://corp-proxy:3128", Origin("/proc/42/environ")),), pid=42)

    def probe(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
        probing.touch()
        (met / ("probe saw the audit" if _wait_for(auditing) else "probe alone")).touch()
        return _passing(job, opts, pull)

    def audit(src: Source, env: object, aks: object = ()) -> list[Actor]:
        auditing.touch()
        (met / ("audit saw the probe" if _wait_for(probing) else "audit alone")).touch()
        return [daemon]

    monkeypatch.setattr("regdoctor.probe.run.probe_job", probe)
    monkeypatch.setattr("regdoctor.runtime.actors.audit", audit)
    proc = tmp_path / "proc"
    (proc / "42").mkdir(parents=True)
    (proc / "42" / "comm").write_text("dockerd\n")  # a daemon runs: the audit has something to say
    report = check_from([parse_target("r.example/app:1")], ProbeOptions(timeout=1, env={}), PullOptions(),
                        actor=None, source=Source("/nonexistent", proc=str(proc)))
    assert sorted(p.name for p in met.iterdir()) == ["audit saw the probe", "probe saw the audit"]
    [note] = report.findings
    assert note.code == Code.RUNTIME_PATH_DIFFERS and note.evidence["actor"] == "dockerd"
    assert note.evidence["actor_path"] == "via http://corp-proxy:3128"


def test_beside_hands_its_exception_to_the_caller() -> None:
    def boom() -> int:
        raise ValueError("from the thread")

    with pytest.raises(ValueError, match="from the thread"):
        Beside(boom).result()


def test_without_a_running_daemon_the_audit_is_not_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def audit(src: Source, env: object, aks: object = ()) -> list[Actor]:
        raise AssertionError("the audit ran with no daemon to note")

    monkeypatch.setattr("regdoctor.probe.run.probe_job", _passing)
    monkeypatch.setattr("regdoctor.runtime.actors.audit", audit)
    proc = tmp_path / "proc"
    for pid, name in ((1, "systemd"), (7, "bash"), (9, "podman")):  # podman has no daemon: nothing live
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(name + "\n")
    report = check_from([parse_target("r.example/app:1")], ProbeOptions(timeout=1, env={}), PullOptions(),
                        actor=None, source=Source("/nonexistent", proc=str(proc)))
    assert report.status == "ok" and not report.findings


def test_every_live_reader_looks_for_a_name_the_pre_check_knows() -> None:
    """The pre-check and the actor readers share the daemon names: a reader's name missing from
    DAEMON_PROCESSES would make its note silently vanish."""
    import re

    from regdoctor.runtime.notes import DAEMON_PROCESSES

    root = Path(__file__).resolve().parents[2] / "src" / "regdoctor" / "runtime"
    names = set()
    for module in ("docker.py", "containerd.py", "containers.py", "kube.py", "actors.py"):
        text = (root / module).read_text(encoding="utf-8")
        names |= set(re.findall(r'find_process\(processes, "([a-z0-9-]+)"', text))
        names |= set(re.findall(r'k3s_like\(src, procs, "([a-z0-9-]+)"\)', text))
        names |= set(re.findall(r'p\.name == "([a-z0-9-]+)"', text))
    assert names and names <= DAEMON_PROCESSES, names - DAEMON_PROCESSES

