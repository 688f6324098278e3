"""Helpers shared by the command modules: output formats, errors to exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import click

from regdoctor.errors import RegdoctorError, UsageError

FORMATS = ("text", "json", "markdown", "junit")


def format_option(f: Callable[..., object]) -> Callable[..., object]:
    f = click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Output format.")(f)
    return f


def chosen_format(fmt: str, as_json: bool) -> str:
    return "json" if as_json else fmt


def fail_usage(message: str) -> NoReturn:
    """One clear line on stderr, exit 2."""
    click.echo(f"regdoctor: {message}", err=True)
    sys.exit(2)


@contextmanager
def handle_errors() -> Iterator[None]:
    """Map regdoctor's exceptions to one stderr line and their exit code."""
    try:
        yield
    except UsageError as exc:
        fail_usage(str(exc))
    except RegdoctorError as exc:
        click.echo(f"regdoctor: {exc}", err=True)
        sys.exit(exc.exit_code)


def write(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))
