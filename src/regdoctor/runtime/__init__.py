"""Each actor's effective registry settings — proxies, mirrors, CA trust — read from files and /proc.

Strategy
--------
Pulls are made by daemons whose environment the user rarely sees (dockerd, containerd, CRI-O,
k3s's embedded containerd…), each reading its proxy from a different place with a different
parser. ``audit`` reads every actor it finds through one ``Source`` (a root directory and a proc
directory, so ``--root`` and fake roots in tests need nothing else) and returns ``Actor`` values;
``rules`` turns them into routes and findings. Nothing here opens a socket or writes a file.
``audit`` and ``actor_for`` live in ``actors``; this package names them (loaded on first use).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from regdoctor.runtime.actors import actor_for, audit
    from regdoctor.runtime.model import Actor, Mirror, Origin, Route, Trust, Value
    from regdoctor.runtime.source import Source

#: ``check --as`` names → the actor whose settings are used
AS_ACTORS = ("docker", "containerd", "podman", "crio", "k3s", "kubelet", "shell")

# The names are loaded on first use (PEP 562): importing ``regdoctor.runtime.vantage`` or
# ``.source`` then costs only that module, and a healthy ``check`` reads the actors on a
# thread of its own, beside the probes (``vantage``), instead of importing them all up front.
_LAZY = {"actor_for": "actors", "audit": "actors", "Source": "source", "Actor": "model", "Mirror": "model",
         "Origin": "model", "Route": "model", "Trust": "model", "Value": "model"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["AS_ACTORS", "Actor", "Mirror", "Origin", "Route", "Source", "Trust", "Value", "actor_for", "audit"]
