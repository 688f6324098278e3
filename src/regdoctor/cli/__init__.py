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
    "proxy": ("regdoctor.cli.proxy", "proxy", "Who uses which proxy, mirror and CA for a registry, and why."),
    "serve": ("regdoctor.cli.serve", "serve", "Check on a schedule; Prometheus /metrics, /report.json, history."),
    "k8s": ("regdoctor.cli.k8s", "k8s", "Kubernetes manifests (DaemonSet, Job) and the NPD plugin config."),
    "fleet": ("regdoctor.cli.fleet", "fleet", "Merge per-node check reports into one verdict by cause and pool."),
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

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                           list[str]]:
        """click's, plus what its own groups say of a typo (``chek``: "Did you mean 'check'?"),
        which it draws from ``self.commands`` — empty in a lazy group."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            import difflib

            close = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if not close or "Did you mean" in exc.message:
                raise
            raise click.UsageError(f"{exc.message} Did you mean {' or '.join(repr(c) for c in close)}?",
                                   ctx=exc.ctx) from None

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
    """Console-script entry point and the ONE crash boundary of every command.

    - a usage error (click's or regdoctor's) is one line on stderr and exit 2;
    - Ctrl-C is exit 130 (``check`` prints what it found first);
    - any other exception becomes a ``CLIENT_INTERNAL_ERROR`` finding, printed in the format
      the user asked for (so ``--json`` output stays valid JSON), with a one-line hint on
      stderr, and exit 3 — never a traceback.
    """
    from regdoctor.cli._common import one_line
    from regdoctor.errors import RegdoctorError, UsageError

    try:
        rc = cli.main(args=argv, prog_name="regdoctor", standalone_mode=False)
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx is not None else "regdoctor"
        click.echo(f"regdoctor: {one_line(_usage_message(exc))} (see `{cmd} --help`)", err=True)
        sys.exit(2)
    except click.ClickException as exc:  # a bad file argument and the like: the user's input
        click.echo(f"regdoctor: {one_line(exc.format_message())}", err=True)
        sys.exit(2)
    except (click.Abort, KeyboardInterrupt, EOFError):
        click.echo("regdoctor: interrupted", err=True)
        sys.exit(130)
    except UsageError as exc:
        click.echo(f"regdoctor: {one_line(str(exc))}", err=True)
        sys.exit(2)
    except RegdoctorError as exc:
        click.echo(f"regdoctor: {one_line(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        _silence_stdout()
        sys.exit(141)  # 128 + SIGPIPE, as a shell reports a reader that went away
    except Exception as exc:  # the crash boundary (DESIGN.md): a bug becomes a finding, never a traceback
        _report_crash(exc)
        sys.exit(3)
    sys.exit(rc if isinstance(rc, int) else 0)


def _usage_message(exc: click.UsageError) -> str:
    """What was wrong, in words. A group called without its command (``regdoctor``, ``regdoctor
    acr``) is click's NoArgsIsHelpError, whose message is the whole help page: name the commands.

    >>> ctx = click.Context(cli, info_name="regdoctor")
    >>> _usage_message(click.exceptions.NoArgsIsHelpError(ctx)).split(":")[0]
    'missing command'
    """
    ctx = exc.ctx
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) and ctx is not None and \
            isinstance(ctx.command, click.Group):
        names = ctx.command.list_commands(ctx)
        return f"missing command: `{ctx.command_path} COMMAND`, one of {', '.join(names)}"
    return exc.format_message()


def run() -> None:
    """The console script and ``python -m regdoctor``: ``main()``, then a quick exit.

    Tearing the interpreter down (clearing some 300 modules, a last garbage collection) costs
    about 12 ms, as much as the probes of a healthy endpoint, and buys regdoctor nothing: its
    output is flushed here, it registers no ``atexit`` handler and keeps no file open, and its
    threads are daemon threads (a probe abandoned at its deadline is not waited for anyway).
    When that does not hold — a handler was registered, a thread Python would wait for is alive,
    or the flush fails — the normal exit runs. ``main()`` itself raises ``SystemExit`` as
    before, so calling it in-process (tests, embedding) is unchanged.
    """
    import atexit
    import os
    import threading

    try:
        main()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed
                stream.flush()
    except (OSError, ValueError):
        sys.exit(code)  # let the interpreter report it, as it always does
    waits = [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not threading.main_thread()]
    handlers = getattr(atexit, "_ncallbacks", lambda: 1)()  # CPython's count; elsewhere assume some
    if waits or handlers or not isinstance(code, int | None):
        sys.exit(code)
    os._exit(code or 0)


def _silence_stdout() -> None:
    import contextlib
    import os

    with contextlib.suppress(OSError):  # stdout may already be gone: nothing more to do then
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report_crash(exc: BaseException) -> None:
    """Print the crash as a CLIENT_INTERNAL_ERROR finding (plus what was found so far)."""
    import traceback

    from regdoctor.cli._common import RUN, one_line

    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
    try:
        from regdoctor import kb
        from regdoctor.kb.codes import Code
        from regdoctor.render import render_findings

        finding = kb.code(Code.CLIENT_INTERNAL_ERROR).finding(
            host=None, evidence={"check": RUN.command, "error_type": type(exc).__name__,
                                 "error": one_line(str(exc)), "where": where})
        from regdoctor.cli._common import terminal

        click.echo(render_findings(RUN.format, [*RUN.partial, finding], header=RUN.command, status="problems",
                                   term=terminal()), nl=False)
        also = ""
    except Exception as inner:  # the boundary's own fallback must not raise either (still one line)
        also = f" (and the crash report itself failed: {type(inner).__name__})"
    click.echo(f"regdoctor: internal error ({type(exc).__name__} at {where}): {one_line(str(exc), 200)}; "
               f"please report it with the command line and the --json output{also}", err=True)
