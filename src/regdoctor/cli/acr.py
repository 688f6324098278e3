"""``regdoctor acr``: the ACR network model, offline — access, lint, allowlist, dns.

Every subcommand reads the registry's JSON (``az acr show -o json``, CLI or REST shape, or a
combined file; ``-`` is stdin) plus optional lists, or fetches them with ``--name`` through an
installed ``az`` CLI. Heavy modules are imported inside the commands so ``regdoctor --help``
stays fast. Exit codes: 0 nothing found / all allowed, 1 problems (a DENY, an error or warning
finding), 2 bad usage or input.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from regdoctor.cli._common import chosen_format, fail_usage, format_option, handle_errors, terminal, write
from regdoctor.errors import BadInput

if TYPE_CHECKING:
    from regdoctor.acr.access import Decision
    from regdoctor.acr.config import Inputs, RegistryConfig
    from regdoctor.acr.dns import DnsCheck

#: Seconds one ``az`` call may take (it talks to ARM; a login prompt must not hang us).
AZ_TIMEOUT = 60.0


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
    from regdoctor.acr import config as cfgmod

    name: str | None = opts.get("name")
    if (config is None) == (name is None):
        fail_usage("give either CONFIG (a JSON file, or - for stdin) or --name REG")
    if opts.get("dns_zone_resource_group") and not name:
        fail_usage("--dns-zone-resource-group works with --name only")
    extra = cfgmod.read_extras(replications=opts.get("replications"), connections=opts.get("connections"),
                               zone_records=opts.get("dns_records"),
                               private_endpoints=opts.get("private_endpoints") or ())
    if config is not None:
        first = cfgmod.split_combined(cfgmod.read_json(config), "stdin" if config == "-" else config)
    else:
        assert name is not None
        first = _fetch(name, opts.get("dns_zone_resource_group"))
    return cfgmod.build([first, extra])


# --------------------------------------------------------------------------- the az CLI path

def _as_registry_name(value: str) -> str | None:
    """``myreg`` for ``myreg`` or ``myreg.azurecr.io``; ``None`` when it is neither."""
    from regdoctor.target import acr_name

    return acr_name(value) or acr_name(f"{value}.azurecr.io")


def _registry_name(value: str) -> str:
    found = _as_registry_name(value)
    if not found:
        fail_usage(f"{value!r} is not an ACR registry name (5-50 letters and digits) or login server")
    return found


def _az(args: list[str]) -> Any:
    """Run ``az ARGS -o json`` with a timeout; ``BadInput`` (exit 2) with az's own first error line."""
    from regdoctor.acr.config import read_json

    exe = shutil.which("az")
    what = "az " + " ".join(args)
    if exe is None:
        raise BadInput(f"--name needs the az CLI, which is not on PATH; save `{what} -o json` to a file "
                       "and pass it as CONFIG")
    try:
        proc = subprocess.run([exe, *args, "-o", "json", "--only-show-errors"], capture_output=True,
                              timeout=AZ_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BadInput(f"`{what}` did not finish within {AZ_TIMEOUT:g} s (not logged in? run `az login`)") from None
    except OSError as exc:
        raise BadInput(f"cannot run az: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        err = next((ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()),
                   f"exit status {proc.returncode}")
        raise BadInput(f"`{what}` failed: {err[:300]}")
    return read_json(f"`{what}`", proc.stdout)


def _fetch(name: str, zone_rg: str | None) -> Inputs:
    from regdoctor.acr.config import Inputs

    reg = _registry_name(name)
    registry = _az(["acr", "show", "-n", reg])
    optional: dict[str, Any] = {}
    calls = {"replications": ["acr", "replication", "list", "-r", reg],
             "connections": ["acr", "private-endpoint-connection", "list", "-r", reg]}
    if zone_rg:
        login = registry.get("loginServer") if isinstance(registry, dict) else None
        suffix = str(login or f"{reg}.azurecr.io").partition(".")[2] or "azurecr.io"
        calls["zone_records"] = ["network", "private-dns", "record-set", "a", "list", "-g", zone_rg,
                                 "-z", f"privatelink.{suffix}"]
    for key, args in calls.items():
        try:
            optional[key] = _az(args)
        except BadInput as exc:
            if key == "zone_records":
                raise
            # replication lists exist only on Premium; a registry without them is still judged
            click.echo(f"regdoctor: note: {exc}", err=True)
    return Inputs(registry=registry, source=f"az acr show -n {reg}", **optional)


# --------------------------------------------------------------------------- access

@acr.command()
@click.argument("config", required=False, metavar="CONFIG")
@_inputs
@click.option("--from", "from_ip", metavar="IP", help="A client's public egress address.")
@click.option("--subnet", metavar="ID", help="A subnet resource ID (traffic through a service endpoint).")
@click.option("--service", metavar="NAME",
              help="An Azure service: aci, defender, aml, acr-import, tasks, app-service, aks, devops.")
@click.option("--via-private-endpoint", is_flag=True,
              help="A client reaching the registry through its private endpoint.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="Output format.")
@click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")
def access(config: str | None, from_ip: str | None, subnet: str | None, service: str | None,
           via_private_endpoint: bool, fmt: str, as_json: bool, **opts: Any) -> None:
    """What-if: would the registry admit this client, at each endpoint, and by which rule.

    \b
    Example: regdoctor acr access registry.json --from 203.0.113.7
    Exit 0 when every endpoint allows the client, 1 when one denies it.
    """
    with handle_errors():
        from regdoctor.acr.access import SERVICES, Client, decide
        from regdoctor.acr.access import service as find_service

        chosen = [x for x in (from_ip, subnet, service, via_private_endpoint or None) if x]
        if len(chosen) != 1:
            fail_usage("give exactly one of --from IP, --subnet ID, --service NAME, --via-private-endpoint")
        if from_ip:
            try:
                client = Client.from_ip(from_ip)
            except ValueError:
                fail_usage(f"--from {from_ip!r} is not an IP address")
        elif subnet:
            if "/subnets/" not in subnet.lower():
                fail_usage(f"--subnet {subnet!r} is not a subnet resource ID (…/virtualNetworks/VNET/subnets/SUBNET)")
            client = Client("subnet", subnet)
        elif service:
            if find_service(service) is None:
                fail_usage(f"--service {service!r} is unknown; known: {', '.join(SERVICES)}")
            client = Client("service", service)
        else:
            client = Client("private-endpoint")
        cfg = _load(config, opts)
        decisions = decide(cfg, client)
        fmt = chosen_format(fmt, as_json)
        if fmt == "json":
            write(_document(registry=cfg.login_server, client={"kind": client.kind, "value": client.value or None},
                            status="ok" if all(d.allowed for d in decisions) else "problems",
                            decisions=[d.to_dict() for d in decisions], notes=list(cfg.notes)))
        elif fmt == "markdown":
            write(_access_markdown(cfg, client.describe(), decisions))
        else:
            write(_access_text(cfg, client.describe(), decisions))
    sys.exit(0 if all(d.allowed for d in decisions) else 1)


def _document(**body: Any) -> str:
    """A ``--json`` document (SPEC: ``schema`` and ``tool`` first)."""
    from regdoctor.render import document

    return document(**body)


def _access_text(cfg: RegistryConfig, who: str, decisions: Sequence[Decision]) -> str:
    lines = [f"regdoctor acr access: {cfg.login_server}, {who}", ""]
    width = max(len(d.host) for d in decisions)
    for d in decisions:
        verdict = "ALLOW" if d.allowed else "DENY "
        lines.append(f"  {verdict}  {d.endpoint:<8} {d.host:<{width}}  rule: {d.rule} ({d.basis})")
        lines.append(f"  {'':5}  {'':8} {d.reason}")
    lines += [""] + [f"note: {n}" for n in cfg.notes]
    denied = sum(not d.allowed for d in decisions)
    lines.append(f"{denied} of {len(decisions)} endpoint(s) deny this client." if denied
                 else "Every endpoint admits this client.")
    return "\n".join(lines) + "\n"


def _access_markdown(cfg: RegistryConfig, who: str, decisions: Sequence[Decision]) -> str:
    def cell(s: str) -> str:
        return s.replace("|", "\\|")

    lines = [f"### regdoctor acr access: `{cfg.login_server}`, {who}", "",
             "| Verdict | Endpoint | Host | Rule | Basis | Reason |", "|---|---|---|---|---|---|"]
    lines += [f"| {'ALLOW' if d.allowed else 'DENY'} | {d.endpoint} | `{d.host}` | `{cell(d.rule)}` | {d.basis} "
              f"| {cell(d.reason)} |" for d in decisions]
    lines += [""] + [f"> note: {n}" for n in cfg.notes]
    return "\n".join(lines) + "\n"


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
        from regdoctor.render import render_findings

        cfg = _load(config, opts)
        findings = run_lint(cfg)
        write(render_findings(chosen_format(fmt, as_json), findings, header=f"regdoctor acr lint: {cfg.login_server}",
                              extra={"registry": cfg.login_server, "notes": list(cfg.notes)},
                              suite=f"regdoctor acr lint {cfg.login_server}", term=terminal()))
    sys.exit(1 if any(f.severity in ("error", "warning") for f in findings) else 0)


# --------------------------------------------------------------------------- allowlist

@acr.command()
@click.argument("target", required=False, metavar="CONFIG|NAME")
@_inputs
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="A replica region (repeatable); with CONFIG, added to its regions (e.g. a planned replica).")
@click.option("--data-endpoints/--no-data-endpoints", default=None,
              help="With NAME: whether dedicated data endpoints are on (default: list both, with conditions).")
@click.option("--regional-endpoints", is_flag=True, help="With NAME: regional endpoints are enabled.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "squid", "az"]), default="text",
              show_default=True, help="text, json, a Squid ACL, or Azure Firewall `az` commands.")
@click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json.")
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
        from regdoctor.acr.config import normalise_region

        if target is not None and _as_registry_name(target) and not Path(target).exists():
            # not a file: an offline registry NAME (or login server)
            if any(opts.values()):
                fail_usage("--name and the input files go with CONFIG, not with a registry NAME")
            reg = _registry_name(target)
            regs = list(dict.fromkeys(normalise_region(r) for r in regions))
            rules = al.rules_for(name=reg, login_server=f"{reg}.azurecr.io", suffix="azurecr.io", regions=regs,
                                 data_endpoints=data_endpoints, regional_endpoints=regional_endpoints)
            registry = f"{reg}.azurecr.io"
            notes = [] if regs else ["no --region given: data endpoint and storage rules are missing; pass "
                                     "--region for every replica region"]
        else:
            if data_endpoints is not None or regional_endpoints:
                fail_usage("--data-endpoints/--regional-endpoints apply to NAME only; CONFIG says which are on")
            cfg = _load(target, opts)
            rules = al.from_config(cfg, regions)
            registry, notes = cfg.login_server, list(cfg.notes)
        fmt = "json" if as_json else fmt
        if fmt == "json":
            write(_document(registry=registry, rules=[r.to_dict() for r in rules], notes=notes))
        elif fmt == "squid":
            write(al.render_squid(rules, registry=registry.partition(".")[0]))
        elif fmt == "az":
            write(al.render_az_firewall(rules, registry=registry.partition(".")[0]))
        else:
            write(al.render_text(rules, registry=registry) + "".join(f"note: {n}\n" for n in notes))


# --------------------------------------------------------------------------- dns

@acr.command()
@click.argument("config", required=False, metavar="CONFIG")
@_inputs
@click.option("--resolver", metavar="IP", help="Ask this DNS server directly instead of the system resolver.")
@click.option("--timeout", type=click.FloatRange(0.2, 60.0), default=3.0, show_default=True,
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
        from regdoctor.render import render_findings

        if resolver is not None:
            try:
                resolver = str(ipaddress.ip_address(resolver))
            except ValueError:
                fail_usage(f"--resolver {resolver!r} is not an IP address")
        cfg = _load(config, opts)
        exps = acrdns.expectations(cfg)
        checks = acrdns.check(cfg, acrdns.resolve_all([e.host for e in exps], resolver=resolver, timeout=timeout))
        findings = [f for c in checks for f in c.findings]
        fmt = chosen_format(fmt, as_json)
        header = f"regdoctor acr dns: {cfg.login_server}"
        extra = {"registry": cfg.login_server, "checks": [c.to_dict() for c in checks], "notes": list(cfg.notes)}
        if fmt == "text":
            write(_dns_text(cfg, checks))
        write(render_findings(fmt, findings, header=header, extra=extra, suite=f"regdoctor acr dns {cfg.login_server}",
                              term=terminal()))
    sys.exit(1 if any(f.severity in ("error", "warning") for f in findings) else 0)


def _dns_text(cfg: RegistryConfig, checks: Sequence[DnsCheck]) -> str:
    lines = [f"Private-endpoint DNS for {cfg.login_server} (zone {cfg.privatelink_zone}):", ""]
    for c in checks:
        e, r = c.expectation, c.resolution
        mark = {"ok": "OK  ", "problem": "FAIL", "unresolved": "FAIL"}[c.status]
        lines.append(f"  {mark} {e.host}  ({e.role}{', ' + e.region if e.region else ''})")
        lines.append(f"       expected: {e.describe()}")
        if r.error:
            lines.append(f"       resolved: nothing via {r.resolver}: {r.error}")
        else:
            lines.append(f"       resolved: {', '.join(r.addresses)} via {r.resolver}")
        if r.chain:
            hops = [r.chain[0][0]] + [t for _, t in r.chain]
            end = f" -> {', '.join(r.addresses)}" if r.addresses else ""
            lines.append(f"       chain:    {' -> '.join(hops)}{end}")
    lines += [""] + [f"note: {n}" for n in cfg.notes]
    return "\n".join(lines) + "\n"
