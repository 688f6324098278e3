"""A paste back as the client printed it: what a terminal, an editor or a CI log did to it, undone.

``scan`` reads a paste (not a log) through ``unwrap`` and every block through ``strip_ansi``:

- ``strip_ansi``: the escape sequences a coloured terminal, ``docker logs`` or a CI log leaves in
  (and their remains once the ESC byte is lost on the way);
- ``unwrap``: lines broken for display, joined back, the line count kept: a terminal's hard wrap,
  lines an editor filled to a width, a phrase of the grammar cut in two, an error chain broken at
  its separators. Each rule comes from how the break was made (a terminal's width, a greedy fill,
  Go's grammar), never from a list of messages.

Pure: bytes in, bytes out; every rule linear in the paste, the costly one (a tokenizer pass per
line) bounded to the ends of a long paste.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from functools import lru_cache, partial

from regdoctor.explain.tokens import GATE_ANCHORS, Token, tokens
from regdoctor.kb.symptoms import alternation

#: Lines are cut here (bytes): far more than any real error chain, and it bounds what one hostile
#: line costs (the reading is linear, ~1 ms per KiB at worst; see tests/unit/test_explain_hostile.py).
#: The scanner reads a longer line on its own, so ``unwrap`` leaves it apart.
MAX_LINE = 16 * 1024

#: A terminal wraps a long line at its width: the pieces are all that wide except the last. Two or
#: more consecutive lines of one width (at least this many bytes) and a shorter tail are one line.
WRAP_MIN = 60
# ... unless the next piece starts a message of its own (a timestamp, a level, a klog header, a
# wrapper's first word): logs print lines of equal length too (retries of one error)
_NEW_MESSAGE = re.compile(rb"^\s*+(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}/[0-9]{2}/[0-9]{2}|[IWEF][0-9]{4} |"
                          rb"time=|level=|\[|\$ |# |"
                          rb"(?:Error|ERROR|error|WARN|INFO|FATA|Failed|failed|Warning|Trying|Using)\b)")


def unwrap(block: bytes, phrases: re.Pattern[bytes] | None = None, max_line: int = MAX_LINE) -> bytes:
    """Put back together the lines of a paste that were broken for display; the line count stays.

    First a terminal's hard wrap (``_rejoin_wraps``), then lines an editor filled to a width or a
    phrase of the grammar cut in two (``_rejoin_words``; ``phrases`` finds the knowledge base's; a
    line over ``max_line`` bytes, which the scanner may read on its own, stands apart), then an
    error chain broken at its separators (``_rejoin_chains``). A joined line takes the place of its
    last piece and the earlier pieces become empty, so line numbers still point into the text as
    pasted. Each rule reads the lines the rules before it left, their empty pieces taken out (a
    line the paster left empty still parts two messages).

    >>> w = b"A" * 60, b"B" * 60, b"CC", b"next"
    >>> unwrap(b"\\n".join(w)).split(b"\\n") == [b"", b"", b"".join(w[:3]), b"next"]
    True
    >>> same = b"E" * 70, b"E" * 70, b"short"  # one error printed twice: not a wrap
    >>> unwrap(b"\\n".join(same)) == b"\\n".join(same)
    True
    """
    lines = block.split(b"\n")
    pieces = [1] * len(lines)  # how many pasted lines each line now holds
    changed = False
    rules: tuple[_Rejoin, ...] = (partial(_rejoin_wraps, phrases=phrases), _words(phrases, max_line), _rejoin_chains)
    for rejoin in rules:
        emptied = rejoin(lines, pieces)
        if emptied:
            lines, pieces, changed = *_compact(lines, pieces, emptied), True
    if not changed:
        return block
    return b"\n".join(b"\n" * (n - 1) + line for line, n in zip(lines, pieces, strict=True))


_Rejoin = Callable[[list[bytes], list[int]], list[int]]


def _words(phrases: re.Pattern[bytes] | None, max_line: int) -> _Rejoin:
    """``_rejoin_words`` with its knowledge; a long paste (a log, its error at its start or end) is
    read at its two ends only, since the rule costs a tokenizer pass per line."""
    def rejoin(lines: list[bytes], pieces: list[int]) -> list[int]:
        if len(lines) <= 2 * WORD_WRAP_LINES:
            return _rejoin_words(lines, pieces, phrases, max_line)
        emptied: list[int] = []
        for first in (0, len(lines) - WORD_WRAP_LINES):
            end = first + WORD_WRAP_LINES
            part = lines[first:end]
            emptied += [first + k for k in _rejoin_words(part, pieces[first:end], phrases, max_line)]
            lines[first:end] = part
        return emptied
    return rejoin


def _compact(lines: list[bytes], pieces: list[int], emptied: list[int]) -> tuple[list[bytes], list[int]]:
    """Take the emptied pieces out, each counted in the line it was joined into (the next one kept)."""
    gone = set(emptied)
    out, counts, carry = [], [], 0
    for k, line in enumerate(lines):
        if k in gone:
            carry += pieces[k]
            continue
        out.append(line)
        counts.append(pieces[k] + carry)
        carry = 0
    return out, counts


#: ECMA-48 escape sequences a coloured terminal, a CI log or ``docker logs`` leaves in a paste: CSI
#: (``ESC [`` parameters, intermediates, one final byte: colours, cursor moves, erase), OSC (``ESC ]``
#: up to BEL or ``ESC \``: titles, hyperlinks) and the two-byte escapes. A line never spans a newline.
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*+[ -/]*+[@-~]|\][^\x07\x1b\n]*+(?:\x07|\x1b\\)?+|[@-Z\\-_])")
#: the same sequences once the paste lost their ESC byte (``[31mERRO[0m[0000]``) or shows it in
#: caret notation (``^[[0m``): SGR (colour) only, and only in a text that also holds a bare reset
_BARE_SGR = re.compile(rb"(?:\^\[)?+\[[0-9;]{0,15}+m")


def strip_ansi(block: bytes) -> bytes:
    """Drop the terminal escape sequences of ``block``; the text between them and its newlines stay.

    >>> strip_ansi(b"\\x1b[31mError\\x1b[0m: x509: \\x1b]8;;https://r.io\\x07link\\x1b]8;;\\x07")
    b'Error: x509: link'
    >>> strip_ansi(b"[36mINFO[0m[0000] Get: EOF  ^[[1mbold^[[0m")
    b'INFO[0000] Get: EOF  bold'
    >>> strip_ansi(b"retry [3m later")  # no reset: not colour, kept
    b'retry [3m later'
    """
    if b"\x1b" in block:
        block = _ANSI.sub(b"", block)
    if b"[0m" in block or b"[m" in block:
        block = _BARE_SGR.sub(b"", block)
    return block


def _rejoin_wraps(lines: list[bytes], pieces: list[int], phrases: re.Pattern[bytes] | None = None) -> list[int]:
    """Join, in place, the pieces of a terminal's hard wrap (see ``WRAP_MIN``); the emptied pieces.

    A terminal cuts at its width wherever that falls, and keeps the space it cut at; but lines an
    editor filled to one width can be alike too, and were cut at spaces it dropped. So a piece is
    glued to the next unless the break reads as two words: the grammar reads more joined with a
    space (``_glue``), or a word meets a quote or bracket (``Get`` + ``"https://…"``), which a
    terminal's cut never leaves without its space.
    """
    n, i = len(lines), 0
    emptied: list[int] = []

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
            parts = [line.rstrip(b"\r") for line in lines[i:last + 1]]
            lines[last] = parts[0] + b"".join(_wrap_glue(a, b, phrases) + b for a, b in itertools.pairwise(parts))
            for k in range(i, last):
                lines[k] = b""
            emptied += range(i, last)
            i = last + 1
            continue
        i += 1
    return emptied


def _wrap_glue(cur: bytes, nxt: bytes, phrases: re.Pattern[bytes] | None) -> bytes:
    """How two pieces of a hard wrap meet: as cut (no space), or as words an editor parted."""
    if not cur[-1:].strip() or not nxt[:1].strip():
        return b""  # the terminal kept the space it cut at
    if _glue(cur, nxt, phrases) == b" ":
        return b" "
    word_then_quote = cur[-1:].isalnum() and nxt[:1] in (b'"', b"'", b"(", b"[", b"{", b"<")
    quote_then_word = cur[-1:] in (b'"', b"'", b")", b"]", b"}", b">") and nxt[:1].isalnum()
    return b" " if word_then_quote or quote_then_word else b""


def _rejoin_words(lines: list[bytes], pieces: list[int], phrases: re.Pattern[bytes] | None,
                  max_line: int = MAX_LINE) -> list[int]:
    """Join, in place, lines broken inside a message: filled to a width, or a phrase cut in two.

    Two rules, each from the way the break was made, never from the words:

    - an editor, a mail client or a narrow web view fills a paragraph greedily: a line ends where
      the next word did not fit, so in a paragraph ``W`` wide (its longest line of several words as
      pasted: one word longer than the width stands alone), a line followed by ``word`` with
      ``len(line) + 1 + len(word) > W`` was broken there. That says something only of a line
      shorter than ``W`` (after the longest line, any word "does not fit"), so the paragraph must
      hold one such line; a line that starts a message (``_NEW_MESSAGE``) or follows
      one that already ends in a leaf of its own is not joined this way;
    - a terminal's or a paster's break anywhere (inside a word too) is undone when the joined text
      holds a piece of the grammar across the break (a leaf token, a URL, a phrase of the knowledge
      base: ``phrases``) that neither line holds alone, even before a timestamp (``current time`` +
      ``2026-11-26T20:45:51Z is before …``); glued with a space or without one, whichever reads
      more specific leaves (``x509: cert`` + ``ificate signed by unknown authority`` is one word,
      ``signed by`` + ``unknown authority`` two).

    Returns the emptied pieces; ``pieces`` says how many pasted lines each line already holds.

    >>> text = [b"Error: initializing source", b"docker://registry.example.com/team/app:1: pinging container",
    ...         b"registry registry.example.com: Get"]
    >>> _rejoin_words(text, [1, 1, 1], None), text[2][:50]
    ([0, 1], b'Error: initializing source docker://registry.examp')
    >>> cut = [b'Get "https://r.io/v2/": x509: cert', b"ificate signed by unknown authority"]
    >>> _rejoin_words(cut, [1, 1], None), cut[1]
    ([0], b'Get "https://r.io/v2/": x509: certificate signed by unknown authority')
    >>> two = [b"Error response from daemon: Get https://r.io/v2/: EOF", b"retrying in 5 seconds"]
    >>> _rejoin_words(two, [1, 1], None)  # a message that ends in its leaf
    []
    """
    n = len(lines)
    whole = b"\n".join(lines)  # the paste's own words: a name cut in two is whole elsewhere in it
    # a line the scanner may cut and read alone (over max_line) ends a paragraph, as an empty one does
    width = [w if w <= max_line else 0 for w in (len(line.rstrip()) for line in lines)]
    emptied: list[int] = []
    start = 0
    while start < n:
        if not width[start]:
            start += 1
            continue
        end = start
        while end + 1 < n and width[end + 1]:
            end += 1
        # (a line an earlier rule joined is not as wide as the paste was)
        words = [width[k] for k in range(start, end + 1) if pieces[k] == 1 and b" " in lines[k].strip()]
        para = max(words or width[start:end + 1])
        fills = {i for i in range(start, end) if para >= WORD_WRAP_MIN and _fills(lines, width, i, para)}
        filled = any(width[i] < para for i in fills)
        for i in range(start, end):
            cur, nxt = lines[i].rstrip(), lines[i + 1]
            if not cur:
                continue
            glue = _glue(cur, nxt.lstrip(), phrases, whole)
            # (not before a message of its own, nor a formatter's indented continuation: _rejoin_chains)
            if (glue is None and filled and i in fills and not _NEW_MESSAGE.match(nxt)
                    and len(nxt) - len(nxt.lstrip()) <= len(cur) - len(cur.lstrip()) + 1
                    and not _has_leaf(cur) and not _starts_leaf(nxt)):
                glue = b" "
            if glue is not None:
                lines[i + 1], lines[i] = cur + glue + nxt.lstrip(), b""
                emptied.append(i)
        start = end + 1
    return emptied


def _fills(lines: list[bytes], width: list[int], i: int, para: int) -> bool:
    """Whether line ``i`` ends where the next line's first word would not have fitted."""
    nxt = lines[i + 1].split(None, 1)
    return bool(nxt) and width[i] + 1 + len(nxt[0]) > para and not lines[i].rstrip().endswith(_ENDS)


