"""Scanning: a byte stream in chunks -> the few lines worth reading, each with the line before it.

Strategy
--------
``explain --file`` reads whole node logs, so the cost of an unrelated line must stay near zero:
lines are never iterated in Python. A block of complete lines is searched at once by the gate's
regexes (literal-prefixed, see ``kb.symptoms``); only the lines they hit are cut out, and in a
log (``strict``) only those that show a registry context are decoded and read.

The result must not depend on where the reader's chunks happen to end, so:

- a line is judged by its first ``max_line`` bytes only, wherever its newline falls (a gate hit
  beyond the cut does not count); a longer line is counted once in ``cut_lines``;
- the lines before a candidate (its context: a wrapper or URL a paste wrapped onto them) are
  carried over from the previous block, so they read the same in any chunking;
- bytes are joined before decoding, so a UTF-8 sequence or a CRLF split by a chunk is intact.

Memory stays bounded whatever the input: one chunk, the partial line (at most ``max_line``
bytes) and ``CONTEXT_LINES`` previous lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from regdoctor.explain.paste import MAX_LINE, phrase_finder, strip_ansi, unwrap
from regdoctor.explain.tokens import GATE_ANCHORS, GATE_PATTERNS, STANDALONE_ANCHORS
from regdoctor.kb.symptoms import SymptomBook, alternation, book, build_gate
from regdoctor.redact import redact

#: Read size of the chunked scanner.
CHUNK = 1 << 20
#: Lines before a candidate kept as its context (a wrapper or URL that a paste wrapped onto earlier lines).
CONTEXT_LINES = 3
#: A pasted message (not ``strict``) is read whole up to this many lines, gate or not: a fragment
#: users quote (``Error manifest unknown``, a timestamp before ``denied: …``) has no ``": "`` before
#: its leaf; the gate only keeps the cost of long inputs down.
READ_ALL = 200

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# A user's redaction (`lookup <redacted registry host> on <cluster DNS IP>:53`, `https://<registry>/v2/`)
# stands where one name or address was: where the grammar expects a name (after `lookup `, `//`,
# `tcp `, `udp `, ` on `, `->`, or before `:port`) it becomes one, its spaces joined; an HTML tag is
# never in those places
_PLACEHOLDER = re.compile(r"(?:(?<=lookup )|(?<=//)|(?<=tcp )|(?<=udp )|(?<= on )|(?<=->)|(?<=-> ))"
                          r"<([A-Za-z][A-Za-z0-9_.-]{0,30}+(?: [A-Za-z0-9_.-]{1,30}+){0,6}+)>"
                          r"|<([A-Za-z][A-Za-z0-9_.-]{0,30}+(?: [A-Za-z0-9_.-]{1,30}+){0,6}+)>(?=:[0-9])")
# one or more backslashes before a quote; pinned to the start of the backslash run (linear)
_ESCAPED_QUOTE = re.compile(r'(?<!\\)\\++"')


def clean(raw: bytes) -> str:
    """Decode, undo logrus/JSON quote escaping, drop control characters, redact.

    >>> clean(b'msg="Get \\\\"https://r.io/v2/\\\\": EOF" pass=x')
    'msg="Get "https://r.io/v2/": EOF" pass=x'
    """
    text = raw.decode("utf-8", "replace").rstrip("\r")
    if "\\" in text:
        # skopeo/podman (logrus) and JSON logs escape the inner quotes of Go's `Get "…"`, and a
        # quoted error inside a quoted error (kubelet's err="…") escapes them twice; their
        # newlines (containers/image's `errors:\ndenied: …`) are `\n`: each starts a new piece
        text = _ESCAPED_QUOTE.sub('"', text).replace("\\n", "; ")
    if "<" in text:
        text = _PLACEHOLDER.sub(lambda m: (m.group(1) or m.group(2)).replace(" ", "-"), text)
    return redact(_CONTROL.sub("?", text))


@lru_cache(maxsize=4)
def _gate(refinement_anchors: tuple[str, ...]) -> tuple[re.Pattern[bytes], ...]:
    """One prefilter for the grammar's leaves and the refinements' anchors."""
    return build_gate(sorted(set(refinement_anchors) | set(GATE_ANCHORS)), GATE_PATTERNS)


class Scanner:
    """Finds candidate lines in a byte stream; counts every line; keeps memory bounded.

    >>> s = Scanner(strict=True)  # a log: only gated lines with a registry context
    >>> log = [b"ok\\nGet https://r.io/v2/: dial tcp: lookup r.io on 1.1.1.1:53: no such host\\nrefused\\n"]
    >>> [(n, line[-20:]) for n, line, _ in s.candidates(log)]
    [(2, b'1.1:53: no such host')]
    >>> s.lines
    3
    """

    def __init__(self, symptom_book: SymptomBook | None = None, *, max_line: int = MAX_LINE,
                 strict: bool = False) -> None:
        bk = symptom_book or book()
        self._gate = _gate(tuple(sorted({a for sym in bk.symptoms for a in sym.gate})))
        # (a log's lines are never rejoined: the phrases are compiled for a paste only)
        anchors = tuple(sorted({a for sym in bk.symptoms for a in sym.anchors}))
        self._phrases = None if strict else phrase_finder(anchors)
        # strict (a log of anything): a generic leaf counts only on a line that shows a registry
        # context, tested in place; a registry-specific anchor (`standalone`) counts by itself
        self._context = context_gate(bk) if strict else None
        self._read_all = 0 if strict else READ_ALL
        self._strict = strict
        self._strong = _strong(tuple(sorted(a for s in bk.symptoms if s.standalone for a in s.gate)))
        self.max_line = max_line
        self.lines = 0
        self.cut_lines = 0
        self._base = 1
        self._prev: tuple[bytes, ...] = ()

    def candidates(self, chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield ``(line number, line, context)`` for each line the gate admits.

        Lines come without their newline and cut at ``max_line`` bytes; the context is the
        ``CONTEXT_LINES`` lines before (fewer at the start), joined by newlines.
        """
        buf = b""
        self._base = 1  # the line number of buf[0]
        self._prev = ()  # the lines before buf[0] (at most CONTEXT_LINES, each cut)
        skipping = False  # inside an over-long line whose head was already looked at
        for raw in chunks:
            chunk = raw
            if not chunk:
                continue
            if skipping:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                chunk = chunk[nl + 1:]
                self._base += 1
                skipping = False
            buf = buf + chunk if buf else chunk
            # a paste is read in one block (up to a chunk), so that a wrap is never cut in two
            end = buf.rfind(b"\n") if self._strict or len(buf) >= CHUNK else -1
            if end >= 0:
                yield from self._block(buf[:end])
                buf = buf[end + 1:]
            last = buf.rfind(b"\n")
            if len(buf) - last - 1 > self.max_line:
                # no newline for max_line bytes: judge the head once, then drop the rest
                if last >= 0:  # (a paste's complete lines first)
                    yield from self._block(buf[:last])
                    buf = buf[last + 1:]
                self.cut_lines += 1
                head = strip_ansi(buf[: self.max_line])
                yield from self._scan(head, self._base, self._prev, counted=True)
                self._prev, buf, skipping = (*self._prev, head)[-CONTEXT_LINES:], b"", True
        if buf:
            yield from self._block(buf[:-1] if buf.endswith(b"\n") else buf)
        elif skipping:
            self._base += 1
        self.lines = self._base - 1

    def _block(self, complete: bytes) -> Iterator[tuple[int, bytes, bytes]]:
        """Scan complete lines (the newline after the last one already cut off) and move past them."""
        complete = strip_ansi(complete)
        if not self._strict:
            complete = unwrap(complete, self._phrases, self.max_line)  # a paste; a log's lines are its own
        yield from self._scan(complete, self._base, self._prev)
        self._base += complete.count(b"\n") + 1
        self._prev = (*self._prev, *_last_lines(complete, CONTEXT_LINES, self.max_line))[-CONTEXT_LINES:]

    def _count_long(self, block: bytes) -> None:
        """Count the lines of ``block`` longer than ``max_line`` (a few C calls per MiB)."""
        limit, pos, n = self.max_line, 0, len(block)
        while n - pos > limit:
            nl = block.rfind(b"\n", pos, pos + limit + 1)
            if nl >= 0:
                pos = nl + 1
                continue
            self.cut_lines += 1
            nl = block.find(b"\n", pos)
            if nl < 0:
                return
            pos = nl + 1

    def _scan(self, block: bytes, base: int, before: tuple[bytes, ...], *, counted: bool = False
              ) -> Iterator[tuple[int, bytes, bytes]]:
        """Candidates of ``block`` (lines without the final newline); ``before`` precedes it."""
        if not counted:
            self._count_long(block)
        # Every line start counts as ": " so that anchors written ": leaf" also match a leaf
        # pasted alone; what a paste or a CI log puts before a line (indentation, a quote's `>`,
        # GitHub Actions' timestamp and `##[error]`) is not part of it and goes (one C-level pass)
        aug = _LINE_START.sub(b"\n: ", b"\n: " + block.replace(b"\n", b"\n: "))[1:]
        limit = self.max_line
        context, strong = self._context, self._strong
        starts: set[int] = set()
        if base <= self._read_all:
            # the first lines of a pasted message: every line, whatever the gate says
            pos, n = 0, base
            while n <= self._read_all:
                starts.add(pos)
                nl = aug.find(b"\n", pos)
                if nl < 0:
                    break
                pos, n = nl + 1, n + 1
        no_context: set[int] = set()  # lines whose context test failed: only a strong anchor admits them
        for rx in self._gate:
            pos = 0
            while True:
                m = rx.search(aug, pos)
                if m is None:
                    break
                start = aug.rfind(b"\n", 0, m.start()) + 1
                nl = aug.find(b"\n", m.end())
                end = nl if nl >= 0 else len(aug)
                cut = start + 2 + limit
                hit: re.Match[bytes] | None = m
                if start not in starts and m.end() > cut:
                    # a hit beyond the cut does not count: the line is judged by its head
                    hit = rx.search(aug, m.start() + 1, cut)
                pos = end + 1
                if hit is not None and start not in starts:
                    if (context is None or hit.group(0) in strong
                            or (start not in no_context and context.search(aug, start, min(cut, end)))):
                        starts.add(start)
                    else:
                        no_context.add(start)
                        pos = hit.end()  # a registry-specific anchor later on this line still counts
                if pos > len(aug):
                    break
        counted_to, lineno = 0, base
        for start in sorted(starts):
            lineno += aug.count(b"\n", counted_to, start)
            counted_to = start
            end = aug.find(b"\n", start)
            line = aug[start + 2: end if end >= 0 else len(aug)][:limit]
            yield lineno, line, _context(aug, start, limit, before)


