"""The command line: argument parsing, choice of renderer, exit codes.

The ``cli`` package is the only place that prints or exits (DESIGN.md asks for one ``cli.py``;
it became a package with one module per command group so that each group's heavy imports stay
lazy and the groups can grow independently). ``regdoctor --version`` and ``--help`` import
nothing but click: subcommands are loaded on first use (``LazyGroup``).

Exit codes (SPEC): 0 healthy / nothing found, 1 problems found, 2 bad usage or unreadable input
(one line on stderr), 3 regdoctor's own failure.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from regdoctor import __version__

# name -> (module, attribute, short help); the help is here so `--help` needs no import
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("regdoctor.cli.check", "check", "Live, layered diagnosis of the path to a registry."),
    "explain": ("regdoctor.cli.explain", "explain", "Name the failing layer from a client's error text."),
    "acr": ("regdoctor.cli.acr", "acr", "The ACR network model, offline: access, lint, allowlist, dns."),
    "codes": ("regdoctor.cli.codes", "codes", "List the catalogue of finding codes."),
    "logs": ("regdoctor.cli.logs", "logs", "Who the registry turned away, and why, from its exported login events."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (mod, _, _) in _COMMANDS.items() if _module_exists(mod))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        cmd = getattr(importlib.import_module(entry[0]), entry[1])
        assert isinstance(cmd, click.Command)
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, _COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="regdoctor", message="%(prog)s %(version)s")
def cli() -> None:
    """regdoctor finds the exact layer where access to a container registry breaks
    (DNS, proxy, TCP, TLS, HTTP, registry firewall, auth, data endpoint), says why, and
    prints the fix.

    \b
    Exit codes: 0 healthy, 1 problems found, 2 bad usage or input, 3 regdoctor failed.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point. Turns regdoctor's own exceptions into exit codes."""
    from regdoctor.errors import RegdoctorError

    try:
        return cli.main(args=argv, prog_name="regdoctor", standalone_mode=True)
    except RegdoctorError as exc:  # raised outside a command's own handling
        click.echo(f"regdoctor: {exc}", err=True)
        sys.exit(exc.exit_code)
