"""Styled lines: the text renderers' one layout, emitted plain (no rich) or in colour (rich).

Strategy
--------
The text report must look the same in a terminal and in a pipe, except for colour: a script or
a README example that reads the piped text must see what a user sees. So the layout (wrapping,
panels, trees) is computed here once, as lines of ``(text, style)`` spans, at a width given by
the caller, and only the last step differs:

- ``emit(lines, term)`` with ``term.color`` off joins the texts: no rich import at all, so a
  piped or ``--color never`` run does not pay for rich's import;
- with colour on, each line becomes a ``rich.text.Text`` printed through a ``Console`` set up
  from the real terminal (its colour system, as rich detected it), so rich downgrades styles to
  what the terminal supports.

Wrapping keeps a backquoted span (`` `az acr update …` ``) whole: it is what a user copies.
Inside a panel a span wider than the panel is cut (the border must stay straight); outside a
panel (the fix and docs lines) it never is: a too-long command gets a line of its own.

Style names are rich style strings (``"bold red"``); the plain emitter ignores them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: one run of text in one style ("" = the terminal's default)
Span = tuple[str, str]
Line = list[Span]

#: a word: non-space characters and backquoted spans, which may hold spaces (linear: a span is
#: closed by the next backquote, so at most one unclosed backquote is ever scanned to the end)
_TOKEN = re.compile(r"(?:`[^`]*`|[^\s`]|`)+")


@dataclass(frozen=True)
class Terminal:
    """Where the text goes: colour on or off, the width, and (colour) rich's colour system name.

    >>> Terminal().width
    100
    """

    color: bool = False
    width: int = 100
    #: rich's ``ColorSystem`` name ("standard", "256", "truecolor", "windows") when colour is on
    color_system: str | None = None


def plain(line: Line) -> str:
    """The text of a line, styles dropped.

    >>> plain([("PASS", "green"), ("  dns", "")])
    'PASS  dns'
    """
    return "".join(t for t, _ in line)


def tokens(text: str) -> list[str]:
    """Words of ``text``; a backquoted span is one word however many spaces it holds.

    >>> tokens("run `az acr update -n r` now")
    ['run', '`az acr update -n r`', 'now']
    """
    return _TOKEN.findall(text)


def wrap(text: str, width: int, *, hard: bool = True) -> list[str]:
    """``text`` in lines of at most ``width`` characters, breaking between words only.

    A word longer than ``width`` is cut into pieces when ``hard`` (inside a panel), else it
    stands alone on its line, whole (a command to copy).

    >>> wrap("a `b c` d", 5)
    ['a', '`b c`', 'd']
    >>> wrap("x " + "y" * 8, 4, hard=False)
    ['x', 'yyyyyyyy']
    """
    width = max(width, 1)
    out: list[str] = []
    cur = ""
    for token in tokens(text):
        word = token
        while hard and len(word) > width:
            room = width - len(cur) - (1 if cur else 0)
            if room <= 0:
                out.append(cur)
                cur = ""
                continue
            out.append(f"{cur} {word[:room]}" if cur else word[:room])
            word, cur = word[room:], ""
        if not cur:
            cur = word
        elif len(cur) + 1 + len(word) <= width:
            cur = f"{cur} {word}"
        else:
            out.append(cur)
            cur = word
    if cur or not out:
        out.append(cur)
    return out


def labelled(label: str, text: str, width: int, *, label_style: str = "bold", style: str = "",
             label_width: int | None = None, hard: bool = True) -> list[Line]:
    """``label`` then ``text`` wrapped in a column after it (a hanging indent).

    Outside a panel (``hard=False``) a word too wide for the column starts at the left margin
    instead, so that a long command is never broken.

    >>> [plain(x) for x in labelled("fix", "one two three", 12)]
    ['fix one two', '    three']
    """
    lw = (label_width if label_width is not None else len(label)) + 1
    head = label.ljust(lw - 1)
    out: list[Line] = []
    for i, piece in enumerate(wrap(text, width - lw, hard=hard)):
        if not hard and len(piece) > width - lw:  # a whole command (or URL): from the margin
            if i == 0 and label:
                out.append([(label, label_style)])
            out.append([(piece, style)])
            continue
        lead = head if i == 0 else ""
        out.append([(lead.ljust(lw - 1), label_style if i == 0 else ""), (" ", ""), (piece, style)])
    return out


def box(title: Line, body: Sequence[Line], width: int, style: str) -> list[Line]:
    """A panel ``width`` characters wide: rounded border in ``style``, ``title`` in the top edge.

    Body lines must already fit in ``width - 4`` characters (``labelled``/``wrap`` with that width).

    >>> [plain(x) for x in box([("T", "")], [[("hi", "")]], 8, "")]
    ['╭─ T ──╮', '│ hi   │', '╰──────╯']
    """
    inner = width - 4
    title_text = plain(title)
    if len(title_text) > width - 5:  # a title never breaks the border: cut it
        title = [(title_text[: max(width - 6, 1)] + "…", "bold")]
        title_text = plain(title)
    top: Line = [("╭─ ", style), *title, (" " + "─" * max(width - 4 - len(title_text) - 1, 0) + "╮", style)]
    out = [top]
    for line in body:
        pad = inner - len(plain(line))
        out.append([("│ ", style), *line, (" " * max(pad, 0) + " │", style)])
    out.append([("╰" + "─" * (width - 2) + "╯", style)])
    return out


def emit(lines: Iterable[Line], term: Terminal) -> str:
    """The lines as one string: plain text, or ANSI-coloured by rich when ``term.color``."""
    if not term.color:
        return "".join(plain(line).rstrip() + "\n" for line in lines)
    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system=term.color_system or "standard",  # type: ignore[arg-type]
                      width=max(term.width, 20), highlight=False, emoji=False, markup=False,
                      legacy_windows=False, soft_wrap=True)
    for line in lines:
        text = Text(no_wrap=True, end="\n")
        for chunk, style in line:
            text.append(chunk, style=style or None)
        text.rstrip()
        console.print(text)
    return buf.getvalue()


__all__ = ["Line", "Span", "Terminal", "box", "emit", "labelled", "plain", "tokens", "wrap"]
