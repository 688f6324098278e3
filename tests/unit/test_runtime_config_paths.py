"""Branches of the runtime readers the shipped fixtures do not reach, each with a config as its program accepts it.

Syntax sources: containers-registries.conf(5) (v2 ``[[registry]]`` tables, the v1
``[registries.insecure]``/``[registries.block]`` tables, ``CONTAINERS_REGISTRIES_CONF``, the rootless
``$HOME/.config/containers/registries.conf`` and ``registries.conf.d``); dockerd(8) and docker/docs
``engine/daemon/proxy.md`` (``--http-proxy``/``--https-proxy`` flags over ``daemon.json`` ``proxies``,
``--registry-mirror``); systemd.unit(5)/systemd.exec(5) (masked units, ``EnvironmentFile=`` with ``-``,
specifiers and the empty assignment that resets the list, ``ExecStart=`` reset, ``Environment=``
outside ``[Service]``).
"""

from __future__ import annotations

import os
from pathlib import Path

from regdoctor.kb.codes import Code
from regdoctor.runtime import Source, audit
from regdoctor.runtime.containers import registries_conf
from regdoctor.runtime.docker import dockerd
from regdoctor.runtime.rules import findings, hosts_for
from regdoctor.runtime.units import glob_files, load_unit


def tree(root: Path, files: dict[str, str]) -> Source:
    for path, text in files.items():
        p = root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return Source(str(root), proc=str(root / "no-proc"))


# ----------------------------------------------------------------------------------- registries.conf

V1 = """\
[registries.search]
registries = ['registry1.com', 'registry2.com']

[registries.insecure]
registries = ['registry3.com']

[registries.block]
registries = ['registry.evil.example']
"""

V2 = """\
unqualified-search-registries = ["docker.io"]

[[registry]]
location = "reg.local:5000"
insecure = true

[[registry.mirror]]
location = "mirror.local:5001/reg"
insecure = true

[[registry]]
prefix = "quay.io"
location = "quay.io"
blocked = true
"""


def test_registries_conf_v1_tables_and_v2_insecure_blocked(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/etc/containers/registries.conf": V1,
                          "/etc/containers/registries.conf.d/10-local.conf": V2})
    r = registries_conf(src, {})
    assert r.files == ["/etc/containers/registries.conf", "/etc/containers/registries.conf.d/10-local.conf"]
    assert r.insecure == ["registry3.com", "reg.local:5000"]
    assert r.blocked == ["registry.evil.example", "quay.io"]
    assert [(m.registry, m.host, m.port, m.insecure, m.origin.line) for m in r.mirrors] == [
        ("reg.local:5000", "mirror.local", 5001, True, 8)]


def test_registries_conf_unreadable_file_is_an_issue_and_the_rest_still_read(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/etc/containers/registries.conf": "[[registry]\nlocation = 'x'\n",
                          "/etc/containers/registries.conf.d/10-local.conf": V2})
    r = registries_conf(src, {})
    assert [i.code for i in r.issues] == [Code.CONFIG_UNREADABLE]
    assert r.issues[0].evidence["file"] == "/etc/containers/registries.conf"
    assert r.insecure == ["reg.local:5000"]


def test_registries_conf_env_override_and_rootless_file(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/etc/containers/registries.conf": V1,
                          "/etc/containers/registries.conf.d/10-local.conf": V2,
                          "/srv/regs.conf": '[[registry]]\nlocation = "only.example"\nblocked = true\n',
                          "/home/u/.config/containers/registries.conf": '[[registry]]\nprefix = "u.example"\n'
                                                                         'insecure = true\n'})
    only = registries_conf(src, {"CONTAINERS_REGISTRIES_CONF": "/srv/regs.conf"})
    assert only.files == ["/srv/regs.conf"] and only.blocked == ["only.example"] and only.insecure == []
    user = registries_conf(src, {}, home="/home/u")
    assert user.files == ["/home/u/.config/containers/registries.conf",
                          "/etc/containers/registries.conf.d/10-local.conf"]
    assert user.insecure == ["u.example", "reg.local:5000"]