def _glue(cur: bytes, nxt: bytes, phrases: re.Pattern[bytes] | None, whole: bytes = b"") -> bytes | None:
    """How ``cur`` and ``nxt`` read as one line: joined by a space, glued, or not at all (None).

    A join counts when it makes a piece neither line makes alone: a token that crosses the break
    and reads differently than the head's own (a message that merely runs on does not count), or
    a phrase of ``phrases`` across the break, or (glued) a name the paste holds whole elsewhere
    (``pinging container registry servfail.lab.tes`` + ``t:5441: Get "https://servfail.lab.test:5441/v2/"``).
    """
    head, tail = cur[-_WINDOW:], nxt[:_WINDOW]
    if not (head.isascii() and tail.isascii()):
        return None  # offsets in characters and bytes would differ: read only plain ASCII breaks
    own = {_reading(t) for t in tokens(head.decode())}
    best: tuple[int, int] = (0, 0)
    choice: bytes | None = None
    # (a break inside a word, a name or a URL's path may have cut it: glued is then a reading too)
    word_break = head[-1:].isalnum() and (tail[:1].isalnum() or tail.startswith((b".", b"-", b"/")))
    word_break = word_break or head.endswith((b"%", b".", b"-", b"/")) or (head.endswith(b":") and tail[:1] == b"/")
    named = False
    if word_break and (a := _NAME_END.search(head)) and (b := _NAME_START.match(tail)):
        name = (a.group(0) + b.group(0)).rstrip(b":.")
        named = len(name) >= _NAME_MIN and name in whole
    for glue in (b" ", b"") if word_break else (b" ",):
        joined = head + glue + tail
        cut, resume = len(head), len(head) + len(glue)
        specific = across = 0
        for t in tokens(joined.decode()):
            if t.start < cut and t.end > resume and _reading(t) not in own:
                across += 1
                specific += t.kind != "url" and (t.kind, t.value) not in _FALLBACK_LEAVES
        pos = max(0, cut - _PHRASE_REACH)
        while phrases is not None and (m := phrases.search(joined, pos, resume + _PHRASE_REACH)) and m.start() < cut:
            if m.end() > resume:
                across += 1
                specific += 1
                break
            pos = m.start() + 1  # (an earlier phrase may overlap one that crosses)
        if named and not glue:
            across += 1
            specific += 1
        if across and (specific, across) > best:
            best, choice = (specific, across), glue
    return choice


