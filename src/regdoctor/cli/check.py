"""``regdoctor check [REF ...]``: live, layered diagnosis from this machine."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

import click

from regdoctor.cli._common import (
    RUN,
    Seconds,
    chosen_format,
    fail_usage,
    format_option,
    handle_errors,
    isatty,
    terminal,
    write,
)
from regdoctor.cli.proxy import read_aks, root_options
from regdoctor.kb.codes import Code

if TYPE_CHECKING:
    from regdoctor.credentials import ClientConfig
    from regdoctor.model import EndpointResult, NodeInfo, Report
    from regdoctor.probe.endpoint import ProbeOptions
    from regdoctor.probe.run import PullOptions
    from regdoctor.render.progress import Progress
    from regdoctor.target import Target

T = TypeVar("T")
_AS = ("docker", "containerd", "podman", "crio", "k3s", "kubelet", "shell")



def _config_registries(config: ClientConfig) -> list[str]:
    """Registries named in the Docker config that are valid references (others are skipped)."""
    from regdoctor.credentials import registries_in_config
    from regdoctor.errors import BadReference
    from regdoctor.target import parse_target

    names = []
    for name in registries_in_config(config):
        try:
            parse_target(name)
        except BadReference:
            continue  # a key such as "unix:" names no registry; docker would never use it either
        names.append(name)
    return names


@click.command()
@click.argument("refs", nargs=-1, metavar="[REF]...")
@click.option("--name", "-n", "acr_names", multiple=True, metavar="NAME",
              help="An ACR registry by name, as az acr -n: NAME means NAME.azurecr.io (repeatable).")
@click.option("--timeout", type=Seconds(120.0), default=5.0, show_default=True,
              help="Deadline of each network step, in seconds.")
@click.option("--proxy", metavar="URL|none", help="Use this proxy (or none) instead of the environment's.")
@click.option("--ca", "ca_file", type=click.Path(dir_okay=False), help="Trust only this CA bundle (PEM) for TLS.")
@click.option("--plain-http", is_flag=True, help="Talk plain HTTP to the registry (an insecure registry).")
@click.option("--username", "-u", help="Log in as this user (with --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password or token from standard input.")
@click.option("--platform", default="linux/amd64", show_default=True, metavar="OS/ARCH[/VARIANT]",
              help="Platform to pick from a multi-platform image.")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="ACR: also probe this replica's data endpoint <reg>.<region>.data.azurecr.io (repeatable).")
@click.option("--as", "as_actor", type=click.Choice(_AS), metavar="ACTOR",
              help="Probe the path this actor takes (its proxy, mirrors and CA trust): " + "|".join(_AS) + ".")
@root_options
@click.option("--node", "node_name", metavar="NAME", help="Name this machine in the report, for `regdoctor fleet`.")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="A label of this machine for `regdoctor fleet` (repeatable), e.g. pool=np1, zone=3.")
@click.option("--npd", is_flag=True,
              help="node-problem-detector plugin: one line on stdout; exit 0 OK, 1 problem, 2 unknown.")
@click.option("--max-output-length", "npd_max", type=click.IntRange(20, 4096), default=80, show_default=True,
              help="With --npd: the longest line to print (NPD's max_output_length).")
@click.option("--progress/--no-progress", default=None,
              help="Live progress on stderr (default: when stderr is a terminal and the output is not --json).")
@click.option("--verbose", "-v", is_flag=True, help="Text: every endpoint's steps and every finding as its own panel.")
@format_option
def check(refs: tuple[str, ...], acr_names: tuple[str, ...], timeout: float, proxy: str | None,
          ca_file: str | None, plain_http: bool, username: str | None, password_stdin: bool, platform: str,
          regions: tuple[str, ...], as_actor: str | None, root_dir: str, proc_dir: str | None,
          aks_configs: tuple[str, ...], node_name: str | None, labels: tuple[str, ...], npd: bool, npd_max: int,
          progress: bool | None, verbose: bool, fmt: str, as_json: bool) -> None:
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
    from regdoctor.errors import BadInput
    from regdoctor.target import acr_target, parse_registry, parse_target

    with handle_errors(), npd_boundary(npd, npd_max):
        node = _node(node_name, labels)
        if ca_file is not None:
            _validate_ca(ca_file)
        from regdoctor.credentials import load_client_config

        config = load_client_config(os.environ)  # the one read of every credential file
        targets = [parse_target(r, plain_http=plain_http) for r in refs]
        targets += [acr_target(n, plain_http=plain_http) for n in acr_names]
        if not targets:  # Docker config keys are registries: read as such, whatever their shape
            targets = [parse_registry(r, plain_http=plain_http) for r in _config_registries(config) or ["docker.io"]]
        if proxy is not None and proxy.lower() not in ("none", "direct"):
            from regdoctor.proxyconf.rules import ProxyURLError, parse_proxy_option

            try:
                parse_proxy_option(proxy)
            except ProxyURLError as exc:
                raise BadInput(f"--proxy: {exc}") from None

        password = _read_password(username, password_stdin)
        if not _PLATFORM.match(platform):
            raise BadInput(f"--platform {platform!r}: expected OS/ARCH[/VARIANT], e.g. linux/arm64/v8")
        for region in regions:
            if not _REGION.match(region):
                raise BadInput(f"--region {region!r}: expected an Azure region name such as westeurope")

        from regdoctor.probe.endpoint import ProbeOptions
        from regdoctor.probe.run import PullOptions
        from regdoctor.render import render_report

        live = _progress(progress, chosen_format(fmt, as_json) == "json" or npd)
        opts = ProbeOptions(timeout=timeout, proxy=proxy, env=dict(os.environ), ca_file=ca_file,
                            plain_http=plain_http, observer=live)
        pull = PullOptions(username=username, password=password, platform=platform,
                           regions=tuple(r.lower() for r in regions), config=config)
        if as_actor is not None and proxy is not None:
            raise BadInput("--as and --proxy exclude each other: --as uses the actor's own proxy settings")

        from regdoctor.probe.run import Interrupted

        try:
            with live or contextlib.nullcontext():  # the live area is gone before the report is printed
                report = _run(targets, opts, pull, as_actor, root_dir, proc_dir, read_aks(aks_configs))
        except Interrupted as stop:
            # Ctrl-C: what finished is still worth having (SPEC), then the shell's code for SIGINT
            write(render_report(chosen_format(fmt, as_json),
                                replace(stop.report, targets=tuple(t.raw for t in targets)),
                                term=terminal(), verbose=verbose))
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

    env = os.environ
    no_color = RUN.color == "never" or (RUN.color == "auto" and bool(env.get("NO_COLOR")))
    return Progress(Console(stderr=True, no_color=no_color, highlight=False))


def _run(targets: list[Target], opts: ProbeOptions, pull: PullOptions, as_actor: str | None, root_dir: str,
         proc_dir: str | None, aks: list[tuple[str, str]]) -> Report:
    """The probe, through the shell's path or (``--as``) through one actor's settings."""
    import time

    from regdoctor.credentials import config_findings
    from regdoctor.diagnose import diagnose
    from regdoctor.errors import BadInput
    from regdoctor.model import Report as _Report
    from regdoctor.model import findings_sorted
    from regdoctor.probe.run import Job, jobs_for, probe_job, run_jobs
    from regdoctor.runtime import Source, actor_for, audit
    from regdoctor.runtime.asactor import annotate, path_notes, plan, verdict

    t0 = time.monotonic()
    src = Source(root_dir, proc_dir)
    jobs = jobs_for(targets, pull.regions)
    # broken credential files are findings of this machine, whatever the network does
    machine = config_findings(pull.config.problems) if pull.config else []
    if as_actor is None or as_actor == "shell":
        # the runtimes' settings (files, /proc) are read while the probes wait on the network
        actors = _in_background(lambda: audit(src, opts.env, aks)) if opts.proxy is None and as_actor is None else None
        endpoints = run_jobs(jobs, opts, pull)
        findings = machine + diagnose(endpoints)
        if actors is not None:
            # a running daemon that would go another way than this shell: worth one line
            findings += path_notes(actors(), opts.env, endpoints, targets[0].raw if targets else "")
        return _Report(targets=tuple(t.raw for t in targets), endpoints=tuple(endpoints),
                      findings=tuple(findings_sorted(findings)), elapsed_ms=(time.monotonic() - t0) * 1000)
    actor = actor_for(as_actor, audit(src, opts.env, aks))
    if actor is None:
        raise BadInput(f"--as {as_actor}: no {as_actor} found here (no service unit, config or process"
                       f"{' under ' + root_dir if root_dir != '/' else ''}); `regdoctor proxy` lists what was found")
    p = plan(actor, targets, opts.env, src.host_path)
    aopts = replace(opts, env=p.env, trust=p.trust)
    mirror_jobs = [Job(m.target.host, m.target.port, "mirror", origin=f"{actor.name} mirror for {m.mirror.registry} "
                       f"({m.mirror.origin})", target=m.target, parent=m.mirror.registry) for m in p.mirrors]
    plain = {(m.target.host, m.target.port) for m in p.mirrors if m.target.scheme == "http"}

    def probe(job: Job, o: ProbeOptions, pl: PullOptions) -> list[EndpointResult]:
        return probe_job(job, replace(o, plain_http=True) if (job.host, job.port) in plain else o, pl)

    endpoints = annotate(p, run_jobs(mirror_jobs + jobs, aopts, pull, probe=probe))
    findings = machine + verdict(p, endpoints, diagnose(endpoints))
    return _Report(targets=tuple(t.raw for t in targets), endpoints=tuple(endpoints),
                  findings=tuple(findings_sorted(findings)), elapsed_ms=(time.monotonic() - t0) * 1000)


def _in_background(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` in a daemon thread; the returned function waits for its result (or re-raises)."""
    import threading

    box: list[Any] = []

    def run() -> None:
        try:
            box.append((True, work()))
        except BaseException as exc:  # handed to the caller, who re-raises it in its own thread
            box.append((False, exc))

    thread = threading.Thread(target=run, name="audit", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        ok, value = box[0]
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    return result


_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
_REGION = re.compile(r"^[A-Za-z0-9]{2,40}$")


def _node(name: str | None, labels: tuple[str, ...]) -> NodeInfo | None:
    from regdoctor.fleet.node import node_info

    return node_info(name, labels) if name is not None or labels else None


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


def _validate_ca(path: str) -> None:
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        fail_usage(f"--ca {path}: no such file")
    except (ssl.SSLError, OSError, ValueError) as exc:
        fail_usage(f"--ca {path}: not a PEM CA bundle ({exc})")
