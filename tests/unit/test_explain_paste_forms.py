"""The real clients' captured errors, pasted the ways people paste them, read as captured.

Every fixture in ``tests/fixtures/client_errors`` is a real client's output for a lab fault. A
user's copy of it is rarely that: a coloured terminal leaves escape sequences (or, once the ESC byte
is lost on the way, ``[31m…[0m``), a terminal hard-wraps a long line at its width, an editor, a mail
client or a narrow web view fills it to a width at the spaces; it is indented, quoted, flattened
to one line, or comes from a CI log with a timestamp and an annotation on every line. ``explain``
must give the same root cause for each form, by undoing the form (``paste.strip_ansi``,
``paste.unwrap``, the scanner's line starts, a registry error list's items), not by knowing the
message.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regdoctor.explain import explain
from regdoctor.explain.paste import strip_ansi, unwrap

FIXTURES = sorted((Path(__file__).parents[1] / "fixtures" / "client_errors").glob("*.json"))


def _text(path: Path) -> tuple[str, str]:
    rec = json.loads(path.read_text())
    return (rec["stdout"] + rec["stderr"]).strip(), rec["expected_code"]


def _fill(width: int) -> Callable[[str], str]:
    """Greedy fill at the spaces, a word longer than the width on its own line (an editor's)."""
    def form(text: str) -> str:
        return "\n".join("\n".join(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
                                   or [""]) for line in text.splitlines())
    return form


def _hard(width: int) -> Callable[[str], str]:
    """A terminal's hard wrap: every piece ``width`` wide but the last, inside words too."""
    def form(text: str) -> str:
        return "\n".join(line[i:i + width] for line in text.splitlines() for i in range(0, max(len(line), 1), width))
    return form


def _colour(text: str) -> str:
    return "\x1b[1;31m" + text.replace("Error", "\x1b[1mError\x1b[0m").replace("\n", "\x1b[0m\n\x1b[31m") + "\x1b[0m"


def _flat(text: str) -> str:
    """An output of a few lines flattened to one, as an event, a web UI or a JSON field shows it
    (ctr's hundreds of progress lines are no message anyone flattens: left as they are)."""
    return " ".join(text.split()) if text.count("\n") < 20 else text


FORMS: dict[str, Callable[[str], str]] = {
    "flattened to one line": _flat,
    "indented": lambda t: "\n".join("    " + line for line in t.splitlines()),
    "markdown quote": lambda t: "\n".join("> " + line for line in t.splitlines()),
    "GitHub Actions raw log": lambda t: "\n".join(f"2026-11-26T20:45:{i % 60:02d}.1234567Z ##[error]{line}"
                                                   for i, line in enumerate(t.splitlines())),
    "colour": _colour,
    "colour, ESC lost": lambda t: _colour(t).replace("\x1b", ""),
    "colour, caret notation": lambda t: _colour(t).replace("\x1b", "^["),
    "hyperlink": lambda t: "\x1b]8;;https://example.invalid/\x07" + t + "\x1b]8;;\x07",
    **{f"hard wrap at {w}": _hard(w) for w in (60, 80, 100, 120)},
    **{f"filled to {w}": _fill(w) for w in (60, 72, 100)},
}

#: (form, fixture) pairs that still read differently, each with why; a new one fails the test
KNOWN: dict[tuple[str, str], str] = {
    # the pieces of a filled paragraph that happen to be equally wide read as a terminal's hard
    # wrap, which glues them without the space (`exceeded 10485760` + `bytes`: no reading says otherwise)
    ("filled to 100", "docker-endless-headers-8451"): "equal-width filled lines taken for a hard wrap",
    # ctr's progress lines fill the paste; the filled error's pieces then read differently
    ("filled to 60", "ctr-api-backend-drop-5614"): "the backend's host and the registry's are read apart",
    ("filled to 72", "ctr-api-backend-drop-5614"): "the backend's host and the registry's are read apart",
    ("filled to 100", "dockerd-token-private-anonymous-5601"): "filled `denied:` list read as one answer",
    ("hard wrap at 120", "ctr-token-throttled-5603"): "the realm's 429 read as the registry's",
    # one line cut once at the width, inside a word (`ping` + `ing container registry`): nothing in
    # either piece says it was one line, so the ping (or the time's `is before`) is lost
    ("hard wrap at 120", "podman-push-403-html-5453"): "a two-piece wrap inside `pinging`",
    ("hard wrap at 120", "podman-push-acr403-5450"): "a two-piece wrap inside `pinging`",
    ("hard wrap at 120", "dockerd-push-notyet-5445"): "a two-piece wrap before the certificate's time",
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_capture_pasted_in_this_form_gives_its_code(form: str) -> None:
    changed = {}
    for path in FIXTURES:
        text, expected = _text(path)
        findings = explain(FORMS[form](text)).findings
        got = findings[0].code if findings else None
        if got != expected and (form, path.stem) not in KNOWN:
            changed[path.stem] = (expected, got)
    assert not changed, changed


def test_the_known_misreadings_are_still_misread() -> None:
    """A KNOWN entry that now reads right is taken out, so the list stays the truth."""
    for form, stem in KNOWN:
        text, expected = _text(FIXTURES[[p.stem for p in FIXTURES].index(stem)])
        findings = explain(FORMS[form](text)).findings
        assert not findings or findings[0].code != expected, (form, stem)


def test_escape_sequences_go_and_the_text_and_its_lines_stay() -> None:
    assert strip_ansi(b"\x1b[38;5;196mERRO\x1b[0m[0000] x509: \x1b[2K\x1b[1Gdone\x1bM") == b"ERRO[0000] x509: done"
    assert strip_ansi(b"\x1b]0;title\x1b\\Get: EOF") == b"Get: EOF"
    assert strip_ansi(b"[31mERRO[0m\n[32mok[0m\n") == b"ERRO\nok\n"
    # bracketed text that is not colour stays, unless the text also holds a bare reset
    assert strip_ansi(b"retry [3m later; status [400]") == b"retry [3m later; status [400]"


_PASTE_LINES = [b"Error response from daemon: Get \"https://r.io/v2/\": x509: cert", b"ificate signed by unknown",
                b"authority", b"", b"denied: requested access to the resource is denied", b": connection refused",
                b"  indented continuation of it", b"2026-11-26T20:45:51Z is before 2099-01-01T00:00:00Z",
                b"x" * 70, b"y" * 70, b"tail", b"Trying to pull r.io/a:1..."]


@given(st.lists(st.sampled_from(_PASTE_LINES), max_size=14))
def test_unwrap_keeps_the_line_count_and_every_byte_it_does_not_join(lines: list[bytes]) -> None:
    block = b"\n".join(lines)
    out = unwrap(block)
    assert out.count(b"\n") == block.count(b"\n")
    # joining only removes line breaks (and the spaces around them): nothing else changes or moves
    squeeze = bytes.maketrans(b"", b"")
    assert out.translate(squeeze, b" \n") == block.translate(squeeze, b" \n")


def test_a_long_anchor_matches_after_a_lost_colon_and_a_short_one_does_not() -> None:
    """Pastes lose a wrapper's colon or line break (`Error context canceled no matching manifest for
    …`): a symptom whose anchor is a phrase of three words or more still reads its example behind a
    plain space; a one-word answer (`: denied`) must not, or prose would read as a registry's answer."""
    from regdoctor.kb.symptoms import book

    bk = book()
    loose = [s for s in bk.symptoms if s.example and any(a in bk.loose_anchors for a in s.anchors)
             and not s.example.startswith(("Error", "error"))]
    assert len(loose) >= 8
    for s in loose:
        codes = [f.code for f in explain(f"Error context canceled {s.example}").findings]
        assert s.code in codes, (s.id, codes)
    assert ": denied" not in bk.loose_anchors and ": EOF" not in bk.loose_anchors
    assert not explain("the reviewer said the request was denied by policy today").findings
