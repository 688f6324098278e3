"""``regdoctor explain``: name the failing layer from a client's error text.

The input is read as bytes in chunks and handed to the pure scanner (``regdoctor.explain``), so a
whole log, a binary file or a 100 MB single line costs bounded memory. A gzip stream (a rotated
log) is decompressed on the fly, whatever its name. Exit codes (SPEC): 0 when no known symptom is
found, 1 when one is, 2 when the input cannot be read, is empty, or is binary data without any
error text in it (one line on stderr).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

import click

from regdoctor.cli._common import chosen_format, fail_usage, format_option, handle_errors, isatty, terminal, write

if TYPE_CHECKING:
    from regdoctor.explain.rank import Explanation

_CHUNK = 1 << 20
_MAX_HEADER_GROUPS = 30


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream's bytes, ``_CHUNK`` at a time. A short read means the end was reached; on a
    terminal that end (Ctrl-D) is not sticky — reading on would wait for a second Ctrl-D."""
    tty = isatty(stream)
    while True:
        data = stream.read(_CHUNK)
        if not data:
            return
        yield data
        if tty and len(data) < _CHUNK:
            return


class _Input:
    """The bytes of the input as the scanner reads them, noting what kind of input it was.

    A gzip stream is inflated chunk by chunk (each step's output bounded, so a gzip bomb costs
    time, not memory); the first decoded KiBs tell text from binary data (NUL bytes, or mostly
    bytes that are neither UTF-8 nor printable).
    """

    _SNIFF = 8192

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._source = iter(chunks)
        self.gzip = False
        self.empty = True
        self.binary = False
        self.bad_gzip: str | None = None
        self._sniffed = False

    def _look(self, data: bytes) -> None:
        if data.strip():
            self.empty = False
        if not self._sniffed and data:
            # the first decoded bytes decide (a UTF-8 sequence cut at the end counts once at most)
            self._sniffed = True
            head = data[: self._SNIFF]
            text = head.decode("utf-8", "replace")
            odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in "\t\r\n\f\v\x1b"))
            self.binary = b"\x00" in head or odd > 1 + len(text) // 10

    def chunks(self) -> Iterator[bytes]:
        first = next(self._source, b"")
        if first[:2] == b"\x1f\x8b":
            self.gzip = True
            yield from self._inflate(first)
            return
        self._look(first)
        yield first
        for data in self._source:
            self._look(data)
            yield data

    def _inflate(self, first: bytes) -> Iterator[bytes]:
        # wbits 16+15: a gzip header; concatenated members (logrotate appends) are read in turn
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = first
        while True:
            while pending:
                try:
                    out = d.decompress(pending, _CHUNK)
                except zlib.error as exc:
                    self.bad_gzip = str(exc)
                    return
                pending = d.unconsumed_tail
                if d.eof:
                    rest = d.unused_data
                    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    pending = rest
                if out:
                    self._look(out)
                    yield out
            nxt = next(self._source, None)
            if nxt is None:
                break
            pending = nxt
        tail = d.flush()
        if tail:
            self._look(tail)
            yield tail


def _version_line(entities: dict[str, Any]) -> str:
    bits = []
    if entities.get("clients"):
        bits.append(" / ".join(entities["clients"]))
    hints = [*entities.get("client_versions", []), *entities.get("client_facts", [])]
    if hints:
        bits.append("; ".join(hints))
    return " — ".join(bits)


def _seen_line(entities: dict[str, Any]) -> str:
    labels = (("hosts", "host", "hosts"), ("addresses", "address", "addresses"),
              ("resolvers", "resolver", "resolvers"), ("proxies", "proxy", "proxies"),
              ("proxy_hosts", "proxy host", "proxy hosts"), ("statuses", "HTTP status", "HTTP statuses"),
              ("client_ips", "client IP", "client IPs"), ("acr_registries", "ACR registry", "ACR registries"),
              ("regions", "region", "regions"), ("repositories", "repository", "repositories"))
    parts = []
    for key, one, many in labels:
        values = entities.get(key)
        if values:
            parts.append(f"{one if len(values) == 1 else many} {', '.join(str(v) for v in values[:5])}")
    return "; ".join(parts)


