"""`regdoctor explain` as users run it: TEXT, stdin, --file, --json; hostile input; exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NX = 'Get "https://nx.lab.test/v2/": dial tcp: lookup nx.lab.test on 127.0.0.1:53: no such host'


def run(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "regdoctor", "explain", *args], capture_output=True, input=stdin,
                          timeout=timeout, check=False)


def no_traceback(r: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in r.stderr and b"Traceback" not in r.stdout, r.stderr[-2000:]


def test_text_argument_recognised_exit_1() -> None:
    r = run(NX)
    no_traceback(r)
    assert r.returncode == 1
    out = r.stdout.decode()
    assert "DNS_NXDOMAIN" in out and "regdoctor check nx.lab.test" in out and "dns" in out


def test_json_contract() -> None:
    r = run(NX, "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1 and doc["tool"] == "regdoctor" and doc["status"] == "problems"
    f = doc["findings"][0]
    for key in ("code", "layer", "host", "root_cause", "title", "cause", "fix", "evidence", "docs", "az_code",
                "confidence", "matched", "confirm"):
        assert key in f
    assert f["code"] == "DNS_NXDOMAIN" and 0 < f["confidence"] <= 1
    assert f["matched"] == "dial tcp: lookup nx.lab.test on 127.0.0.1:53: no such host"
    assert doc["entities"]["hosts"] == ["nx.lab.test"] and doc["groups"][0]["symptom"] == "leaf.dns.nxdomain"
    confidences = [x["confidence"] for x in doc["findings"]]
    assert confidences == sorted(confidences, reverse=True)


def test_stdin_dash() -> None:
    r = run("-", stdin=("noise\n" + NX + "\n").encode())
    assert r.returncode == 1 and b"DNS_NXDOMAIN" in r.stdout


def test_file_groups_with_counts(tmp_path: Path) -> None:
    log = tmp_path / "pull.log"
    log.write_text("\n".join(["boot", NX, "x", NX, "toomanyrequests: slow down", "end"]) + "\n")
    r = run("--file", str(log), "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    groups = {g["code"]: g for g in doc["groups"]}
    assert (groups["DNS_NXDOMAIN"]["count"], groups["DNS_NXDOMAIN"]["first_line"],
            groups["DNS_NXDOMAIN"]["last_line"]) == (2, 2, 4)
    assert groups["HTTP_RATE_LIMITED"]["first_line"] == 5
    assert doc["input"] == {"lines": 6, "matched_lines": 3, "cut_lines": 0}
    text = run("--file", str(log)).stdout.decode()
    assert "×2" in text and "lines 2–4" in text


def test_markdown_format() -> None:
    r = run(NX, "--format", "markdown")
    assert r.returncode == 1 and b"DNS_NXDOMAIN" in r.stdout


def test_unknown_text_exit_0() -> None:
    r = run("-", stdin=b"all good, pulled in 1 s\n")
    no_traceback(r)
    assert r.returncode == 0 and b"no known symptom" in r.stdout
    doc = json.loads(run("-", "--json", stdin=b"all good, pulled in 1 s\n").stdout)
    assert doc["status"] == "ok" and doc["findings"] == [] and doc["message"] == "no known symptom"


@pytest.mark.parametrize(("args", "stdin", "said"), [
    (("-",), b"", "stdin is empty"),
    (("-",), b"   \n\n\t\n", "stdin is empty"),
    (("",), b"", "the TEXT argument is empty"),
    (("--file", "-"), b"", "stdin is empty"),
    (("-",), b"\x00\x01\x02\xff" * 5000, "stdin is binary data"),
    (("--file", "-"), b"\x1f\x8bnot really gzip at all", "corrupt gzip"),
])
def test_empty_binary_or_corrupt_input_is_bad_input_exit_2(args: tuple[str, ...], stdin: bytes, said: str) -> None:
    r = run(*args, stdin=stdin)
    no_traceback(r)
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b"" and len(err.strip().splitlines()) == 1 and said in err, err


def test_gzip_log_is_decompressed_whatever_its_name(tmp_path: Path) -> None:
    import gzip

    body = b"starting\n" + NX.encode() + b"\n" * 3
    log = tmp_path / "node.log.1"  # rotated: gzip without a .gz name
    tls = b'Get "https://r.io/v2/": x509: certificate signed by unknown authority\n'
    log.write_bytes(gzip.compress(body) + gzip.compress(tls))
    r = run("--file", str(log), "--json")
    no_traceback(r)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["input"]["gzip"] is True and doc["input"]["lines"] == 5
    assert {g["code"] for g in doc["groups"]} == {"DNS_NXDOMAIN", "TLS_UNKNOWN_CA"}


@pytest.mark.parametrize("args", [(), ("x", "--file", "y")])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    r = run(*args)
    no_traceback(r)
    assert r.returncode == 2 and len(r.stderr.decode().strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["missing", "directory", "unreadable"])
def test_unreadable_file_exit_2(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "log"
    if kind == "directory":
        path.mkdir()
    elif kind == "unreadable":
        path.write_text(NX)
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads anything
            pytest.skip("running as root: permissions do not stop reading")
    r = run("--file", str(path))
    no_traceback(r)
    assert r.returncode == 2 and r.stdout == b""
    assert len(r.stderr.decode().strip().splitlines()) == 1 and "cannot read" in r.stderr.decode()


def test_binary_file_with_a_real_error_inside(tmp_path: Path) -> None:
    log = tmp_path / "core.bin"
    log.write_bytes(os.urandom(300_000) + b"\n" + NX.encode() + b"\n" + os.urandom(300_000))
    r = run("--file", str(log), "--json")
    no_traceback(r)
    # binary, but the error text inside it is still found (a core dump, a journal file)
    assert r.returncode == 1
    assert "DNS_NXDOMAIN" in {g["code"] for g in json.loads(r.stdout)["groups"]}


def test_100_mb_single_line_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "one-line.log"
    with big.open("wb") as f:
        f.write(NX.encode() + b" ")
        block = b"A" * (1 << 20)
        for _ in range(100):
            f.write(block)
    code = ("import resource, subprocess, sys\n"
            f"r = subprocess.run([sys.executable, '-m', 'regdoctor', 'explain', '--file', {str(big)!r}, '--json'],"
            " capture_output=True)\n"
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    rc, maxrss_kib = (int(x) for x in out.stdout.split())
    assert rc == 1  # the symptom sits in the kept head of the line
    assert maxrss_kib < 150 * 1024, f"peak RSS {maxrss_kib} KiB for a 100 MB line"


#: Runs the command given in argv, inherits stdin/stdout, and prints the child's peak RSS (KiB) to
#: stderr. The child is forked from this small launcher, not from pytest: a process forked from
#: pytest counts pytest's pages in its own ru_maxrss before it execs (and RUSAGE_CHILDREN in
#: pytest is the maximum over every child it ever reaped, lab servers included).
_PEAK = ("import resource, subprocess, sys\n"
         "r = subprocess.run(sys.argv[1:])\n"
         "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n")


def test_huge_single_line_on_stdin_is_bounded() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _PEAK, sys.executable, "-m", "regdoctor", "explain", "-",
                             "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    block = b"B" * (1 << 20)
    for _ in range(60):
        proc.stdin.write(block)
    proc.stdin.close()
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    assert proc.wait(timeout=300) == 0 and b"Traceback" not in err
    rc, maxrss_kib = (int(x) for x in err.decode().split()[-2:])
    assert rc == 0
    assert json.loads(out)["input"]["cut_lines"] == 1
    assert maxrss_kib < 150 * 1024, f"peak RSS {maxrss_kib} KiB for a 60 MB line"