#: the start of a line and what a paste or a CI log puts before its text: indentation, quote marks
#: (`> `, nested), an ISO 8601 timestamp as GitHub Actions' raw logs and `docker logs -t` print,
#: and a GitHub Actions annotation
# (found as "\n: " after the line starts were marked: a literal the engine skips to, where `^`
# would be tried at every byte; only a line that starts with one of them is rewritten)
_LINE_START = re.compile(rb"\n: (?=[ \t>#0-9])(?:[ \t]*+>)*+[ \t]*+"
                         rb"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?+Z?+[ \t]++)?+"
                         rb"(?:##\[(?:error|warning|notice|debug)\][ \t]*+)?+")


def _context(aug: bytes, start: int, limit: int, before: tuple[bytes, ...]) -> bytes:
    """The ``CONTEXT_LINES`` non-empty lines before the line at ``start`` of ``aug`` (``before``
    precedes the block), joined by newlines."""
    lines = _lines_before(aug, start, CONTEXT_LINES, limit, mark=2)
    if len(lines) < CONTEXT_LINES and before:
        lines = [*before[max(0, len(before) - (CONTEXT_LINES - len(lines))):], *lines]
    return b"\n".join(lines)


def _last_lines(block: bytes, n: int, limit: int) -> list[bytes]:
    """The last ``n`` non-empty lines of ``block`` (oldest first), each cut at ``limit`` bytes."""
    return _lines_before(block, len(block) + 1, n, limit, mark=0)


