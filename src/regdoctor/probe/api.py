"""The registry's API as a client reaches it: each request on the route to its host, and the
redirects the registry answers with followed to the hosts it hands its API to.

Strategy
--------
registry.k8s.io answers every ``/v2/`` request but blob downloads — ``GET /v2/`` itself
included — with a 307 to a regional Artifact Registry (``…-docker.pkg.dev``); a front end may
send ``/v2`` to ``/v2/`` or plain HTTP to HTTPS. Docker and containerd follow these the way
Go's client does: only http and https, a bounded number of hops, each hop authorized *by its
own host* — docker's challenge manager keys a challenge by the host that sent it and its auth
transport adds the Authorization on every hop it sends; containerd's ``CheckRedirect``
re-authorizes each hop the same way. So credentials and tokens go to the host whose ``/v2/``
challenge they answer and to no other (``RegistryApi.auth_at``).

A host first met on such a redirect walks every network layer as an endpoint of its own, role
``data`` with the registry as its parent: like a blob host, it is a host the registry sends the
client on to, which an allow list written for the registry alone leaves out (``explain`` reads
a failure on it the same way). Its route is kept, so later requests that land there reuse it.
Blob downloads are not followed here: their redirects go to storage, which ``probe.registry``
walks hop by hop (and sends on to a host of this table when a hop lands on one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from regdoctor import classify
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Layer, Step
from regdoctor.net import Deadline, NetError
from regdoctor.net.http import HttpResponse
from regdoctor.probe.endpoint import ProbeOptions, Route, probe_endpoint
from regdoctor.probe.errors import code_for
from regdoctor.probe.redirects import (
    MAX_REDIRECTS,
    REDIRECT_STATUSES,
    RedirectRefused,
    join_location,
    redirect_target,
    urlscheme,
)
from regdoctor.probe.route import authority
from regdoctor.probe.steps import StepLog
from regdoctor.redact import redact_location

if TYPE_CHECKING:
    from regdoctor.probe.events import Observer

#: the path of the ping, with or without its slash: its answer is judged as ``GET /v2/``'s
_PING_PATHS = ("/v2/", "/v2")


class Flow(StepLog):
    """The state of one pull path: the registry's steps plus the endpoints found on the way.

    ``display`` is the registry as the user names it: ``host`` or ``host:port`` (Docker's
    credential key, the certs.d name); the endpoints found on the way name it as their parent.
    """

    def __init__(self, host: str, port: int, steps: list[Step], display: str = "", *,
                 observer: Observer | None = None) -> None:
        super().__init__(steps, observer=observer, where=(host, port, "registry"))
        self.host = host
        self.port = port
        self.display = display or authority(host, port, "https")
        self.extra: list[EndpointResult] = []

    @property
    def failed(self) -> bool:
        return self.done


def is_redirect(resp: HttpResponse) -> bool:
    """A redirect Go's client would follow: a 301/302/303/307/308 with a Location."""
    return resp.status in REDIRECT_STATUSES and bool(resp.header("location"))


def send(flow: Flow, route: Route, method: str, target: str, opts: ProbeOptions, authz: str | None, *,
         extra: list[tuple[str, str]] | None = None, name: str | None = None,
         layer: Layer = "registry", max_body: int = 64 * 1024) -> HttpResponse | None:
    """One request on ``route``; a network failure here is recorded and returns None."""
    flow.begin(layer, name or f"{method} {target}", opts.timeout)
    t0 = time.monotonic()
    headers = list(extra or [])
    if authz:
        headers.append(("Authorization", authz))
    try:
        return route.request(method, target, Deadline(opts.timeout), headers, max_body=max_body)
    except NetError as exc:
        flow.add(layer, name or f"{method} {target}", "fail", t0, f"{method} {target}: {exc.message}",
                 code_for(exc), {**exc.info, "address": route.address, "port": route.port, "path": target,
                                 "timeout_s": opts.timeout, "during": f"{method} {target}",
                                 "http_error": exc.message, "tls_note": ""})
        return None


