"""Helpers shared by the command modules: output formats, errors to exit codes, the run's state.

``RUN`` holds what the crash boundary (``regdoctor.cli.main``) needs to report a failure in the
format the user asked for: the command, the format (recorded while the options are parsed,
before any work) and, where a command has them, the findings made so far.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from regdoctor.errors import RegdoctorError, UsageError

if TYPE_CHECKING:
    from regdoctor.model import Finding
    from regdoctor.render.lines import Terminal

FORMATS = ("text", "json", "markdown", "junit")
COLORS = ("auto", "always", "never")


@dataclass
class RunState:
    """What the crash boundary knows about the command that is running."""

    command: str = "regdoctor"
    fmt: str = "text"
    as_json: bool = False
    partial: list[Finding] = field(default_factory=list)
    #: ``--color auto|always|never``
    color: str = "auto"

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


def _record_color(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        RUN.color = str(value)
    return value


def color_option(f: Callable[..., object]) -> Callable[..., object]:
    """``--color auto|always|never`` (recorded in ``RUN``; ``terminal()`` reads it)."""
    return click.option("--color", type=click.Choice(COLORS), default="auto", show_default=True, expose_value=False,
                        callback=_record_color, is_eager=True,
                        help="Colour in text output: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), "
                             "always, never.")(f)


def format_option(f: Callable[..., object]) -> Callable[..., object]:
    f = color_option(f)
    f = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.",
                     callback=record_format)(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Output format.", callback=record_format)(f)
    return f


def isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed, replaced or detached streams
        return False


def _columns(env: Mapping[str, str]) -> int | None:
    value = env.get("COLUMNS", "")
    return int(value) if value.isdigit() and 20 <= int(value) <= 1000 else None


def terminal(stream: Any = None, env: Mapping[str, str] | None = None, choice: str | None = None) -> Terminal:
    """Where text output goes (``stream``, default stdout): colour on or off, the width.

    ``--color never`` and ``always`` decide; ``auto`` follows NO_COLOR (off), then FORCE_COLOR
    (on), then whether ``stream`` is a terminal (and not TERM=dumb). Rich is imported only when
    colour is on; it then detects the terminal's colour system and, on a terminal, its width.
    Piped text is ``COLUMNS`` (when set) or 100 columns wide, so it is the same on every run.
    """
    from regdoctor.render.lines import Terminal

    stream = sys.stdout if stream is None else stream
    env = os.environ if env is None else env
    choice = choice or RUN.color
    tty = isatty(stream)
    if choice == "never":
        on = False
    elif choice == "always":
        on = True
    elif env.get("NO_COLOR"):
        on = False
    elif env.get("FORCE_COLOR"):
        on = True
    else:
        on = tty and env.get("TERM") != "dumb"
    plain_width = _columns(env) or 100
    if not on:
        if tty and _columns(env) is None:
            import shutil

            plain_width = shutil.get_terminal_size((100, 24)).columns
        return Terminal(color=False, width=plain_width)
    from rich.console import Console

    console = Console(file=stream, force_terminal=True, no_color=False, legacy_windows=False)
    system = console.color_system  # rich's own detection: COLORTERM, TERM, FORCE_COLOR, Windows
    return Terminal(color=system is not None, width=console.width if tty else plain_width, color_system=system)


def chosen_format(fmt: str, as_json: bool) -> str:
    """``--json`` is ``--format json``; beside another ``--format`` it is a contradiction (exit 2)."""
    if as_json and fmt not in ("text", "json"):
        fail_usage(f"--json and --format {fmt} ask for two formats: give one")
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
    """Print a rendered text; its colour was decided by ``terminal()`` (click must not strip it).

    A closed stdout or a full disk is ``OutputError`` (one line, exit 3), not a crash to report;
    a reader that went away (``| head``) stays ``BrokenPipeError``.
    """
    from regdoctor.errors import OutputError

    if sys.stdout is None:  # started with stdout closed (`>&-`): click would drop the text without a word
        raise OutputError("cannot write the report: standard output is closed")
    try:
        click.echo(text, nl=not text.endswith("\n"), color=True)
    except BrokenPipeError:
        raise
    except OSError as exc:
        with contextlib.suppress(OSError):  # what is still buffered goes nowhere, not into a second error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise OutputError(f"cannot write the report to standard output: {exc.strerror or exc}") from None


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
