"""regdoctor.runtime over real configuration files (tests/unit/data/runtime, sources in INDEX.md)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from regdoctor.runtime import Source, actor_for, audit, syntax
from regdoctor.runtime.kube import aks
from regdoctor.runtime.rules import findings, go_ignores, hosts_for, routes

DATA = Path(__file__).parent / "data" / "runtime"
SHELL = {"HTTPS_PROXY": "http://shellproxy:3128"}


def run(name: str, host: str = "myreg.azurecr.io", regions: tuple[str, ...] = (), env: dict[str, str] | None = None):
    actors = audit(Source(str(DATA / name), proc=str(DATA / "no-proc")), SHELL if env is None else env)
    hs = hosts_for(host, 443, regions)
    return {a.name: a for a in actors}, findings(actors, hs), routes(actors, hs)


def codes(fs) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.code for f in fs]


# ---------------------------------------------------------------------------- syntax (systemd's rules)

def test_environment_words_quotes_and_several_assignments() -> None:
    lines = syntax.unit_lines('[Service]\nEnvironment="A=1 2" B=3 C="x y"\nEnvironment=D=\\x41\n')
    env = syntax.parse_environment(lines, {})
    assert [(a.name, a.value) for a in env.assignments] == [("A", "1 2"), ("B", "3"), ("C", "x y"), ("D", "A")]


def test_empty_environment_resets_and_unbalanced_quote_drops_the_rest() -> None:
    text = "[Service]\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2 \"C=3\n"
    env = syntax.parse_environment(syntax.unit_lines(text), {})
    assert [a.name for a in env.assignments] == ["B"] and env.dropped[0].reason == "quoting"


def test_specifiers_percent_percent_and_unknown() -> None:
    assert syntax.resolve_specifiers("%n-%%", {"n": "docker.service"}) == ("docker.service-%", ["%n"])
    assert syntax.resolve_specifiers("pass%40word", {}) is None


def test_env_file_rules() -> None:
    text = "# c\nA = 'x y' \nB=\"a\\\"b\\q\"\nexport C=1\nD=one\\\n two\n;E=no\nF=\"q\"tail\n"
    env = syntax.parse_env_file(text)
    assert {a.name: a.value for a in env.assignments} == {"A": "x y", "B": 'a"b\\q', "D": "one two", "F": "qtail"}
    assert env.dropped[0].reason == "name" and "export" in env.dropped[0].detail


def test_exec_start_prefixes() -> None:
    assert syntax.exec_words("-/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock") == [
        "/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"]


def test_json_depth_limit_and_size() -> None:
    with pytest.raises(syntax.ConfigSyntaxError):
        syntax.load_json("[" * 100 + "]" * 100)
    assert syntax.load_json('{"a": "[[[["}') == {"a": "[[[["}


def test_environ_first_duplicate_wins() -> None:
    assert syntax.parse_environ(b"A=1\0B=2\0A=3\0") == {"A": "1", "B": "2"}


# ---------------------------------------------------------------------------- actors

def test_docker_docs_dropin_and_daemon_json_override() -> None:
    actors, fs, rs = run("docker-docs")
    d = actors["dockerd"]
    assert {v.name: v.value for v in d.configured}["HTTPS_PROXY"] == "https://proxy.example.com:3129"
    src = next(v for v in d.configured if v.name == "HTTPS_PROXY").origin
    assert (src.path, src.line) == ("/etc/systemd/system/docker.service.d/http-proxy.conf", 3)
    assert d.env()["NO_PROXY"] == "*.test.example.com,.example.org,127.0.0.0/8"  # daemon.json wins
    assert [m.host for m in d.mirrors] == ["mirror.gcr.io"] and d.mirrors[0].registry == "docker.io"
    assert "PROXY_URL_HTTPS_SCHEME" in codes(fs) and "MIRROR_NOT_FOR_REGISTRY" in codes(fs)
    route = next(r for r in rs if r.actor == "dockerd")
    assert route.proxy == "https://proxy.example.com:3129" and route.source.path == "/etc/docker/daemon.json"


def test_percent_escaping() -> None:
    actors, fs, _ = run("docker-escape")
    d = actors["dockerd"]
    assert {v.name: v.value for v in d.configured} == {
        "HTTP_PROXY": "http://domain%5Cuser:complex%23pass@proxy.example.com:3128/"}
    bad = [f for f in fs if f.code == "UNIT_PERCENT_UNESCAPED"]
    assert bad and bad[0].evidence["variable"] == "HTTPS_PROXY" and bad[0].evidence["line"] == 3
    assert "complex%23pass" not in json.dumps([f.cause for f in fs])  # the password part never printed


def test_classic_docker_mistakes() -> None:
    actors, fs, _ = run("docker-mistakes")
    c = codes(fs)
    assert c.count("DOCKER_DAEMON_JSON_TOPLEVEL_PROXY") == 3
    assert "DOCKER_CONFIG_PROXIES_NO_DEFAULT" in c and "UNIT_ENV_OUTSIDE_SERVICE" in c
    assert actors["dockerd"].configured == ()  # outside [Service]: systemd ignores it


def test_cli_config_is_containers_only() -> None:
    actors, fs, _ = run("docker-cli")
    assert actors["docker-cli"].pulls is False
    assert {v.name for v in actors["docker-cli"].configured} == {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"}
    assert "RUNTIME_CLIENT_ONLY_PROXY" in codes(fs) and "RUNTIME_NO_PROXY" in codes(fs)


def test_rootless_dropin_and_glob() -> None:
    actors, fs, _ = run("docker-rootless")
    d = actors["dockerd"]
    assert "rootless" in d.label and d.apply.startswith("systemctl --user")
    assert "NOPROXY_GLOB_IGNORED" in codes(fs)
    assert next(f for f in fs if f.code == "NOPROXY_GLOB_IGNORED").evidence["entries"] == ["10.0.*"]


def test_containerd_hosts_toml_and_data_endpoint_missing() -> None:
    actors, fs, rs = run("containerd", regions=("westeurope",))
    c = actors["containerd"]
    assert [(m.registry, m.host) for m in c.mirrors] == [("docker.io", "registry-mirror.example.com")]
    assert {t.host_port for t in c.trust} == {"registry-mirror.example.com:443", "myreg.example:5000"}
    miss = [f for f in fs if f.code == "NOPROXY_DATA_ENDPOINT_MISSING"]
    assert miss and miss[0].host == "myreg.westeurope.data.azurecr.io"
    assert miss[0].evidence["where"] == "/etc/systemd/system/containerd.service.d/http-proxy.conf:4"
    registry = next(r for r in rs if r.actor == "containerd" and r.role == "registry")
    assert registry.proxy is None and "myreg.azurecr.io" in registry.reason


def test_cidr_for_names() -> None:
    _, fs, _ = run("k3s", host="registry.corp.example")
    cidr = [f for f in fs if f.code == "NOPROXY_CIDR_FOR_NAME"]
    assert cidr and cidr[0].evidence["actor"] == "k3s"


def test_containers_registries_conf_containers_conf_and_crio() -> None:
    actors, _, _ = run("containers", host="example.com")
    p = actors["podman"]
    assert p.env()["https_proxy"] == "http://proxy.example.com:3128"
    assert p.blocked == ("registry.blocked.example",)
    assert [m.host for m in p.mirrors] == ["example-mirror-0.local", "example-mirror-1.local",
                                           "internal-registry-for-example.com"]
    crio = actors["crio"]
    assert crio.env()["HTTPS_PROXY"] == "http://myproxy.example.com:8080"
    assert any(t.host_port == "my-registry.example:5000" for t in crio.trust)


def test_k3s_containerd_prefix_and_auto_no_proxy() -> None:
    actors, _, _ = run("k3s")
    k = actors["k3s"]
    assert k.env()["NO_PROXY"].endswith("10.42.0.0/16,10.43.0.0/16,.svc,.cluster.local")
    assert "CONTAINERD_NO_PROXY" in next(v for v in k.configured if v.name == "NO_PROXY").notes[0]


def test_rke2_and_microk8s_env_files() -> None:
    actors, _, _ = run("rke2")
    assert actors["rke2"].env()["HTTPS_PROXY"] == "http://your-proxy.example.com:8888"
    actors, _, _ = run("microk8s")
    assert actors["microk8s"].env() == {"HTTPS_PROXY": "http://squid.internal:3128",
                                        "NO_PROXY": "10.1.0.0/16,10.152.183.0/24"}


def test_aks_http_proxy_config() -> None:
    a = aks((DATA / "aks/aks-proxy-config.json").read_text(), "aks-proxy-config.json")
    assert a.env()["HTTPS_PROXY"] == "https://myproxy.server.com:8080/"
    assert [i.code for i in a.issues] == ["AKS_NOPROXY_WILDCARD"]
    w = aks((DATA / "aks/wrapped.json").read_text(), "wrapped.json")
    assert [i.code for i in w.issues] == ["AKS_PROXY_CONFIG_WRAPPED"] and w.env()["HTTPS_PROXY"]


def test_go_ignores() -> None:
    assert [go_ignores(e) for e in ("*", "*.a", "a.*", "10.*.*.*", ".a")] == [False, False, True, True, False]


def test_actor_for_kubelet_without_kubelet_is_the_runtime() -> None:
    actors = audit(Source(str(DATA / "containerd"), proc=str(DATA / "no-proc")), {})
    assert actor_for("kubelet", actors).name == "containerd"  # type: ignore[union-attr]


def test_symlinks_stay_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "etc/docker").mkdir(parents=True)
    (tmp_path / "real.json").write_text('{"registry-mirrors": ["https://m.example"]}')
    os.symlink("/real.json", tmp_path / "etc/docker/daemon.json")
    src = Source(str(tmp_path), proc=str(tmp_path / "proc"))
    assert src.read("/etc/docker/daemon.json").text.startswith("{")  # type: ignore[union-attr]
    os.symlink("/etc/passwd", tmp_path / "etc/escape")
    assert src.read("/etc/escape") is None  # /etc/passwd of the root, which does not exist


def test_live_process_environ_restart_pending(tmp_path: Path) -> None:
    """A real child process stands in for the daemon: its /proc/<pid>/environ is the live view.
    The proc dir holds that process only, so a real dockerd on the machine cannot be picked."""
    root = DATA / "docker-docs"
    proc = subprocess.Popen(["/bin/bash", "-c", "exec -a dockerd sleep 30"], env={"HTTPS_PROXY": "http://old:3128"})
    (tmp_path / str(proc.pid)).symlink_to(f"/proc/{proc.pid}")
    (tmp_path / "stat").symlink_to("/proc/stat")  # btime: when the process started
    deadline = time.monotonic() + 10
    while not Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(b"dockerd") and time.monotonic() < deadline:
        time.sleep(0.01)  # bash has not exec'd `sleep` as "dockerd" yet (a race under load)
    try:
        actors = audit(Source(str(root), proc=str(tmp_path)), {})
        d = next(a for a in actors if a.name == "dockerd")
        assert d.pid == proc.pid and d.live is not None
        assert d.restart_pending
        fs = findings(actors, hosts_for("myreg.azurecr.io"))
        pending = next(f for f in fs if f.code == "RUNTIME_RESTART_PENDING")
        assert "HTTPS_PROXY: running http://old:3128, files https://proxy.example.com:3129" in pending.cause
    finally:
        proc.kill()
        proc.wait()


def test_proxy_cli_json_and_formats() -> None:
    from click.testing import CliRunner

    from regdoctor.cli import cli

    args = ["proxy", "myreg.azurecr.io", "--region", "westeurope", "--root", str(DATA / "containerd"),
            "--proc", str(DATA / "no-proc")]
    r = CliRunner().invoke(cli, [*args, "--json"], env=SHELL)
    doc = json.loads(r.output)
    assert r.exit_code == 1 and doc["schema"] == 1 and doc["tool"] == "regdoctor"
    assert {"actor", "routes", "configured"} <= set(doc["actors"][0])
    for fmt in ("markdown", "junit", "text"):
        assert CliRunner().invoke(cli, [*args, "--format", fmt], env=SHELL).exit_code == 1
    bad = CliRunner().invoke(cli, ["proxy", "--root", "/nonexistent-dir"])
    assert bad.exit_code == 2


def test_a_mirror_url_urllib_cannot_split_is_skipped_not_fatal(tmp_path: Path) -> None:
    """`https://[mirror]` (a bracketed name, not an IP) makes urlsplit itself raise; dockerd skips it too."""
    (tmp_path / "etc/docker").mkdir(parents=True)
    (tmp_path / "etc/docker/daemon.json").write_text(
        '{"registry-mirrors": ["https://[mirror]", "https://[fe80::1", "https://good.example:5000"]}')
    proc = tmp_path / "proc"
    proc.mkdir()
    actors = audit(Source(str(tmp_path), proc=str(proc)), {})
    docker = next(a for a in actors if a.name == "dockerd")
    assert [(m.host, m.port) for m in docker.mirrors] == [("good.example", 5000)]
