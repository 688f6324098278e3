"""regdoctor: why can't this machine pull from that registry?

The public API is small and typed; the CLI is built on it::

    >>> from regdoctor import parse_target
    >>> t = parse_target("nginx:1.25")  # read as docker reads it
    >>> t.normalized, t.host
    ('docker.io/library/nginx:1.25', 'registry-1.docker.io')
    >>> parse_target("myregistry.azurecr.io").host  # a registry alone (SPEC's one extension)
    'myregistry.azurecr.io'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "EndpointResult",
    "Finding",
    "Report",
    "Step",
    "Target",
    "__version__",
    "check",
    "diagnose",
    "explain",
    "parse_target",
]

if TYPE_CHECKING:
    from regdoctor.diagnose import diagnose
    from regdoctor.explain import explain
    from regdoctor.model import EndpointResult, Finding, Report, Step
    from regdoctor.probe.run import check
    from regdoctor.target import Target, parse_target

_LAZY = {
    "EndpointResult": "regdoctor.model",
    "Finding": "regdoctor.model",
    "Report": "regdoctor.model",
    "Step": "regdoctor.model",
    "Target": "regdoctor.target",
    "parse_target": "regdoctor.target",
    "diagnose": "regdoctor.diagnose",
    "explain": "regdoctor.explain",
    "check": "regdoctor.probe.run",
}


def __getattr__(name: str) -> Any:
    # Lazy so that `regdoctor --version` stays fast: nothing heavy is imported up front.
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'regdoctor' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(mod), name)
