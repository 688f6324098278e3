"""Access what-if: would the registry admit this client, on each of its endpoints, and why.

Strategy
--------
This is the decision procedure of reference §2 written as code, one branch per line of its
pseudocode, with no I/O. Its order of evaluation is itself assembled from several articles
(inferred), and some of its branches are inferred too; every ``Verdict`` therefore carries the
``basis`` of the rule that decided it, ``documented`` or ``inferred``, and inferred reasons say
"likely". Where the model says "treat as unknown" (the Tasks bypass with public access
disabled, ``ipRules`` on the storage redirect target, a JSON without ``virtualNetworkRules``)
the verdict is the likelier outcome, marked inferred, with the doubt spelled out.

The login server is judged by §2.1/§2.2 directly. The other endpoints follow from it:

* regional endpoints are login servers tied to one replica, so they get the same verdict;
  that they share the rules is our inference;
* dedicated data endpoints: with public access disabled they are reachable only through a
  private endpoint (documented); that the public rules gate them like the login server is
  inferred;
* storage (``*.blob.core.windows.net``, no data endpoints): whether ``ipRules`` gate it is not
  documented; a client refused by the login server never receives a redirect, so the verdict
  follows the login server's and is marked inferred.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

from regdoctor.acr.config import RegistryConfig, storage_wildcard

Basis = Literal["documented", "inferred"]
EndpointKind = Literal["login", "data", "regional"]
ClientKind = Literal["ip", "subnet", "service", "private-endpoint"]


@dataclass(frozen=True)
class Service:
    """An Azure service as a client of the registry (reference §2.2, trusted services)."""

    key: str
    title: str
    #: On the documented trusted-services list.
    trusted: bool
    #: What the caller must do for the bypass to apply (empty when the list states nothing).
    condition: str = ""
    #: Why it is not trusted, when it is not.
    note: str = ""


SERVICES: dict[str, Service] = {s.key: s for s in (
    Service("aci", "Azure Container Instances", True, "it pulls with a system- or user-assigned managed identity"),
    Service("defender", "Microsoft Defender for Cloud (image vulnerability scanning)", True),
    Service("aml", "Azure Machine Learning", True),
    Service("acr-import", "Azure Container Registry (import from another registry)", True),
    Service("tasks", "ACR Tasks (system-assigned identity)", False,
            note="ACR Tasks left the trusted-services list in 2025; the Tasks bypass decides instead"),
    Service("app-service", "Azure App Service", False, note="App Service is explicitly not a trusted service"),
    Service("aks", "Azure Kubernetes Service", False,
            note="AKS is not on the trusted-services list; its nodes are judged by their egress address "
                 "or subnet (use --from or --subnet)"),
    Service("devops", "Microsoft-hosted Azure DevOps agents", False,
            note="hosted agents are not trusted, egress from changing addresses and cannot use private "
                 "endpoints; use self-hosted agents"),
)}

SERVICE_ALIASES: dict[str, str] = {
    "container-instances": "aci", "azure-container-instances": "aci",
    "defender-for-cloud": "defender", "microsoft-defender": "defender", "mdc": "defender",
    "machine-learning": "aml", "azureml": "aml", "azure-machine-learning": "aml",
    "acr": "acr-import", "import": "acr-import",
    "acr-tasks": "tasks", "task": "tasks", "acr-build": "tasks",
    "appservice": "app-service", "webapp": "app-service", "web-app": "app-service", "functions": "app-service",
    "kubernetes": "aks",
    "azure-devops": "devops", "ado": "devops", "pipelines": "devops",
}


def service(name: str) -> Service | None:
    """Look up a service by key or alias, case-insensitively.

    >>> service("ACI").title, service("webapp").trusted, service("nope")
    ('Azure Container Instances', False, None)
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    return SERVICES.get(SERVICE_ALIASES.get(key, key))