def test_registries_conf_later_file_replaces_a_prefix_and_bad_mirrors_are_skipped(tmp_path: Path) -> None:
    src = tree(tmp_path, {
        "/etc/containers/registries.conf": '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n'
                                           '[[registry.mirror]]\nlocation = "old-mirror.example"\n',
        "/etc/containers/registries.conf.d/50-mirror.conf": (
            '[[registry]]\nprefix = "docker.io"\nlocation = "hub-proxy.corp.example/library"\n'
            '[[registry.mirror]]\ninsecure = true\n'
            '[[registry.mirror]]\nlocation = "new-mirror.example:8443"\n')})
    r = registries_conf(src, {})
    assert [(m.host, m.port, m.fallback) for m in r.mirrors] == [
        ("new-mirror.example", 8443, True), ("hub-proxy.corp.example", 443, False)]


# ----------------------------------------------------------------------------------------- dockerd

DOCKER_UNIT = """\
[Service]
ExecStart=/usr/bin/dockerd -H fd:// --https-proxy http://flag-proxy:3128 --registry-mirror=https://flag-mirror:5000
"""


def test_dockerd_flags_win_over_daemon_json(tmp_path: Path) -> None:
    src = tree(tmp_path, {
        "/lib/systemd/system/docker.service": DOCKER_UNIT,
        "/etc/docker/daemon.json": '{"proxies": {"https-proxy": "http://json-proxy:3128",\n'
                                   '"http-proxy": "http://json-http:3128"},\n'
                                   '"registry-mirrors": ["https://json-mirror"]}\n'})
    d = dockerd(src, [])
    assert d is not None
    assert {v.name: v.value for v in d.overrides} == {
        "HTTP_PROXY": "http://json-http:3128", "http_proxy": "http://json-http:3128",
        "HTTPS_PROXY": "http://flag-proxy:3128", "https_proxy": "http://flag-proxy:3128"}
    flag = next(v for v in d.overrides if v.name == "HTTPS_PROXY")
    assert flag.notes == ("--https-proxy flag",) and str(flag.origin) == "/lib/systemd/system/docker.service:2"
    assert [(m.host, m.port, str(m.origin)) for m in d.mirrors] == [
        ("json-mirror", 443, "/etc/docker/daemon.json:3"),
        ("flag-mirror", 5000, "/lib/systemd/system/docker.service:2")]


def test_dockerd_absent_is_no_actor(tmp_path: Path) -> None:
    assert dockerd(tree(tmp_path, {"/etc/hostname": "h\n"}), []) is None


# ---------------------------------------------------------------------------------- systemd units

def test_masked_unit(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/lib/systemd/system/docker.service": DOCKER_UNIT})
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    os.symlink("/dev/null", tmp_path / "etc/systemd/system/docker.service")
    u = load_unit(src, "docker.service")
    assert [i.code for i in u.issues] == [Code.UNIT_MASKED] and not u.found


def test_unreadable_dropin_is_skipped(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/lib/systemd/system/docker.service": DOCKER_UNIT,
                          "/etc/systemd/system/docker.service.d/20-proxy.conf":
                              '[Service]\nEnvironment="HTTPS_PROXY=http://p:3128"\n'})
    (tmp_path / "etc/systemd/system/docker.service.d/10-dir.conf").mkdir()
    u = load_unit(src, "docker.service")
    assert u.files == ["/lib/systemd/system/docker.service", "/etc/systemd/system/docker.service.d/20-proxy.conf"]
    assert u.env["HTTPS_PROXY"].value == "http://p:3128"


UNIT_WITH_FILES = """\
[Unit]
Environment=HTTPS_PROXY=http://ignored:3128

[Service]
EnvironmentFile=/etc/default/early
EnvironmentFile=
EnvironmentFile=-/etc/default/optional-missing
EnvironmentFile=/etc/sysconfig/%N
EnvironmentFile=/etc/default/required-missing
EnvironmentFile=/etc/default/p%Zq
ExecStart=/usr/bin/old
ExecStart=
"""