def _header(ex: Any, source: str) -> str:
    from regdoctor import kb

    lines: list[str] = []
    top = ex.findings[0]
    if source == "file" or len(ex.groups) > 1:
        lines.append(f"regdoctor explain: {ex.lines:,} line(s) read, {ex.matched_lines:,} matched, "
                     f"{len(ex.groups)} symptom group(s)")
        for g in ex.groups[:_MAX_HEADER_GROUPS]:
            where = f"line {g.first_line}" if g.count == 1 else f"lines {g.first_line}–{g.last_line}"
            lines.append(f"  ×{g.count:<5} {where:<17} {g.code} [{g.layer}]")
            lines.append(f"          {_short(g.matched, 88)}")
        if len(ex.groups) > _MAX_HEADER_GROUPS:
            lines.append(f"  … and {len(ex.groups) - _MAX_HEADER_GROUPS} more group(s) (see --json)")
    else:
        lines.append(f"regdoctor explain: the {top.layer} layer failed — {top.code}: "
                     f"{kb.code(top.code).title} ({top.confidence:.0%} likely)")
    entities = dict(ex.entities)
    client = _version_line(entities)
    if client:
        lines.append(f"client: {client}")
    seen = _seen_line(entities)
    if seen:
        lines.append(f"seen: {seen}")
    if ex.cut_lines:
        from regdoctor.explain import MAX_LINE

        lines.append(f"note: {ex.cut_lines} line(s) longer than {MAX_LINE // 1024} KiB were cut")
    return "\n".join(lines)


def _named_file(text: str) -> str | None:
    """``text`` when it is one word naming a file: what a user means by ``explain error.log``.

    One that looks like a path but names nothing is bad input, not an error message to scan.

    >>> _named_file("EOF"), _named_file("dial tcp: i/o timeout")
    (None, None)
    """
    import os

    word = text.strip()
    if not word or len(word) > 4096 or any(c.isspace() for c in word):
        return None
    if os.path.isfile(word) or (os.path.isdir(word) and word not in (".", "..")):
        return word
    if word.startswith(("/", "./", "../", "~/")) and "://" not in word:
        fail_usage(f"{word}: no such file (give the error text itself, `-` for stdin, or --file LOG)")
    return None


def _catalogue_code(text: str) -> Any:
    """The catalogue entry when ``text`` is one of regdoctor's own codes (as a finding prints it)."""
    import re

    word = text.strip()
    if not re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", word):
        return None
    from regdoctor import kb

    return kb.catalogue().get(word)  # type: ignore[call-overload]


def _what_to_read(text: str | None, log_file: str | None, fmt: str) -> tuple[str | None, str | None]:
    """(TEXT, LOG) as the user meant them: nothing given but a pipe is the pipe
    (``kubectl describe pod … | regdoctor explain``); a file's name or a code, see ``_shortcut``.
    Reading a terminal says so on stderr: a silent wait looks like a hang."""
    if text is not None and log_file is not None:
        fail_usage("give either TEXT (or `-`) or --file LOG, not both")
    if text is None and log_file is None:
        if sys.stdin is None or isatty(sys.stdin):
            fail_usage("give the error TEXT, `-` to read it from stdin, or --file LOG")
        text = "-"
    if "-" in (text, log_file) and sys.stdin is not None and isatty(sys.stdin):
        click.echo("regdoctor explain: reading the error text from the terminal; paste it, then Ctrl-D", err=True)
    if text is not None and text != "-":
        return _shortcut(text, fmt)
    return text, log_file


def _shortcut(text: str, fmt: str) -> tuple[str | None, str | None]:
    """(TEXT, LOG) as meant: a file's name reads that file as --file does; one of regdoctor's own
    codes prints its catalogue entry and exits 0; any other TEXT is itself."""
    path = _named_file(text)
    if path is not None:
        return None, path
    entry = _catalogue_code(text)
    if entry is not None:
        from regdoctor.render import catalogue_json, code_entries_text

        write(catalogue_json([entry]) if fmt == "json" else code_entries_text([entry], term=terminal()))
        sys.exit(0)
    return text, None


