"""The README's example outputs, produced by the fault lab: found, run, compared, rewritten.

An example is a ```text block right after a marker line in README.md::

    <!-- example: check registry.lab.test:5604/lab/hello:latest --ca lab-ca.pem --timeout 2 -->

whose content is ``$ regdoctor ARGS``, what regdoctor printed (piped: plain text, 100 columns),
then ``$ echo $?`` and the exit code. ``lab-ca.pem`` stands for the lab's CA file. Timings differ
from run to run, so comparisons replace every duration by ``_`` (``normalise``);
``scripts/readme_examples.py --write`` regenerates the blocks from the lab, and
tests/scenarios/test_readme_examples.py checks that the README says what regdoctor prints.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from lab.lab import Lab

README = Path(__file__).resolve().parents[2] / "README.md"
_BLOCK = re.compile(r"<!-- example: (?P<args>[^\n]*?) -->\n```text\n(?P<body>.*?)```\n", re.DOTALL)
_DURATION = re.compile(r"\d+(?:\.\d+)? (?:ms|s)\b")


@dataclass(frozen=True)
class Example:
    args: str
    body: str
    start: int
    end: int


def examples(text: str) -> list[Example]:
    return [Example(m["args"], m["body"], m.start("body"), m.end("body")) for m in _BLOCK.finditer(text)]


def normalise(text: str) -> str:
    """Durations as ``_``, and the padding before them, so that two runs compare equal.

    >>> normalise("├── PASS  dns   3.5 ms  ok") == normalise("├── PASS  dns 123.4 ms  ok")
    True
    """
    return "\n".join(re.sub(r" +_", " _", _DURATION.sub("_", line)).rstrip() for line in text.splitlines())


def produce(lab: Lab, args: str) -> str:
    """Run one example in the lab; the block's text: the command, its output, its exit code."""
    argv = [str(lab.ca_file) if a == "lab-ca.pem" else a for a in shlex.split(args)]
    r = lab.regdoctor(*argv, env={"COLUMNS": "100"}, timeout=120)
    return f"$ regdoctor {args}\n{r.stdout}$ echo $?\n{r.returncode}\n"


def rewrite(lab: Lab, text: str) -> str:
    """The README with every example block regenerated from the lab."""
    out, pos = [], 0
    for ex in examples(text):
        out += [text[pos:ex.start], produce(lab, ex.args)]
        pos = ex.end
    return "".join(out) + text[pos:]