@dataclass(frozen=True)
class Client:
    """Who asks: a public address, a subnet (service endpoint), a service, or a private endpoint."""

    kind: ClientKind
    value: str = ""

    @classmethod
    def from_ip(cls, ip: str) -> Client:
        """``ValueError`` if ``ip`` is not an IP address (the CLI turns it into exit 2)."""
        return cls("ip", str(ipaddress.ip_address(ip.strip())))

    def describe(self) -> str:
        if self.kind == "ip":
            return f"client {self.value}"
        if self.kind == "subnet":
            return f"subnet {self.value.rsplit('/', 1)[-1]}"
        if self.kind == "service":
            svc = service(self.value)
            return svc.title if svc else self.value
        return "a client through the private endpoint"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str
    reason: str
    basis: Basis


@dataclass(frozen=True)
class Decision:
    """One endpoint's answer; the SPEC's ``acr access --json`` decision plus ``basis``/``region``."""

    endpoint: EndpointKind
    host: str
    allowed: bool
    rule: str
    reason: str
    basis: Basis
    region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "host": self.host, "allowed": self.allowed, "rule": self.rule,
                "reason": self.reason, "basis": self.basis, "region": self.region}


# --------------------------------------------------------------------------- the login server

def judge(cfg: RegistryConfig, client: Client) -> Verdict:
    """The registry's verdict for ``client`` at its login server (reference §2.1 and §2.2).

    >>> from regdoctor.acr.config import parse_registry, IpRule
    >>> cfg = parse_registry({"loginServer": "r1234.azurecr.io", "networkRuleSet":
    ...     {"defaultAction": "Deny", "ipRules": [{"ipAddressOrRange": "203.0.113.0/24"}]}})
    >>> judge(cfg, Client.from_ip("203.0.113.9")).reason
    'IP rule 203.0.113.0/24 matches'
    """
    if client.kind == "private-endpoint":
        return _private_endpoint(cfg)
    if client.kind == "service":
        svc = service(client.value)
        if svc is None:
            raise ValueError(f"unknown service {client.value!r}")
        if svc.key == "tasks":
            return _tasks(cfg)
        return _public(cfg, client, svc)
    return _public(cfg, client, None)


def _private_endpoint(cfg: RegistryConfig) -> Verdict:
    """§2.1: ipRules and publicNetworkAccess do not apply; an Approved connection is needed."""
    approved = cfg.approved_connections
    if approved:
        names = ", ".join(c.name for c in approved)
        return Verdict(True, f"privateEndpointConnection[{names}]",
                       f"approved private endpoint connection {names}; ipRules and public network access "
                       "do not apply to private endpoint traffic (the names must resolve to its addresses: "
                       "`regdoctor acr dns`)", "documented")
    if cfg.connections:
        states = ", ".join(f"{c.name} is {c.status or 'of unknown status'}" for c in cfg.connections)
        return Verdict(False, "privateEndpointConnection.status",
                       f"no approved private endpoint connection ({states}); only an Approved connection "
                       "likely carries traffic", "inferred")
    return Verdict(False, "privateEndpointConnections=[]",
                   "the registry has no private endpoint connection", "documented")


def _tasks(cfg: RegistryConfig) -> Verdict:
    """An ACR Task running with its system-assigned identity (§2.2 Tasks bypass, §2.5)."""
    if cfg.dual_stack:
        return Verdict(False, "endpointProtocol=IPv4AndIPv6",
                       "ACR Tasks do not work while IPv6 dual stack is on", "documented")
    if not cfg.public_enabled:
        if cfg.tasks_bypass_effective:
            return Verdict(False, "publicNetworkAccess=Disabled",
                           "public network access is disabled; whether the Tasks bypass still applies is not "
                           "documented, so the task is likely refused (run it on a dedicated agent pool)",
                           "inferred")
        return Verdict(False, "publicNetworkAccess=Disabled",
                       "public network access is disabled and Tasks run from public addresses; use a "
                       "dedicated agent pool", "documented")
    if not cfg.default_deny:
        return Verdict(True, "defaultAction=Allow",
                       "default action Allow admits all networks, so rules likely do not matter", "inferred")
    if cfg.tasks_bypass_effective:
        return Verdict(True, "networkRuleBypassAllowedForTasks=true",
                       "the Tasks bypass admits tasks that use their system-assigned identity", "documented")
    return Verdict(False, "networkRuleBypassAllowedForTasks=false",
                   "the Tasks bypass is off (the default since 2025-06-01): the task gets 403; enable it, or "
                   "use a dedicated agent pool or a user-assigned identity", "documented")


