"""What every probe of a run shares: the deadline per step, the proxy override, trust, the env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from regdoctor import __version__

USER_AGENT = f"regdoctor/{__version__}"


@dataclass(frozen=True)
class ProbeOptions:
    """Options of one run.

    ``env`` is the environment whose proxy variables apply (the shell's, or an actor's for
    ``check --as``); ``proxy`` overrides it: ``"none"`` forces a direct connection, a URL forces
    that proxy, ``None`` reads ``env`` with Go's rules.
    """

    timeout: float = 5.0
    proxy: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    plain_http: bool = False
    user_agent: str = USER_AGENT


__all__ = ["USER_AGENT", "ProbeOptions"]
