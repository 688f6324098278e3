"""The installed CLI: fast start, clean errors, exit codes (no network)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regdoctor", *args], capture_output=True, text=True, input=stdin,
                          timeout=60, check=False)


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("regdoctor ")


def test_version_imports_nothing_heavy() -> None:
    code = ("import sys; from regdoctor.cli import cli\n"
            "try:\n    cli.main(['--version'], standalone_mode=False)\nexcept SystemExit: pass\n"
            "print('heavy:' + ','.join(m for m in ('rich','dns','h11','cryptography','ssl') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip().splitlines()[-1] == "heavy:"


@pytest.mark.parametrize("ref", ["not a ref!", "Nginx", "h.io/UPPER", "h.io:99999", "0:\u24f8", "h.io:\u24f8",
                                 "nginx:bad~tag", "[fe80::1%eth0]:5000"])
def test_bad_reference_is_one_line_exit_2(ref: str) -> None:
    r = run("check", ref)
    assert r.returncode == 2
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_bad_ca_file_exit_2(tmp_path: object) -> None:
    r = run("check", "localhost:1", "--ca", "/nonexistent.pem")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_bad_proxy_exit_2() -> None:
    r = run("check", "localhost:1", "--proxy", "ftp://x:1")
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_codes_json() -> None:
    r = run("codes", "--json")
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1 and any(c["code"] == "DNS_NXDOMAIN" for c in doc["codes"])


def test_refused_localhost_port_exit_1() -> None:
    # loopback only: nothing listens on port 1
    r = run("check", "localhost:1", "--json", "--timeout", "2")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["findings"][0]["code"] == "TCP_REFUSED"


@pytest.mark.parametrize("args", [("-n", "ab"), ("--name", "my-reg"), ("-n", "myreg.example.com"), ("-n", "")])
def test_bad_acr_name_is_one_line_exit_2(args: tuple[str, ...]) -> None:
    r = run("check", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "5-50 letters and digits" in r.stderr, r.stderr


def test_check_help_names_the_reference_rules() -> None:
    r = run("check", "--help")
    assert r.returncode == 0
    assert "-n, --name NAME" in r.stdout and "docker.io/library/nginx:1.25" in r.stdout


def test_proxy_takes_acr_names_with_n_and_refs_as_docker(tmp_path: object) -> None:
    r = run("proxy", "-n", "MyReg", "nginx", "--root", str(tmp_path), "--proc", f"{tmp_path}/no-proc", "--json")
    hosts = [(h["host"], h["port"]) for h in json.loads(r.stdout)["hosts"]]
    assert ("myreg.azurecr.io", 443) in hosts and ("registry-1.docker.io", 443) in hosts
    assert not any(h.startswith("nginx") for h, _ in hosts)
    bad = run("proxy", "-n", "ab", "--root", str(tmp_path))
    assert bad.returncode == 2 and "5-50 letters and digits" in bad.stderr


@pytest.mark.parametrize(("args", "words"), [((), "a REF or -n NAME"), (("-n", "ab"), "5-50 letters and digits")])
def test_serve_needs_a_ref_or_an_acr_name(args: tuple[str, ...], words: str) -> None:
    r = run("serve", *args)
    assert r.returncode == 2 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