def _reading(t: Token) -> tuple[object, ...]:
    """What a token says, but for its free text (a message, a TLS error's words), which runs on."""
    return t.kind, t.value, t.start, tuple(sorted((k, v) for k, v in t.fields.items() if k not in _FREE_TEXT))


_FREE_TEXT = frozenset({"message", "tls_error"})


def _starts_leaf(line: bytes) -> bool:
    """Whether ``line`` starts with a leaf, as the items of containers/image's ``errors:`` list do."""
    text = ": " + line.lstrip().decode("utf-8", "replace")
    return any(t.start <= 2 and t.kind not in ("url", "detail", "op") for t in tokens(text[:_WINDOW]))


def _has_leaf(line: bytes) -> bool:
    """Whether ``line`` ends a message: it holds a leaf the grammar knows (a socket, TLS, status or
    registry answer) whose text does not run on to the line's end (``denied: client with IP`` does)."""
    # (a line start reads as ": ", as the gate reads it: `denied: …` alone is a registry's answer)
    text = ": " + line.decode("utf-8", "replace")
    return any(t.kind not in ("url", "detail", "op") and (t.kind, t.value) not in _FALLBACK_LEAVES
               and not ("message" in t.fields and t.end >= len(text.rstrip())) for t in tokens(text))


#: the lines at each end of a long paste that are re-read word by word (the rule costs a tokenizer pass per line)
WORD_WRAP_LINES = 200
#: a paragraph narrower than this was not filled to a width
WORD_WRAP_MIN = 50
#: bytes each side of a break that the grammar reads to decide it
_WINDOW = 300
#: the longest phrase looked for across a break, each side
_PHRASE_REACH = 80
#: the two halves of a name (host, host:port, path) a break may cut, and the shortest name trusted
_NAME_END = re.compile(rb"[A-Za-z0-9._:/%-]{1,253}+$")
_NAME_START = re.compile(rb"[A-Za-z0-9._:/%-]{1,253}+")
_NAME_MIN = 8
#: what a TLS leaf reads as when its reason is not one the grammar knows (a word cut in two)
_FALLBACK_LEAVES = frozenset({("tls", "handshake_failed"), ("tls", "verify_failed"), ("tls", "expired_or_not_yet")})


