"""The README's example outputs are what regdoctor prints in the lab today (timings aside).

Regenerate them with `sudo python scripts/readme_examples.py --write` (tests/lab/readme.py).
"""

from __future__ import annotations

import pytest

from lab.lab import Lab
from lab.readme import README, examples, normalise, produce

EXAMPLES = examples(README.read_text())


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.args for e in EXAMPLES])
def test_readme_example_is_current(lab: Lab, example: object) -> None:
    from lab.readme import Example

    assert isinstance(example, Example)
    got = produce(lab, example.args)
    assert normalise(got) == normalise(example.body), (
        "README example is stale; run `sudo python scripts/readme_examples.py --write`\n" + got)
