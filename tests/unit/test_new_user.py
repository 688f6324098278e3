"""What a new user types first, through the real entry point: a bare group, a code looked up, a
file name or a code given to ``explain``; and IPv6 endpoints written so their port stays readable."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ptyrun import CLI, env, silent_server

from regdoctor.diagnose import diagnose
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Report, Step


def run(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regdoctor", *args], capture_output=True, text=True, input=stdin,
                          timeout=60, check=False, cwd=cwd)


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


@pytest.mark.parametrize(("argv", "commands"), [
    ((), ["acr", "check", "codes", "explain", "fleet", "k8s", "logs", "proxy", "serve"]),
    (("acr",), ["access", "allowlist", "dns", "lint"]),
    (("k8s",), ["daemonset", "job", "npd-config"]),
])
def test_a_group_without_its_command_names_the_commands(argv: tuple[str, ...], commands: list[str]) -> None:
    line = one_error_line(run(*argv))
    assert "Usage:" not in line and "Options:" not in line  # not the help page squeezed into one line
    assert "missing command" in line
    assert all(c in line for c in commands)


def test_codes_shows_one_entry_whole_in_any_case() -> None:
    r = run("codes", "dns_nxdomain")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("DNS_NXDOMAIN · dns · error")
    assert "fix" in out and "`nslookup <host>`" in out  # placeholders shown as such, not as {host}
    assert "{" not in out
    assert "CONNECTIVITY_DNS_ERROR" in out and "https://" in out
    doc = json.loads(run("codes", "DNS_NXDOMAIN", "TCP_TIMEOUT", "--json").stdout)
    assert doc["schema"] == 1 and [c["code"] for c in doc["codes"]] == ["DNS_NXDOMAIN", "TCP_TIMEOUT"]


def test_codes_unknown_code_is_one_line_with_close_matches() -> None:
    assert "did you mean DNS_NXDOMAIN" in one_error_line(run("codes", "DNS_NXDOMAN"))
    assert "`regdoctor codes` lists them" in one_error_line(run("codes", "FOO"))
    assert "is a dns code" in one_error_line(run("codes", "--layer", "tcp", "DNS_NXDOMAIN"))


@pytest.mark.parametrize("layer", [None, "tcp", "dns"])
def test_codes_table_columns_line_up_with_the_header(layer: str | None) -> None:
    r = run("codes", *(["--layer", layer] if layer else []))
    assert r.returncode == 0
    header, *rows = r.stdout.splitlines()
    starts = [header.index("layer"), header.index("severity"), header.index("title")]
    for row in rows:
        m = re.match(r"([A-Z0-9_]+)( +)(\S+)( +)(\S+)( +)", row)
        if m is None:  # a wrapped title
            assert row[: starts[2]].strip() == "", row
            continue
        assert [m.start(3), m.start(5), m.end(6)] == starts, row


def test_explain_of_a_file_name_reads_the_file(tmp_path: Path) -> None:
    log = tmp_path / "pull.log"
    log.write_text('Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup '
                   "registry-1.docker.io on 10.0.0.10:53: no such host\n")
    by_name = run("explain", "pull.log", "--json", cwd=tmp_path)
    by_flag = run("explain", "--file", "pull.log", "--json", cwd=tmp_path)
    assert by_name.returncode == by_flag.returncode == 1, by_name.stderr
    codes = [f["code"] for f in json.loads(by_name.stdout)["findings"]]
    assert codes[0] == "DNS_NXDOMAIN"
    assert codes == [f["code"] for f in json.loads(by_flag.stdout)["findings"]]


def test_explain_of_a_missing_path_is_bad_input_not_no_symptom(tmp_path: Path) -> None:
    assert "no such file" in one_error_line(run("explain", str(tmp_path / "nope.log")))
    assert "no such file" in one_error_line(run("explain", "./nope.log", cwd=tmp_path))


def test_explain_of_a_code_shows_its_entry() -> None:
    r = run("explain", "TCP_TIMEOUT")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("TCP_TIMEOUT · tcp · error") and "fix" in r.stdout
    doc = json.loads(run("explain", "TCP_TIMEOUT", "--json").stdout)
    assert doc["tool"] == "regdoctor" and doc["codes"][0]["code"] == "TCP_TIMEOUT"
    # a word that only looks like a code is still a text to read
    assert run("explain", "NOT_A_CODE_AT_ALL").returncode == 0


def _ipv6_report() -> Report:
    ep = EndpointResult(host="::1", port=5000, role="registry", steps=(
        Step(layer="tcp", name="connect", status="fail", elapsed_ms=0.1,
             summary="dial tcp [::1]:5000: connection refused", code=Code.TCP_REFUSED,
             evidence={"address": "::1", "port": 5000}),))
    return Report(targets=("[::1]:5000",), endpoints=(ep,), findings=tuple(diagnose([ep])))


def test_an_ipv6_endpoint_is_written_with_brackets_in_every_format() -> None:
    from regdoctor.render import report_markdown, report_text
    from regdoctor.render.junit import render_report as report_junit
    from regdoctor.render.npd import npd_verdict

    report = _ipv6_report()
    text = report_text(report)
    assert re.search(r"^\[::1\]:5000  \(registry", text, re.M), text
    assert "#### `[::1]:5000`" in report_markdown(report)
    assert 'classname="[::1]:5000.tcp"' in report_junit(report)
    assert npd_verdict(report, 80).line.endswith("[::1]:5000")


def test_ctrl_c_before_any_problem_is_not_called_healthy() -> None:
    with silent_server() as port:  # the TLS handshake waits on it
        proc = subprocess.Popen([*CLI, "check", f"localhost:{port}", "--timeout", "20"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), text=True)
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err[-500:]
    verdict = out.splitlines()[0]
    assert "healthy" not in verdict and "interrupted" in verdict, out[:500]
    assert "1 of 1 endpoint(s) not finished" in verdict


def test_logs_text_follows_color_and_width_like_every_command(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    from logs_data import generator

    export = generator().generate(tmp_path / "csv", rows=2000, shape="csv").files[0]
    base = env()
    colored = subprocess.run([*CLI, "logs", str(export), "--color", "always"], capture_output=True, text=True,
                             env=base, timeout=120, check=False)
    assert colored.returncode == 1 and "\x1b[" in colored.stdout, colored.stderr
    narrow = subprocess.run([*CLI, "logs", str(export)], capture_output=True, text=True,
                            env={**base, "COLUMNS": "60"}, timeout=120, check=False)
    assert "\x1b[" not in narrow.stdout
    lines = narrow.stdout.splitlines()
    assert [ln for ln in lines if ln != ln.rstrip()] == []  # no padding to the width
    wide = [ln for ln in lines if len(ln) > 60 and " " in ln.strip() and "`" not in ln]
    assert wide == [], wide


@pytest.mark.parametrize("cols", [40, 50, 60])
def test_a_long_endpoint_label_on_a_narrow_terminal_breaks_no_word(cols: int) -> None:
    from regdoctor.render import report_text
    from regdoctor.render.lines import Terminal

    ep = EndpointResult(host="registry-1.docker.io", port=443, role="registry",
                        origin="REF nginx = docker.io/library/nginx:latest", steps=(
                            Step(layer="dns", name="resolve", status="fail", elapsed_ms=1.0, summary="no route",
                                 code=Code.DNS_NETWORK_UNREACHABLE, evidence={}),))
    text = report_text(Report(targets=("nginx",), endpoints=(ep,), findings=()), term=Terminal(width=cols))
    words = set(text.split())
    assert "docker.io/library/nginx:latest)" in words, text
    tree = text[text.index("registry-1.docker.io:443"):].splitlines()
    header = tree[: next(i for i, line in enumerate(tree) if line.startswith("└"))]
    assert all(len(line) <= cols for line in header), text


def test_logs_from_stdin_names_stdin_not_its_private_copy(tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    from logs_data import generator

    export = generator().generate(tmp_path / "csv", rows=500, shape="csv").files[0]
    r = subprocess.run([*CLI, "logs", "-", "--json"], input=Path(export).read_bytes(), capture_output=True,
                       env=env(), timeout=120, check=False)
    assert r.returncode in (0, 1), r.stderr
    assert [i["file"] for i in json.loads(r.stdout)["inputs"]] == ["stdin"]
    text = subprocess.run([*CLI, "logs", "-"], input=b"", capture_output=True, env=env(), timeout=120,
                          check=False).stdout.decode()
    assert "regdoctor-stdin" not in text and "input  stdin" in text and "((" not in text, text
    bad = subprocess.run([*CLI, "logs", "-"], input="Events:\nnothing here\n", capture_output=True, text=True,
                         env=env(), timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("regdoctor: stdin: not a login-events export"), bad.stderr


def test_serve_labels_an_ipv6_endpoint_with_brackets() -> None:
    from regdoctor.serve.samples import endpoint_sample

    assert endpoint_sample(_ipv6_report().endpoints[0]).endpoint == "[::1]:5000"


def test_region_without_any_acr_registry_is_bad_usage_not_silently_dropped() -> None:
    line = one_error_line(run("check", "--region", "westeurope", "nginx", "ghcr.io/org/app:1"))
    assert "--region" in line and "registry-1.docker.io" in line and "ghcr.io" in line and "-n NAME" in line


@pytest.mark.parametrize("argv", [("check", "127.0.0.1:1", "--timeout", "1"), ("explain", "EOF"), ("proxy",)])
def test_json_beside_another_format_is_a_contradiction(argv: tuple[str, ...]) -> None:
    assert "two formats" in one_error_line(run(*argv, "--json", "--format", "markdown"))
    assert run(*argv, "--json", "--format", "json").returncode != 2


def test_interception_cause_reads_without_doubled_parentheses() -> None:
    from regdoctor import kb
    from regdoctor.classify import interception

    evidence = interception("registry.example.test", "CN=Contoso TLS Inspection CA", "Contoso Secure Web Gateway")
    assert evidence is not None
    cause = kb.code(Code.TLS_INTERCEPTED).finding(host="registry.example.test", evidence=evidence).cause
    assert "((" not in cause and "))" not in cause, cause


@pytest.mark.parametrize(("typo", "meant"), [("chek", "check"), ("explian", "explain"), ("prxy", "proxy")])
def test_a_mistyped_command_names_the_one_meant(typo: str, meant: str) -> None:
    assert f"Did you mean '{meant}'?" in one_error_line(run(typo, "nginx"))


@pytest.mark.parametrize("argv", [("codes",), ("codes", "--json"), ("explain", "EOF"), ("check", "127.0.0.1:1")])
def test_output_that_cannot_be_written_is_one_line_not_a_crash(argv: tuple[str, ...]) -> None:
    import shlex

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    cmd = " ".join(shlex.quote(a) for a in (*CLI, *argv, "--timeout", "1")) if argv[0] == "check" else \
        " ".join(shlex.quote(a) for a in (*CLI, *argv))
    for redirect, words in ((">/dev/full", "No space left on device"), (">&-", "standard output is closed")):
        r = subprocess.run(["sh", "-c", f"exec {cmd} {redirect}"], capture_output=True, text=True, env=env(),
                           timeout=60, check=False)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 3, (redirect, r.returncode, r.stderr)
        assert len(lines) == 1 and words in lines[0] and "report it" not in lines[0], (redirect, r.stderr)


NXDOMAIN = 'Error response from daemon: Get "https://myreg.azurecr.io/v2/": dial tcp: lookup myreg.azurecr.io on ' \
           "10.0.0.10:53: no such host"


def test_explain_without_text_reads_a_pipe() -> None:
    r = run("explain", "--json", stdin=NXDOMAIN + "\n")
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout)["findings"][0]["code"] == "DNS_NXDOMAIN"


def test_explain_reading_a_terminal_says_so_and_a_terminal_without_text_is_usage() -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([*CLI, "explain", "-", "--json"], stdin=slave, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env(), text=True)
        os.write(master, NXDOMAIN.encode() + b"\n\x04")  # typed, then Ctrl-D
        out, err = proc.communicate(timeout=30)
        bare = subprocess.run([*CLI, "explain"], stdin=slave, capture_output=True, text=True, env=env(), timeout=30,
                              check=False)
    finally:
        os.close(master)
        os.close(slave)
    assert proc.returncode == 1, err
    assert "paste it, then Ctrl-D" in err and json.loads(out)["findings"][0]["code"] == "DNS_NXDOMAIN"
    assert one_error_line(bare).startswith("regdoctor: give the error TEXT")


@pytest.mark.parametrize("text", [
    "denied: client with IP 20.1.2.3 is not allowed access. Refer https://aka.ms/acr/firewall to grant access.",
    'denied: client with IP "2001:db8::7" is not allowed access',
    "denied: client with IP '10.1.1.1' is not allowed access",
])
def test_acr_firewall_text_with_or_without_its_quotes(text: str) -> None:
    from regdoctor.classify import classify_v2
    from regdoctor.explain import explain

    first = explain(text).findings[0]
    assert first.code == "HTTP_FIREWALL_DENIED" and first.evidence["client_ip"] in text
    body = json.dumps({"errors": [{"code": "DENIED", "message": text.removeprefix("denied: ")}]}).encode()
    v = classify_v2(403, "Forbidden", [("content-type", "application/json")], body)
    assert v.code == "HTTP_FIREWALL_DENIED" and v.evidence["client_ip"] in text


def test_an_unusable_proxy_setting_is_the_first_failure_not_the_lookup() -> None:
    # Go asks its Proxy func before any lookup: a garbage HTTPS_PROXY fails the request there. The
    # name here fails regdoctor's own name check (a 64-character label), so no query leaves the machine.
    from regdoctor.diagnose import diagnose
    from regdoctor.probe.endpoint import ProbeOptions, probe_endpoint

    result, route, _ = probe_endpoint("a" * 64 + ".example", 443, "registry",
                                      ProbeOptions(env={"HTTPS_PROXY": "garbage here"}, timeout=1.0))
    assert route is None
    assert [s.status for s in result.steps[:2]] == ["skip", "fail"] and result.steps[1].code == "PROXY_BAD_URL"
    assert [f.code for f in diagnose([result]) if f.root_cause] == ["PROXY_BAD_URL"]


def test_ctrl_c_keeps_the_steps_an_unfinished_endpoint_had_done() -> None:
    with silent_server() as port:  # DNS (localhost) and TCP pass; the TLS handshake waits
        proc = subprocess.Popen([*CLI, "check", f"localhost:{port}", "--timeout", "20", "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(), text=True)
        time.sleep(2.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, err[-500:]
    [endpoint] = json.loads(out)["endpoints"]
    steps = [(s["layer"], s["name"], s["status"]) for s in endpoint["steps"]]
    assert ("tcp", "connect", "pass") in steps, steps
    assert steps[-1] == ("client", "probe", "skip")