def same_site(host: str, registry: str) -> bool:
    """Whether ``host`` is ``registry`` or a subdomain of it (Go's rule for forwarding an
    Authorization header on a redirect), so the registry's credential may go there.

    >>> [same_site(h, "r.example") for h in ("r.example", "eu.r.example", "evil.example", "xr.example")]
    [True, True, False, False]
    """
    h, r = host.lower().rstrip("."), registry.lower().rstrip(".")
    return h == r or h.endswith("." + r)


def _answered(resp: HttpResponse) -> classify.Verdict:
    """The network path to a host the registry redirected a request to works once it answers;
    what the answer means is the request's own verdict (manifest, login), read by the flow."""
    return classify.Verdict("pass", None, f"{resp.status} {resp.reason}: answered the redirected request",
                            {"status": resp.status, "headers": classify.kept_headers(resp.headers)})


def _key(route: Route) -> tuple[str, str, int]:
    return route.scheme, route.host, route.port


@dataclass
class RegistryApi:
    """What every request of one pull path shares: its step log, the route to the registry and
    to each host its redirects led to, the options, and the Authorization the login produced —
    sent to ``auth_at``, the host whose challenge it answers, only."""

    flow: Flow
    route: Route
    opts: ProbeOptions
    authz: str | None = None
    auth_at: tuple[str, int] | None = None
    routes: dict[tuple[str, str, int], Route] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.routes.setdefault(_key(self.route), self.route)
        if self.auth_at is None:
            self.auth_at = (self.route.host, self.route.port)

    def known(self, scheme: str, host: str, port: int) -> Route | None:
        """The route to a host this pull path already reached (the registry, a redirect's host)."""
        return self.routes.get((scheme, host, port))

    def authorizes(self, route: Route) -> bool:
        """Whether a request on ``route`` carries the login's Authorization, as this client sends it."""
        if self.opts.redirect_auth == "request":
            # on the request to the registry; Go keeps it on a redirect to the same host and port
            # (or a subdomain on that port: `canonicalAddr`, the rule of the Go the distributions build with)
            return route.port == self.route.port and same_site(route.host, self.route.host)
        return (route.host, route.port) == self.auth_at

    def drops_auth(self, route: Route) -> bool:
        """Whether the login's Authorization was dropped on the way to ``route`` although it is the
        host whose challenge it answers (containers/image behind a cross-host redirect)."""
        return self.authz is not None and (route.host, route.port) == self.auth_at and not self.authorizes(route)

    def send(self, route: Route, method: str, target: str, *, extra: list[tuple[str, str]] | None = None,
             name: str | None = None, layer: Layer = "registry", max_body: int = 64 * 1024) -> HttpResponse | None:
        """One request on ``route``, authorized as the client would (``authorizes``)."""
        authz = self.authz if self.authorizes(route) else None
        return send(self.flow, route, method, target, self.opts, authz, extra=extra, name=name, layer=layer,
                    max_body=max_body)

    def request(self, method: str, target: str, *, extra: list[tuple[str, str]] | None = None,
                name: str | None = None, layer: Layer = "registry", max_body: int = 64 * 1024,
                follow: bool = True) -> HttpResponse | None:
        """``method target`` on the registry, its redirects followed unless ``follow`` is False."""
        got = self.request_via(method, target, extra=extra, name=name, layer=layer, max_body=max_body,
                               follow=follow)
        return got[0] if got is not None else None

    def request_via(self, method: str, target: str, *, extra: list[tuple[str, str]] | None = None,
                    name: str | None = None, layer: Layer = "registry", max_body: int = 64 * 1024,
                    follow: bool = True) -> tuple[HttpResponse, Route] | None:
        """``request``, and the route of the host that gave the answer."""
        resp = self.send(self.route, method, target, extra=extra, name=name, layer=layer, max_body=max_body)
        if resp is None:
            return None
        if not follow:
            return resp, self.route
        return self.follow(resp, self.route, method, target, extra=extra, name=name or f"{method} {target}",
                           layer=layer, max_body=max_body)

    def follow(self, resp: HttpResponse, route: Route, method: str, target: str, *,
               extra: list[tuple[str, str]] | None = None, name: str, layer: Layer = "registry",
               max_body: int = 64 * 1024, shown: bool = False) -> tuple[HttpResponse, Route] | None:
        """The answer at the end of ``resp``'s redirects and the route it came on (``resp`` and
        ``route`` themselves when it is no redirect); None when a hop failed (recorded).
        ``shown``: a step already shows ``resp`` (the endpoint's own ``GET /v2/``), so its first
        redirect is not recorded twice."""
        flow = self.flow
        seen = [f"{route.scheme}://{route.host_header}{target}"]
        for hop in range(1, MAX_REDIRECTS + 2):
            if not is_redirect(resp):
                return resp, route
            t0 = time.monotonic()
            current = join_location(seen[-1], resp.header("location") or "")
            location = redact_location(current)
            ev: dict[str, Any] = {"request": f"{method} {target}", "registry_host": flow.display,
                                  "status": resp.status, "location": location}
            if current in seen or hop > MAX_REDIRECTS:
                chain = [redact_location(u) for u in [*seen, current]]
                why = f"redirect loop after {hop} hops" if current in seen else f"more than {MAX_REDIRECTS} redirects"
                flow.add(layer, f"{name} redirect", "fail", t0, why, Code.REGISTRY_REDIRECT_LOOP,
                         {**ev, "redirects": hop, "chain": chain})
                return None
            seen.append(current)
            hop_target = redirect_target(current)
            if isinstance(hop_target, RedirectRefused):
                flow.add(layer, f"{name} redirect", "fail", t0, f"redirect to {location}: {hop_target.reason}",
                         hop_target.code, {**ev, "reason": hop_target.reason, "scheme": urlscheme(current) or "(none)"})
                return None
            scheme, host, port, path = hop_target
            if not (shown and hop == 1):
                flow.add(layer, f"{name} redirect", "pass", t0, f"{resp.status} redirect to {location}", evidence=ev)
            route_to = self.known(scheme, host, port)
            if route_to is None:
                reached = self._reach(scheme, host, port, method, path, extra=extra, name=name, layer=layer,
                                      max_body=max_body)
                if reached is None:
                    return None
                resp, route = reached
            else:
                got = self.send(route_to, method, path, extra=extra, name=f"{name} at {route_to.host_header}",
                                layer=layer, max_body=max_body)
                if got is None:
                    return None
                resp, route = got, route_to
        return None  # not reached: the loop returns on its last hop

    def _reach(self, scheme: str, host: str, port: int, method: str, path: str, *,
               extra: list[tuple[str, str]] | None, name: str, layer: Layer,
               max_body: int) -> tuple[HttpResponse, Route] | None:
        """Walk a host first met on a redirect, the redirected request as its HTTP step."""
        flow = self.flow
        t0 = time.monotonic()
        ping = path.split("?", 1)[0] in _PING_PATHS
        # reached on the registry's transport: its trust, not the hop's own (ProbeOptions.for_hop)
        hop_opts = replace(self.opts.for_hop(flow.host, flow.port, host, port), plain_http=scheme == "http")
        result, route, resp = probe_endpoint(
            host, port, "data", hop_opts,
            origin=f"API redirect from {flow.display}", parent=flow.display, path=path,
            http_check=None if ping else _answered, request_headers=list(extra or []), method=method)
        flow.extra.append(result)
        if route is None or resp is None:
            flow.add(layer, name, "fail", t0,
                     f"{authority(host, port, scheme)}, where {flow.display} redirected {method} "
                     f"{redact_location(path)}, failed: see that endpoint", evidence={"fqdn": host})
            return None
        self.routes[_key(route)] = route
        if resp.truncated and max_body > len(resp.body):
            # the walk keeps an endpoint's usual share of the answer; a manifest is read whole
            again = self.send(route, method, path, extra=extra, name=f"{name} at {route.host_header}", layer=layer,
                              max_body=max_body)
            return (again, route) if again is not None else None
        return resp, route


__all__ = ["Flow", "RegistryApi", "is_redirect", "same_site", "send"]
