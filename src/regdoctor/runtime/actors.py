"""``audit``: every actor found under a ``Source``, the shell first; ``actor_for``: the one ``--as`` names.

>>> [a.name for a in audit(Source("/nonexistent"), {"HTTPS_PROXY": "http://p:3128"})]
['shell']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from regdoctor.runtime.containerd import containerd
from regdoctor.runtime.containers import crio, podman
from regdoctor.runtime.docker import docker_cli, dockerd
from regdoctor.runtime.kube import aks, k3s_like, kubelet, microk8s, shell
from regdoctor.runtime.model import Actor
from regdoctor.runtime.source import Source


def audit(src: Source, shell_env: Mapping[str, str], aks_configs: Sequence[tuple[str, str]] = ()) -> list[Actor]:
    """Every actor found under ``src``, the shell first. ``aks_configs``: (path, JSON text) pairs."""
    env = dict(shell_env)
    procs = src.processes()
    found: list[Actor | None] = [
        shell(env), dockerd(src, procs), docker_cli(src, env, procs), containerd(src, procs), crio(src, procs),
        podman(src, env, procs), k3s_like(src, procs, "k3s"), k3s_like(src, procs, "rke2"), microk8s(src, procs),
        kubelet(src, procs),
    ]
    found += [aks(text, path) for path, text in aks_configs]
    return [a for a in found if a is not None]


def actor_for(name: str, actors: Sequence[Actor]) -> Actor | None:
    """The actor ``check --as NAME`` probes through (``docker`` → dockerd, ``kubelet`` → its runtime).

    >>> actor_for("shell", audit(Source("/nonexistent"), {})).name
    'shell'
    """
    by_name = {a.name: a for a in actors}
    if name == "docker":
        return by_name.get("dockerd")
    if name == "kubelet":
        for candidate in ("k3s", "rke2", "microk8s"):
            if candidate in by_name:
                return by_name[candidate]
        kube = by_name.get("kubelet")
        return by_name.get("crio" if kube is not None and "crio" in kube.label else "containerd")
    return by_name.get(name)


__all__ = ["actor_for", "audit"]
