"""``regdoctor logs FILE…``: who the registry turned away, and why, from its exported resource logs.

Heavy modules (DuckDB above all) are imported inside the command, so ``regdoctor --help`` and
every other command never load them. Exit codes: 0 nothing found, 1 problems (an error or
warning finding), 2 bad usage or unreadable input.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from regdoctor.acr.model import RegistryConfig

from regdoctor.cli._common import chosen_format, fail_usage, format_option, handle_errors, terminal, write
from regdoctor.errors import RegdoctorError

#: How a report and an error name `-` (whose bytes DuckDB reads from a private temporary copy)
STDIN = "stdin"
_MEMORY_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        fail_usage(f"--ip {value!r} is not an IP address or CIDR range")


@contextmanager
def _spooled(files: tuple[str, ...], temp_dir: str | None) -> Iterator[list[str]]:
    """``-`` (stdin) is copied to a private temporary file: DuckDB reads its inputs by path."""
    if "-" not in files:
        yield list(files)
        return
    tmp = tempfile.mkdtemp(prefix="regdoctor-stdin-", dir=temp_dir)
    try:
        path = os.path.join(tmp, "stdin")
        with open(path, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        try:
            yield [path if f == "-" else f for f in files]
        except RegdoctorError as exc:  # the user gave `-`: name it so, not the private copy
            exc.args = tuple(a.replace(path, STDIN) if isinstance(a, str) else a for a in exc.args)
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@click.command()
@click.argument("files", nargs=-1, metavar="FILE…")
@click.option("--since", metavar="TIME", help="Only events at or after TIME: ISO 8601 (2024-05-06T12:00Z) or a "
              "span back from now (90m, 24h, 7d, PT6H).")
@click.option("--until", metavar="TIME", help="Only events before TIME (same forms as --since).")
@click.option("--identity", "identities", multiple=True, metavar="ID",
              help="Only this identity (UPN, application ID, <token>…; case-insensitive; repeatable).")
@click.option("--ip", "ips", multiple=True, metavar="IP|CIDR", help="Only callers in this address or range "
              "(repeatable).")
@click.option("--acr-config", type=click.Path(dir_okay=False), metavar="FILE",
              help="`az acr show -o json` of the registry: hold each refused address against its network rules.")
@click.option("--kql", is_flag=True, help="Print the Log Analytics queries that give the same answers where the "
              "data lives (reads no file).")
@click.option("--min-count", type=click.IntRange(1, None), default=3, show_default=True,
              help="Smallest group of events that is reported.")
@click.option("--top", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="Groups reported per pattern.")
@click.option("--memory-limit", default="512MB", show_default=True, metavar="SIZE",
              help="DuckDB's memory limit; beyond it, it spills to --temp-dir.")
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="DuckDB threads [default: all cores].")
@click.option("--temp-dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Where DuckDB may spill [default: the system temporary directory].")
@format_option
def logs(files: tuple[str, ...], since: str | None, until: str | None, identities: tuple[str, ...],
         ips: tuple[str, ...], acr_config: str | None, kql: bool, min_count: int, top: int, memory_limit: str,
         threads: int | None, temp_dir: str | None, fmt: str, as_json: bool) -> None:
    """Analyse exported ContainerRegistryLoginEvents / ContainerRegistryRepositoryEvents.

    \b
    FILE is any export, detected from its content (gzip too): the Log Analytics REST answer
    {"tables": […]}, the `az monitor log-analytics query` list, diagnostic-settings storage
    PT1H.json lines, CSV with a header row, Parquet. Globs, directories and - (stdin) work; shapes
    may be mixed. Reports firewall denials (403) apart from credential failures (401), by caller
    network, identity, client and time, with bursts and first/last seen; throttling, server
    errors, new addresses. Times are UTC.
    """
    out_fmt = chosen_format(fmt, as_json)
    from regdoctor.logs.timespec import BadTime, window

    try:
        lo, hi = window(since, until)
    except BadTime as exc:
        fail_usage(str(exc))
    networks = tuple(_network(v) for v in ips)
    idents = tuple(i.strip() for i in identities if i.strip())
    if kql:
        from regdoctor.logs.kql import queries
        from regdoctor.render.logs import render_kql

        if out_fmt == "junit":
            fail_usage("--kql prints queries: use text, --json or --format markdown")
        write(render_kql(out_fmt, queries(since_raw=since, until_raw=until, since=lo, until=hi,
                                          identities=idents, networks=networks, min_count=min_count)))
        return
    if not files:
        fail_usage("give one or more FILEs (exports, globs or directories; - for stdin), or --kql")
    if not _MEMORY_RE.match(memory_limit):
        fail_usage(f"--memory-limit {memory_limit!r} is not a size like 512MB or 2GB")
    from regdoctor.logs.engine import Settings
    from regdoctor.logs.report import Options, run
    from regdoctor.render.logs import render_logs

    opts = Options(since=lo, until=hi, identities=idents, networks=networks, min_count=min_count, limit=top,
                   acr_config=_acr_config(acr_config), settings=Settings(memory_limit=memory_limit.replace(" ", ""),
                                                            threads=threads, temp_dir=temp_dir))
    with handle_errors(), _spooled(files, temp_dir) as paths:
        report = run(paths, opts)
    if "-" in files:  # the report names stdin as the user gave it, not its private copy
        spooled = paths[files.index("-")]
        report = replace(report, inputs=tuple(replace(f, path=STDIN) if f.path == spooled else f
                                              for f in report.inputs))
    write(render_logs(out_fmt, report, terminal()))
    sys.exit(1 if report.problems else 0)


def _acr_config(path: str | None) -> RegistryConfig | None:
    """The registry's `az acr show` JSON, read by acr's own reader (exit 2 naming the file)."""
    if path is None:
        return None
    from regdoctor.cli._acr_io import load

    return load(path)