def _lines_before(buf: bytes, at: int, n: int, limit: int, *, mark: int) -> list[bytes]:
    """The ``n`` non-empty lines of ``buf`` that end before offset ``at - 1`` (a line's start, as if
    a newline stood before it), oldest first, each without its first ``mark`` bytes (the scanner's
    ``": "``) and cut at ``limit``. An empty line says nothing: the pieces a rejoined line left
    behind are empty lines, and at most ``_BLANK_REACH`` of them are looked past."""
    lines: list[bytes] = []
    blanks = 0
    while at > 0 and len(lines) < n and blanks < _BLANK_REACH:
        prev_start = buf.rfind(b"\n", 0, at - 1) + 1
        piece = buf[prev_start + mark: at - 1][:limit]
        if piece.strip():
            lines.append(piece)
        else:
            blanks += 1
        at = prev_start
    lines.reverse()
    return lines


#: how many empty lines the context of a line looks past
_BLANK_REACH = 1000


def context_gate(bk: SymptomBook) -> re.Pattern[bytes]:
    """Strict mode's test on raw bytes, before any decoding: can this line count at all?

    A line counts when it shows a registry context, or when it carries the anchor of a leaf or
    symptom that is about a registry by itself (``standalone``). Most near misses in a node's log
    (other services' timeouts and resets) stop here, in place, at the cost of one regex search.
    """
    return _context_gate(tuple(bk.context.registry_hints),
                         tuple(sorted({a for s in bk.symptoms if s.standalone for a in s.anchors})))


@lru_cache(maxsize=4)
def _context_gate(hints: tuple[str, ...], standalone: tuple[str, ...]) -> re.Pattern[bytes]:
    del standalone  # strong anchors admit a line by themselves (Scanner._strong)
    return re.compile(alternation(sorted({h.encode() for h in hints})))


@lru_cache(maxsize=4)
def _strong(standalone: tuple[str, ...]) -> frozenset[bytes]:
    """The gate hits (as the gate regexes return them) that are about a registry by themselves."""
    return frozenset(a.encode() for a in (*standalone, *STANDALONE_ANCHORS))


__all__ = ["CHUNK", "MAX_LINE", "Scanner", "clean", "context_gate"]
