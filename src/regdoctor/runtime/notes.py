"""Pure: without ``--as``, the note that a running daemon would take another path than the shell.

Split in two so that the expensive half can run beside the probes: ``pullers`` reduces the
audited actors to the running daemons that pull images, with the environment they really use
(plain data), and ``path_notes_for`` compares their proxy
choice with the shell's for each probed endpoint, once the probes are done. This module imports
no actor reader, so the check that only needs the note does not load them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding
from regdoctor.proxyconf.rules import go_proxy_for, redact_url

if TYPE_CHECKING:
    from regdoctor.runtime.model import Actor

#: The process names the actors' live readers look for (docker.py ``dockerd``, containerd.py and
#: microk8s ``containerd``, containers.py ``crio``, kube.py ``k3s``/``rke2``/``kubelet``): only a running
#: one can be a ``Puller``, so without any of them the audit has nothing to say and is not run
#: (tests/unit/test_check_cost.py holds the readers to this set).
DAEMON_PROCESSES = frozenset({"dockerd", "containerd", "crio", "k3s", "rke2", "kubelet"})

#: actor name → the ``--as`` name that probes through it
AS_NAME = {"dockerd": "docker", "containerd": "containerd", "podman": "podman", "crio": "crio", "k3s": "k3s",
           "rke2": "kubelet", "microk8s": "kubelet"}


@dataclass(frozen=True)
class Puller:
    """A running daemon that pulls images, and the proxy environment its requests use."""

    name: str
    label: str
    pid: int | None
    env: tuple[tuple[str, str], ...]


def pullers(actors: Sequence[Actor]) -> list[Puller]:
    """The actors a note can be about: running (a live environment), pulling, reachable with ``--as``."""
    return [Puller(a.name, a.label, a.pid, tuple(sorted(a.env().items()))) for a in actors
            if a.live is not None and a.pulls and a.name in AS_NAME]


def path_notes_for(daemons: Sequence[Puller], shell_env: Mapping[str, str], endpoints: Sequence[EndpointResult],
                   target: str) -> list[Finding]:
    """One ``RUNTIME_PATH_DIFFERS`` note per daemon whose proxy for a probed host is not the shell's.

    >>> from regdoctor.model import Step
    >>> e = EndpointResult(host="r.io", port=443, role="registry", steps=(Step("tcp", "connect", "pass", 1.0, "ok"),))
    >>> d = Puller("dockerd", "Docker daemon (dockerd)", 42, (("HTTPS_PROXY", "http://p:3128"),))
    >>> [f.evidence["actor_path"] for f in path_notes_for([d], {}, [e], "r.io/app")]
    ['via http://p:3128']
    >>> path_notes_for([d], {"HTTPS_PROXY": "http://p:3128"}, [e], "r.io/app")
    []
    """
    out: list[Finding] = []
    for d in daemons:
        env = dict(d.env)
        for e in endpoints:
            mine = go_proxy_for(env, e.host, e.port, scheme=e.scheme)
            shell = go_proxy_for(shell_env, e.host, e.port, scheme=e.scheme)
            if (mine.proxy or None) == (shell.proxy or None):
                continue
            out.append(kb.code(Code.RUNTIME_PATH_DIFFERS).finding(host=e.host, evidence={
                "actor": d.name, "actor_label": d.label, "pid": d.pid, "as_name": AS_NAME[d.name], "target": target,
                "actor_path": f"via {redact_url(mine.proxy)}" if mine.proxy else f"directly ({mine.reason})",
                "shell_path": f"via {redact_url(shell.proxy)}" if shell.proxy else f"directly ({shell.reason})"},
                root_cause=False))
            break
    return out


__all__ = ["AS_NAME", "Puller", "path_notes_for", "pullers"]