def test_unit_environment_files_reset_optional_missing_and_specifiers(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/etc/systemd/system/crio.service": UNIT_WITH_FILES,
                          "/etc/default/early": "HTTPS_PROXY=http://early:3128\n",
                          "/etc/sysconfig/crio": "HTTPS_PROXY=http://sysconfig:3128\n"})
    u = load_unit(src, "crio.service")
    assert {k: v.value for k, v in u.env.items()} == {"HTTPS_PROXY": "http://sysconfig:3128"}
    assert u.files == ["/etc/systemd/system/crio.service", "/etc/sysconfig/crio"]
    assert [(i.code, i.evidence.get("env_file") or i.evidence.get("section")) for i in u.issues] == [
        (Code.UNIT_ENV_OUTSIDE_SERVICE, "Unit"), (Code.UNIT_ENV_FILE_MISSING, "/etc/default/required-missing")]
    assert u.exec_start == [] and u.exec_origin is None


def test_proxy_rules_differ_for_the_shell_and_both_endpoints_bypassed() -> None:
    src = Source("/nonexistent", proc="/nonexistent")
    env = {"https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128",
           "NO_PROXY": "myreg.azurecr.io,.data.azurecr.io"}
    fs = findings(audit(src, env), hosts_for("other.example", 443))
    assert [(f.code, f.host) for f in fs] == [(Code.PROXY_RULES_DIFFER, "other.example")]
    fs = findings(audit(src, env), hosts_for("myreg.azurecr.io", 443, ("westeurope",)))
    assert Code.NOPROXY_DATA_ENDPOINT_MISSING not in [f.code for f in fs]


# systemd takes an EnvironmentFile= value as ONE path (config_parse_unit_env_file: specifiers over
# the whole value, one leading "-", must be absolute) and expands it with glob(3)
# (exec_context_load_environment); systemd.exec(5): "an absolute filename or wildcard expression".
ENV_FILE_VALUES = """\
[Service]
EnvironmentFile="/etc/default/quoted"
EnvironmentFile=relative/file
EnvironmentFile=--/etc/default/quoted
EnvironmentFile=/etc/default/with space
EnvironmentFile=/etc/docker/env.d/*.env
EnvironmentFile=-/etc/docker/none-*.env
EnvironmentFile=/etc/docker/missing-*.env
"""


def test_environment_file_is_one_absolute_path_or_glob(tmp_path: Path) -> None:
    src = tree(tmp_path, {"/etc/systemd/system/docker.service": ENV_FILE_VALUES,
                          "/etc/default/quoted": "Q=read\n",
                          "/etc/default/with space": "SPACE=read\n",
                          "/etc/docker/env.d/20-proxy.env": "HTTPS_PROXY=http://b:3128\n",
                          "/etc/docker/env.d/10-proxy.env": "HTTPS_PROXY=http://a:3128\nNO_PROXY=a\n",
                          "/etc/docker/env.d/.hidden.env": "NO_PROXY=hidden\n",
                          "/etc/docker/env.d/notes.txt": "NO_PROXY=txt\n"})
    u = load_unit(src, "docker.service")
    assert {k: v.value for k, v in u.env.items()} == {"SPACE": "read", "HTTPS_PROXY": "http://b:3128",
                                                     "NO_PROXY": "a"}
    assert u.files == ["/etc/systemd/system/docker.service", "/etc/default/with space",
                       "/etc/docker/env.d/10-proxy.env", "/etc/docker/env.d/20-proxy.env"]
    assert [(i.code, i.evidence["env_file"]) for i in u.issues] == [
        (Code.UNIT_ENV_FILE_MISSING, "/etc/docker/missing-*.env")]


def test_glob_walks_directories_and_stays_bounded(tmp_path: Path) -> None:
    src = tree(tmp_path, {f"/etc/d{i}/x{j}.env": "" for i in range(3) for j in range(2)})
    assert glob_files(src, "/etc/d?/x1.env") == ["/etc/d0/x1.env", "/etc/d1/x1.env", "/etc/d2/x1.env"]
    assert glob_files(src, "/etc/d[01]/*") == ["/etc/d0/x0.env", "/etc/d0/x1.env", "/etc/d1/x0.env",
                                               "/etc/d1/x1.env"]
    assert glob_files(src, "/*/*/*/*/*/*/*") == []
