"""``regdoctor acr``: the ACR network model, offline — access, lint, allowlist, dns.

Every subcommand reads the registry's JSON (``az acr show -o json``, CLI or REST shape, or a
combined file; ``-`` is stdin) plus optional lists, or fetches them with ``--name`` through an
installed ``az`` CLI. Heavy modules are imported inside the commands so ``regdoctor --help``
stays fast. Exit codes: 0 nothing found / all allowed, 1 problems (a DENY, an error or warning
finding), 2 bad usage or input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from regdoctor.cli._common import (
    Seconds,
    chosen_format,
    fail_usage,
    format_option,
    handle_errors,
    record_format,
    shown,
    terminal,
    write,
)
from regdoctor.errors import BadInput

if TYPE_CHECKING:
    from regdoctor.acr.inputs import Inputs
    from regdoctor.acr.model import RegistryConfig


@click.group()
def acr() -> None:
    """The ACR network model, offline, from the registry's JSON.

    \b
    CONFIG is the output of `az acr show -n REG -o json` (CLI or REST shape, or a combined
    file {"registry":…, "replications":…, "privateEndpointConnections":…,
    "privateDnsRecordSets":…, "privateEndpoints":…}); `-` reads stdin. Files over 20 MB are
    refused. --name REG fetches the JSON through an installed az CLI instead.
    Conclusions are marked "documented" or "inferred" (likely, not certain).
    """


def _inputs(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--name", "-n", "name", metavar="REG", help="Fetch the registry's JSON with the az CLI."),
        click.option("--replications", type=click.Path(dir_okay=False), metavar="FILE",
                     help="`az acr replication list -o json` output."),
        click.option("--connections", type=click.Path(dir_okay=False), metavar="FILE",
                     help="`az acr private-endpoint-connection list -o json` output."),
        click.option("--dns-records", type=click.Path(dir_okay=False), metavar="FILE",
                     help="`az network private-dns record-set a list -z privatelink.azurecr.io -o json` output."),
        click.option("--private-endpoint", "private_endpoints", multiple=True, type=click.Path(dir_okay=False),
                     metavar="FILE", help="`az network private-endpoint show -o json` output (repeatable)."),
        click.option("--dns-zone-resource-group", metavar="RG",
                     help="With --name: also fetch the privatelink zone's A records from this resource group."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _load(config: str | None, opts: dict[str, Any]) -> RegistryConfig:
    from regdoctor.acr.inputs import build
    from regdoctor.cli import _acr_io

    name: str | None = opts.get("name")
    if (config is None) == (name is None):
        fail_usage("give either CONFIG (a JSON file, or - for stdin) or --name REG")
    if opts.get("dns_zone_resource_group") and not name:
        fail_usage("--dns-zone-resource-group works with --name only")
    parts = _acr_io.read_inputs(config, replications=opts.get("replications"), connections=opts.get("connections"),
                                zone_records=opts.get("dns_records"),
                                private_endpoints=opts.get("private_endpoints") or ())
    if name is not None:
        parts.insert(0, _fetch(name, opts.get("dns_zone_resource_group")))
    return build(parts)


# --------------------------------------------------------------------------- the az CLI path

def _as_registry_name(value: str) -> str | None:
    """``myreg`` for ``myreg`` or ``myreg.azurecr.io``; ``None`` when it is neither."""
    from regdoctor.target import acr_name

    return acr_name(value) or acr_name(f"{value}.azurecr.io")


def _registry_name(value: str) -> str:
    found = _as_registry_name(value)
    if not found:
        fail_usage(f"{shown(value)} is not an ACR registry name (5-50 letters and digits) or login server")
    return found


def _fetch(name: str, zone_rg: str | None) -> Inputs:
    from regdoctor.acr.inputs import Document, Inputs
    from regdoctor.cli._acr_io import az

    reg = _registry_name(name)
    registry = az(["acr", "show", "-n", reg])
    optional: dict[str, tuple[Document, ...]] = {}
    calls = {"replications": ["acr", "replication", "list", "-r", reg],
             "connections": ["acr", "private-endpoint-connection", "list", "-r", reg]}
    if zone_rg:
        login = registry.value.get("loginServer") if isinstance(registry.value, dict) else None
        suffix = str(login or f"{reg}.azurecr.io").partition(".")[2] or "azurecr.io"
        calls["zone_records"] = ["network", "private-dns", "record-set", "a", "list", "-g", zone_rg,
                                 "-z", f"privatelink.{suffix}"]
    for key, args in calls.items():
        try:
            optional[key] = (az(args),)
        except BadInput as exc:
            if key == "zone_records":
                raise
            # replication lists exist only on Premium; a registry without them is still judged
            click.echo(f"regdoctor: note: {exc}", err=True)
    return Inputs(registry=registry, **optional)


# --------------------------------------------------------------------------- access

@acr.command()
@click.argument("config", required=False, metavar="CONFIG")
@_inputs
@click.option("--from", "from_ip", metavar="IP", help="A client's public egress address (IPv4 or IPv6).")
@click.option("--subnet", metavar="ID", help="A subnet resource ID (traffic through a service endpoint).")
@click.option("--service", metavar="NAME",
              help="An Azure service: aci, defender, aml, acr-import, tasks, app-service, aks, devops.")
@click.option("--identity", type=click.Choice(["system", "user", "none"]),
              help="With --service: the managed identity it authenticates with (default: as its bypass requires).")
@click.option("--via-private-endpoint", is_flag=True,
              help="A client reaching the registry through its private endpoint.")
@click.option("--endpoint-connection", metavar="NAME",
              help="With --via-private-endpoint: the private endpoint (connection) it uses (default: any).")
@format_option
def access(config: str | None, from_ip: str | None, subnet: str | None, service: str | None, identity: str | None,
           via_private_endpoint: bool, endpoint_connection: str | None, fmt: str, as_json: bool,
           **opts: Any) -> None:
    """What-if: would the registry admit this client, at each endpoint, and by which rule.

    \b
    Example: regdoctor acr access registry.json --from 203.0.113.7
    Exit 0 when every endpoint allows the client, 1 when one denies it.
    """
    with handle_errors():
        from regdoctor.acr.access import anonymous_pull, decide
        from regdoctor.render import acr as render

        client = _client(from_ip, subnet, service, identity, via_private_endpoint, endpoint_connection)
        cfg = _load(config, opts)
        try:
            decisions = decide(cfg, client)
        except ValueError as exc:  # a --endpoint-connection the registry does not have
            raise BadInput(f"--endpoint-connection: {exc}") from None
        write(render.access(chosen_format(fmt, as_json), registry=cfg.login_server, who=client.describe(),
                            client={"kind": client.kind, "value": client.value or None, "identity": client.identity},
                            decisions=decisions, credentials=anonymous_pull(cfg), notes=cfg.notes))
    sys.exit(0 if all(d.allowed for d in decisions) else 1)


def _client(from_ip: str | None, subnet: str | None, service: str | None, identity: str | None,
            via_private_endpoint: bool, endpoint_connection: str | None) -> Any:
    """The ``Client`` the options describe; exit 2 on a contradiction or a malformed value."""
    from regdoctor.acr.access import Client
    from regdoctor.acr.services import SERVICES
    from regdoctor.acr.services import service as find_service

    chosen = [x for x in (from_ip, subnet, service, via_private_endpoint or None) if x]
    if len(chosen) != 1:
        fail_usage("give exactly one of --from IP, --subnet ID, --service NAME, --via-private-endpoint")
    if identity is not None and not service:
        fail_usage("--identity goes with --service")
    if endpoint_connection is not None and not via_private_endpoint:
        fail_usage("--endpoint-connection goes with --via-private-endpoint")
    if from_ip:
        try:
            return Client.from_ip(from_ip)
        except ValueError:
            fail_usage(f"--from {shown(from_ip)} is not an IP address")
    if subnet:
        if "/subnets/" not in subnet.lower() or not subnet.lower().lstrip("/").startswith("subscriptions/"):
            fail_usage(f"--subnet {shown(subnet)} is not a subnet resource ID "
                       "(/subscriptions/…/virtualNetworks/VNET/subnets/SUBNET)")
        return Client("subnet", subnet.strip())
    if service:
        svc = find_service(service)
        if svc is None:
            fail_usage(f"--service {shown(service)} is unknown; known: {', '.join(SERVICES)}")
        return Client("service", svc.key, identity)  # type: ignore[arg-type]
    return Client("private-endpoint", (endpoint_connection or "").strip())


# --------------------------------------------------------------------------- lint

@acr.command()
@click.argument("config", required=False, metavar="CONFIG")
@_inputs
@format_option
def lint(config: str | None, fmt: str, as_json: bool, **opts: Any) -> None:
    """Misconfigurations the registry's JSON shows (same finding codes as `check`).

    \b
    Example: regdoctor acr lint registry.json --dns-records records.json
    Exit 0 when nothing (or only info) is found, 1 on an error or warning.
    """
    with handle_errors():
        from regdoctor.acr.lint import lint as run_lint
        from regdoctor.render import acr as render

        cfg = _load(config, opts)
        findings = run_lint(cfg)
        write(render.findings(chosen_format(fmt, as_json), findings, header=f"regdoctor acr lint: {cfg.login_server}",
                              extra={"registry": cfg.login_server, "notes": list(cfg.notes)},
                              suite=f"regdoctor acr lint {cfg.login_server}", term=terminal()))
    sys.exit(1 if any(f.severity in render.FAILING for f in findings) else 0)


# --------------------------------------------------------------------------- allowlist

def _regions(values: tuple[str, ...]) -> list[str]:
    """``--region`` values as ARM names; exit 2 on one that is not shaped like an Azure region."""
    from regdoctor.acr.regions import parse_region

    out: list[str] = []
    for v in values:
        try:
            region = parse_region(v)
        except ValueError as exc:
            raise BadInput(f"--region {exc}") from None
        if region not in out:
            out.append(region)
    return out


@acr.command()
@click.argument("target", required=False, metavar="CONFIG|NAME")
@_inputs
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="A replica region (repeatable); with CONFIG, added to its regions (e.g. a planned replica).")
@click.option("--data-endpoints/--no-data-endpoints", default=None,
              help="With NAME: whether dedicated data endpoints are on (default: list both, with conditions).")
@click.option("--regional-endpoints", is_flag=True, help="With NAME: regional endpoints are enabled.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "squid", "az"]), default="text",
              show_default=True, help="text, json, a Squid ACL, or Azure Firewall `az` commands.",
              callback=record_format)
@click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.", callback=record_format)
def allowlist(target: str | None, regions: tuple[str, ...], data_endpoints: bool | None, regional_endpoints: bool,
              fmt: str, as_json: bool, **opts: Any) -> None:
    """The FQDNs and ports a client firewall must allow, with service tags.

    \b
    Example: regdoctor acr allowlist registry.json --format squid
             regdoctor acr allowlist myregistry --region westeurope --region eastus
    """
    with handle_errors():
        from pathlib import Path

        from regdoctor.acr import allowlist as al
        from regdoctor.acr.regions import is_known
        from regdoctor.render import acr as render
        from regdoctor.render import document

        regs = _regions(regions)
        if target is not None and target != "-" and _as_registry_name(target) and not Path(target).exists():
            # not a file: an offline registry NAME (or login server)
            if any(opts.values()):
                fail_usage("--name and the input files go with CONFIG, not with a registry NAME")
            reg = _registry_name(target)
            rules = al.rules_for(name=reg, login_server=f"{reg}.azurecr.io", suffix="azurecr.io", regions=regs,
                                 data_endpoints=data_endpoints, regional_endpoints=regional_endpoints)
            registry = f"{reg}.azurecr.io"
            notes = [] if regs else ["no --region given: data endpoint and storage rules are missing; pass "
                                     "--region for every replica region"]
        else:
            if data_endpoints is not None or regional_endpoints:
                fail_usage("--data-endpoints/--regional-endpoints apply to NAME only; CONFIG says which are on")
            cfg = _load(target, opts)
            rules = al.from_config(cfg, regs)
            registry, notes = cfg.login_server, list(cfg.notes)
        notes += [f"{r} is not a region regdoctor knows (a new region, or a typo?)" for r in regs if not is_known(r)]
        fmt = "json" if as_json else fmt
        name = registry.partition(".")[0]
        if fmt == "json":
            write(document(registry=registry, rules=[r.to_dict() for r in rules], notes=notes))
        elif fmt == "squid":
            write(render.allowlist_squid(rules, registry=name))
        elif fmt == "az":
            write(render.allowlist_az_firewall(rules, registry=name))
        else:
            write(render.allowlist_text(rules, registry=registry, notes=notes))


# --------------------------------------------------------------------------- dns

@acr.command()
@click.argument("config", required=False, metavar="CONFIG")
@_inputs
@click.option("--resolver", metavar="IP", help="Ask this DNS server directly instead of the system resolver.")
@click.option("--timeout", type=Seconds(60.0), default=3.0, show_default=True,
              help="Seconds per name.")
@format_option
def dns(config: str | None, resolver: str | None, timeout: float, fmt: str, as_json: bool, **opts: Any) -> None:
    """What each registry name must resolve to through the private endpoint, and what it resolves to here.

    \b
    Example: regdoctor acr dns registry.json --dns-records records.json --resolver 10.0.0.4
    Exit 0 when every name resolves as expected, 1 otherwise.
    """
    with handle_errors():
        import ipaddress

        from regdoctor.acr import dns as acrdns
        from regdoctor.cli._acr_io import resolve_all
        from regdoctor.render import acr as render

        if resolver is not None:
            try:
                resolver = str(ipaddress.ip_address(resolver))
            except ValueError:
                fail_usage(f"--resolver {shown(resolver)} is not an IP address")
        cfg = _load(config, opts)
        exps = acrdns.expectations(cfg)
        checks = acrdns.check(cfg, resolve_all([e.host for e in exps], resolver=resolver, timeout=timeout))
        findings = [f for c in checks for f in c.findings]
        fmt = chosen_format(fmt, as_json)
        extra = {"registry": cfg.login_server, "checks": [c.to_dict() for c in checks], "notes": list(cfg.notes)}
        table = render.dns_checks(checks, registry=cfg.login_server, zone=cfg.privatelink_zone, notes=cfg.notes)
        write(render.findings(fmt, findings, header=f"regdoctor acr dns: {cfg.login_server}", extra=extra,
                              text_prefix=table, suite=f"regdoctor acr dns {cfg.login_server}", term=terminal()))
    sys.exit(1 if any(f.severity in render.FAILING for f in findings) else 0)