def _explain_file(log_file: str) -> tuple[_Input, Explanation]:
    """Scan a log (``--file``; ``-`` is stdin): generic network texts count only next to a registry context."""
    from regdoctor.explain import explain_chunks

    if log_file == "-":
        data = _Input(_chunks(sys.stdin.buffer))
        return data, explain_chunks(data.chunks(), strict=True)
    try:
        with open(log_file, "rb") as stream:
            data = _Input(_chunks(stream))
            return data, explain_chunks(data.chunks(), strict=True)
    except OSError as exc:
        fail_usage(f"cannot read {log_file}: {exc.strerror or exc}")


def _explain_stdin() -> tuple[_Input, Explanation]:
    from regdoctor.explain import explain_chunks

    try:
        data = _Input(_chunks(sys.stdin.buffer))
        return data, explain_chunks(data.chunks())
    except OSError as exc:
        fail_usage(f"cannot read stdin: {exc.strerror or exc}")


def _explain_argument(text: str) -> tuple[_Input, Explanation]:
    from regdoctor.explain import explain_chunks

    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "replace")
    data = _Input([raw])
    return data, explain_chunks(data.chunks())


def _read_and_explain(text: str | None, log_file: str | None) -> tuple[str, str, _Input, Explanation]:
    """Which input was given (file, stdin or the argument), its name for messages, and its explanation."""
    if log_file is not None:
        return ("file", "stdin" if log_file == "-" else log_file, *_explain_file(log_file))
    if text == "-":
        return ("stdin", "stdin", *_explain_stdin())
    assert text is not None
    return ("text", "the TEXT argument", *_explain_argument(text))


def _refuse_unreadable(data: _Input, ex: Explanation, name: str) -> None:
    """Exit 2 on an input that is not error text: a corrupt gzip stream, nothing, or binary data."""
    if data.bad_gzip is not None:
        fail_usage(f"cannot read {name}: a corrupt gzip stream ({data.bad_gzip})")
    if data.empty:
        fail_usage(f"{name} is empty: give the error text a client printed")
    if data.binary and not ex.recognised:
        fail_usage(f"{name} is binary data, not a text log{' (after gunzip)' if data.gzip else ''}")


@click.command()
@click.argument("text", required=False)
@click.option("--file", "log_file", metavar="LOG",
              help="Read a log file (`-` for stdin): every matching line, grouped by symptom.")
@format_option
def explain(text: str | None, log_file: str | None, fmt: str, as_json: bool) -> None:
    """Name the failing layer from an error TEXT printed by any registry client.

    \b
    TEXT is the error as pasted, or piped in (a file name reads that file; a code such as DNS_NXDOMAIN
    shows its catalogue entry); `-` reads it from stdin. --file LOG scans a whole log.
    Prints the failing layer, the ranked likely causes with their fixes, and the exact
    `regdoctor check …` command that would confirm each. Needs no network.

    \b
    Exit codes: 0 no known symptom, 1 a known symptom was found, 2 unreadable input,
    3 regdoctor failed.
    """
    from regdoctor.render import render_findings

    fmt = chosen_format(fmt, as_json)
    text, log_file = _what_to_read(text, log_file, fmt)
    with handle_errors():
        source, name, data, ex = _read_and_explain(text, log_file)
    _refuse_unreadable(data, ex, name)

    extra = {"source": source, **ex.extra()}
    if data.gzip:
        extra["input"] = {**extra["input"], "gzip": True}
    suite = f"regdoctor explain {log_file if source == 'file' else source}"  # JUnit: the command and its subject
    if not ex.recognised:
        if fmt == "text":
            write(f"regdoctor explain: no known symptom in the {source} ({ex.lines:,} line(s) read).\n"
                  "If a client fails anyway, `regdoctor check <registry>` probes every layer live.\n")
        else:
            write(render_findings(fmt, [], header="regdoctor explain: no known symptom", status="ok",
                                  extra={**extra, "message": "no known symptom"}, suite=suite))
        sys.exit(0)
    write(render_findings(fmt, ex.findings, header=_header(ex, source), status="problems", extra=extra,
                          keep_order=True, suite=suite, term=terminal()))
    sys.exit(1)
