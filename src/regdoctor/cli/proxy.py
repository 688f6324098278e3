"""``regdoctor proxy [HOST…]``: who would use which proxy to reach each host, and the classic mistakes."""

from __future__ import annotations

import os
import sys

import click

from regdoctor.cli._common import chosen_format, fail_usage, format_option, handle_errors, terminal, write
from regdoctor.cli._targets import acr_name_option, config_targets, named_targets


def root_options(f: click.decorators.FC) -> click.decorators.FC:
    """``--root`` / ``--proc`` / ``--aks-config``: shared by ``proxy`` and ``check --as``."""
    f = click.option("--aks-config", "aks_configs", multiple=True, type=click.Path(dir_okay=False),
                     metavar="FILE", help="An AKS httpProxyConfig JSON (`az aks show --query httpProxyConfig`).")(f)
    f = click.option("--proc", "proc_dir", type=click.Path(file_okay=False), metavar="DIR",
                     help="Read running processes from DIR (default: /proc, or DIR/proc with --root).")(f)
    f = click.option("--root", "root_dir", type=click.Path(file_okay=False), default="/", show_default=True,
                     metavar="DIR", help="Read configuration files under DIR (a node's root mounted elsewhere).")(f)
    return f


def read_aks(paths: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for p in paths:
        try:
            with open(p, "rb") as fh:
                data = fh.read(2 * 1024 * 1024)
        except OSError as exc:
            fail_usage(f"--aks-config {p}: {exc.strerror}")
        try:  # a JSON file the runtime reader judges (a syntax error is a finding); bytes are not one
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            fail_usage(f"--aks-config {p}: not UTF-8 text (byte {exc.start}): not `az aks show` output")
        if not text.strip():  # as for every input file: nothing to read is bad input, not a finding
            fail_usage(f"--aks-config {p} is empty: give `az aks show -g RG -n CLUSTER` output")
        out.append((p, text))
    return out


@click.command()
@click.argument("hosts", nargs=-1, metavar="[HOST|REF]...")
@acr_name_option
@root_options
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="ACR: also evaluate the data endpoint <reg>.<region>.data.azurecr.io (repeatable).")
@format_option
def proxy(hosts: tuple[str, ...], acr_names: tuple[str, ...], root_dir: str, proc_dir: str | None,
          aks_configs: tuple[str, ...], regions: tuple[str, ...], fmt: str, as_json: bool) -> None:
    """Who would use which proxy to reach each registry host, and where each setting comes from.

    \b
    Actors: the shell (Go and Python rules), dockerd (systemd drop-ins, daemon.json, the running
    process), the Docker CLI config, containerd, CRI-O, podman (containers.conf), k3s, rke2,
    microk8s, the kubelet, and AKS httpProxyConfig files (--aks-config). Reads files only.

    \b
    Exit codes: 0 nothing found, 1 problems found, 2 bad usage, 3 regdoctor failed.
    """
    from regdoctor.errors import BadInput

    with handle_errors():
        if not os.path.isdir(root_dir):
            raise BadInput(f"--root {root_dir}: not a directory")
        from regdoctor.acr.regions import parse_region  # the one rule for Azure region names

        try:
            regions = tuple(parse_region(r) for r in regions)
        except ValueError as exc:
            raise BadInput(f"--region: {exc}") from None
        from regdoctor.credentials import load_client_config

        # REFs as docker reads them, -n NAME as az does, Docker config keys as the registries they are
        targets = named_targets(hosts, acr_names) or config_targets(load_client_config(os.environ))
        aks = read_aks(aks_configs)

        from regdoctor.model import finding_to_dict, findings_sorted
        from regdoctor.render import document, findings_junit, findings_markdown, findings_text
        from regdoctor.render.proxy import render_markdown, render_text
        from regdoctor.runtime import Source, audit
        from regdoctor.runtime.rules import Host, findings, hosts_for, routes
        from regdoctor.runtime.view import actor_dict, host_dict

        actors = audit(Source(root_dir, proc_dir), dict(os.environ), aks)
        hs: list[Host] = []
        for t in targets:
            for h in hosts_for(t.host, t.port, [r.lower() for r in regions], scheme=t.scheme):
                if (h.host, h.port) not in {(x.host, x.port) for x in hs}:
                    hs.append(h)
        found = findings_sorted(findings(actors, hs))
        rs = routes(actors, hs)
        doc = {"hosts": [host_dict(h) for h in hs], "actors": [actor_dict(a, rs) for a in actors]}
        status = "problems" if any(f.severity in ("error", "warning") for f in found) else "ok"
        out_fmt = chosen_format(fmt, as_json)
        if out_fmt == "json":
            write(document(status=status, root=root_dir, **doc, findings=[finding_to_dict(f) for f in found]))
        elif out_fmt == "markdown":
            write(render_markdown(doc) + "\n" + findings_markdown(found, header="Proxy findings"))
        elif out_fmt == "junit":
            write(findings_junit(found, suite=f"regdoctor proxy {' '.join(h.host for h in hs)}".strip()))
        else:
            write(render_text(doc) + "\n" + findings_text(found, header="Proxy findings", term=terminal()))
    sys.exit(1 if status == "problems" else 0)
