"""What every probe of a run shares: the deadline per step, the proxy override, trust, the env."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from regdoctor import __version__

if TYPE_CHECKING:
    import ssl

    from regdoctor.net.tls import ContextCache
    from regdoctor.probe.events import Observer

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
    #: CA files added to the system roots per ``host[:port]`` (a runtime's certs.d, ``check --as``)
    trust: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``host[:port]`` whose certificate the actor does not verify (daemon.json
    #: ``insecure-registries``, registries.conf ``insecure``, hosts.toml ``skip_verify``; ``check --as``)
    insecure: frozenset[str] = frozenset()
    #: who gets the login's Authorization when the registry redirects an API request (``probe.api``):
    #: ``"host"`` - each host its own challenge's (docker, containerd); ``"request"`` - the request to
    #: the registry, kept by Go on a redirect only to the same host and port (containers/image: podman,
    #: CRI-O, skopeo, buildah)
    redirect_auth: str = "host"
    #: called with each ``probe.events.ProbeEvent`` (live progress); None: nobody watches
    observer: Observer | None = field(default=None, compare=False, repr=False)
    #: the run's TLS contexts, one per trust setting (``probe.run`` sets a fresh one per run);
    #: None: every connection builds its own
    contexts: ContextCache | None = field(default=None, compare=False, repr=False)

    def tls_context(self, extra: tuple[str, ...] = (), *, verify: bool = True) -> ssl.SSLContext:
        """The client context for this run's trust: ``ca_file``, else the system store plus ``extra``
        (``verify=False``: an unverified one, only to read a chain as evidence)."""
        from regdoctor.net import tls as ntls

        if self.contexts is None:
            return ntls.make_context(self.ca_file if verify else None, verify=verify, extra=extra)
        return self.contexts.get(self.ca_file if verify else None, verify=verify, extra=extra)

    def skips_verify(self, host: str, port: int) -> bool:
        """Whether the actor's configuration turns certificate verification off for ``host:port``
        (its names omit :443, as certs.d does).

        >>> ProbeOptions(insecure=frozenset({"r.io:5000"})).skips_verify("r.io", 5000)
        True
        """
        return (host if port == 443 else f"{host}:{port}") in self.insecure or f"{host}:{port}" in self.insecure

    def extra_trust(self, host: str, port: int) -> tuple[str, ...]:
        """The CA files a runtime adds for ``host:port`` (certs.d names omit :443).

        >>> ProbeOptions(trust={"r.io": ("/ca.crt",)}).extra_trust("r.io", 443)
        ('/ca.crt',)
        """
        key = host if port == 443 else f"{host}:{port}"
        return tuple(self.trust.get(key, ())) + tuple(self.trust.get(f"{host}:{port}", ()) if port == 443 else ())

    def for_hop(self, host: str, port: int, hop_host: str, hop_port: int) -> ProbeOptions:
        """The options for a host the registry ``host:port`` sent the client to (its token realm, a
        redirect's target). A runtime reaches it on the registry's own transport — docker builds one
        per registry, containerd one per hosts.toml host, containers/image one per registry — so the
        registry's certs.d CAs and its insecure setting apply there, and the hop's own do not.

        >>> o = ProbeOptions(trust={"r.io": ("/r.crt",), "cdn.io": ("/cdn.crt",)}, insecure=frozenset({"r.io"}))
        >>> h = o.for_hop("r.io", 443, "cdn.io", 443)
        >>> h.extra_trust("cdn.io", 443), h.skips_verify("cdn.io", 443)
        (('/r.crt',), True)
        """
        if not self.trust and not self.insecure:
            return self
        from dataclasses import replace

        key = hop_host if hop_port == 443 else f"{hop_host}:{hop_port}"
        extra = self.extra_trust(host, port)
        return replace(self, trust={key: extra} if extra else {},
                       insecure=frozenset({key}) if self.skips_verify(host, port) else frozenset())


__all__ = ["USER_AGENT", "ProbeOptions"]
