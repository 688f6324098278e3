"""`regdoctor logs` through the real CLI: formats, exit codes, bad input (exit 2, never a traceback)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

pytest.importorskip("duckdb")

from logs_data import cli, generator, one_line_exit_2


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("cli")
    m = generator().generate(root / "storage", rows=2000, shape="storage", repository_share=0.2)
    return Path(m.files[0]), m


def test_json_document_and_exit_code(export: tuple[Path, Any]) -> None:
    path, m = export
    r = cli(str(path), "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert list(doc)[:3] == ["schema", "tool", "status"] and doc["schema"] == 1 and doc["tool"] == "regdoctor"
    assert doc["status"] == "problems"
    assert doc["inputs"] == [{"file": str(path), "shape": "lines", "rows": 2000, "skipped": 0}]
    assert doc["summary"]["events"] == 2000 and doc["summary"]["statuses"] == m.status_counts
    keys = {"code", "layer", "host", "root_cause", "severity", "title", "cause", "fix", "evidence", "docs", "az_code"}
    for f in doc["findings"]:
        assert keys <= set(f) and f["code"].startswith("LOGS_")
    assert doc["findings"][0]["code"] == "LOGS_FIREWALL_DENIALS"


def test_text_markdown_junit(export: tuple[Path, Any]) -> None:
    path, _ = export
    text = cli(str(path))
    assert text.returncode == 1 and "LOGS_FIREWALL_DENIALS" in text.stdout and "regdoctor logs" in text.stdout
    md = cli(str(path), "--format", "markdown")
    assert md.stdout.startswith("## regdoctor logs") and "### 1. `LOGS_FIREWALL_DENIALS`" in md.stdout
    doc = json.loads(cli(str(path), "--json").stdout)
    failing = [f for f in doc["findings"] if f["severity"] in ("error", "warning")]
    junit = ET.fromstring(cli(str(path), "--format", "junit").stdout)
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("failures") == str(len(failing)) and failing
    assert len(junit.findall(".//failure")) == len(failing)


def test_nothing_found_is_exit_0(tmp_path: Path) -> None:
    gen = generator()
    m = gen.generate(tmp_path, rows=1500, shape="parquet", incidents=False)
    r = cli(m.files[0], "--json")
    assert r.returncode == 0, r.stdout[-3000:]
    doc = json.loads(r.stdout)
    assert doc["status"] == "ok" and all(f["severity"] == "info" for f in doc["findings"])
    junit = ET.fromstring(cli(m.files[0], "--format", "junit").stdout)
    assert not junit.findall(".//failure")


def test_stdin_and_filters(export: tuple[Path, Any]) -> None:
    path, m = export
    sp = m.incidents["expired_sp"].detail["identity"]
    r = cli("-", "--identity", sp, "--json", stdin=path.read_bytes())
    doc = json.loads(r.stdout)
    assert [f["code"] for f in doc["findings"]] == ["LOGS_CREDENTIAL_STOPPED"]
    assert doc["scope"]["identities"] == [sp]
    r = cli(str(path), "--ip", "185.220.101.0/24", "--since", "2024-05-01", "--until", "2024-06-01T00:00:00Z",
            "--json")
    doc = json.loads(r.stdout)
    assert doc["summary"]["addresses"] == 1 and doc["summary"]["events"] == m.incidents["spray"].count


def test_kql_needs_no_file() -> None:
    r = cli("--kql", "--since", "24h", "--identity", "alice@contoso.com")
    assert r.returncode == 0 and "ContainerRegistryLoginEvents" in r.stdout and "ago(1d)" in r.stdout
    doc = json.loads(cli("--kql", "--json").stdout)
    assert doc["tool"] == "regdoctor" and {q["name"] for q in doc["queries"]} >= {"firewall_denials", "throttled"}
    assert "```kusto" in cli("--kql", "--format", "markdown").stdout
    one_line_exit_2(cli("--kql", "--format", "junit"))


def test_acr_config_through_the_cli(export: tuple[Path, Any], tmp_path: Path) -> None:
    path, _ = export
    cfg = tmp_path / "acr.json"
    cfg.write_text(json.dumps({"id": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.ContainerRegistry/"
                                     "registries/contosoprod", "type": "Microsoft.ContainerRegistry/registries",
                               "name": "contosoprod", "location": "westeurope", "sku": {"name": "Premium"},
                               "properties": {"loginServer": "contosoprod.azurecr.io", "publicNetworkAccess": "Enabled",
                                              "networkRuleSet": {"defaultAction": "Deny", "ipRules": []}}}))
    r = cli(str(path), "--acr-config", str(cfg))
    assert "not in ipRules (0 rules), public network access Enabled with default action Deny" in \
        " ".join(r.stdout.split()).replace("│ ", "").replace(" │", "")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    line = one_line_exit_2(cli(str(path), "--acr-config", str(bad)))
    assert "bad.json" in line


# ------------------------------------------------------------------------------------ bad input

def _storage_lines(export: tuple[Path, Any], n: int) -> bytes:
    return b"".join(export[0].read_bytes().splitlines(keepends=True)[:n])


@pytest.mark.parametrize(("name", "content", "message"), [
    ("random.bin", bytes(range(256)) * 40, "binary data"),
    ("notes.txt", b"hello\nworld\n", "names no Log Analytics columns"),
    ("numbers.json", b"[1, 2, 3]", "a JSON list of int"),
    ("other.json", b'{"foo": 1, "bar": 2}\n', "no TimeGenerated or ResultDescription"),
    ("first-cut.json", b'{"time": "2024-05-06T00:00:00Z", "resultDesc', "first record is cut off"),
    ("az-cut.json", b'[{"TimeGenerated": "2024-05-06T00:00:00Z", "ResultDescription": "200"}, {"TimeGen', "Malformed"),
    ("rest-cut.json", b'{"tables": [{"name": "PrimaryResult", "columns": [{"name": "TimeGenerated"}, '
                      b'{"name": "ResultDescription"}], "rows": [["2024-05-06", "200"], ["20', "cannot read"),
    ("bad.gz", b"\x1f\x8b\x08\x00garbage-not-deflate" * 3, "gzip"),
    ("cut.parquet", b"PAR1" + b"\x00" * 100, "Parquet"),
])
def test_garbage_is_exit_2_naming_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    line = one_line_exit_2(cli(str(p)))
    assert name in line and message in line, line


def test_truncated_gzip_is_exit_2(tmp_path: Path, export: tuple[Path, Any]) -> None:
    p = tmp_path / "PT1H.json.gz"
    p.write_bytes(gzip.compress(export[0].read_bytes())[:-200])
    line = one_line_exit_2(cli(str(p)))
    assert "PT1H.json.gz" in line and "GZIP" in line.upper()


def test_parquet_time_of_the_wrong_type_is_exit_2(tmp_path: Path) -> None:
    import duckdb

    p = tmp_path / "ints.parquet"
    duckdb.execute(f"COPY (SELECT 42 AS TimeGenerated, '401' AS ResultDescription) TO '{p}' (FORMAT parquet)")
    line = one_line_exit_2(cli(str(p)))
    assert "ints.parquet" in line and "TimeGenerated has type INTEGER" in line


def test_bad_lines_are_skipped_and_counted(tmp_path: Path, export: tuple[Path, Any]) -> None:
    good = _storage_lines(export, 50)
    p = tmp_path / "damaged.json"
    p.write_bytes(good + b'{"time": 12, "resultDescription": {"a": 1}}\n' + b"not json at all\n"
                  + b'{"time": "2024-05-06T00:00:00Z", "resultDescription": "40' + b"\n" + good[:300])
    doc = json.loads(cli(str(p), "--json").stdout)
    assert doc["inputs"][0]["rows"] == 50 and doc["inputs"][0]["skipped"] == 4
    (f,) = [f for f in doc["findings"] if f["code"] == "LOGS_INPUT_SKIPPED"]
    assert f["evidence"] == {"file": str(p), "skipped": 4, "records": 54} and f["severity"] == "info"
    csv = tmp_path / "damaged.csv"
    csv.write_text("TimeGenerated,ResultDescription,Identity\n2024-05-06T00:00:00Z,401,a\nshort\n"
                   "2024-05-06T00:00:01Z,403,b,extra\nnot-a-time,401,c\n")
    doc = json.loads(cli(str(csv), "--json").stdout)
    assert doc["inputs"][0]["rows"] == 1 and doc["inputs"][0]["skipped"] == 3


@pytest.mark.parametrize(("args", "message"), [
    ([], "give one or more FILEs"),
    (["/nonexistent/x.json"], "no such file"),
    (["/nonexistent/*.json"], "no file matches"),
    (["--since", "yesterday", "x"], "not an ISO 8601 time"),
    (["--since", "2024-05-02", "--until", "2024-05-01", "x"], "is not before"),
    (["--ip", "300.1.1.1", "x"], "not an IP address or CIDR"),
    (["--memory-limit", "lots", "x"], "not a size"),
])
def test_bad_usage(args: list[str], message: str) -> None:
    assert message in one_line_exit_2(cli(*args))


def test_other_commands_do_not_load_duckdb() -> None:
    code = ("import sys\nfrom regdoctor.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('duckdb' in sys.modules, 'regdoctor.logs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_hostile_nesting_and_huge_values(tmp_path: Path, export: tuple[Path, Any]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 200_000)
    assert "nested deeper than 64" in one_line_exit_2(cli(str(deep)))
    first = tmp_path / "first-deep.json"
    first.write_bytes(b'{"time": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    assert "nested deeper than 64" in one_line_exit_2(cli(str(first)))
    # past the head, DuckDB reads it: the deep record is skipped, a 2 MB user agent is just long
    good = _storage_lines(export, 400)
    later = tmp_path / "later.json"
    later.write_bytes(good + b'{"time": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
                      + b'{"time": "2024-05-06T00:00:00Z", "resultDescription": "401", "userAgent": "docker/'
                      + b"9" * 2_000_000 + b'"}\n')
    r = cli(str(later), "--json")
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    assert doc["inputs"][0]["rows"] == 401 and doc["inputs"][0]["skipped"] == 1


def test_events_view_is_typed(export: tuple[Path, Any]) -> None:
    from regdoctor.logs import engine, sources

    path, _ = export
    with engine.connect(engine.Settings(memory_limit="256MB", threads=1)) as db:
        srcs, paths = engine.prepare(db.con, sources.detect_all([str(path)]), db.scratch)
        engine.scan(db.con, srcs, paths)
        types = dict(db.con.execute("SELECT column_name, column_type FROM (DESCRIBE events)").fetchall())
        assert types["time"] == "TIMESTAMP" and types["status"] == "INTEGER" and types["duration_ms"] == "DOUBLE"
        assert types["size"] == "BIGINT"
        assert {"identity", "caller_ip", "login_server", "operation", "user_agent", "region", "correlation_id",
                "tbl", "repository", "tag", "digest", "file"} <= set(types)
        ports = db.con.execute("SELECT count(*) FROM events WHERE caller_ip LIKE '%:%'").fetchone()
        assert ports == (0,)      # repository events' "ip:port" lost the port
        assert db.con.execute("SELECT count(*) FROM events").fetchone() == (2000,)
