"""A live 403 from the registry's firewall, explained by the registry's configuration (pure).

Strategy
--------
``regdoctor check … --acr-config show.json``: when the live check meets ACR's refusal (``403
DENIED: client with IP '<ip>' is not allowed access`` — ``HTTP_FIREWALL_DENIED`` on ``/v2/``,
``REGISTRY_FIREWALL_DENIED`` on a repository, ``DATA_ENDPOINT_DENIED`` on a data endpoint), the
IP the registry saw is held against the configuration with the same model as ``acr access``
(``access.decide``, not a copy), and the deciding rule becomes a finding of its own, with the
exact fix:

* the address is not in ``ipRules``, default action Deny → ``ACR_FIREWALL_IP_NOT_ALLOWED`` with
  ``az acr network-rule add --name REG --ip-address IP``;
* public access is Disabled → ``ACR_FIREWALL_PUBLIC_DISABLED``: the client should come through
  the private endpoint, and what its DNS answered (from the report's DNS step) says why it did not;
* the configuration *admits* the address → ``ACR_FIREWALL_CONFIG_ADMITS``: the JSON is stale, or
  a rule change has not taken effect yet ("wait a few minutes for the rule to take effect");
* any other deciding rule (IPv6 on an IPv4-only registry, the Tasks bypass…) → ``ACR_FIREWALL_RULE``.

The explanation takes the firewall finding's place as root cause (or consequence, when something
earlier — a broken private DNS chain — already explains it); the firewall finding stays, folded
under it. Nothing here reads a file: the CLI reads the configuration and calls ``enrich``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from regdoctor import kb
from regdoctor.acr import docs
from regdoctor.acr.access import Client, Decision, decide
from regdoctor.acr.addresses import is_private_use, is_public
from regdoctor.acr.model import RegistryConfig
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding

#: The live findings of the registry firewall's refusal.
FIREWALL_CODES = frozenset({Code.HTTP_FIREWALL_DENIED, Code.REGISTRY_FIREWALL_DENIED, Code.DATA_ENDPOINT_DENIED})


def _client(evidence: Mapping[str, Any]) -> Client | None:
    try:
        return Client.from_ip(str(evidence.get("client_ip") or ""))
    except ValueError:
        return None


def _decision(cfg: RegistryConfig, client: Client, host: str) -> Decision:
    decisions = decide(cfg, client)
    found = next((d for d in decisions if d.host == host), None)
    return found or decisions[0]  # a data host of a region the JSON does not name: the login verdict


def _dns_note(cfg: RegistryConfig, host: str, addresses: Sequence[str], chain: Sequence[Sequence[str]]) -> str:
    """What the client's DNS answered for ``host``, as the reason it did not use the private endpoint."""
    if not addresses:
        return f"check what {host} resolves to from this network (`regdoctor acr dns CONFIG`)"
    shown = ", ".join(addresses)
    privatelink = next((t for c in chain for t in c[1:] if ".privatelink." in f".{t}."), None)
    if any(is_public(a) for a in addresses):
        note = f"its DNS resolves {host} to {shown}, a public address"
        if privatelink:
            note += (f" although the chain passes {privatelink}: the {cfg.privatelink_zone} zone is not linked to "
                     "this network, or its DNS server does not forward to 168.63.129.16")
        return note
    return (f"its DNS resolves {host} to {shown}, a private address, yet the registry saw a public client: the "
            "traffic leaves through a public path (a proxy or NAT in between)")


