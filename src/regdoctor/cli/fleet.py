"""``regdoctor fleet REPORT…|DIR|-``: merge per-node ``check --json`` reports into one verdict."""

from __future__ import annotations

import gzip
import sys
import zlib
from pathlib import Path

import click

from regdoctor.cli._common import chosen_format, format_option, handle_errors, write

MAX_SOURCE = 64 * 1024 * 1024  # per file (or stdin), after decompression
MAX_FILES = 10_000


def _read(path: Path) -> str:
    from regdoctor.errors import BadInput

    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read(MAX_SOURCE + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(MAX_SOURCE + 1)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:  # zlib: a corrupt deflate stream
        raise BadInput(f"{path}: cannot read ({exc})") from None
    if len(data) > MAX_SOURCE:
        raise BadInput(f"{path}: larger than {MAX_SOURCE // (1024 * 1024)} MiB")
    return data.decode("utf-8", errors="replace")


def _sources(args: tuple[str, ...]) -> list[tuple[str, str]]:
    from regdoctor.errors import BadInput

    out: list[tuple[str, str]] = []
    for arg in args:
        if arg == "-":
            data = sys.stdin.buffer.read(MAX_SOURCE + 1)
            if len(data) > MAX_SOURCE:
                raise BadInput(f"standard input: larger than {MAX_SOURCE // (1024 * 1024)} MiB")
            out.append(("stdin", data.decode("utf-8", errors="replace")))
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if len(files) > MAX_FILES:
                raise BadInput(f"{path}: more than {MAX_FILES} files")
            out += [(str(p), _read(p)) for p in files]
        elif path.exists():
            out.append((str(path), _read(path)))
        else:
            raise BadInput(f"{arg}: no such file or directory")
    return out


@click.command()
@click.argument("inputs", nargs=-1, required=True, metavar="REPORT...|DIR|-")
@format_option
def fleet(inputs: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Merge per-node `check --json` reports into one verdict: which nodes fail, where, grouped
    by root cause and by node label (pool, zone).

    \b
    Inputs: report files (.json, JSON Lines, .gz), directories of them, or - for standard
    input, e.g.  kubectl logs -n regdoctor -l app=regdoctor --prefix --tail=-1 | regdoctor fleet -
    Non-JSON lines (log noise, kubectl prefixes) are skipped and counted.

    \b
    Exit codes: 0 every node healthy, 1 problems on some node, 2 no report in the input,
    3 regdoctor failed.
    """
    from regdoctor.errors import BadInput
    from regdoctor.fleet.ingest import collect
    from regdoctor.fleet.merge import merge
    from regdoctor.render.fleet import render_fleet

    with handle_errors():
        ingested = collect(_sources(inputs))
        if not ingested.reports:
            why = f"; {ingested.rejected[0][0]}: {ingested.rejected[0][1]}" if ingested.rejected else ""
            raise BadInput(f"no regdoctor check report in the input ({ingested.skipped_lines} other lines{why})")
        verdict = merge(ingested)
        write(render_fleet(chosen_format(fmt, as_json), verdict))
    sys.exit(0 if verdict.status == "ok" else 1)
