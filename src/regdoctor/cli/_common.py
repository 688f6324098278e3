"""Helpers shared by the command modules: output formats, errors to exit codes, the run's state.

``RUN`` holds what the crash boundary (``regdoctor.cli.main``) needs to report a failure in the
format the user asked for: the command, the format (recorded while the options are parsed,
before any work) and, where a command has them, the findings made so far.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from regdoctor.errors import RegdoctorError, UsageError

if TYPE_CHECKING:
    from regdoctor.model import Finding

FORMATS = ("text", "json", "markdown", "junit")


@dataclass
class RunState:
    """What the crash boundary knows about the command that is running."""

    command: str = "regdoctor"
    fmt: str = "text"
    as_json: bool = False
    partial: list[Finding] = field(default_factory=list)

    @property
    def format(self) -> str:
        return "json" if self.as_json else self.fmt


RUN = RunState()


def record_format(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if param.name == "as_json":
        RUN.as_json = bool(value)
    elif value is not None and value in FORMATS:  # a command's own format (a Squid ACL) reports crashes as text
        RUN.fmt = str(value)
    RUN.command = ctx.command_path
    return value


def format_option(f: Callable[..., object]) -> Callable[..., object]:
    f = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.",
                     callback=record_format)(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Output format.", callback=record_format)(f)
    return f


def chosen_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


def fail_usage(message: str) -> NoReturn:
    """One clear line on stderr, exit 2."""
    click.echo(f"regdoctor: {one_line(message)}", err=True)
    sys.exit(2)


def one_line(message: str, limit: int = 300) -> str:
    """A message as one line of at most ``limit`` characters (bad values are echoed cut).

    >>> one_line("a\\nb  c")
    'a b c'
    """
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: str, limit: int = 100) -> str:
    """A user's bad value as echoed in an error: quoted, cut at ``limit`` characters.

    >>> shown("x" * 200)[-5:]
    "xxx…'"
    """
    return repr(value if len(value) <= limit else value[:limit] + "…")


@contextmanager
def handle_errors() -> Iterator[None]:
    """Map regdoctor's exceptions to one stderr line and their exit code."""
    try:
        yield
    except UsageError as exc:
        fail_usage(str(exc))
    except RegdoctorError as exc:
        click.echo(f"regdoctor: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)


def write(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


class Seconds(click.ParamType[float]):
    """A duration in seconds: a finite number in (0, ``maximum``] (``nan`` and ``inf`` are usage errors).

    >>> Seconds(120).convert("2.5", None, None)
    2.5
    """

    name = "seconds"

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{shown(str(value))} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not 0 < seconds <= self.maximum:
            self.fail(f"{shown(str(value))} must be a finite number of seconds in (0, {self.maximum:g}]", param, ctx)
        return seconds


class FiniteRange(click.FloatRange):
    """click's ``FloatRange`` that also refuses ``nan`` and ``inf`` (every comparison with nan is
    false, so a plain range lets it through: ``serve --interval nan`` would never wait).

    >>> FiniteRange(0.0, 1.0).convert("0.5", None, None)
    0.5
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{shown(str(value))} is not a finite number", param, ctx)
        return number
