"""Caller addresses held against the registry's network rules: the one door into ``regdoctor.acr``.

``logs`` does not model ACR's firewall itself: ``acr access`` does (reference §2). Everything
``logs`` needs from it goes through ``network_judge``, the only function here that touches
``regdoctor.acr``, so a change of that package's API is a change of this one function. The
configuration file is read at the edge (``cli/logs.py``, with ``acr``'s own reader).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from regdoctor.acr.model import RegistryConfig


@dataclass(frozen=True)
class Rules:
    """The registry's settings that decide a public caller's fate, as text for the report."""

    registry: str
    login_server: str
    public_access: str
    default_action: str
    ip_rules: tuple[str, ...]


@dataclass(frozen=True)
class CallerVerdict:
    """Would the registry's current rules admit this address at its login server, and why."""

    ip: str
    allowed: bool
    rule: str
    reason: str
    basis: str

    def to_dict(self) -> dict[str, object]:
        return {"ip": self.ip, "allowed": self.allowed, "rule": self.rule, "reason": self.reason,
                "basis": self.basis}


def network_judge(cfg: RegistryConfig) -> tuple[Rules, Callable[[str], CallerVerdict | None]]:
    """The registry's rules as text and a judge of caller addresses (None for a non-IP value).

    >>> from regdoctor.acr import parse_registry
    >>> cfg = parse_registry({"loginServer": "r1234.azurecr.io", "sku": {"name": "Premium"},
    ...                       "publicNetworkAccess": "Enabled", "networkRuleSet": {"defaultAction": "Deny"}})
    >>> rules, judge = network_judge(cfg)
    >>> rules.default_action, judge("20.1.2.3").allowed, judge("not-an-ip") is None
    ('Deny', False, True)
    """
    from regdoctor import acr

    rules = Rules(
        registry=cfg.name,
        login_server=cfg.login_server,
        public_access="Enabled" if cfg.public_enabled else "Disabled",
        default_action="Deny" if cfg.default_deny else "Allow",
        ip_rules=tuple(r.value for r in cfg.ip_rules),
    )

    def judge(ip: str) -> CallerVerdict | None:
        try:
            client = acr.Client.from_ip(ip)
        except ValueError:
            return None
        v = acr.judge(cfg, client)
        return CallerVerdict(client.value, v.allowed, v.rule, v.reason, v.basis)

    return rules, judge


__all__ = ["CallerVerdict", "Rules", "network_judge"]
