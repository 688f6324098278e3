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

from regdoctor.explain.tokens import GATE_ANCHORS, GATE_PATTERNS, STANDALONE_ANCHORS
from regdoctor.kb.symptoms import SymptomBook, alternation, book, build_gate
from regdoctor.redact import redact

#: Lines are cut here (bytes): far more than any real error chain, and it bounds what one hostile
#: line costs (the reading is linear, ~1 ms per KiB at worst; see tests/unit/test_explain_hostile.py).
MAX_LINE = 16 * 1024
#: Read size of the chunked scanner.
CHUNK = 1 << 20
#: Lines before a candidate kept as its context (a wrapper or URL that a paste wrapped onto earlier lines).
CONTEXT_LINES = 3
#: A pasted message (not ``strict``) is read whole up to this many lines, gate or not: a fragment
#: users quote (``Error manifest unknown``, a timestamp before ``denied: …``) has no ``": "`` before
#: its leaf; the gate only keeps the cost of long inputs down.
READ_ALL = 200

#: A terminal wraps a long line at its width: the pieces are all that wide except the last. Two or
#: more consecutive lines of one width (at least this many bytes) and a shorter tail are one line.
WRAP_MIN = 60
# ... unless the next piece starts a message of its own (a timestamp, a level, a klog header, a
# wrapper's first word): logs print lines of equal length too (retries of one error)
_NEW_MESSAGE = re.compile(rb"^\s*+(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}|[IWEF][0-9]{4} |"
                          rb"time=|level=|\[|\$ |# |"
                          rb"(?:Error|ERROR|error|WARN|INFO|FATA|Failed|failed|Warning|Trying|Using)\b)")
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


def unwrap(block: bytes) -> bytes:
    """Put back together the lines of a paste that were broken for display; the line count stays.

    First a terminal's hard wrap (``_rejoin_wraps``), then an error chain broken at its separators
    (``_rejoin_chains``). A joined line takes the place of its last piece and the earlier pieces
    become empty, so line numbers still point into the text as pasted.

    >>> w = b"A" * 60, b"B" * 60, b"CC", b"next"
    >>> unwrap(b"\\n".join(w)).split(b"\\n") == [b"", b"", b"".join(w[:3]), b"next"]
    True
    >>> same = b"E" * 70, b"E" * 70, b"short"  # one error printed twice: not a wrap
    >>> unwrap(b"\\n".join(same)) == b"\\n".join(same)
    True
    """
    lines = block.split(b"\n")
    wrapped = _rejoin_wraps(lines)
    chained = _rejoin_chains(lines)
    return b"\n".join(lines) if wrapped or chained else block


def _rejoin_wraps(lines: list[bytes]) -> bool:
    """Join, in place, the pieces of a terminal's hard wrap (see ``WRAP_MIN``)."""
    n, i, changed = len(lines), 0, False

    def piece(k: int, head: bytes) -> bool:  # a continuation, not a message of its own or a repeat
        return not _NEW_MESSAGE.match(lines[k]) and lines[k][:8] != head

    while i < n:
        width, head = len(lines[i].rstrip(b"\r")), lines[i][:8]
        j = i
        while width >= WRAP_MIN and j + 1 < n and len(lines[j + 1].rstrip(b"\r")) == width and piece(j + 1, head):
            j += 1
        # the wrap ends in a shorter piece; without one, lines of one width are just alike
        if j > i and j + 1 < n and 0 < len(lines[j + 1].rstrip(b"\r")) < width and piece(j + 1, head):
            last = j + 1
            lines[last] = b"".join(line.rstrip(b"\r") for line in lines[i:last + 1])
            for k in range(i, last):
                lines[k] = b""
            i, changed = last + 1, True
            continue
        i += 1
    return changed


