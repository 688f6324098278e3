"""The normalised registry: frozen dataclasses, the service defaults, the hosts a client meets.

Strategy
--------
``parse`` and ``inputs`` turn every JSON shape into these classes once, so ``access``, ``lint``,
``allowlist``, ``dns`` and ``firewall`` never look at raw JSON. Absence stays distinct from
emptiness where the model needs it: ``virtualNetworkRules`` missing (API 2023-07-01 omits it) is
``None``, not ``()``, because "no rules" and "cannot tell" lead to different verdicts.

Two kinds of properties, kept apart on purpose:

* the *configured* values with the documented defaults applied (``public_enabled``,
  ``default_deny``, …) — what the JSON says, which ``lint`` judges;
* the values *in force* (``blocks_public``, ``deny_by_default``, ``data_endpoints_on``,
  ``dual_stack``, …) — what the service applies, which ``access``, ``allowlist`` and ``dns``
  use. They differ below Premium: "if you move from Premium to a lower SKU, features specific to
  premium are disabled" ([skus]), and network rules, private endpoints, dedicated data endpoints,
  regional endpoints and dual stack are all Premium features. That a disabled firewall admits
  every network is inferred. A JSON without ``sku`` is judged as if the rules it shows are in
  force (they could not have been set otherwise).

``regions`` is the one list of regions every command uses: the home location, the replicas, and
the region labels of every host the inputs name (``dataEndpointHostNames``,
``regionalEndpointHostNames``, the private endpoint's NIC FQDNs, the private zone's records).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from regdoctor.acr.regions import host_region, normalise_region

#: SKUs below Premium (``Classic`` is retired, and never had network features).
_BELOW_PREMIUM = frozenset({"basic", "standard", "classic"})
#: SKUs where anonymous pull exists ([anonymous]: "available in the Standard and Premium service tiers").
_ANONYMOUS_SKUS = frozenset({"standard", "premium"})


@dataclass(frozen=True)
class IpRule:
    """One ``networkRuleSet.ipRules`` entry (REST ``value`` or CLI ``ipAddressOrRange``)."""

    value: str
    action: str = "Allow"


@dataclass(frozen=True)
class VnetRule:
    """One ``networkRuleSet.virtualNetworkRules`` entry: a subnet with a service endpoint."""

    subnet_id: str
    action: str = "Allow"

    @property
    def vnet_id(self) -> str:
        """The virtual network part of the subnet ID, lower case (IDs compare case-insensitively)."""
        return self.subnet_id.lower().rstrip("/").split("/subnets/", 1)[0]


@dataclass(frozen=True)
class Replica:
    """One geo-replica (``az acr replication list``); ``region`` is lower case, no spaces."""

    region: str
    #: ``regionEndpointEnabled``: whether the global endpoint routes to it (``None``: absent, i.e. true).
    region_endpoint_enabled: bool | None = None
    status: str | None = None

    @property
    def globally_routed(self) -> bool:
        """``--global-endpoint-routing false`` excludes a replica from global routing only ([endpoints])."""
        return self.region_endpoint_enabled is not False


@dataclass(frozen=True)
class PrivateEndpointConnection:
    """A private endpoint connection; ``status`` is Approved|Pending|Rejected|Disconnected ([spec])."""

    name: str
    private_endpoint_id: str | None = None
    status: str | None = None
    description: str | None = None

    @property
    def approved(self) -> bool:
        return (self.status or "").lower() == "approved"

    def matches(self, name: str) -> bool:
        """The connection's name or its private endpoint's name (both appear in user commands)."""
        want = name.strip().lower()
        pe = (self.private_endpoint_id or "").rstrip("/").rsplit("/", 1)[-1].lower()
        return want in (self.name.lower(), pe) or self.name.lower().startswith(want + ".")


@dataclass(frozen=True)
class DnsRecord:
    """An address a client-visible name should resolve to through a private endpoint.

    ``host`` is the name clients look up (``myreg.westeurope.data.azurecr.io``); ``zone_name`` is
    the record in the private zone (``myreg.westeurope.data.privatelink.azurecr.io``).
    ``source`` says where the address came from: ``zone`` (an A record set of the private DNS
    zone) or ``endpoint`` (the private endpoint's ``customDnsConfigs`` or its NIC's IP
    configurations, i.e. the addresses the endpoint really has).
    """

    host: str
    zone_name: str
    addresses: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class RegistryConfig:
    """Everything regdoctor knows about one registry's network settings.

    ``None`` means the field was absent from the input; the properties apply the service
    defaults (reference §7) so callers do not repeat them.
    """

    name: str
    login_server: str
    #: The DNS suffix after the registry label: ``azurecr.io`` (or a sovereign cloud's).
    suffix: str
    shape: str
    sku: str | None = None
    location: str | None = None
    public_network_access: str | None = None
    default_action: str | None = None
    ip_rules: tuple[IpRule, ...] = ()
    #: ``None`` when the input does not carry ``virtualNetworkRules`` at all.
    vnet_rules: tuple[VnetRule, ...] | None = None
    bypass_options: str | None = None
    tasks_bypass: bool | None = None
    data_endpoint_enabled: bool | None = None
    data_endpoint_hosts: tuple[str, ...] = ()
    regional_endpoints: str | None = None
    regional_endpoint_hosts: tuple[str, ...] = ()
    endpoint_protocol: str | None = None
    anonymous_pull: bool | None = None
    replicas: tuple[Replica, ...] = ()
    connections: tuple[PrivateEndpointConnection, ...] = ()
    #: A records of the private DNS zone, when given (``None``: not given, cannot check).
    zone_records: tuple[DnsRecord, ...] | None = None
    #: Addresses from the private endpoints' ``customDnsConfigs`` / NIC IP configurations, when given.
    endpoint_records: tuple[DnsRecord, ...] = ()
    #: Subnet IDs of the private endpoints given (``az network private-endpoint show``).
    endpoint_subnets: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    # -- configured values (service defaults applied) -----------------------------------------

    @property
    def public_enabled(self) -> bool:
        """``publicNetworkAccess`` defaults to Enabled ([spec])."""
        return (self.public_network_access or "Enabled").lower() != "disabled"

    @property
    def default_deny(self) -> bool:
        """``networkRuleSet.defaultAction`` defaults to Allow ([spec])."""
        return (self.default_action or "Allow").lower() == "deny"

    @property
    def bypass_azure_services(self) -> bool:
        """``networkRuleBypassOptions`` defaults to AzureServices ([trusted]: "enabled (the default)")."""
        return (self.bypass_options or "AzureServices").lower() == "azureservices"

    @property
    def tasks_bypass_effective(self) -> bool:
        """``networkRuleBypassAllowedForTasks`` defaults to false since 2025-06-01 ([tasks-bypass])."""
        return bool(self.tasks_bypass)

    @property
    def dual_stack_configured(self) -> bool:
        """``endpointProtocol`` IPv4AndIPv6; IPv4 is the default ([ipv6])."""
        return (self.endpoint_protocol or "").lower() == "ipv4andipv6"

    @property
    def premium(self) -> bool | None:
        return None if self.sku is None else self.sku.lower() == "premium"

    @property
    def approved_connections(self) -> tuple[PrivateEndpointConnection, ...]:
        return tuple(c for c in self.connections if c.approved)

    @property
    def privatelink_zone(self) -> str:
        return f"privatelink.{self.suffix}"

    # -- values in force -------------------------------------------------------------------------

    @property
    def premium_features(self) -> bool:
        """Premium features apply: the SKU is Premium, or not given (then trust what the JSON shows)."""
        return self.sku is None or self.sku.lower() not in _BELOW_PREMIUM

    @property
    def blocks_public(self) -> bool:
        """``publicNetworkAccess`` Disabled, in force (a Premium feature: [private-endpoints], [reported])."""
        return not self.public_enabled and self.premium_features

    @property
    def deny_by_default(self) -> bool:
        """``defaultAction`` Deny, in force (IP access rules are Premium: [selected-networks])."""
        return self.default_deny and self.premium_features

    @property
    def restricted(self) -> bool:
        """Network-restricted: public access off, or selected networks only."""
        return self.blocks_public or self.deny_by_default

    @property
    def private_link(self) -> bool:
        """Private endpoints exist and are in force (Premium: [private-endpoints])."""
        return bool(self.connections) and self.premium_features

    @property
    def data_endpoints_on(self) -> bool:
        """Dedicated data endpoints are in use: enabled, listed, or switched on by a private endpoint.

        "If a registry has at least one private endpoint configured, dedicated data endpoints are
        automatically enabled" ([data-endpoints]), so a connection implies them even when an older
        JSON says otherwise. They are a Premium feature.
        """
        configured = bool(self.data_endpoint_enabled) or bool(self.data_endpoint_hosts) or bool(self.connections)
        return configured and self.premium_features

    @property
    def regional_endpoints_enabled(self) -> bool:
        """Regional endpoints, registry-wide and Premium only ([geo])."""
        configured = (self.regional_endpoints or "").lower() == "enabled" or bool(self.regional_endpoint_hosts)
        return configured and self.premium_features

    @property
    def dual_stack(self) -> bool:
        """IPv4AndIPv6 in force: the service rejects it without dedicated data endpoints ([ipv6])."""
        return self.dual_stack_configured and self.data_endpoints_on

    @property
    def anonymous_pull_effective(self) -> bool:
        """``anonymousPullEnabled`` (default false) on a SKU that has it ([anonymous])."""
        return bool(self.anonymous_pull) and (self.sku is None or self.sku.lower() in _ANONYMOUS_SKUS)

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region a client may be routed to, from every source the inputs carry.

        >>> cfg = RegistryConfig(name="r", login_server="r.azurecr.io", suffix="azurecr.io", shape="cli",
        ...                      location="West Europe", replicas=(Replica("eastus"),),
        ...                      data_endpoint_hosts=("r.japaneast.data.azurecr.io",))
        >>> cfg.regions
        ('westeurope', 'eastus', 'japaneast')
        """
        out: list[str] = []
        candidates = [normalise_region(self.location)] if self.location else []
        candidates += [r.region for r in self.replicas]
        hosts = [*self.data_endpoint_hosts, *self.regional_endpoint_hosts,
                 *(r.host for r in self.endpoint_records), *(r.host for r in self.zone_records or ())]
        candidates += [host_region(h) for h in hosts if self._owns(h)]
        for region in candidates:
            if region and region not in out:
                out.append(region)
        return tuple(out)

    def replica(self, region: str) -> Replica | None:
        return next((r for r in self.replicas if r.region == region), None)

    def _owns(self, host: str) -> bool:
        """``host`` is one of this registry's ``<name>.<region>.<data|geo>.<suffix>`` names."""
        return host.startswith(self.name + ".") and host.endswith("." + self.suffix)

    def data_endpoint(self, region: str) -> str:
        """``<reg>.<region>.data.<suffix>``; the listed host wins when the JSON has one."""
        for h in self.data_endpoint_hosts:
            if host_region(h) == region:
                return h
        return f"{self.name}.{region}.data.{self.suffix}"

    def regional_endpoint(self, region: str) -> str:
        """``<reg>.<region>.geo.<suffix>``; the listed host wins when the JSON has one."""
        for h in self.regional_endpoint_hosts:
            if host_region(h) == region:
                return h
        return f"{self.name}.{region}.geo.{self.suffix}"

    def role_of(self, host: str) -> tuple[str, str | None] | None:
        """``("login"|"data"|"regional", region)`` when ``host`` is one of this registry's names.

        >>> cfg = RegistryConfig(name="r", login_server="r.azurecr.io", suffix="azurecr.io", shape="cli")
        >>> cfg.role_of("r.azurecr.io"), cfg.role_of("r.eastus.data.azurecr.io"), cfg.role_of("x.io")
        (('login', None), ('data', 'eastus'), None)
        """
        host = host.lower().rstrip(".")
        if host == self.login_server:
            return ("login", None)
        region = host_region(host)
        if region and self._owns(host):
            return ("data" if host.split(".")[2] == "data" else "regional", region)
        return None


#: Blob storage host suffix per registry DNS suffix (public and sovereign clouds).
_STORAGE = {"azurecr.io": "blob.core.windows.net", "azurecr.cn": "blob.core.chinacloudapi.cn",
            "azurecr.us": "blob.core.usgovcloudapi.net"}
#: Clouds where service endpoints for ACR are not supported ([vnet]).
SERVICE_ENDPOINTS_UNSUPPORTED = {"azurecr.us": "Azure US Government", "azurecr.cn": "Azure operated by 21Vianet"}


def storage_wildcard(suffix: str) -> str:
    """The storage hosts blob downloads are redirected to when data endpoints are off.

    >>> storage_wildcard("azurecr.io")
    '*.blob.core.windows.net'
    """
    return "*." + _STORAGE.get(suffix, "blob.core.windows.net")


__all__ = [
    "SERVICE_ENDPOINTS_UNSUPPORTED", "DnsRecord", "IpRule", "PrivateEndpointConnection", "RegistryConfig",
    "Replica", "VnetRule", "storage_wildcard",
]