def _rejoin_chains(lines: list[bytes], pieces: list[int]) -> list[int]:
    """Join an error chain the paster (or a formatter) broke at its own width, in place.

    A Go error chain broken after a separator (`failed to do request:` / `Get "https://…"`), or a
    formatter's indented continuation lines (crane's and gitlab's `  ror: fetching manifest`), read as
    the one line they were; the earlier pieces become empty lines (their indices are returned).
    """
    emptied: list[int] = []
    for i in range(len(lines) - 1):
        cur, nxt = lines[i].rstrip(), lines[i + 1]
        if not cur or not nxt.strip() or _NEW_MESSAGE.match(nxt):
            continue
        # (containers/image lists several errors one per line after `errors:`: each is its own)
        after_separator = cur.endswith(b":") and not cur.endswith(b"errors:")
        indented = len(cur) >= _INDENT_MIN and nxt.startswith(b"  ") and not nxt.startswith(b"   ")
        quoted_on = len(cur) >= WRAP_MIN and not cur.endswith(_ENDS) and _GOES_ON.match(nxt) is not None
        open_op = _OPEN_OP.search(cur[-300:]) is not None
        # a line never starts with Go's separator: one that does goes on from the line before it
        # (a terminal broke `…: connect` / `: connection refused` just before it)
        separator_first = nxt.startswith(b": ")
        if after_separator or indented or quoted_on or open_op or separator_first:
            # a host name has no spaces: broken at one of its dots or dashes, it is glued back whole
            glue = b"" if open_op and (cur.endswith((b".", b"-")) or nxt.lstrip().startswith((b".", b"-"))) else b" "
            glue = b"" if separator_first else glue
            lines[i + 1], lines[i] = cur + glue + nxt.strip(), b""
            emptied.append(i)
    return emptied


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


@lru_cache(maxsize=4)
def phrase_finder(anchors: tuple[str, ...]) -> re.Pattern[bytes]:
    """The phrases a paste's break may cut in two: the refinements' anchors and the grammar's leaves."""
    words = {a.removeprefix(": ").encode() for a in (*anchors, *GATE_ANCHORS)}
    return re.compile(alternation(sorted(w for w in words if len(w) >= 6)))

__all__ = ["MAX_LINE", "WRAP_MIN", "phrase_finder", "strip_ansi", "unwrap"]
