"""The README's two set-up commands are real: CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

from regdoctor import kb

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", README, re.DOTALL)


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    command = ci_lines[-1]
    assert command in _blocks(), "the last line of .ci/run must be one of the README's sh blocks"
    assert "pytest" in command and "mypy --strict" in command and "ruff check" in command


def test_readme_has_a_main_job_command() -> None:
    assert any("regdoctor check" in b and "pip install" in b for b in _blocks())


def test_readme_codes_table_lists_every_code() -> None:
    missing = [c for c in kb.catalogue() if f"`{c}`" not in README]
    assert not missing, f"README codes table lacks {missing}; run python scripts/codes_table.py"
