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
- the line before a candidate is carried over from the previous block, so a wrapper on one
  line and the leaf on the next read the same in any chunking;
- bytes are joined before decoding, so a UTF-8 sequence or a CRLF split by a chunk is intact.

Memory stays bounded whatever the input: one chunk, the partial line (at most ``max_line``
bytes) and one previous line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from regdoctor.explain.grammar import GATE_ANCHORS, GATE_PATTERNS, STANDALONE_ANCHORS
from regdoctor.kb.symptoms import SymptomBook, alternation, book, build_gate
from regdoctor.redact import redact

#: Lines are cut here (bytes): enough for any real error, bounded for hostile input.
MAX_LINE = 64 * 1024
#: Read size of the chunked scanner.
CHUNK = 1 << 20

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
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
    return redact(_CONTROL.sub("?", text))


@lru_cache(maxsize=4)
def _gate(refinement_anchors: tuple[str, ...]) -> tuple[re.Pattern[bytes], ...]:
    """One prefilter for the grammar's leaves and the refinements' anchors."""
    return build_gate(sorted(set(refinement_anchors) | set(GATE_ANCHORS)), GATE_PATTERNS)


class Scanner:
    """Finds candidate lines in a byte stream; counts every line; keeps memory bounded.

    >>> s = Scanner()
    >>> [(n, line) for n, line, _ in s.candidates([b"ok\\nlookup x on 1.1.1.1:53: no such host\\n"])]
    [(2, b'lookup x on 1.1.1.1:53: no such host')]
    >>> s.lines
    2
    """

    def __init__(self, symptom_book: SymptomBook | None = None, *, max_line: int = MAX_LINE) -> None:
        self._gate = _gate(tuple(sorted((symptom_book or book()).by_anchor)))
        self.max_line = max_line
        self.lines = 0
        self.cut_lines = 0

    def candidates(self, chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes, bytes]]:
        """Yield ``(line number, line, previous line)`` for each line the gate admits.

        Lines come without their newline and cut at ``max_line`` bytes.
        """
        buf = b""
        base = 1  # the line number of buf[0]
        prev = b""  # the line before buf[0], cut
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
                base += 1
                skipping = False
            buf = buf + chunk if buf else chunk
            end = buf.rfind(b"\n")
            if end >= 0:
                complete, buf = buf[:end], buf[end + 1:]
                yield from self._scan(complete, base, prev)
                base += complete.count(b"\n") + 1
                prev = complete[complete.rfind(b"\n") + 1:][: self.max_line]
            if len(buf) > self.max_line:
                # no newline for max_line bytes: judge the head once, then drop the rest
                self.cut_lines += 1
                head = buf[: self.max_line]
                yield from self._scan(head, base, prev, counted=True)
                prev, buf, skipping = head, b"", True
        if buf:
            yield from self._scan(buf, base, prev)
            base += 1
        elif skipping:
            base += 1
        self.lines = base - 1

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

    def _scan(self, block: bytes, base: int, before: bytes, *, counted: bool = False
              ) -> Iterator[tuple[int, bytes, bytes]]:
        """Candidates of ``block`` (lines without the final newline); ``before`` precedes it."""
        if not counted:
            self._count_long(block)
        # Every line start counts as ": " so that anchors written ": leaf" also match a leaf
        # pasted alone; the insertion is one C-level copy, far cheaper than a per-line loop.
        aug = b": " + block.replace(b"\n", b"\n: ")
        limit = self.max_line
        starts: set[int] = set()
        for rx in self._gate:
            pos = 0
            while True:
                m = rx.search(aug, pos)
                if m is None:
                    break
                start = aug.rfind(b"\n", 0, m.start()) + 1
                nl = aug.find(b"\n", m.end())
                # a hit beyond the cut does not count: the line is judged by its head
                if m.end() - start - 2 <= limit or rx.search(aug, m.start() + 1, start + 2 + limit):
                    starts.add(start)
                if nl < 0:
                    break
                pos = nl + 1
        counted_to, lineno = 0, base
        for start in sorted(starts):
            lineno += aug.count(b"\n", counted_to, start)
            counted_to = start
            end = aug.find(b"\n", start)
            line = aug[start + 2: end if end >= 0 else len(aug)][:limit]
            if start > 0:
                prev_start = aug.rfind(b"\n", 0, start - 1) + 1
                prev = aug[prev_start + 2: start - 1][:limit]
            else:
                prev = before
            yield lineno, line, prev


class Plausible:
    """Strict mode's cheap test on raw bytes, before any decoding: can this line count at all?

    A line counts when it shows a registry context, or when it carries the anchor of a
    ``standalone`` (registry-specific) symptom. Most near misses in a node's log (other services'
    timeouts and resets) stop here at the cost of two substring scans.
    """

    def __init__(self, bk: SymptomBook) -> None:
        self._hints = re.compile(alternation([h.encode() for h in bk.context.registry_hints]))
        anchors = {a.encode() for s in bk.symptoms if s.standalone for a in s.anchors}
        anchors |= {a.encode() for a in STANDALONE_ANCHORS}
        self._standalone = re.compile(alternation(sorted(anchors)))

    def __call__(self, raw: bytes) -> bool:
        return self._hints.search(raw) is not None or self._standalone.search(b": " + raw) is not None


__all__ = ["CHUNK", "MAX_LINE", "Plausible", "Scanner", "clean"]
