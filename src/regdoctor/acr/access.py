"""Access what-if: would the registry admit this client, on each of its endpoints, and why.

Strategy
--------
The decision procedure of reference §2 written as code, one branch per documented rule, no I/O.
Every ``Verdict`` carries the ``rule`` that decided, its ``basis`` (``documented`` when a
Microsoft page states it, ``inferred`` when regdoctor concludes it — such reasons say "likely")
and its ``source`` (a key of ``regdoctor.acr.docs``, printed as the page URL). The order in
which the rules combine is itself assembled from several pages (inferred):

1. **IPv6.** "``IPv4`` (default): registry endpoints are reachable over IPv4 only" [ipv6]; an
   IPv6 client reaches nothing unless ``IPv4AndIPv6`` is in force, and "IPv6 over private
   endpoints isn't supported; private endpoint traffic continues to use IPv4" [ipv6].
2. **Private endpoint.** "IP network rules don't apply to private endpoints configured with
   Private Link" [selected-networks]; only an ``Approved`` connection carries traffic (the
   states are documented [spec], that only Approved carries traffic is inferred).
3. **Public access disabled.** "Disabling the public endpoint overrides all firewall
   configurations" [selected-networks], the service-endpoint path included; trusted services
   still pass "only if you enable a network setting to bypass the network rules" [private-endpoints].
4. **Below Premium.** "If you move from Premium to a lower SKU, features specific to premium are
   disabled" [skus]: the rules are not in force, so (inferred) every network gets in.
5. **Default action Allow**: "By default, an Azure container registry allows access to the
   public registry endpoints from all networks" [troubleshoot]; ``ipRules`` are allow-only
   (``IPRule.action`` has the one value ``Allow`` [spec]), so with Allow they change nothing.
6. **Default action Deny**: any one allow rule admits — an ``ipRules`` range holding the address
   the registry sees [selected-networks]; a listed subnet with the service endpoint [vnet];
   a trusted service on its identity condition, unless a service endpoint is configured
   [trusted]; an ACR Task with its system-assigned identity and the Tasks bypass on
   [tasks-bypass]. Else "client with IP '…' is not allowed access" [client-ip].

The other endpoints follow from the login server's verdict (``decide``): data endpoints
through a private endpoint are reached there [data-endpoints]; with public access disabled
"dedicated data endpoints are only reachable through the private endpoint" [data-endpoints];
that the public rules gate data and regional endpoints as they gate the login server is
inferred, and whether ``ipRules`` gate the storage redirect target is not documented.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Any, Literal

from regdoctor.acr import docs
from regdoctor.acr.addresses import client_address, is_private_use, parse_rule
from regdoctor.acr.model import SERVICE_ENDPOINTS_UNSUPPORTED, RegistryConfig, storage_wildcard
from regdoctor.acr.services import SERVICES, Identity, Service, service

Basis = Literal["documented", "inferred"]
EndpointKind = Literal["login", "data", "regional"]
ClientKind = Literal["ip", "subnet", "service", "private-endpoint"]


@dataclass(frozen=True)
class Client:
    """Who asks: a public address, a subnet (service endpoint), a service, or a private endpoint.

    ``value`` is the address, the subnet ID, the service key, or (private endpoint) the name of
    the connection it uses ("" = any). ``identity`` is how a service authenticates (``None``:
    as its documented condition requires).
    """

    kind: ClientKind
    value: str = ""
    identity: Identity | None = None

    @classmethod
    def from_ip(cls, ip: str) -> Client:
        """``ValueError`` if ``ip`` is not an IP address (the CLI turns it into exit 2).

        >>> Client.from_ip("::ffff:20.1.2.3").value
        '20.1.2.3'
        """
        return cls("ip", str(client_address(ip)))

    def describe(self) -> str:
        if self.kind == "ip":
            return f"client {self.value}"
        if self.kind == "subnet":
            return f"subnet {self.value.rsplit('/', 1)[-1]}"
        if self.kind == "service":
            svc = service(self.value)
            who = svc.title if svc else self.value
            return f"{who} ({self.identity}-assigned identity)" if self.identity in ("system", "user") else who
        return f"a client through private endpoint {self.value}" if self.value else \
            "a client through the private endpoint"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str
    reason: str
    basis: Basis
    source: str = "troubleshoot"


@dataclass(frozen=True)
class Decision:
    """One endpoint's answer; the SPEC's ``acr access --json`` decision plus ``basis``/``region``/``source``."""

    endpoint: EndpointKind
    host: str
    allowed: bool
    rule: str
    reason: str
    basis: Basis
    region: str | None = None
    source: str = "troubleshoot"

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "host": self.host, "allowed": self.allowed, "rule": self.rule,
                "reason": self.reason, "basis": self.basis, "region": self.region, "source": docs.url(self.source)}


# --------------------------------------------------------------------------- the login server

def judge(cfg: RegistryConfig, client: Client) -> Verdict:
    """The registry's verdict for ``client`` at its login server.

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "r1234.azurecr.io", "networkRuleSet":
    ...     {"defaultAction": "Deny", "ipRules": [{"ipAddressOrRange": "203.0.113.0/24"}]}})
    >>> judge(cfg, Client.from_ip("203.0.113.9")).reason
    'IP rule 203.0.113.0/24 holds 203.0.113.9'
    """
    if client.kind == "private-endpoint":
        return _private_endpoint(cfg, client.value)
    if client.kind == "ip":
        return _ip(cfg, client.value)
    if client.kind == "subnet":
        return _subnet(cfg, client.value)
    svc = service(client.value)
    if svc is None:
        raise ValueError(f"unknown service {client.value!r}; known: {', '.join(SERVICES)}")
    if svc.key == "tasks":
        return _tasks(cfg, client.identity)
    return _service(cfg, svc, client.identity)


def _not_in_force(cfg: RegistryConfig) -> bool:
    """The JSON restricts access, but below Premium those restrictions are disabled ([skus])."""
    return not cfg.premium_features and (cfg.default_deny or not cfg.public_enabled)


def _below_premium(cfg: RegistryConfig) -> Verdict:
    return Verdict(True, f"sku={cfg.sku}",
                   f"the registry is on the {cfg.sku} SKU: below Premium, features specific to Premium are disabled, "
                   "so the network rules this JSON shows are likely not in force and every network gets in",
                   "inferred", "skus")


def _default_allow(cfg: RegistryConfig) -> Verdict:
    extra = "; its IP and VNet rules are allow rules, so they change nothing" if (
        cfg.ip_rules or cfg.vnet_rules) else ""
    return Verdict(True, "defaultAction=Allow",
                   f"default action Allow: the public endpoints accept all networks{extra}", "documented",
                   "troubleshoot")


def _public_disabled(what: str) -> Verdict:
    return Verdict(False, "publicNetworkAccess=Disabled",
                   f"public network access is disabled, which overrides all firewall configurations; {what}",
                   "documented", "selected-networks")


def _private_endpoint(cfg: RegistryConfig, name: str) -> Verdict:
    """§2.1: ipRules and publicNetworkAccess do not apply; an Approved connection is needed."""
    if cfg.connections and not cfg.premium_features:
        return Verdict(False, f"sku={cfg.sku}",
                       f"private endpoints are a Premium feature and the registry is on {cfg.sku}: below Premium "
                       "they are disabled, so this client likely has no private path", "inferred", "skus")
    conns = [c for c in cfg.connections if c.matches(name)] if name else list(cfg.connections)
    if name and not conns:
        known = ", ".join(c.name for c in cfg.connections) or "none"
        raise ValueError(f"no private endpoint connection named {name!r} (known: {known})")
    approved = [c for c in conns if c.approved]
    if approved:
        names = ", ".join(c.name for c in approved)
        return Verdict(True, f"privateEndpointConnection[{names}]",
                       f"approved private endpoint connection {names}; IP network rules and public network access "
                       "don't apply to private endpoints (the names must resolve to its addresses: `regdoctor acr "
                       "dns`)", "documented", "selected-networks")
    if conns:
        states = ", ".join(f"{c.name} is {c.status or 'of unknown status'}" for c in conns)
        return Verdict(False, "privateEndpointConnection.status",
                       f"no approved private endpoint connection ({states}); only an Approved connection likely "
                       "carries traffic (approve it: `az acr private-endpoint-connection approve`)",
                       "inferred", "private-endpoints")
    return Verdict(False, "privateEndpointConnections=[]", "the registry has no private endpoint connection",
                   "documented", "private-endpoints")


def _ipv6_unreachable(cfg: RegistryConfig, ip: str) -> Verdict:
    why = ""
    if cfg.dual_stack_configured and not cfg.premium_features:
        why = f" (IPv4AndIPv6 is set, but dual stack needs Premium and the SKU is {cfg.sku})"
    elif cfg.dual_stack_configured:
        why = " (IPv4AndIPv6 is set, but the service rejects it without dedicated data endpoints)"
    return Verdict(False, "endpointProtocol=IPv4",
                   f"{ip} is an IPv6 address and the registry's endpoints are reachable over IPv4 only{why}: an "
                   "IPv6-only client cannot connect (a dual-stack client falls back to IPv4 and is judged by its "
                   "IPv4 egress address: pass that with --from)", "documented", "ipv6")


def _ip(cfg: RegistryConfig, ip: str) -> Verdict:
    addr = ipaddress.ip_address(ip)
    if addr.version == 6 and not cfg.dual_stack:
        return _ipv6_unreachable(cfg, ip)
    if cfg.blocks_public:
        return _public_disabled("this client must come through a private endpoint")
    if _not_in_force(cfg):
        return _below_premium(cfg)
    if not cfg.deny_by_default:
        return _default_allow(cfg)
    if addr.version == 6:
        return Verdict(False, "defaultAction=Deny",
                       f"{ip} is an IPv6 address; ipRules take IPv4 addresses only, so no rule can hold it and the "
                       "default action Deny likely refuses it (let the client use IPv4, or a private endpoint)",
                       "inferred", "spec")
    for rule in cfg.ip_rules:
        rng = parse_rule(rule.value)
        if rng.network is not None and addr in rng.network:
            if rng.host_bits:
                return Verdict(True, f"ipRules[{rule.value}]",
                               f"IP rule {rule.value} (read as {rng.network}, host bits set) likely holds {ip}",
                               "inferred", "selected-networks")
            return Verdict(True, f"ipRules[{rule.value}]", f"IP rule {rule.value} holds {ip}", "documented",
                           "selected-networks")
    if is_private_use(ip):
        return Verdict(False, "defaultAction=Deny",
                       f"{ip} is not in ipRules and the default action is Deny; {ip} is a private address: from "
                       "the internet the registry sees the client's public egress address (NAT gateway, proxy, "
                       "load balancer) instead — pass that with --from; if the registry itself reports this "
                       "address, the client likely comes through a service endpoint and its subnet must be in "
                       "virtualNetworkRules", "inferred", "selected-networks")
    return Verdict(False, "defaultAction=Deny", f"{ip} is not in ipRules and the default action is Deny",
                   "documented", "client-ip")


def _subnet(cfg: RegistryConfig, subnet_id: str) -> Verdict:
    if cfg.blocks_public:
        return _public_disabled("with a service endpoint, disabling the public endpoint also disables access "
                                "within the virtual network")
    if _not_in_force(cfg):
        return _below_premium(cfg)
    if not cfg.deny_by_default:
        return _default_allow(cfg)
    cloud = SERVICE_ENDPOINTS_UNSUPPORTED.get(cfg.suffix)
    if cloud:
        return Verdict(False, "virtualNetworkRules",
                       f"service endpoints for Azure Container Registry aren't supported in {cloud}: this subnet's "
                       "traffic likely reaches the registry from a public address (check it with --from)",
                       "inferred", "vnet")
    if cfg.vnet_rules is None:
        return Verdict(False, "virtualNetworkRules=(absent)",
                       "this JSON carries no virtualNetworkRules (API 2023-07-01 omits them), so whether the subnet "
                       "is listed cannot be told; likely refused unless it is (`az acr network-rule list`)",
                       "inferred", "vnet")
    want = subnet_id.strip().rstrip("/").lower()
    for rule in cfg.vnet_rules:
        if rule.subnet_id.rstrip("/").lower() == want:
            label = rule.subnet_id.rstrip("/").rsplit("/", 1)[-1]
            if any(s.lower().split("/subnets/", 1)[0] == rule.vnet_id for s in cfg.endpoint_subnets):
                return Verdict(True, f"virtualNetworkRules[{label}]",
                               "the subnet is in virtualNetworkRules, but a private endpoint of the registry sits "
                               "in the same virtual network, which the registry doesn't support: the service "
                               "endpoint likely cannot be relied on", "inferred", "vnet")
            return Verdict(True, f"virtualNetworkRules[{label}]",
                           "the subnet is in virtualNetworkRules (it needs the Microsoft.ContainerRegistry service "
                           "endpoint, and only VMs and AKS clusters can use it)", "documented", "vnet")
    return Verdict(False, "defaultAction=Deny",
                   "the subnet is not in virtualNetworkRules and the default action is Deny (without the service "
                   "endpoint it egresses with a public address: check that with --from)", "documented", "vnet")


def _identity_ok(svc: Service, identity: Identity | None) -> bool:
    return svc.identities is None or identity is None or identity in svc.identities


def _trusted_blocker(cfg: RegistryConfig, svc: Service, identity: Identity | None) -> Verdict | None:
    """Why a trusted service does *not* get the bypass, or ``None`` when it does (documented [trusted])."""
    if not cfg.bypass_azure_services:
        return Verdict(False, "networkRuleBypassOptions=None",
                       f"{svc.title} is a trusted service, but the trusted-services bypass is off", "documented",
                       "trusted")
    if not _identity_ok(svc, identity):
        return Verdict(False, "networkRuleBypassOptions=AzureServices",
                       f"{svc.title} passes as a trusted service only if {svc.condition()}; with "
                       f"{identity if identity != 'none' else 'no'} managed identity it is judged as any other client",
                       "documented", "trusted")
    if cfg.vnet_rules:
        return Verdict(False, "virtualNetworkRules",
                       f"{svc.title} is a trusted service, but allowing trusted services doesn't apply to a registry "
                       "configured with a service endpoint", "documented", "trusted")
    return None


def _service(cfg: RegistryConfig, svc: Service, identity: Identity | None) -> Verdict:
    """An Azure service other than Tasks: the trusted-services path, else the public rules."""
    cond = f" (provided {svc.condition()})" if svc.condition() and identity is None else ""
    if cfg.blocks_public:
        if svc.trusted:
            blocker = _trusted_blocker(cfg, svc, identity)
            if blocker is None:
                return Verdict(True, "networkRuleBypassOptions=AzureServices",
                               f"{svc.title} is a trusted service and the bypass is on{cond}: trusted services pass "
                               "even with public network access disabled", "documented", "private-endpoints")
            return replace(blocker, rule="publicNetworkAccess=Disabled",
                           reason=f"public network access is disabled and {blocker.reason}")
        return _public_disabled(svc.note)
    if _not_in_force(cfg):
        return _below_premium(cfg)
    if not cfg.deny_by_default:
        return _default_allow(cfg)
    if not svc.trusted:
        return Verdict(False, "defaultAction=Deny", f"{svc.note}; the default action is Deny", "documented",
                       "trusted")
    blocker = _trusted_blocker(cfg, svc, identity)
    if blocker is not None:
        return blocker
    if cfg.vnet_rules is None:
        return Verdict(True, "networkRuleBypassOptions=AzureServices",
                       f"{svc.title} is a trusted service and the bypass is on{cond}; likely admitted, but this JSON "
                       "has no virtualNetworkRules, and the bypass doesn't apply to a registry configured with a "
                       "service endpoint", "inferred", "trusted")
    return Verdict(True, "networkRuleBypassOptions=AzureServices",
                   f"{svc.title} is a trusted service and the trusted-services bypass is on{cond}", "documented",
                   "trusted")


def _tasks(cfg: RegistryConfig, identity: Identity | None) -> Verdict:
    """An ACR Task ([tasks-bypass]); ``identity`` None or "system" is the bypass policy's case."""
    if cfg.dual_stack:
        return Verdict(False, "endpointProtocol=IPv4AndIPv6",
                       "ACR Tasks don't work when the endpoint protocol is IPv4AndIPv6", "documented", "ipv6")
    if cfg.blocks_public:
        if cfg.tasks_bypass_effective and identity in (None, "system"):
            return Verdict(False, "publicNetworkAccess=Disabled",
                           "public network access is disabled: az acr build no longer works, and whether the Tasks "
                           "bypass still applies in this state is not documented, so the task is likely refused "
                           "(run it on a dedicated agent pool)", "inferred", "private-endpoints")
        return Verdict(False, "publicNetworkAccess=Disabled",
                       "public network access is disabled: az acr build and tasks run from public addresses and "
                       "fail unless they run on a dedicated agent pool", "documented", "private-endpoints")
    if _not_in_force(cfg):
        return _below_premium(cfg)
    if not cfg.deny_by_default:
        return _default_allow(cfg)
    if identity in ("user", "none"):
        return Verdict(False, "defaultAction=Deny",
                       "the Tasks bypass covers tasks that authenticate with their system-assigned identity; a task "
                       f"with {'a user-assigned' if identity == 'user' else 'no'} identity likely runs from the "
                       "region's AzureContainerRegistry service-tag addresses and is judged by ipRules (allow them, "
                       "or use a dedicated agent pool)", "inferred", "tasks-bypass")
    if cfg.tasks_bypass_effective:
        return Verdict(True, "networkRuleBypassAllowedForTasks=true",
                       "the Tasks bypass admits tasks that use their system-assigned identity", "documented",
                       "tasks-bypass")
    return Verdict(False, "networkRuleBypassAllowedForTasks=false",
                   "the Tasks bypass is off (the default since 2025-06-01): the task gets 403 forbidden errors; enable "
                   "it, or use a dedicated agent pool or a user-assigned identity", "documented", "tasks-bypass")