def _rejoin_chains(lines: list[bytes]) -> bool:
    """Join an error chain the paster (or a formatter) broke at its own width, in place.

    A Go error chain broken after a separator (`failed to do request:` / `Get "https://…"`), or a
    formatter's indented continuation lines (crane's and gitlab's `  ror: fetching manifest`), read as
    the one line they were; the earlier pieces become empty lines.
    """
    changed = False
    for i in range(len(lines) - 1):
        cur, nxt = lines[i].rstrip(), lines[i + 1]
        if not cur or not nxt.strip() or _NEW_MESSAGE.match(nxt):
            continue
        # (containers/image lists several errors one per line after `errors:`: each is its own)
        after_separator = cur.endswith(b":") and not cur.endswith(b"errors:")
        indented = len(cur) >= _INDENT_MIN and nxt.startswith(b"  ") and not nxt.startswith(b"   ")
        quoted_on = len(cur) >= WRAP_MIN and not cur.endswith(_ENDS) and _GOES_ON.match(nxt) is not None
        open_op = _OPEN_OP.search(cur[-300:]) is not None
        if after_separator or indented or quoted_on or open_op:
            # a host name has no spaces: broken at one of its dots or dashes, it is glued back whole
            glue = b"" if open_op and (cur.endswith((b".", b"-")) or nxt.lstrip().startswith((b".", b"-"))) else b" "
            lines[i + 1], lines[i], changed = cur + glue + nxt.strip(), b"", True
    return changed


#: a line this long, then one indented by two spaces: a formatter's continuation
_INDENT_MIN = 40
#: a long line that does not end a sentence, then one that starts with a quoted name: the paster broke
#: the line at a space (`failed to pull and unpack image` / `"r.io/app:1": …`)
_ENDS = (b".", b"!", b"?", b")", b"]", b"}", b">", b"|")
_GOES_ON = re.compile(rb'^\s*+["\'][A-Za-z0-9]')
#: a line that stops where Go's grammar still owes an address or a reason: after a network operation
#: (`read udp`, `dial tcp`: net.OpError's `op net [src->]addr: err`), after `->`, or inside a lookup
#: (net.DNSError's `lookup name[ on server]: err`: `lookup`, `lookup name`, `lookup name on`), so the next
#: line is the rest of that one
_OPEN_OP = re.compile(rb"(?:\b(?:read|write|dial|connect|proxyconnect)\s++(?:tcp|udp)[46]?+|->|"
                      rb"\blookup(?:\s++[^\s:]++(?:\s++on)?+)?+)\s*+$")


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
                head = buf[: self.max_line]
                yield from self._scan(head, self._base, self._prev, counted=True)
                self._prev, buf, skipping = (*self._prev, head)[-CONTEXT_LINES:], b"", True
        if buf:
            yield from self._block(buf[:-1] if buf.endswith(b"\n") else buf)
        elif skipping:
            self._base += 1
        self.lines = self._base - 1

    def _block(self, complete: bytes) -> Iterator[tuple[int, bytes, bytes]]:
        """Scan complete lines (the newline after the last one already cut off) and move past them."""
        if not self._strict:
            complete = unwrap(complete)  # a paste; a log's lines are its own
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
        # pasted alone; the insertion is one C-level copy, far cheaper than a per-line loop.
        aug = b": " + block.replace(b"\n", b"\n: ")
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
            lines: list[bytes] = []
            at = start
            while at > 0 and len(lines) < CONTEXT_LINES:
                prev_start = aug.rfind(b"\n", 0, at - 1) + 1
                lines.append(aug[prev_start + 2: at - 1][:limit])
                at = prev_start
            lines.reverse()
            if len(lines) < CONTEXT_LINES and before:
                lines = [*before[max(0, len(before) - (CONTEXT_LINES - len(lines))):], *lines]
            yield lineno, line, b"\n".join(lines)


def _last_lines(block: bytes, n: int, limit: int) -> list[bytes]:
    """The last ``n`` lines of ``block`` (oldest first), each cut at ``limit`` bytes."""
    out: list[bytes] = []
    end = len(block)
    while len(out) < n:
        nl = block.rfind(b"\n", 0, end)
        out.append(block[nl + 1: end][:limit])
        if nl < 0:
            break
        end = nl
    return out[::-1]


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
