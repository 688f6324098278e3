"""``regdoctor check [REF ...]``: live, layered diagnosis from this machine."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import click

from regdoctor.cli._common import RUN, chosen_format, format_option, handle_errors, isatty, terminal, write
from regdoctor.cli._probeargs import probe_options, probe_setup
from regdoctor.cli._targets import acr_name_option, config_targets, named_targets
from regdoctor.kb.codes import Code

if TYPE_CHECKING:
    from regdoctor.model import NodeInfo
    from regdoctor.render.progress import Progress



@click.command()
@click.argument("refs", nargs=-1, metavar="[REF]...")
@acr_name_option
@probe_options
@click.option("--username", "-u", help="Log in as this user (with --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password or token from standard input.")
@click.option("--node", "node_name", metavar="NAME", help="Name this machine in the report, for `regdoctor fleet`.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="A label of this machine for `regdoctor fleet` (repeatable), e.g. pool=np1, zone=3.")
@click.option("--npd", is_flag=True,
              help="node-problem-detector plugin: one line on stdout; exit 0 OK, 1 problem, 2 unknown.")
@click.option("--max-output-length", "npd_max", type=click.IntRange(20, 4096), default=80, show_default=True,
              help="With --npd: the longest line to print (NPD's max_output_length).")
@click.option("--acr-config", type=click.Path(dir_okay=False), metavar="FILE",
              help="ACR: the registry's `az acr show` JSON; a firewall 403 is explained by its rules.")
@click.option("--progress/--no-progress", default=None,
              help="Live progress on stderr (default: when stderr is a terminal and the output is not --json).")
@click.option("--verbose", "-v", is_flag=True, help="Text: every endpoint's steps and every finding as its own panel.")
@format_option
def check(refs: tuple[str, ...], acr_names: tuple[str, ...], username: str | None, password_stdin: bool,
          node_name: str | None, labels: tuple[str, ...], npd: bool, npd_max: int, acr_config: str | None,
          progress: bool | None, verbose: bool, fmt: str, as_json: bool, **probe: Any) -> None:
    """Probe every layer between this machine and each registry: DNS, proxy, TCP, TLS, HTTP.

    \b
    REF is read as docker reads it: nginx:1.25 is docker.io/library/nginx:1.25,
    host[:port]/repo[:tag][@sha256:…] names another registry. A registry alone:
    host[:port] with a dot, localhost[:port], [IPv6][:port], or https://host[:port].
    An ACR registry by name: -n myregistry. Without REF or -n: the registries of
    the Docker config, else Docker Hub.

    \b
    Exit codes: 0 healthy, 1 problems found, 2 bad usage, 3 regdoctor failed.
    """
    from regdoctor.cli._npd import npd_boundary
    with handle_errors(), npd_boundary(npd, npd_max):
        node = _node(node_name, labels)
        from regdoctor.credentials import load_client_config

        plain_http = bool(probe["plain_http"])
        config = load_client_config(os.environ)  # the one read of every credential file
        targets = named_targets(refs, acr_names, plain_http=plain_http) or config_targets(config,
                                                                                           plain_http=plain_http)
        acr = None
        if acr_config is not None:
            from regdoctor.cli import _acr_io
            from regdoctor.errors import BadInput

            if acr_config == "-" and password_stdin:
                raise BadInput("--acr-config - and --password-stdin cannot both read standard input")
            acr = _acr_io.check_config(acr_config, [t.host for t in targets])
            if acr.data_endpoints_on:  # probe every replica's data endpoint the configuration names
                probe["regions"] = tuple(dict.fromkeys((*(r.lower() for r in probe["regions"]), *acr.regions)))
        password = _read_password(username, password_stdin)
        opts, pull, vantage = probe_setup(**probe, username=username, password=password, config=config)
        live = _progress(progress, chosen_format(fmt, as_json) == "json" or npd)
        opts = replace(opts, observer=live)

        from regdoctor.probe.run import Interrupted
        from regdoctor.render import render_report
        from regdoctor.runtime.source import Source
        from regdoctor.runtime.vantage import check_from

        try:
            with live or contextlib.nullcontext():  # the live area is gone before the report is printed
                report = check_from(targets, opts, pull, actor=vantage.actor,
                                    source=Source(vantage.root_dir, vantage.proc_dir), aks=vantage.aks)
            if acr is not None:
                report = _acr_io.explain_report(report, acr, acr_config or "")
        except Interrupted as stop:
            # Ctrl-C: what finished is still worth having (SPEC), then the shell's code for SIGINT
            write(render_report(chosen_format(fmt, as_json), stop.report, term=terminal(), verbose=verbose))
            sys.exit(130)
        if node is not None:
            report = replace(report, node=node)
        if npd:
            from regdoctor.render.npd import npd_verdict

            verdict = npd_verdict(report, max_length=npd_max)
            write(verdict.line)
            sys.exit(verdict.status)
        write(render_report(chosen_format(fmt, as_json), report, term=terminal(), verbose=verbose))
    if any(f.code == Code.CLIENT_INTERNAL_ERROR for f in report.findings):
        sys.exit(3)
    sys.exit(1 if any(f.severity in ("error", "warning") for f in report.findings) else 0)


def _progress(wanted: bool | None, machine_output: bool) -> Progress | None:
    """The live progress view on stderr, when asked for or (by default) when stderr is a terminal."""
    if wanted is False or (wanted is None and (machine_output or not isatty(sys.stderr))):
        return None
    from rich.console import Console

    from regdoctor.render.progress import Progress

    no_color = RUN.color == "never" or (RUN.color == "auto" and bool(os.environ.get("NO_COLOR")))
    return Progress(Console(stderr=True, no_color=no_color, highlight=False))


def _node(name: str | None, labels: tuple[str, ...]) -> NodeInfo | None:
    if name is None and not labels:
        return None
    from regdoctor.fleet.node import node_info

    return node_info(name, labels)


def _read_password(username: str | None, password_stdin: bool) -> str | None:
    from regdoctor.errors import BadInput

    if password_stdin and not username:
        raise BadInput("--password-stdin needs --username")
    if username and not password_stdin:
        raise BadInput("--username needs --password-stdin (passwords are never taken on the command line)")
    if not password_stdin:
        return None
    data = sys.stdin.read(64 * 1024)
    password = data.rstrip("\r\n")
    if not password:
        raise BadInput("--password-stdin: standard input is empty")
    return password