def _public(cfg: RegistryConfig, client: Client, svc: Service | None) -> Verdict:
    """§2.2, for a public address, a subnet with a service endpoint, or an Azure service."""
    trusted = svc is not None and svc.trusted
    if not cfg.public_enabled:
        # Disabling the public endpoint overrides every other firewall setting (documented).
        if svc is not None and svc.trusted and cfg.bypass_azure_services:
            return Verdict(True, "networkRuleBypassOptions=AzureServices",
                           f"{svc.title} is a trusted service and the trusted-services bypass is on"
                           f"{_condition(svc)}; it passes even with public network access disabled",
                           "documented")
        pe = ("private endpoint connections do not apply to this client" if cfg.connections
              else "the registry has no private endpoint")
        what = "service endpoint rules included" if client.kind == "subnet" else pe
        extra = ""
        if trusted:
            extra = "; the trusted-services bypass is off (networkRuleBypassOptions=None)"
        elif svc is not None:
            extra = f"; {svc.note}"
        return Verdict(False, "publicNetworkAccess=Disabled",
                       f"public network access is disabled; {what}{extra}", "documented")

    if not cfg.default_deny:
        return Verdict(True, "defaultAction=Allow",
                       "default action Allow admits all networks; IP and VNet rules likely have no effect",
                       "inferred")

    if client.kind == "ip":
        return _ip(cfg, client.value)
    if client.kind == "subnet":
        return _subnet(cfg, client.value)

    assert svc is not None
    if trusted:
        if not cfg.bypass_azure_services:
            return Verdict(False, "networkRuleBypassOptions=None",
                           f"{svc.title} is a trusted service, but the trusted-services bypass is off",
                           "documented")
        if cfg.vnet_rules is None:
            return Verdict(True, "networkRuleBypassOptions=AzureServices",
                           f"{svc.title} is a trusted service and the bypass is on{_condition(svc)}; likely "
                           "admitted, but this JSON has no virtualNetworkRules and the bypass does not work "
                           "for a registry configured with a service endpoint", "inferred")
        if cfg.vnet_rules:
            return Verdict(False, "virtualNetworkRules",
                           f"{svc.title} is a trusted service, but the trusted-services bypass does not work "
                           "for a registry configured with a service endpoint", "documented")
        return Verdict(True, "networkRuleBypassOptions=AzureServices",
                       f"{svc.title} is a trusted service and the trusted-services bypass is on"
                       f"{_condition(svc)}", "documented")
    return Verdict(False, "defaultAction=Deny",
                   f"{svc.note}; default action is Deny", "documented")


def _condition(svc: Service) -> str:
    return f" (provided {svc.condition})" if svc.condition else ""


def _ip(cfg: RegistryConfig, ip: str) -> Verdict:
    addr = ipaddress.ip_address(ip)
    for rule in cfg.ip_rules:
        try:
            net = ipaddress.ip_network(rule.value, strict=False)
        except ValueError:
            continue  # `acr lint` reports it (ACR_IP_RULE_INVALID); it cannot admit anyone
        if rule.action.lower() == "allow" and net.version == addr.version and addr in net:
            return Verdict(True, f"ipRules[{rule.value}]", f"IP rule {rule.value} matches", "documented")
    if addr.version == 6:
        return Verdict(False, "defaultAction=Deny",
                       f"{ip} is an IPv6 address and ipRules hold IPv4 ranges only, so it likely cannot match "
                       "any rule; with IPv6 dual stack, allow lists need IPv6 ranges as well", "inferred")
    if is_private_use(ip):
        return Verdict(False, "defaultAction=Deny",
                       f"no IP rule matches {ip} and the default action is Deny; {ip} is not a public address, "
                       "and the registry likely sees this client's public egress address (NAT gateway, proxy, "
                       "load balancer) instead: pass that with --from", "inferred")
    return Verdict(False, "defaultAction=Deny",
                   f"no IP rule matches {ip} and the default action is Deny", "documented")