# --------------------------------------------------------------------------- every endpoint

def decide(cfg: RegistryConfig, client: Client) -> list[Decision]:
    """Login server, each data endpoint (or storage) and each regional endpoint, with verdicts.

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "r1234.azurecr.io", "location": "westeurope",
    ...                       "dataEndpointEnabled": True, "publicNetworkAccess": "Disabled"})
    >>> [(d.endpoint, d.host, d.allowed) for d in decide(cfg, Client.from_ip("198.51.100.7"))]
    [('login', 'r1234.azurecr.io', False), ('data', 'r1234.westeurope.data.azurecr.io', False)]
    """
    login = judge(cfg, client)
    out = [Decision("login", cfg.login_server, login.allowed, login.rule, login.reason, login.basis,
                    source=login.source)]
    if cfg.data_endpoints_on:
        out += [_data(cfg, client, login, region) for region in cfg.regions]
    else:
        why = ("a client the login server refuses never receives the blob redirect" if not login.allowed else
               "whether ipRules also gate the storage redirect target is not documented; it likely follows the "
               "login server")
        out.append(Decision("data", storage_wildcard(cfg.suffix), login.allowed,
                            "storage (dedicated data endpoints off)", why, "inferred", source="endpoints"))
    if cfg.regional_endpoints_enabled:
        for region in cfg.regions:
            out.append(Decision("regional", cfg.regional_endpoint(region), login.allowed, login.rule,
                                f"{login.reason}; a regional endpoint is a login server tied to one replica, so "
                                "the same rules likely apply", "inferred", region, "geo"))
    return out