def explain_denial(cfg: RegistryConfig, finding: Finding, *, config: str = "CONFIG",
                   addresses: Sequence[str] = (), chain: Sequence[Sequence[str]] = ()) -> Finding | None:
    """The configuration's explanation of one firewall finding, or ``None`` when it is not this registry's.

    ``addresses`` and ``chain`` are what the live DNS step resolved for the finding's host.

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "reg.azurecr.io", "networkRuleSet": {"defaultAction": "Deny",
    ...     "ipRules": [{"value": "198.51.100.0/24"}]}})
    >>> fw = kb.code(Code.HTTP_FIREWALL_DENIED).finding(host="reg.azurecr.io", evidence={"client_ip": "20.1.2.3"})
    >>> print(explain_denial(cfg, fw).cause)
    20.1.2.3 is not in ipRules (198.51.100.0/24); default action Deny; public access Enabled: reg.azurecr.io refuses it.
    >>> explain_denial(cfg, fw).fix
    '`az acr network-rule add --name reg --ip-address 20.1.2.3`'
    """
    if finding.code not in FIREWALL_CODES or not finding.host:
        return None
    role = cfg.role_of(finding.host)
    if role is None:
        return None
    client = _client(finding.evidence)
    ev: dict[str, Any] = {"explains": finding.code, "config": config, "endpoint": role[0], "region": role[1]}
    extra: dict[str, Any] = {"registry": cfg.name}
    if client is None:  # the refusal named no address: only a registry-wide rule can be held against it
        if not cfg.blocks_public:
            return None
        ev.update(client_ip="this client's egress address", rule="publicNetworkAccess=Disabled",
                  basis="documented", source=docs.url("selected-networks"),
                  dns_note=_dns_note(cfg, finding.host, addresses, chain))
        return _finding(Code.ACR_FIREWALL_PUBLIC_DISABLED, finding, ev, extra)
    d = _decision(cfg, client, finding.host)
    ev.update(client_ip=client.value, rule=d.rule, reason=d.reason, basis=d.basis, source=docs.url(d.source))
    if d.allowed:
        return _finding(Code.ACR_FIREWALL_CONFIG_ADMITS, finding, ev, extra)
    if d.rule == "publicNetworkAccess=Disabled":
        ev["dns_note"] = _dns_note(cfg, finding.host, addresses, chain)
        return _finding(Code.ACR_FIREWALL_PUBLIC_DISABLED, finding, ev, extra)
    if d.rule == "defaultAction=Deny" and ":" not in client.value:
        rules = [r.value for r in cfg.ip_rules]
        ev["ip_rules"] = rules or "none"
        ev["fix_note"] = (f"; {client.value} is a private address, which the registry sees from a client that comes "
                          "through a service endpoint: then list its subnet instead (`az acr network-rule add "
                          f"--name {cfg.name} --vnet-name <vnet> --subnet <subnet>`)") if is_private_use(client.value) \
            else ""
        return _finding(Code.ACR_FIREWALL_IP_NOT_ALLOWED, finding, ev, extra)
    return _finding(Code.ACR_FIREWALL_RULE, finding, ev, extra)


def _finding(code: Code, original: Finding, evidence: dict[str, Any], extra: dict[str, Any]) -> Finding:
    """The explanation, in the refusal's place: its root-cause flag and what it follows from."""
    f = kb.code(code).finding(host=original.host, evidence=evidence, root_cause=original.root_cause, extra=extra)
    return replace(f, consequence_of=original.consequence_of)


def enrich(findings: Sequence[Finding], endpoints: Sequence[EndpointResult], cfg: RegistryConfig, *,
           config: str = "CONFIG") -> tuple[Finding, ...]:
    """The report's findings with each firewall refusal of this registry explained by ``cfg``.

    The explanation comes first and takes the refusal's root-cause flag (and ``consequence_of``);
    the refusal stays, as its consequence.
    """
    out: list[Finding] = []
    for f in findings:
        dns = _dns_evidence(endpoints, f.host)
        explained = explain_denial(cfg, f, config=config, addresses=dns[0], chain=dns[1])
        if explained is None:
            out.append(f)
        else:
            out += [explained, replace(f, root_cause=False, consequence_of=f"{explained.code}@{explained.host}")]
    return tuple(out)


def _dns_evidence(endpoints: Sequence[EndpointResult], host: str | None) -> tuple[list[str], list[list[str]]]:
    for e in endpoints:
        if e.host == host:
            for s in e.steps:
                if s.layer == "dns":
                    addrs = s.evidence.get("addresses") or s.evidence.get("system_addresses") or []
                    chain = s.evidence.get("cname_chain") or []
                    return [str(a) for a in addrs], [[str(x) for x in c] for c in chain if isinstance(c, list)]
    return [], []


__all__ = ["FIREWALL_CODES", "enrich", "explain_denial"]