def _subnet(cfg: RegistryConfig, subnet_id: str) -> Verdict:
    if cfg.vnet_rules is None:
        return Verdict(False, "virtualNetworkRules=(absent)",
                       "this JSON carries no virtualNetworkRules (API 2023-07-01 omits them), so whether the "
                       "subnet is listed cannot be told; likely refused unless it is (`az acr network-rule list`)",
                       "inferred")
    want = _norm_id(subnet_id)
    for rule in cfg.vnet_rules:
        if _norm_id(rule.subnet_id) == want and rule.action.lower() == "allow":
            return Verdict(True, f"virtualNetworkRules[{rule.subnet_id.rsplit('/', 1)[-1]}]",
                           "the subnet is listed in virtualNetworkRules (it needs the "
                           "Microsoft.ContainerRegistry service endpoint)", "documented")
    return Verdict(False, "defaultAction=Deny",
                   "the subnet is not in virtualNetworkRules and the default action is Deny (without the "
                   "service endpoint it egresses with a public address: check that with --from)", "documented")


#: Ranges a registry never sees as a source address on the internet: RFC 1918, shared address
#: space (CGNAT), loopback, link-local. Documentation ranges (203.0.113.0/24…) are left out on
#: purpose: they stand for public addresses in examples.
_PRIVATE_USE = tuple(ipaddress.IPv4Network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "0.0.0.0/8"))


def is_private_use(value: str) -> bool:
    """An IPv4 address or CIDR inside a private-use block (``False`` for IPv6 and for non-addresses).

    >>> is_private_use("10.1.0.0/16"), is_private_use("203.0.113.9"), is_private_use("2001:db8::/32")
    (True, False, False)
    """
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return isinstance(net, ipaddress.IPv4Network) and any(net.subnet_of(p) for p in _PRIVATE_USE)


def _norm_id(resource_id: str) -> str:
    """ARM resource IDs compare case-insensitively."""
    return resource_id.strip().rstrip("/").lower()


# --------------------------------------------------------------------------- every endpoint

def decide(cfg: RegistryConfig, client: Client) -> list[Decision]:
    """Login server, each data endpoint (or storage) and each regional endpoint, with verdicts.

    >>> from regdoctor.acr.config import parse_registry
    >>> cfg = parse_registry({"loginServer": "r1234.azurecr.io", "location": "westeurope",
    ...                       "dataEndpointEnabled": True, "publicNetworkAccess": "Disabled"})
    >>> [(d.endpoint, d.host, d.allowed) for d in decide(cfg, Client.from_ip("198.51.100.7"))]
    [('login', 'r1234.azurecr.io', False), ('data', 'r1234.westeurope.data.azurecr.io', False)]
    """
    login = judge(cfg, client)
    out = [Decision("login", cfg.login_server, login.allowed, login.rule, login.reason, login.basis)]
    through_pe = client.kind == "private-endpoint"
    if cfg.data_endpoints_on:
        for region in cfg.regions:
            host = cfg.data_endpoint(region)
            if through_pe or not (cfg.public_enabled or login.allowed):
                # documented: with private endpoints and public access disabled, data endpoints are
                # reachable only through the private endpoint
                out.append(Decision("data", host, login.allowed, login.rule, login.reason, login.basis, region))
            else:
                out.append(Decision("data", host, login.allowed, login.rule,
                                    f"{login.reason}; the registry's rules likely gate its data endpoints as "
                                    "they gate the login server", "inferred", region))
    else:
        why = ("a client the login server refuses never receives the blob redirect" if not login.allowed else
               "whether ipRules also gate the storage redirect target is not documented; it likely follows "
               "the login server")
        out.append(Decision("data", storage_wildcard(cfg.suffix), login.allowed,
                            "storage (dedicated data endpoints off)", why, "inferred"))
    if cfg.regional_endpoints_enabled:
        for region in cfg.regions:
            out.append(Decision("regional", cfg.regional_endpoint(region), login.allowed, login.rule,
                                f"{login.reason}; a regional endpoint is a login server tied to one replica, "
                                "so the same rules likely apply", "inferred", region))
    return out


__all__ = ["SERVICES", "Client", "Decision", "Service", "Verdict", "decide", "is_private_use", "judge", "service"]
