"""The options every probing command shares (``check``, ``serve``), defined and validated once.

``probe_options`` adds them to a click command; ``probe_setup`` checks them at the edge (one
line and exit 2 for a bad value) and builds the probe's ``ProbeOptions`` / ``PullOptions``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from regdoctor.cli._common import Seconds, fail_usage, shown
from regdoctor.cli.proxy import read_aks, root_options

if TYPE_CHECKING:
    from regdoctor.probe.options import ProbeOptions
    from regdoctor.probe.run import PullOptions

AS_ACTORS = ("docker", "containerd", "podman", "crio", "k3s", "kubelet", "shell")
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")


def probe_options(f: Any) -> Any:
    """--timeout --proxy --ca --plain-http --platform --region --as --root --proc --aks-config."""
    for deco in reversed((
        click.option("--timeout", type=Seconds(120.0), default=5.0, show_default=True,
                     help="Deadline of each network step, in seconds."),
        click.option("--proxy", metavar="URL|none", help="Use this proxy (or none) instead of the environment's."),
        click.option("--ca", "ca_file", type=click.Path(dir_okay=False),
                     help="Trust only this CA bundle (PEM) for TLS."),
        click.option("--plain-http", is_flag=True, help="Talk plain HTTP to the registry (an insecure registry)."),
        click.option("--platform", default="linux/amd64", show_default=True, metavar="OS/ARCH[/VARIANT]",
                     help="Platform to pick from a multi-platform image."),
        click.option("--region", "regions", multiple=True, metavar="REGION",
                     help="ACR: also probe this replica's data endpoint <reg>.<region>.data.azurecr.io "
                          "(repeatable)."),
        click.option("--as", "as_actor", type=click.Choice(AS_ACTORS), metavar="ACTOR",
                     help="Probe the path this actor takes (its proxy, mirrors and CA trust): "
                          + "|".join(AS_ACTORS) + "."),
        root_options,
    )):
        f = deco(f)
    return f


@dataclass(frozen=True)
class Vantage:
    """Where the check looks from: the shell, or one actor's settings read from a root."""

    actor: str | None
    root_dir: str
    proc_dir: str | None
    aks: tuple[tuple[str, str], ...]


def probe_setup(*, timeout: float, proxy: str | None, ca_file: str | None, plain_http: bool, platform: str,
                regions: tuple[str, ...], as_actor: str | None, root_dir: str, proc_dir: str | None,
                aks_configs: tuple[str, ...], **pull: Any) -> tuple[ProbeOptions, PullOptions, Vantage]:
    """Validate the shared options at the edge and build what the probe takes."""
    if ca_file is not None:
        _validate_ca(ca_file)
    if proxy is not None and proxy.lower() not in ("none", "direct"):
        from regdoctor.proxyconf.rules import ProxyURLError, parse_proxy_option

        try:
            parse_proxy_option(proxy)
        except ProxyURLError as exc:
            fail_usage(f"--proxy: {exc}")
    if as_actor is not None and proxy is not None:
        fail_usage("--as and --proxy exclude each other: --as uses the actor's own proxy settings")
    if not _PLATFORM.match(platform):
        fail_usage(f"--platform {shown(platform)}: expected OS/ARCH[/VARIANT], e.g. linux/arm64/v8")
    if regions:  # (importing the ACR package costs ~10 ms: only when a region is named)
        from regdoctor.acr.regions import parse_region  # the one rule for Azure region names

        try:
            regions = tuple(parse_region(r) for r in regions)
        except ValueError as exc:
            fail_usage(f"--region: {exc}")

    from regdoctor.probe.options import ProbeOptions
    from regdoctor.probe.run import PullOptions

    opts = ProbeOptions(timeout=timeout, proxy=proxy, env=dict(os.environ), ca_file=ca_file, plain_http=plain_http)
    pulls = PullOptions(platform=platform, regions=tuple(r.lower() for r in regions), **pull)
    return opts, pulls, Vantage(as_actor, root_dir, proc_dir, tuple(read_aks(aks_configs)))


def _validate_ca(path: str) -> None:
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        fail_usage(f"--ca {path}: no such file")
    except (ssl.SSLError, OSError, ValueError) as exc:
        fail_usage(f"--ca {path}: not a PEM CA bundle ({exc})")


__all__ = ["AS_ACTORS", "Vantage", "probe_options", "probe_setup"]
