"""``acr lint``: the pitfalls of reference §2, §3 and §5 that the registry's JSON shows.

Strategy
--------
One small function per pitfall, each taking the normalised ``RegistryConfig`` and returning
findings from the one catalogue (``regdoctor.kb``); no I/O. ``lint`` runs them all in a fixed
order so output is stable. Every finding's evidence carries ``basis`` — ``documented`` when a
Microsoft source states the rule, ``inferred`` when regdoctor concludes it — and ``source``, the
page; the catalogue texts of inferred findings say "likely". A pitfall that depends on data the
input does not carry (private DNS records not given, ``virtualNetworkRules`` absent) is not
guessed: it is skipped, or reported as unknown (``CONFIG_VNET_RULES_UNKNOWN``).

Lint judges what is *configured* (``public_enabled``, ``default_deny``…), which is what a user
edits; the values in force below Premium differ, and ``ACR_NETWORK_RULES_NOT_PREMIUM`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from regdoctor import kb
from regdoctor.acr import docs
from regdoctor.acr.addresses import is_private_use, is_public, parse_rule
from regdoctor.acr.dns import expectations
from regdoctor.acr.model import SERVICE_ENDPOINTS_UNSUPPORTED, RegistryConfig
from regdoctor.kb.codes import Code
from regdoctor.model import Finding

#: Documented limits per Premium registry: (what, limit, source).
LIMITS = (("ipRules", 200, "selected-networks"), ("virtualNetworkRules", 100, "vnet"),
          ("private endpoints", 200, "private-endpoints"))


def _f(code: Code, cfg: RegistryConfig, basis: str, source: str, host: str | None = None,
       **evidence: Any) -> Finding:
    ev: dict[str, Any] = {**evidence, "basis": basis, "source": docs.url(source)}
    extra: Mapping[str, Any] = {"registry": cfg.name}
    return kb.code(code).finding(host=host or cfg.login_server, evidence=ev, extra=extra)


def _restriction(cfg: RegistryConfig) -> str:
    return "public network access disabled" if not cfg.public_enabled else "default action Deny"


# --------------------------------------------------------------------------- SKU and rules

def premium_features(cfg: RegistryConfig) -> list[str]:
    """The settings in use that need the Premium SKU (reference §2.5)."""
    features: list[str] = []
    if cfg.default_deny:
        features.append("defaultAction Deny")
    if cfg.ip_rules:
        features.append(f"{len(cfg.ip_rules)} IP rule(s)")
    if cfg.vnet_rules:
        features.append(f"{len(cfg.vnet_rules)} service endpoint rule(s)")
    if not cfg.public_enabled:
        features.append("public network access disabled")
    if cfg.connections:
        features.append(f"{len(cfg.connections)} private endpoint connection(s)")
    if cfg.data_endpoint_enabled:
        features.append("dedicated data endpoints")
    if (cfg.regional_endpoints or "").lower() == "enabled":
        features.append("regional endpoints")
    if cfg.dual_stack_configured:
        features.append("IPv6 dual stack")
    if len(cfg.replicas) > 1:
        features.append(f"{len(cfg.replicas)} replications")
    return features


def check_sku(cfg: RegistryConfig) -> list[Finding]:
    features = premium_features(cfg)
    if cfg.premium is False and features:
        return [_f(Code.ACR_NETWORK_RULES_NOT_PREMIUM, cfg, "documented", "skus", sku=cfg.sku, features=features)]
    return []


def check_anonymous(cfg: RegistryConfig) -> list[Finding]:
    if cfg.anonymous_pull and not cfg.anonymous_pull_effective:
        return [_f(Code.ACR_ANONYMOUS_PULL_UNAVAILABLE, cfg, "documented", "anonymous", sku=cfg.sku)]
    return []


def check_limits(cfg: RegistryConfig) -> list[Finding]:
    counts = {"ipRules": len(cfg.ip_rules), "virtualNetworkRules": len(cfg.vnet_rules or ()),
              "private endpoints": len(cfg.connections)}
    return [_f(Code.ACR_RULE_LIMIT_EXCEEDED, cfg, "documented", source, what=what, count=counts[what], limit=limit)
            for what, limit, source in LIMITS if counts[what] > limit]


def check_service_endpoints(cfg: RegistryConfig) -> list[Finding]:
    out: list[Finding] = []
    if cfg.vnet_rules and not cfg.public_enabled:
        out.append(_f(Code.ACR_SERVICE_ENDPOINT_PUBLIC_DISABLED, cfg, "documented", "selected-networks",
                      count=len(cfg.vnet_rules), subnets=[r.subnet_id for r in cfg.vnet_rules]))
    if cfg.vnet_rules and cfg.suffix in SERVICE_ENDPOINTS_UNSUPPORTED:
        out.append(_f(Code.ACR_SERVICE_ENDPOINT_UNSUPPORTED_CLOUD, cfg, "documented", "vnet",
                      cloud=SERVICE_ENDPOINTS_UNSUPPORTED[cfg.suffix], count=len(cfg.vnet_rules)))
    pe_vnets = {s.lower().split("/subnets/", 1)[0] for s in cfg.endpoint_subnets}
    shared = sorted({r.vnet_id for r in cfg.vnet_rules or () if r.vnet_id in pe_vnets})
    for vnet in shared:
        out.append(_f(Code.ACR_SERVICE_ENDPOINT_AND_PRIVATE_LINK, cfg, "documented", "vnet",
                      vnet=vnet.rsplit("/", 1)[-1], vnet_id=vnet))
    if cfg.vnet_rules is None and cfg.default_deny and cfg.public_enabled:
        out.append(_f(Code.CONFIG_VNET_RULES_UNKNOWN, cfg, "inferred", "vnet"))
    return out


def check_trusted_services(cfg: RegistryConfig) -> list[Finding]:
    if not (cfg.default_deny or not cfg.public_enabled):
        return []
    if not cfg.bypass_azure_services:
        return [_f(Code.ACR_TRUSTED_SERVICES_OFF, cfg, "documented", "trusted", restriction=_restriction(cfg),
                   network_rule_bypass_options=cfg.bypass_options)]
    if cfg.vnet_rules:
        return [_f(Code.ACR_TRUSTED_SERVICES_INEFFECTIVE, cfg, "documented", "trusted", count=len(cfg.vnet_rules))]
    return []


def check_tasks(cfg: RegistryConfig) -> list[Finding]:
    state = "not set" if cfg.tasks_bypass is None else str(cfg.tasks_bypass).lower()
    if cfg.dual_stack_configured:
        return [_f(Code.ACR_DUAL_STACK_TASKS, cfg, "documented", "ipv6")]
    if not cfg.public_enabled:
        # documented that az acr build fails; whether the bypass helps here is not (inferred)
        return [_f(Code.ACR_TASKS_PUBLIC_DISABLED, cfg, "inferred", "private-endpoints", tasks_bypass=state)]
    if cfg.default_deny and not cfg.tasks_bypass_effective:
        return [_f(Code.ACR_TASKS_BYPASS_OFF, cfg, "documented", "tasks-bypass", tasks_bypass=state)]
    return []


# --------------------------------------------------------------------------- IP rules

def check_ip_rules(cfg: RegistryConfig) -> list[Finding]:
    if not cfg.ip_rules:
        return []
    out: list[Finding] = []
    rules = [r.value for r in cfg.ip_rules]
    if not cfg.public_enabled:
        out.append(_f(Code.ACR_IP_RULES_PUBLIC_DISABLED, cfg, "documented", "selected-networks", count=len(rules),
                      rules=rules))
    elif not cfg.default_deny:
        out.append(_f(Code.ACR_IP_RULES_DEFAULT_ALLOW, cfg, "inferred", "troubleshoot", count=len(rules),
                      rules=rules))
    elif cfg.connections:
        out.append(_f(Code.ACR_IP_RULES_PRIVATE_ENDPOINT, cfg, "documented", "selected-networks", count=len(rules),
                      connections=len(cfg.connections)))
    for value in rules:
        rng = parse_rule(value)
        if rng.network is None:
            out.append(_f(Code.ACR_IP_RULE_INVALID, cfg, "documented", "spec", rule=value, problem=rng.problem))
        elif rng.network.prefixlen == 0:
            out.append(_f(Code.ACR_IP_RULE_ALLOWS_ALL, cfg, "inferred", "selected-networks", rule=value))
        elif is_private_use(value):
            out.append(_f(Code.ACR_IP_RULE_PRIVATE_RANGE, cfg, "inferred", "selected-networks", rule=value))
        elif rng.host_bits:
            out.append(_f(Code.ACR_IP_RULE_HOST_BITS, cfg, "inferred", "selected-networks", rule=value,
                          network=str(rng.network)))
    if cfg.dual_stack_configured and cfg.default_deny and cfg.public_enabled:
        out.append(_f(Code.ACR_DUAL_STACK_IPV4_ONLY_RULES, cfg, "inferred", "ipv6", count=len(rules)))
    return out


def check_dual_stack(cfg: RegistryConfig) -> list[Finding]:
    if cfg.dual_stack_configured and cfg.data_endpoint_enabled is not True:
        state = "unset" if cfg.data_endpoint_enabled is None else "false"
        return [_f(Code.ACR_DUAL_STACK_NO_DATA_ENDPOINT, cfg, "documented", "ipv6", data_endpoint_enabled=state)]
    return []


# --------------------------------------------------------------------------- private endpoints

def check_private_endpoints(cfg: RegistryConfig) -> list[Finding]:
    out: list[Finding] = []
    for c in cfg.connections:
        if not c.approved:
            note = f" ({c.description})" if c.description else ""
            out.append(_f(Code.ACR_PRIVATE_ENDPOINT_NOT_APPROVED, cfg, "inferred", "private-endpoints",
                          connection=c.name, status=c.status or "of unknown status",
                          private_endpoint=c.private_endpoint_id, description=c.description, description_note=note))
    if not cfg.public_enabled and not cfg.approved_connections:
        note = (f"its {len(cfg.connections)} private endpoint connection(s) are not approved" if cfg.connections
                else "it has no private endpoint connection")
        out.append(_f(Code.ACR_NO_ACCESS_PATH, cfg, "documented", "private-endpoints", connections_note=note,
                      bypass=cfg.bypass_options or "AzureServices"))
    return out


def check_private_dns(cfg: RegistryConfig) -> list[Finding]:
    """Zone records against what the private endpoint needs (only when records were given)."""
    out: list[Finding] = []
    zone = cfg.zone_records
    for exp in expectations(cfg):
        ev: dict[str, Any] = {"zone": exp.zone, "record": exp.record, "record_label": exp.record_label,
                              "member": exp.member, "role": exp.role, "region": exp.region,
                              "region_note": f", region {exp.region}" if exp.region else ""}
        records = [r for r in zone or () if r.host == exp.host]
        if zone is not None and not records:
            out.append(_f(Code.ACR_PRIVATE_DNS_RECORD_MISSING, cfg, "documented", "private-endpoints", host=exp.host,
                          **ev))
            continue
        addrs = [a for r in records for a in r.addresses]
        public = [a for a in addrs if is_public(a)]
        if public:
            out.append(_f(Code.ACR_PRIVATE_DNS_RECORD_PUBLIC, cfg, "inferred", "private-endpoints", host=exp.host,
                          addresses=public, **ev))
        truth = [a for r in cfg.endpoint_records if r.host == exp.host for a in r.addresses]
        if addrs and truth and not set(addrs) & set(truth):
            out.append(_f(Code.ACR_PRIVATE_DNS_RECORD_MISMATCH, cfg, "documented", "private-endpoints",
                          host=exp.host, addresses=addrs, expected=truth, **ev))
    return out


CHECKS: tuple[Callable[[RegistryConfig], list[Finding]], ...] = (
    check_sku, check_anonymous, check_limits, check_service_endpoints, check_trusted_services, check_tasks,
    check_ip_rules, check_dual_stack, check_private_endpoints, check_private_dns,
)


def lint(cfg: RegistryConfig) -> list[Finding]:
    """Every pitfall the configuration shows, in a stable order.

    >>> from regdoctor.acr.parse import parse_registry
    >>> cfg = parse_registry({"loginServer": "myreg.azurecr.io", "sku": {"name": "Standard"},
    ...                       "networkRuleSet": {"defaultAction": "Deny"}})
    >>> [f.code for f in lint(cfg)]
    ['ACR_NETWORK_RULES_NOT_PREMIUM', 'CONFIG_VNET_RULES_UNKNOWN', 'ACR_TASKS_BYPASS_OFF']
    """
    out: list[Finding] = []
    for check in CHECKS:
        out += check(cfg)
    return out


__all__ = ["CHECKS", "LIMITS", "lint", "premium_features"]
