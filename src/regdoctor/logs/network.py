"""Caller addresses held against the registry's network rules: the one door into ``regdoctor.acr``.

``logs`` does not model ACR's firewall itself: ``acr access`` does (reference §2). Everything
``logs`` needs from it goes through ``network_judge``, the only function here that touches
``regdoctor.acr``, so a change of that package's API is a change of this one function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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


def network_judge(config_path: str) -> tuple[Rules, Callable[[str], CallerVerdict | None]]:
    """Read ``az acr show`` JSON (``BadInput`` when unreadable) and return a judge of addresses.

    The judge returns ``None`` for a value that is not an IP address.

    >>> import json, tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
    ...     json.dump({"loginServer": "r1234.azurecr.io", "publicNetworkAccess": "Enabled",
    ...                "networkRuleSet": {"defaultAction": "Deny", "ipRules": []}}, fh)
    >>> rules, judge = network_judge(fh.name)
    >>> rules.default_action, judge("20.1.2.3").rule
    ('Deny', 'defaultAction=Deny')
    """
    from regdoctor import acr

    cfg = acr.load(config_path)
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
