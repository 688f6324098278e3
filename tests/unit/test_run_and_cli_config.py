"""The fan-out's own guarantees (no sockets: the probe function is replaced)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from regdoctor.cli._targets import config_targets
from regdoctor.credentials import load_client_config
from regdoctor.model import EndpointResult, Step
from regdoctor.probe.endpoint import ProbeOptions
from regdoctor.probe.run import Job, PullOptions, jobs_for, run_jobs
from regdoctor.target import acr_target, parse_target


def _ok(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
    time.sleep(0.2)
    return [EndpointResult(host=job.host, port=job.port, role=job.role, steps=(
        Step("tcp", "connect", "pass", 1.0, "ok"),))]


def test_jobs_run_concurrently_and_keep_order() -> None:
    jobs = [Job(f"h{i}.io", 443, "registry") for i in range(8)]
    t0 = time.monotonic()
    out = run_jobs(jobs, ProbeOptions(timeout=1), probe=_ok)
    assert time.monotonic() - t0 < 1.0  # 8 x 0.2 s sequentially would be 1.6 s
    assert [e.host for e in out] == [j.host for j in jobs]


def test_a_crashing_probe_becomes_a_client_finding() -> None:
    def boom(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
        raise RuntimeError("bug")

    [e] = run_jobs([Job("h.io", 443, "registry")], ProbeOptions(timeout=1), probe=boom)
    assert e.steps[0].code == "CLIENT_INTERNAL_ERROR" and "bug" in e.steps[0].summary


def test_region_jobs_only_for_acr_targets() -> None:
    targets = [acr_target("myreg"), parse_target("ghcr.io/org/app")]
    jobs = jobs_for(targets, ["westeurope", "eastus"])
    assert [(j.host, j.role) for j in jobs] == [
        ("myreg.azurecr.io", "registry"), ("ghcr.io", "registry"),
        ("myreg.westeurope.data.azurecr.io", "data"), ("myreg.eastus.data.azurecr.io", "data")]


def test_registries_from_docker_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({
        "auths": {"https://index.docker.io/v1/": {}, "myreg.azurecr.io": {}, "unix:///var/run/docker.sock": {}},
        "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login", "myreg.azurecr.io": "acr"}}))
    env = {"DOCKER_CONFIG": str(tmp_path), "HOME": str(tmp_path), "PATH": ""}
    enc = "dTpw"  # u:p
    env["DOCKER_AUTH_CONFIG"] = json.dumps({"auths": {"env.example:5000": {"auth": enc}}})
    # Docker Hub's key is docker.io; a key naming no registry ("unix:") is skipped, not a usage error
    assert [t.raw for t in config_targets(load_client_config(env))] == [
        "docker.io", "myreg.azurecr.io", "123.dkr.ecr.eu-west-1.amazonaws.com", "env.example:5000"]
    (tmp_path / "config.json").write_text("{broken")
    cfg = load_client_config(env)
    assert [t.raw for t in config_targets(cfg)] == ["env.example:5000"]
    # a config that names no registry: Docker Hub, as `docker pull` without a host
    assert [t.raw for t in config_targets(load_client_config({"DOCKER_CONFIG": str(tmp_path / "none")}))] == [
        "docker.io"]
    [problem] = cfg.problems
    assert problem.path == str(tmp_path / "config.json") and problem.kind == "not_json"