def _data(cfg: RegistryConfig, client: Client, login: Verdict, region: str) -> Decision:
    host = cfg.data_endpoint(region)
    replica = cfg.replica(region)
    routing = ("; the global endpoint does not route to this replica (global endpoint routing off), so only its "
               "regional endpoint redirects here") if replica is not None and not replica.globally_routed else ""
    if client.kind == "private-endpoint":
        return Decision("data", host, login.allowed, login.rule,
                        f"{login.reason}; through a private endpoint the data endpoints are reached on its private "
                        f"addresses{routing}", login.basis, region,
                        "data-endpoints" if login.allowed else login.source)
    if login.rule.startswith("endpointProtocol"):  # the IPv6 verdict holds for every public endpoint ([ipv6])
        return Decision("data", host, login.allowed, login.rule, login.reason + routing, login.basis, region,
                        login.source)
    if cfg.blocks_public and not login.allowed:
        return Decision("data", host, False, login.rule,
                        "public network access is disabled, so dedicated data endpoints are only reachable through "
                        f"the private endpoint{routing}", "documented", region, "data-endpoints")
    return Decision("data", host, login.allowed, login.rule,
                    f"{login.reason}; the registry's rules likely gate its data endpoints as they gate the login "
                    f"server{routing}", "inferred", region, login.source)


