"""`regdoctor proxy` and `check --as` against REAL daemons (dockerd 20.10, containerd) in the lab.

The network: the lab's client netns rejects direct connections to egress.lab.test (10.200.0.30) for every
user but squid's, so only the proxy gets out; squid's port 3133 refuses to tunnel to *.data.azurecr.io
(the public path of a private-endpoint data endpoint). Each daemon reads a fake node root
(tests/lab/daemons.py) that `regdoctor --root` reads too; `--proc` (the node's own daemons) lets regdoctor see the
daemon's live environment. Each test prints what the real client said beside regdoctor's verdict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.daemons import Node, missing
from lab.lab import Lab

pytestmark = pytest.mark.lab

SHELL = {"HTTPS_PROXY": "http://127.0.0.1:3128"}
EGRESS = "egress.lab.test/lab/hello:latest"
DROPIN = "/etc/systemd/system/docker.service.d/http-proxy.conf"


@pytest.fixture
def node(lab: Lab) -> Iterator[Node]:
    gaps = missing()
    if gaps:
        reason = "daemon packages missing: " + ", ".join(gaps)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " (CI=true)", pytrace=False)
        pytest.skip(reason)
    n = Node(lab)
    n.write("/etc/docker/certs.d/egress.lab.test/ca.crt", lab.ca_file.read_text())
    try:
        yield n
    finally:
        n.close()
        assert n.alive() == [], f"daemon processes left: {n.alive()}"
        mounts = Path("/proc/self/mountinfo").read_text()
        assert str(n.root) not in mounts and "regdoctor-lab /run" not in mounts


def rd(lab: Lab, node: Node, *args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    r = lab.regdoctor(*args, "--root", str(node.root), "--proc", str(node.proc_view()), "--json",
                      env=SHELL if env is None else env, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"exit {r.returncode}: {r.stdout[:800]} {r.stderr[:800]}")


def roots(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["root_cause"]]


def show(title: str, client: str, verdict: dict[str, Any]) -> None:
    print(f"\n=== {title}\n--- real client:\n{client.strip()}\n--- regdoctor: {verdict['code']}: {verdict['cause']}\n"
          f"    fix: {verdict['fix']}")


def test_daemon_without_proxy_while_the_shell_has_one(lab: Lab, node: Node) -> None:
    d = node.start_dockerd(env={})  # no drop-in: systemd would give it no proxy
    pull = node.docker("pull", EGRESS)
    assert pull.returncode != 0 and "10.200.0.30:443" in pull.stderr, pull.stderr

    # the shell's path is healthy (through squid), with the registry's CA from certs.d via --ca
    r = lab.regdoctor("check", EGRESS, "--ca", str(lab.ca_file), "--json", env=SHELL, timeout=120)
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and not roots(doc), doc["findings"]
    notes = [f for f in doc["findings"] if f["code"] == "RUNTIME_PATH_DIFFERS"]
    assert notes and "--as docker" in notes[0]["fix"], doc["findings"]

    # the daemon's path: no --ca, the CA comes from the node's /etc/docker/certs.d
    rc, doc = rd(lab, node, "check", "--as", "docker", EGRESS)
    first = roots(doc)[0]
    assert rc == 1 and first["code"] == "RUNTIME_NO_PROXY", doc["findings"]
    assert first["evidence"]["actor"] == "dockerd" and first["evidence"]["pid"] == d.pid
    assert first["evidence"]["blocked_code"] == "TCP_HOST_UNREACHABLE"
    assert "/etc/systemd/system/docker.service.d/http-proxy.conf" in first["fix"]
    assert "systemctl daemon-reload && systemctl restart docker" in first["fix"]
    assert all(not f["root_cause"] for f in doc["findings"] if f["code"].startswith("TCP_"))
    show("dockerd without proxy", pull.stderr, first)

    rc, doc = rd(lab, node, "proxy", EGRESS)
    actors = {a["actor"]: a for a in doc["actors"]}
    assert actors["dockerd"]["running"] and actors["dockerd"]["pid"] == d.pid
    shell_route = next(r for r in actors["shell"]["routes"] if r["actor"] == "shell")
    assert shell_route["proxy"] == "http://127.0.0.1:3128"
    assert actors["dockerd"]["routes"][0]["proxy"] == "direct"
    assert actors["dockerd"]["trust"][0]["host"] == "egress.lab.test"
    assert rc == 1 and "RUNTIME_NO_PROXY" in [f["code"] for f in doc["findings"]]


def test_dropin_edited_but_daemon_not_restarted(lab: Lab, node: Node) -> None:
    d = node.start_dockerd(env={})  # started before the drop-in existed
    node.write(DROPIN, '[Service]\nEnvironment="HTTPS_PROXY=http://127.0.0.1:3128"\n'
                       'Environment="NO_PROXY=localhost,127.0.0.1"\n')
    pull = node.docker("pull", EGRESS)
    assert pull.returncode != 0, pull.stdout

    rc, doc = rd(lab, node, "proxy", EGRESS)
    pending = [f for f in doc["findings"] if f["code"] == "RUNTIME_RESTART_PENDING"]
    assert rc == 1 and pending, doc["findings"]
    assert "HTTPS_PROXY: running (unset), files http://127.0.0.1:3128" in pending[0]["cause"]
    assert pending[0]["evidence"]["pid"] == d.pid

    rc, doc = rd(lab, node, "check", "--as", "docker", EGRESS)
    first = roots(doc)[0]
    assert first["code"] == "RUNTIME_RESTART_PENDING", doc["findings"]
    assert "after a restart: http://127.0.0.1:3128" in first["cause"]
    show("drop-in edited, dockerd not restarted", pull.stderr, first)

    # the restart systemd would do: the same daemon with the drop-in's environment; now it pulls
    node.stop(d)
    d = node.start_dockerd(env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "localhost,127.0.0.1"})
    pull = node.docker("pull", EGRESS)
    assert pull.returncode == 0, pull.stderr
    rc, doc = rd(lab, node, "check", "--as", "docker", EGRESS)
    assert rc == 0 and not roots(doc), doc["findings"]
    rc, doc = rd(lab, node, "proxy", EGRESS)
    assert "RUNTIME_RESTART_PENDING" not in [f["code"] for f in doc["findings"]]


def test_containerd_no_proxy_lacks_the_data_endpoint(lab: Lab, node: Node) -> None:
    # A private path: the registry (registry.lab.test) is in NO_PROXY, its data endpoint
    # (pullreg.westeurope.data.azurecr.io, the ACR imitation's blob host) is not, so blobs go to the proxy,
    # which refuses the public path. containerd reads the drop-in's environment.
    env = {"HTTPS_PROXY": "http://127.0.0.1:3133", "NO_PROXY": "registry.lab.test,localhost"}
    node.write("/etc/systemd/system/containerd.service.d/http-proxy.conf",
               f'[Service]\nEnvironment="HTTPS_PROXY={env["HTTPS_PROXY"]}"\nEnvironment="NO_PROXY={env["NO_PROXY"]}"\n')
    ca = "/etc/containerd/certs.d/registry.lab.test:5611/ca.crt"
    node.write(ca, lab.ca_file.read_text())
    node.write("/etc/containerd/certs.d/registry.lab.test:5611/hosts.toml",
               f'server = "https://registry.lab.test:5611"\n[host."https://registry.lab.test:5611"]\n'
               f'  capabilities = ["pull", "resolve"]\n  ca = "{ca}"\n')
    node.write("/etc/containerd/certs.d/pullreg.westeurope.data.azurecr.io/ca.crt", lab.ca_file.read_text())
    d = node.start_containerd(env=env)
    # ctr pulls in its own process: given containerd's environment it takes the daemon's (CRI's) path
    pull = node.ctr("images", "pull", "--hosts-dir", "/etc/containerd/certs.d",
                    "registry.lab.test:5611/lab/hello:latest", env=env)
    assert pull.returncode != 0, pull.stdout

    rc, doc = rd(lab, node, "check", "--as", "containerd", "registry.lab.test:5611/lab/hello:latest",
                 env={"HTTPS_PROXY": "http://127.0.0.1:3128"})
    first = roots(doc)[0]
    assert rc == 1 and first["code"] == "NOPROXY_DATA_ENDPOINT_MISSING", doc["findings"]
    assert first["host"] == "pullreg.westeurope.data.azurecr.io"
    assert first["evidence"]["actor"] == "containerd" and first["evidence"]["pid"] == d.pid
    assert first["evidence"]["where"] == "/etc/systemd/system/containerd.service.d/http-proxy.conf:3"
    assert "NO_PROXY" in first["cause"] and ".data.azurecr.io" in first["fix"]
    blocked = [f for f in doc["findings"] if f["code"] == "DATA_ENDPOINT_BLOCKED"]
    assert blocked and not blocked[0]["root_cause"]
    show("containerd NO_PROXY without the data endpoint", pull.stdout + pull.stderr, first)


def test_dockerd_registry_mirror_down(lab: Lab, node: Node) -> None:
    node.write("/etc/docker/daemon.json", json.dumps({"registry-mirrors": ["https://registry.lab.test:5499"]}))
    node.start_dockerd(env={})
    pull = node.docker("pull", "alpine:3.19", timeout=120)
    assert pull.returncode != 0
    log = (lab.dir / "logs" / "dockerd.log").read_text(errors="replace")
    assert "registry.lab.test:5499" in log  # dockerd really tried the mirror first

    rc, doc = rd(lab, node, "check", "--as", "docker", "docker.io/library/alpine:3.19", env={})
    mirror = [e for e in doc["endpoints"] if e["role"] == "mirror"]
    assert mirror and (mirror[0]["host"], mirror[0]["port"]) == ("registry.lab.test", 5499)
    first = roots(doc)[0]
    assert rc == 1 and first["code"] == "MIRROR_UNREACHABLE", doc["findings"]
    assert first["evidence"]["blocked_code"] == "TCP_REFUSED" and "/etc/docker/daemon.json" in first["cause"]
    show("dockerd registry-mirror down", pull.stderr, first)


PODMAN_CONF = "/etc/containers/containers.conf"


def test_podman_engine_env_proxy(lab: Lab, node: Node) -> None:
    # podman is daemonless: the proxy of its pull is the invoking shell's, then containers.conf
    # `[engine] env`, which podman sets in its own process. The shell here has NO proxy.
    node.write(PODMAN_CONF, '[engine]\nenv = ["https_proxy=http://127.0.0.1:3128"]\n')
    pull = node.podman("pull", EGRESS, env={})
    assert pull.returncode == 0, pull.stderr

    rc, doc = rd(lab, node, "check", "--as", "podman", EGRESS, env={})
    assert rc == 0 and not roots(doc), doc["findings"]
    rc, doc = rd(lab, node, "proxy", EGRESS, env={})
    actors = {a["actor"]: a for a in doc["actors"]}
    route = actors["podman"]["routes"][0]
    assert route["proxy"] == "http://127.0.0.1:3128", actors["podman"]
    print(f"\n=== podman [engine] env\n--- real client: {pull.stdout.strip()[-200:]}\n--- regdoctor proxy: {route}")

    # the same proxy left out of containers.conf: podman goes direct and the lab drops it
    node.write(PODMAN_CONF, '[engine]\nenv = ["https_proxy=http://127.0.0.1:3999"]\n')
    pull = node.podman("rmi", "-f", EGRESS, env={})
    pull = node.podman("pull", EGRESS, env={})
    assert pull.returncode != 0 and "127.0.0.1:3999" in pull.stderr, pull.stderr
    rc, doc = rd(lab, node, "check", "--as", "podman", EGRESS, env={})
    first = roots(doc)[0]
    assert rc == 1 and first["code"] == "RUNTIME_PROXY_FAILS", doc["findings"]
    assert first["evidence"]["where"] == f"{PODMAN_CONF}:2" and first["evidence"]["blocked_code"] == "PROXY_REFUSED"
    assert f"{PODMAN_CONF}:2" in first["fix"] and "docker.service.d" not in first["fix"]
    refused = [f for f in doc["findings"] if f["code"] == "PROXY_REFUSED"]
    assert refused and not any(f["root_cause"] for f in refused), doc["findings"]
    show("podman [engine] env names a proxy that is down", pull.stderr, first)

    # with the shell's HTTPS_PROXY as well, both are in podman's environment and Go's rule takes
    # the upper-case name first: the pull goes through the shell's (good) proxy; regdoctor agrees,
    # and says nothing of how Python would read them (podman is a Go program)
    pull = node.podman("pull", EGRESS, env=SHELL)
    rc, doc = rd(lab, node, "check", "--as", "podman", EGRESS, env=SHELL)
    assert pull.returncode == 0 and rc == 0 and not roots(doc), (pull.stderr, doc["findings"])
    assert "PROXY_RULES_DIFFER" not in [f["code"] for f in doc["findings"]]
    print(f"--- with the shell's HTTPS_PROXY too: podman exit {pull.returncode}, regdoctor exit {rc}")


def test_podman_registries_conf_blocks_the_registry(lab: Lab, node: Node) -> None:
    # containers/image takes the LONGEST matching prefix: the blocked host entry applies to
    # egress.lab.test/lab/…, until a longer unblocked prefix for the namespace is added
    regs = "/etc/containers/registries.conf"
    node.write(PODMAN_CONF, '[engine]\nenv = ["https_proxy=http://127.0.0.1:3128"]\n')
    node.write(regs, '[[registry]]\nlocation = "egress.lab.test"\nblocked = true\n')
    pull = node.podman("pull", EGRESS, env={})
    assert pull.returncode != 0 and "is blocked in" in pull.stderr, pull.stderr
    rc, doc = rd(lab, node, "check", "--as", "podman", EGRESS, env={})
    first = roots(doc)[0]
    assert rc == 1 and first["code"] == "RUNTIME_REGISTRY_BLOCKED", doc["findings"]
    assert first["evidence"]["where"] == f"{regs}:2" and first["evidence"]["prefix"] == "egress.lab.test"
    show("registries.conf blocks the registry", pull.stderr, first)

    node.write(regs, '[[registry]]\nlocation = "egress.lab.test"\nblocked = true\n\n'
                     '[[registry]]\nlocation = "egress.lab.test/lab"\n')
    pull = node.podman("pull", EGRESS, env={})
    rc, doc = rd(lab, node, "check", "--as", "podman", EGRESS, env={})
    assert pull.returncode == 0 and rc == 0 and not roots(doc), (pull.stderr, doc["findings"])
    node.remove(regs)  # the node root is shared by this module's tests


def test_dockerd_insecure_registry_is_not_verified(lab: Lab, node: Node) -> None:
    # registry.lab.test:5448 serves a self-signed certificate; dockerd's insecure-registries accepts it
    ref = "registry.lab.test:5448/lab/hello:latest"
    node.remove(DROPIN)  # the node root is shared by this module's tests: no proxy drop-in here
    node.write("/etc/docker/daemon.json", json.dumps({"insecure-registries": ["registry.lab.test:5448"]}))
    node.start_dockerd(env={})
    pull = node.docker("pull", ref)
    assert pull.returncode == 0, pull.stderr
    rc, doc = rd(lab, node, "check", "--as", "docker", ref, env={})
    assert rc == 0 and not roots(doc), doc["findings"]
    notes = [f for f in doc["findings"] if f["code"] == "TLS_VERIFY_SKIPPED"]
    assert notes and "registry.lab.test:5448" in notes[0]["cause"], doc["findings"]
    # the shell's own path verifies, as `curl` or skopeo without --tls-verify=false would
    r = lab.regdoctor("check", ref, "--json", env={}, timeout=120)
    first = next(f for f in json.loads(r.stdout)["findings"] if f["root_cause"])
    assert r.returncode == 1 and first["layer"] == "tls", first
    print(f"\n=== dockerd insecure-registries\n--- docker pull: exit {pull.returncode}\n--- regdoctor --as docker: "
          f"{notes[0]['code']}: {notes[0]['cause']}\n--- regdoctor (shell): {first['code']}")


def test_dockerd_insecure_plain_http_registry(lab: Lab, node: Node) -> None:
    # registry.lab.test:5000 speaks plain HTTP; for an insecure registry dockerd tries https, then http
    ref = "registry.lab.test:5000/lab/hello:latest"
    node.remove(DROPIN)
    node.write("/etc/docker/daemon.json", json.dumps({"insecure-registries": ["registry.lab.test:5000"]}))
    node.start_dockerd(env={})
    pull = node.docker("pull", ref)
    assert pull.returncode == 0, pull.stderr
    rc, doc = rd(lab, node, "check", "--as", "docker", ref, env={})
    assert rc == 0 and not roots(doc), doc["findings"]
    [registry] = [e for e in doc["endpoints"] if e["role"] == "registry"]
    assert registry["scheme"] == "http"
    assert "TLS_PLAIN_HTTP_FALLBACK" in [f["code"] for f in doc["findings"]]
    r = lab.regdoctor("check", ref, "--json", env={}, timeout=120)  # the shell's path: https, as docker without it
    first = next(f for f in json.loads(r.stdout)["findings"] if f["root_cause"])
    assert r.returncode == 1 and first["layer"] == "tls", first
    print(f"\n=== dockerd insecure plain-HTTP registry\n--- docker pull: exit {pull.returncode}\n--- regdoctor "
          f"--as docker: exit {rc}, TLS_PLAIN_HTTP_FALLBACK\n--- regdoctor (shell): {first['code']}")


def test_docker_and_containerd_follow_a_registry_that_hands_its_api_on(lab: Lab, node: Node) -> None:
    """registry.k8s.io's shape (fronts.py api-redirect on :5613): every API request 307s to :5601. dockerd
    and containerd authorize each hop by the host whose challenge it is, so both pull; regdoctor walks the
    same path and finds it healthy. containers/image puts the token on the request to the registry, which
    Go drops on the cross-host hop: podman gets `unauthorized`, and `check --as podman` names that
    (a backend that serves anonymous pulls without a token, as registry.k8s.io's does, still works)."""
    fresh = Node(lab, name="napi")  # a root of its own: no drop-in or config of earlier tests
    try:
        _pull_through_api_redirect(lab, fresh)
    finally:
        fresh.close()
        assert fresh.alive() == [], f"daemon processes left: {fresh.alive()}"


def _pull_through_api_redirect(lab: Lab, node: Node) -> None:
    ref = "registry.lab.test:5613/lab/hello:latest"
    for host in ("registry.lab.test:5613", "registry.lab.test:5601", "data.lab.test"):
        node.write(f"/etc/docker/certs.d/{host}/ca.crt", lab.ca_file.read_text())
        node.write(f"/etc/containerd/certs.d/{host}/ca.crt", lab.ca_file.read_text())
    node.start_containerd(env={})
    ctr = node.ctr("images", "pull", "--hosts-dir", "/etc/containerd/certs.d", ref,
                   env={"SSL_CERT_FILE": str(lab.ca_file)})
    assert ctr.returncode == 0, ctr.stdout + ctr.stderr
    _healthy_as(lab, node, "containerd", ref)  # before dockerd starts a containerd of its own
    node.start_dockerd(env={})
    docker = node.docker("pull", ref, timeout=120)
    assert docker.returncode == 0, docker.stdout + docker.stderr
    _healthy_as(lab, node, "docker", ref)
    for host in ("registry.lab.test:5613", "registry.lab.test:5601", "data.lab.test"):
        node.write(f"/etc/containers/certs.d/{host}/ca.crt", lab.ca_file.read_text())
    node.write(PODMAN_CONF, "[engine]\n")
    podman = node.podman("pull", ref, env={}, timeout=120)
    assert podman.returncode != 0 and "unauthorized" in podman.stderr, podman.stderr
    rc, doc = rd(lab, node, "check", "--as", "podman", ref, env={})
    assert rc == 1 and roots(doc)[0]["code"] == "AUTH_DROPPED_ON_REDIRECT", doc["findings"]


def _healthy_as(lab: Lab, node: Node, actor: str, ref: str) -> None:
    rc, doc = rd(lab, node, "check", "--as", actor, ref, env={})
    assert rc == 0 and not roots(doc), (actor, [(f["code"], f["cause"]) for f in doc["findings"]])
    assert any(e["origin"] == "API redirect from registry.lab.test:5613" for e in doc["endpoints"]), actor