# --------------------------------------------------------------------------- credentials

def anonymous_pull(cfg: RegistryConfig) -> Verdict:
    """Whether a client that passes the network rules may pull without credentials ([anonymous]).

    >>> from regdoctor.acr.parse import parse_registry
    >>> anonymous_pull(parse_registry({"name": "r1234", "sku": {"name": "Basic"}, "anonymousPullEnabled": True})).rule
    'sku=Basic'
    """
    if cfg.anonymous_pull and not cfg.anonymous_pull_effective:
        return Verdict(False, f"sku={cfg.sku}",
                       f"anonymousPullEnabled is set, but anonymous pull is available in the Standard and Premium "
                       f"tiers only and the registry is {cfg.sku}: pulls likely need credentials", "inferred",
                       "anonymous")
    if cfg.anonymous_pull_effective:
        return Verdict(True, "anonymousPullEnabled=true",
                       "anonymous pull is on: every repository can be pulled without credentials (data-plane "
                       "operations only); the network rules above still decide who reaches the registry",
                       "documented", "anonymous")
    return Verdict(False, "anonymousPullEnabled=false",
                   "anonymous pull is off (the default): pulls need credentials", "documented", "anonymous")


__all__ = ["Client", "Decision", "Verdict", "anonymous_pull", "decide", "judge"]
