"""Matching: one line -> what it can mean, ranked.

The grammar (``grammar.read``) gives the leaf and the structure around it; the leaf's kind is
looked up in the leaf table (``kb/symptoms.toml [leaf.*]``). Then the reading decides where it
happened (``kb.roles``, the table ``check`` uses): behind a proxy hop the leaf is the proxy's; on
a blob storage / CDN host it is a ``data`` finding; on a separate token host the token
service's; the original code stays as a lower alternative. Specific messages (``[[symptom]]``:
ACR's firewall text, Docker Hub's quota, the az CLI's wording) refine the reading: each that
matches adds its codes, and the surest code of all is the line's primary.
"""

from __future__ import annotations

import itertools
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from regdoctor import kb, reference
from regdoctor.explain import engine_api, grammar, tokens
from regdoctor.explain.entities import (
    ACR_DATA,
    LineState,
    acr_entities,
    extract,
    fingerprints,
    host_port,
    image_entities,
    strip_brackets,
)
from regdoctor.explain.vocab import names_network_rule
from regdoctor.kb import roles
from regdoctor.kb.codes import Code
from regdoctor.kb.symptoms import Candidate, LeafRule, Symptom, SymptomBook, book
from regdoctor.proxyconf.rules import mangled_host
from regdoctor.target import acr_name


@dataclass(frozen=True)
class LineMatch:
    """One line recognised: its primary symptom, the ranked codes, and what was extracted."""

    lineno: int
    #: ``leaf.<kind>`` when the grammar's reading decided, else the refining symptom's id
    symptom: str
    matched: str
    #: (code, confidence), best first; the first is the primary
    ranked: tuple[tuple[Code, float], ...]
    entities: Mapping[str, Any]
    notes: tuple[str, ...]
    line: str

    @property
    def code(self) -> Code:
        return self.ranked[0][0]

    @property
    def confidence(self) -> float:
        return self.ranked[0][1]


# the pull is made by a daemon with an environment of its own: dockerd, or containerd for the kubelet
_DAEMON_MARKERS = ("Error response from daemon", "rpc error: code = ", "failed to pull and unpack image",
                   "Failed to pull image", "ErrImagePull")
# the client is checking the registry's API root (/v2/) before any repository request
_PING_MARKERS = ("pinging container registry", "pinging docker registry", "error pinging", "login attempt")
# the failing request belongs to a push (uploads, the push-permission check)
# (containers/image names the push's side: `trying to reuse blob … at destination`, and its HEAD of a blob
# it would upload: `checking whether a blob … exists in R`)
_PUSH_MARKERS = ("The push refers to", "failed to push", "checking push permission", "/blobs/uploads", "writing blob",
                 "uploading layer", "action: push", "error pushing", "push access denied", "at destination:",
                 "checking whether a blob")
#: what only a push prints (`writing blob` is also containers/image storing a *downloaded* blob)
_UPLOAD_MARKERS = (*(m for m in _PUSH_MARKERS if m != "writing blob"), "docker push ", "podman push ", "buildah push ")
# the client asked for its token without credentials (containerd: no credentials for this host, so
# `FetchToken` went anonymous; the kubelet's `there are no credentials on this request`): a 401 or
# 403 there is the registry wanting a login, not refusing one
_ANONYMOUS_MARKERS = ("failed to fetch anonymous token", "fetching anonymous token", "no credentials on this request")
# the client says it sent credentials: a login that worked, gitlab-runner's `Authenticating with
# credentials from $DOCKER_AUTH_CONFIG / job payload`, docker login's warning that a password was given
# (`Using --password via the CLI is insecure…`, whose `--password via` the redaction hides)
_LOGGED_IN_MARKERS = ("Login Succeeded", "login Succeeded", "Login succeeded", "Authenticating with credentials from",
                      "the CLI is insecure")
_LOGIN_MARKERS = ("login attempt", "Login failed", "login failed", "Error saving credentials", "Login did not succeed",
                  "az acr login", "unable to login", "error logging in", "the CLI is insecure",
                  "authenticating creds for")


# A proxy *setting* in the paste (the shell's variables, `docker info`'s `HTTP Proxy:`, a unit's
# Environment=, daemon.json's "proxies"): with a request that went direct (no proxy hop in the
# chain), the process that failed did not use that proxy - the seed article's case of a proxy
# set for the docker client and not the daemon.
_PROXY_SETTING = re.compile(r"\b(?i:https?|all)_(?i:proxy)\s{0,3}+=\s{0,3}+[\"']?+[a-z0-9]"
                            r"|\bHTTPS? Proxy: \S|\"https?-?[Pp]roxy\"\s{0,3}+:\s{0,3}+\"[a-z]"
                            # a tool announcing the proxy it took (`Setting proxy from environment: http://…`,
                            # `Using proxy http://…`): what fails after it went direct anyway
                            r"|\b(?i:setting|using) (?i:https? )?proxy(?: from (?:the )?environment)?:? https?://")


def _seen(markers: Sequence[str], ln: LineState) -> bool:
    """One of ``markers`` is on the line or on the line before (a wrapper printed there)."""
    return any(m in ln.text or m in ln.prev for m in markers)


def _endpoint_conditions(ln: LineState, leaf_url: str | None, proxied: bool, bk: SymptomBook) -> set[str]:
    """What kind of endpoint and path the line is about: ACR, a proxy hop, a token service, plain http."""
    e, text, ctx = ln.entities, ln.text, bk.context
    conds: set[str] = set()
    hosts = [h for h in (e.get("host"), e.get("registry_host"), e.get("login_server"), e.get("python_host"),
                         e.get("url_host")) if isinstance(h, str)]
    if any(h.lower().endswith(".azurecr.io") for h in hosts) or "azurecr.io" in text.lower() or "aka.ms/acr" in text:
        conds.add("acr")
    if proxied or any(m in text for m in ctx.proxy_markers) or "proxy" in e or "proxy_address" in e:
        conds.add("proxy")
    if any(m in text for m in ctx.realm_markers) or (leaf_url is not None and is_realm_path(leaf_url)):
        conds.add("token")
    if leaf_url is not None and leaf_url.startswith("http://"):
        conds.add("http_url")
    if any(_host_in(h, ctx.iam_registries) for h in hosts):
        conds.add("iam_registry")
    failing = e.get("url_host") or e.get("host") or e.get("registry_host")
    # (behind a proxy hop the failing peer is the proxy, whatever host the request was for)
    if not proxied and isinstance(failing, str) and (
            _host_in(failing, ctx.iam_registries) or _host_in(failing, ctx.public_ca_hosts)
            or roles.table().role_of_host(failing) == "data"):
        conds.add("public_host")
    return conds


_STATUS_CONDITIONS = frozenset({"401", "403", "404", "408", "413", "429"})
#: leaves that refuse the client; their message can name the network rule that did (NETWORK_RULE)
_REFUSALS = frozenset({"status.403", "oci.denied", "oci.unauthorized", "status.401"})


def _answer_conditions(ln: LineState, bk: SymptomBook) -> set[str]:
    """What the server answered: an intercepting certificate, a status, an HTML page, a storage XML error."""
    e, fields = ln.entities, ln.reading.fields
    conds: set[str] = set()
    names = " ".join(str(e.get(k, "")) for k in ("issuer", "cert_names", "tls_error")).lower()
    if names.strip() and any(n in names for n in bk.interception):
        conds.add("interception")
    status = e.get("status")
    if status in _STATUS_CONDITIONS:
        conds.add(f"status_{status}")
    conds.update(k for k in ("html", "storage_xml") if k in fields)
    leaf = ln.reading.leaf
    if leaf is not None and leaf.kind.startswith("oci."):
        # a registry code with no message of its own, or one that repeats the code (GHCR's `denied: denied`,
        # its answer to a credential it rejects outright): the registry gave no reason
        message = str(fields.get("message", "")).strip(" .").lower()
        code_word = str(fields.get("oci_code", "")).lower().replace("_", " ")
        if not message:
            conds.add("bare_refusal")
        elif message == code_word:
            conds.add("echoed_refusal")
    if leaf is not None and leaf.kind in _REFUSALS:
        # the refusal's own words: its message field, or what the line says after the status
        words = str(fields.get("message", "")) + " " + ln.text[leaf.end:leaf.end + 300]
        if names_network_rule(words):
            conds.add("network_rule")
    return conds


def _operation_conditions(ln: LineState, leaf_url: str | None, blob_op: bool, bk: SymptomBook) -> set[str]:
    """What the client was doing: a manifest, login, blob, ping or push request, by a daemon or not."""
    e = ln.entities
    conds = {name for name, markers in (("manifest", bk.context.manifest_markers), ("login", _LOGIN_MARKERS),
                                         ("daemon", _DAEMON_MARKERS), ("logged_in", _LOGGED_IN_MARKERS),
                                         ("anonymous", _ANONYMOUS_MARKERS))
             if _seen(markers, ln)}
    if blob_op:
        conds.add("blob")
    if _PROXY_SETTING.search(ln.text) or _PROXY_SETTING.search(ln.prev):
        conds.add("proxy_set")
    if _seen(_PING_MARKERS, ln) or (leaf_url is not None and host_port(leaf_url)[3].rstrip("/") in ("", "/v2")):
        conds.add("ping")  # the API root (/v2/): no repository asked yet, so no per-repository verdict
    if _seen(_PUSH_MARKERS, ln) or e.get("method") in ("POST", "PUT", "PATCH"):
        conds.add("push")
    return conds


def _address_conditions(e: Mapping[str, Any]) -> set[str]:
    """What the dialled address says: a name resolved to loopback (or ICANN's collision answer), IPv6."""
    conds: set[str] = set()
    dial = e.get("address")
    host = e.get("url_host") or e.get("registry_host")
    if (isinstance(dial, str) and (dial.startswith("127.") or dial == "::1") and isinstance(host, str)
            and host != "localhost" and not host.startswith("127.")):
        conds.add("loopback_dial")  # the name resolved to a loopback address (/etc/hosts, a stub)
        if dial == "127.0.53.53":
            conds.add("name_collision")  # ICANN's name-collision answer: DNS, never a listener
    if isinstance(dial, str) and ":" in dial:
        conds.add("ipv6_dial")
    return conds


def _reference_conditions(e: Mapping[str, Any], leaf_url: str | None) -> set[str]:
    """What the requested name says: a Docker Hub official image, a name the reference grammar refuses."""
    conds: set[str] = set()
    repo = e.get("repository")
    if (isinstance(repo, str) and repo.startswith("library/")
            and e.get("registry_host") in ("docker.io", "registry-1.docker.io", "index.docker.io")):
        conds.add("official_image")  # Docker Hub's official images are public: a refusal means no such name
        if _HOST_NAME.fullmatch(repo.removeprefix("library/")):
            # `docker push r.azurecr.io` (a registry with no repository) names the official image
            # `docker.io/library/r.azurecr.io`: no official image has a dot in its name
            conds.add("host_as_repository")
    if _bare_docker_hub_name(e, leaf_url):
        # every Docker Hub repository has a namespace (`library/` for the official images): a client
        # that asked for `nginx` without it asked for a repository that cannot exist
        conds.add("official_image")
    if leaf_url is not None and not _reference_path_ok(host_port(leaf_url)[3]):
        conds.add("bad_reference")  # the request names a repository or tag the reference grammar refuses
    return conds


def _conditions(ln: LineState, leaf_url: str | None, proxied: bool, blob_op: bool, bk: SymptomBook
                ) -> frozenset[str]:
    """The conditions the symptom book's boosts test, from every concern of the line."""
    return frozenset(_endpoint_conditions(ln, leaf_url, proxied, bk) | _answer_conditions(ln, bk)
                     | _operation_conditions(ln, leaf_url, blob_op, bk) | _address_conditions(ln.entities)
                     | _reference_conditions(ln.entities, leaf_url))


#: a DNS name of two labels or more whose last is a top-level domain's (letters only)
_HOST_NAME = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,24}")
_REPO_PATH = re.compile(r"\A/v2/(?P<name>[^?#]{1,4096}?)/(?P<kind>manifests|blobs|tags)/(?P<ref>[^/?#]{1,4096})")
_REDACTION_CHARS = frozenset("*<>{}[]$…%")
_PATH_COMPONENT = re.compile(r"\A" + reference.PATH_COMPONENT_PATTERN + r"\Z", re.ASCII)


def _reference_path_ok(path: str) -> bool:
    """A registry API path does not name a repository or tag the reference grammar refuses.

    Registries answer 400 (ECR, GAR) or 404 for a name their grammar refuses. Only the violations
    people really make count (an upper-case repository, a tag with ``+`` from a semver build suffix, a
    tag starting with ``-`` or ``.``); a part with the characters people redact with (``***``,
    ``<name>``, ``…``) is unknown, not invalid.

    >>> _reference_path_ok("/v2/team/app/manifests/1.2"), _reference_path_ok("/v2/repo/manifests/1.0+abc")
    (True, False)
    >>> _reference_path_ok("/v2/***/manifests/<tag>"), _reference_path_ok("/v2/Team/app/manifests/1")
    (True, False)
    """
    m = _REPO_PATH.match(urllib.parse.unquote(path))
    if m is None:
        return True
    name, ref = m.group("name"), m.group("ref")
    if any(ch in name + ref for ch in _REDACTION_CHARS):
        return True
    if not all(_PATH_COMPONENT.match(c) for c in name.split("/")) and name != name.lower():
        return False
    if m.group("kind") == "manifests" and ":" not in ref:
        return bool(reference.ANCHORED_TAG_RE.match(ref))
    return True


_DOCKER_HUB_HOSTS = ("docker.io", "registry-1.docker.io", "index.docker.io")


def _bare_docker_hub_name(e: Mapping[str, Any], leaf_url: str | None) -> bool:
    """The request went to Docker Hub for a repository without a namespace (``/v2/nginx/…``).

    >>> _bare_docker_hub_name({}, "https://registry-1.docker.io/v2/nginx/manifests/latest")
    True
    >>> _bare_docker_hub_name({}, "https://registry-1.docker.io/v2/library/nginx/manifests/latest")
    False
    """
    if leaf_url is None:
        return False
    host, _, _, path = host_port(leaf_url)
    if host not in _DOCKER_HUB_HOSTS:
        return False
    m = _REPO_PATH.match(path)
    return m is not None and "/" not in m.group("name")


def _host_in(host: str, suffixes: Sequence[str]) -> bool:
    """``host`` is one of ``suffixes`` (a leading dot: subdomains only, else the name or a subdomain)."""
    h = host.lower().rstrip(".")
    return any(h.endswith(s) if s.startswith(".") else (h == s or h.endswith("." + s)) for s in suffixes)


def is_realm_path(url: str) -> bool:
    _, _, _, path = host_port(url)
    return roles.table().is_realm_path(path)


def _leaf_urls(ln: LineState, leaf_at: int, inside_end: int) -> tuple[list[tokens.Url], Any]:
    """The URLs before the leaf and the one it is about (urllib3's pool URL, or the line before's)."""
    r, e = ln.reading, ln.entities
    before = [u for u in r.urls if u.start <= leaf_at] or [u for u in r.urls if u.start < inside_end]
    named = e.get("host")
    if isinstance(named, str) and before and (before[-1].host or "").lower() != named.lower():
        # the leaf names the host it failed on (`lookup A`); a wrapper nested another URL inside A's
        # (Harbor's `Head https://A/v2/: Get https://B/v2/: dial tcp: lookup A …`): A's request failed
        own = [i for i, u in enumerate(before) if (u.host or "").lower() == named.lower()]
        if own:
            before = before[:own[-1] + 1]
    leaf_url = before[-1].url if before else e.get("python_url")
    if leaf_url is None and ln.wrapped and "://" in ln.prev:
        # a message wrapped over lines: the URL the leaf is about ended the line before
        prev_urls = tokens.urls(ln.prev)
        if prev_urls:
            before = [prev_urls[-1]]
            leaf_url = prev_urls[-1].url
    return before, leaf_url


def _note_registry_host(e: dict[str, Any], r: grammar.Reading) -> Any:
    """The registry's host: a wrapper's, else a registry API URL's (/v2/ on no known role), else urllib3's."""
    registry_host = e.get("registry_host") or e.get("login_server")
    if registry_host is None:
        # only a registry API URL (/v2/…) names the registry; a blob URL may be a CDN's
        for u in r.urls:
            if u.host and u.path.startswith("/v2/") and roles.table().role_of_host(u.host) is None:
                registry_host = u.host
                e.setdefault("registry_port", u.port or (80 if u.scheme == "http" else 443))
                break
    if registry_host is None and isinstance(e.get("python_host"), str):
        registry_host = e["python_host"]
    if isinstance(registry_host, str):
        e.setdefault("registry_host", registry_host)
    return registry_host


def _note_leaf_url(e: dict[str, Any], leaf_url: Any, before: list[tokens.Url]
                   ) -> tuple[str | None, int | None, str]:
    """Record the failing URL, its method, host and port in the entities; its host, port and path."""
    if leaf_url is None:
        return None, None, ""
    host, port, scheme, path = host_port(leaf_url)
    e["url"] = leaf_url
    method = next((u.method for u in reversed(before) if u.url == leaf_url and u.method), None)
    if method:
        e["method"] = method
    if host:
        e["url_host"] = host
        e["url_port"] = port or (80 if scheme == "http" else 443)
        e["path"] = path or "/"
    return host, port, path


def _role_without_url(e: Mapping[str, Any], r: grammar.Reading, token_op: bool, blob_op: bool) -> str:
    """No URL: a token fetch, a host the leaf names (a lookup, urllib3's pool), a blob or storage text."""
    if token_op:
        return "realm"  # `failed to fetch oauth token: unexpected status: 403`
    named = [h for h in (e.get("host"), e.get("address")) if isinstance(h, str)]
    if any(roles.table().role_of_host(h) == "data" for h in named):
        return "data"
    return "data" if blob_op or "storage_xml" in r.fields else "registry"


def _role(ln: LineState, leaf_at: int, inside_end: int, bk: SymptomBook) -> tuple[str, str | None, bool]:
    """Which endpoint failed (``registry``, ``data`` or ``realm``), the URL that says so, and
    whether a blob download was under way.

    The failing URL is the innermost one before the leaf (Go nests ``Get "a": Get "b": leaf``),
    or one inside the match itself (``unexpected status code URL: 403``), never one inside the
    server's own message (Docker Hub's text ends with a link to its docs).
    """
    ctx = bk.context
    e, r = ln.entities, ln.reading
    before, leaf_url = _leaf_urls(ln, leaf_at, inside_end)
    registry_host = _note_registry_host(e, r)
    host, port, path = _note_leaf_url(e, leaf_url, before)
    prefix = ln.text[:max(leaf_at, 0)]
    # a blob download is under way; on a push the blobs go up to the registry itself (containers/image
    # prints `Copying blob` both ways), so no storage host is in play
    blob_op = (any(m in prefix or m in ln.prev for m in ctx.data_markers)
               or any(m in ln.text[max(leaf_at, 0):] for m in ctx.data_trailers)) and not _seen(_UPLOAD_MARKERS, ln)
    token_op = any(m in prefix for m in ctx.realm_markers)
    if host is None:
        return _role_without_url(e, r, token_op, blob_op), None, blob_op
    host_role = roles.table().role_of_host(host)
    if host_role == "data" or "storage_xml" in r.fields:
        return "data", leaf_url, blob_op
    # a token or blob URL is a separate endpoint when its host *or port* differs from the
    # registry's (a token service on another port of the same name is still another service)
    reg_port = e.get("registry_port") or (e.get("url_port") if registry_host == host else None) or 443
    separate = registry_host is not None and (host, port or 443) != (registry_host, reg_port)
    if acr_name(host) and not ACR_DATA.match(host):
        separate = False  # an ACR login server is its own token service
    if host_role == "realm" or ((separate or (token_op and registry_host is None and not acr_name(host)))
                                and is_realm_path(str(leaf_url))):
        return "realm", leaf_url, blob_op
    if is_realm_path(str(leaf_url)) and _names_another_service(str(leaf_url), host):
        # the token protocol's `service=` names the registry the token is for: on another host, this
        # is that registry's token service (containers/image's push error names only the token URL)
        return "realm", leaf_url, blob_op
    if _TOKEN_QUERY.search(str(leaf_url)) and is_realm_path(str(leaf_url)) and _answered(r):
        # the registry's own token service (GHCR's ghcr.io/token?scope=…&service=…) answered: its verdict
        # is the token request's (never a blob download); a connection failure there stays the registry's
        return "realm", leaf_url, blob_op
    # The registry API lives under /v2/; a blob URL elsewhere is a storage or CDN host the
    # registry redirected to, even one the host list does not know
    redirected_blob = "/blobs/" in path and not path.startswith("/v2/")
    if (redirected_blob or (blob_op and (separate or not path.startswith("/v2/")))) and "/manifests/" not in path:
        return "data", leaf_url, blob_op
    if (separate and host != registry_host and path.startswith("/v2/") and registry_host not in _HUB_HOSTS
            and host_role is None
            and not _MIRROR_QUERY.search(str(leaf_url))
            and (e.get("registry_named_by_client") or not e.get("unmarked_mirrors"))):
        # The image's registry sent the client to another registry host for its API (registry.k8s.io
        # answers with redirects to regional Artifact Registry or S3 backends): the registry works,
        # the host it hands the pull to does not. Docker Hub pulls meet other hosts only as a mirror
        # (the daemon's registry-mirrors; containerd marks a mirror request with `?ns=`), and so may
        # a podman or buildah pull, whose mirrors carry no mark - unless the client itself says the
        # request was for the registry (`pinging container registry R: Get "https://other/v2/"`).
        return "data", leaf_url, blob_op
    return "registry", leaf_url, blob_op


_TOKEN_QUERY = re.compile(r"[?&](?:scope|service)=")
_SERVICE = re.compile(r"[?&]service=(?P<service>[A-Za-z0-9._-]{1,253}+)")
_MIRROR_QUERY = re.compile(r"[?&]ns=")
_HUB_HOSTS = frozenset({"registry-1.docker.io", "index.docker.io", "docker.io", "registry.hub.docker.com",
                        "auth.docker.io"})


def _names_another_service(url: str, host: str) -> bool:
    """Whether a token URL's ``service=`` (the registry it asks a token for) is not its own host.

    >>> _names_another_service("https://auth.lab.test/token?scope=x&service=registry.lab.test", "auth.lab.test")
    True
    >>> _names_another_service("https://ghcr.io/token?scope=x&service=ghcr.io", "ghcr.io")
    False
    """
    m = _SERVICE.search(url)
    return m is not None and m.group("service").lower() != host.lower()


# a repository of one path component in Docker Hub's API or token scope (`/v2/nginx/manifests/…`,
# `scope=repository:nginx:pull`): Hub has none - official images live under `library/`
_HUB_ONE_NAME = re.compile(r"^/v2/[a-z0-9._-]{1,255}+/(?:manifests|blobs|tags)/|[?&]scope=repository(?::|%3A)"
                           r"[a-z0-9._-]{1,255}+(?::|%3A)", re.IGNORECASE)
_AUTH_REFUSALS = frozenset({Code.AUTH_CREDENTIALS_REQUIRED, Code.AUTH_BAD_CREDENTIALS, Code.AUTH_PERMISSION_DENIED,
                            Code.AUTH_INSUFFICIENT_SCOPE, Code.REGISTRY_DENIED})


def _hub_single_name(ranked: list[tuple[Code, float]], e: Mapping[str, Any]) -> list[tuple[Code, float]]:
    """An auth refusal for a one-component repository on Docker Hub: the name, not the login, is wrong.

    Docker Hub answers a repository that does not exist as it answers one the client may not read
    (401/denied); a name without a namespace never exists there - the client skipped docker's
    normalisation (`docker.io/nginx` is `library/nginx`): oras, crane, a mirror or a script asked for it.
    """
    host = e.get("url_host")
    if not ranked or ranked[0][0] not in _AUTH_REFUSALS or not isinstance(host, str) or host not in _HUB_HOSTS:
        return ranked
    # the path _note_leaf_url recorded, and the query that holds a token request's scope (cut as
    # urlsplit cuts it, without its host check: a pasted `https://[REDACTED]/...` is not an error)
    query = str(e.get("url", "")).partition("#")[0].partition("?")[2]
    target = f"{e.get('path', '')}?{query}"
    if not _HUB_ONE_NAME.search(target):
        return ranked
    rest = [(c, sc) for c, sc in ranked if c != Code.REGISTRY_NAME_UNKNOWN]
    return [(Code.REGISTRY_NAME_UNKNOWN, ranked[0][1]), *rest]


def _answered(r: grammar.Reading) -> bool:
    """The leaf is a server's answer (a status, a registry or OAuth code, a page), not a network failure."""
    return r.leaf is not None and r.leaf.kind.split(".", 1)[0] in ("status", "oci", "oauth", "http")


def _symptom_entities(m: re.Match[str], e: dict[str, Any]) -> None:
    for name, raw in m.groupdict().items():
        if raw is None:
            continue
        value = raw.strip()
        if name in ("address", "resolver"):
            value = strip_brackets(value)
        if name == "host":
            e["host"] = value.lower().rstrip(".")
        elif name == "port":
            e["port"] = int(value)
        elif name == "login_server":
            e["login_server"] = value.lower()
            e.setdefault("registry_host", value.lower())
        elif name == "image":
            for k, v in image_entities(value).items():
                e.setdefault(k, v)
        elif name == "arch":
            e["platform"] = value
        else:
            e[name] = value


def _rank(cands: Sequence[Candidate], on_proxy: Code | None, proxied: bool, ln: LineState, leaf_at: int,
          inside_end: int, bk: SymptomBook) -> tuple[list[tuple[Code, float]], dict[str, Any]]:
    """Ranked (code, confidence) for one reading of the line, after the outside-in rules."""
    e = ln.entities
    role, leaf_url, blob_op = _role(ln, leaf_at, inside_end, bk)
    conds = _conditions(ln, leaf_url, proxied, blob_op, bk)
    ranked = [(c.code, c.score(conds)) for c in cands]
    facts: dict[str, Any] = {"role": role}
    if proxied and on_proxy:
        # behind `proxyconnect tcp:` the leaf is the hop to the proxy: the registry was never reached
        ranked[0] = (on_proxy, ranked[0][1])
    if proxied and kb.code(ranked[0][0]).layer == "proxy":
        facts["via_proxy"] = True
        if "address" in e:
            # an address in the leaf is the proxy's, not the registry's
            address, port = e.pop("address"), e.pop("port", None)
            e.setdefault("proxy_address", f"{address}:{port}" if port else address)
        if "host" in e and ranked[0][0] == Code.PROXY_UNRESOLVABLE:
            e["proxy_host"] = e.pop("host")
        if ranked[0][0] == Code.PROXY_UNRESOLVABLE and mangled_host(str(e.get("proxy_host", ""))):
            # `lookup http on …`, `lookup socks5h`, `lookup ”http`: the "host" Go took from the
            # setting is a scheme or a quote, so the URL itself is wrong (`http://http://p`,
            # `http//p:3128`, typographic quotes), not the proxy's DNS record
            e.setdefault("proxy", e["proxy_host"])
            e.setdefault("reason", f"Go read its host as {e['proxy_host']!r}, a scheme or a quote: it is malformed")
            ranked = [(Code.PROXY_BAD_URL, ranked[0][1]), *((c, sc) for c, sc in ranked if c != Code.PROXY_BAD_URL)]
    ranked = _hub_single_name(ranked, e)
    if role in ("data", "realm"):
        # the registry answered (it redirected to this host or challenged for this token), so the
        # path to the registry works: a process with no proxy at all is the less likely reading
        ranked = [(c, round(s * 0.5, 3) if c == Code.PROXY_NOT_CONFIGURED else s) for c, s in ranked]
        # the surest reading is the one the endpoint's role rewrites (boosts may have moved it)
        top, conf = max(ranked, key=lambda cs: cs[1])
        info = kb.code(top)
        # a storage host has no registry identity: its refusal is the storage's (signed URL, bucket
        # or VPC-endpoint policy, storage firewall), whatever word the registry would use for it
        # ... and a token service that answers is reachable: its refusal is a failed token request
        answered = top in (Code.HTTP_FIREWALL_DENIED, Code.HTTP_MIDDLEBOX_BLOCKED)
        as_failure = Code.HTTP_FORBIDDEN if (role == "data" and info.layer == "auth") or (
            role == "realm" and answered) else top
        # the same rule diagnose() applies to a probed endpoint
        new = roles.table().wrap(role, as_failure, str(e["address"]) if e.get("address") else None)
        if role == "realm" and info.layer in ("dns", "tcp") and _internal_realm(leaf_url, e.get("registry_host")):
            # the registry challenged with a realm on a name only its own network knows (`http://gitea:3000/…`
            # behind `https://git.example.com`): the reverse proxy in front of it does not pass the Host and
            # X-Forwarded-* headers it builds the realm from, or its external URL is unset
            new = Code.HTTP_FRONTEND_MISCONFIGURED
            facts["realm_internal"] = host_port(str(leaf_url))[0]
        if new is not None:
            facts.update(blocked_code=top, blocked_layer=info.layer, blocked_summary=info.title)
            rest = [(c, s) for c, s in ranked if c not in (new, top)]
            # the mechanism (e.g. TCP_TIMEOUT) stays as a lower alternative: `check` would show it
            # as the failing step of that endpoint
            ranked = [(new, conf), (top, round(conf * 0.5, 3)), *rest]
        elif role == "data" and info.layer != "data":
            # a fault that is the same for every host (the proxy, the client's trust store, a missing
            # proxy) keeps its code; the data host it met stays a reading: where only that host fails
            # (inspection or a proxy rule for the CDN's domain alone), the fix is to let it through
            facts.update(blocked_code=top, blocked_layer=info.layer, blocked_summary=info.title)
            ranked = [*ranked, (Code.DATA_ENDPOINT_BLOCKED, round(conf * 0.4, 3))]
        elif role == "realm" and info.layer in ("dns", "tcp"):
            # a token host's own name or route (DNS, no IPv6 route) keeps its code: the token service it
            # belongs to stays a reading, where the registry hands its clients a realm they cannot reach
            facts.update(blocked_code=top, blocked_layer=info.layer, blocked_summary=info.title)
            ranked = [*ranked, (Code.AUTH_REALM_UNREACHABLE, round(conf * 0.4, 3))]
    # one code once, best score kept; best first (stable for ties: the file's order)
    best: dict[Code, float] = {}
    for code, score in ranked:
        if score > best.get(code, -1.0):
            best[code] = score
    return sorted(best.items(), key=lambda cs: -cs[1]), facts


def _internal_realm(realm_url: str | None, registry_host: Any) -> bool:
    """A token URL whose host is a bare single-label name (a container's or service's) for a registry
    that has a dotted name of its own: a realm the registry's own network alone resolves."""
    if realm_url is None or not isinstance(registry_host, str) or "." not in registry_host:
        return False
    host = host_port(realm_url)[0]
    return bool(host) and "." not in str(host) and ":" not in str(host) and host not in ("localhost", registry_host)


# A refusal of a blob download: the registry answered the manifest, and it redirects blobs to its
# storage, so a 401/403 there comes from the storage even when the client names the registry's own
# blob URL (containerd reports the request it made, not the redirect it followed).
_STORAGE_REFUSALS = frozenset({"status.401", "status.403", "oci.denied", "oci.unauthorized", "http.html"})


def _leaf_ranking(rule: LeafRule, ln: LineState, bk: SymptomBook) -> tuple[list[tuple[Code, float]], dict[str, Any]]:
    r = ln.reading
    assert r.leaf is not None
    cands = rule.via_proxy if (r.proxied and rule.via_proxy) else rule.candidates
    # a registry code's message is the server's text: a URL in it (Docker Hub links its docs) is not
    # the request that failed
    inside_end = r.leaf.start + (r.leaf.text.find(":") + 1 or len(r.leaf.text)) if rule.kind.startswith("oci.") \
        else r.leaf.end
    ranked, facts = _rank(cands, rule.on_proxy, r.proxied, ln, r.leaf.start, inside_end, bk)
    path = str(ln.entities.get("path", ""))
    if (facts["role"] == "registry" and rule.kind in _STORAGE_REFUSALS and "/blobs/" in path
            and any(m in ln.text[:r.leaf.start] or m in ln.prev for m in bk.context.data_markers)):
        top, conf = ranked[0]
        new = roles.table().wrap("data", Code.HTTP_FORBIDDEN if kb.code(top).layer == "auth" else top)
        if new is not None:
            info = kb.code(top)
            facts.update(role="data", blocked_code=top, blocked_layer=info.layer, blocked_summary=info.title)
            ranked = [(new, conf), *[(c, s) for c, s in ranked if c != new]]
            ranked = [(c, s if i == 0 else min(s, conf)) for i, (c, s) in enumerate(ranked)]
    return ranked, facts


def _leaf_span(r: grammar.Reading, text: str) -> str:
    """The text of the reading that decided: from the operation (or URL) the leaf ends, to the leaf."""
    assert r.leaf is not None
    start = r.leaf.start
    for t in reversed(r.tokens):
        if t.start >= r.leaf.start:
            continue
        if t.kind in ("op", "proxy") and r.leaf.start - t.end <= 200:
            start = t.start
            continue
        break
    return text[start:r.leaf.end].strip()


# Where a message starts other than after ": " - gRPC's status (`rpc error: code = Unknown desc = MSG`),
# a logfmt value (`error="MSG"`) and a JSON string member (`{"details":"MSG"}`, a token service's body):
# anchors written ": leaf" must match a leaf there too.
_MESSAGE_STARTS = re.compile(r' desc = |="|":\s?+"')


def _refinements(text: str, bk: SymptomBook) -> list[tuple[Symptom, re.Match[str]]]:
    probe = ": " + _MESSAGE_STARTS.sub(r"\g<0>: ", text)
    tried: set[int] = set()
    hits: list[tuple[Symptom, re.Match[str]]] = []
    for anchor, indices in bk.by_anchor.items():
        if anchor not in probe and not (anchor in bk.loose_anchors and anchor[2:] in text):
            continue
        for i in indices:
            if i in tried:
                continue
            tried.add(i)
            sym = bk.symptoms[i]
            m = sym.regex.search(text)
            if m is not None:
                hits.append((sym, m))
    return hits


# Where an aggregated message starts another attempt's error chain (kubelet joins the errors of
# each pull attempt: `[rpc error: … , rpc error: …]`).
_CHAIN = re.compile(r"rpc error: code = ")
MAX_CHAINS = 8


def _chains(text: str) -> list[tuple[int, int]]:
    starts = [m.start() for m in _CHAIN.finditer(text)][:MAX_CHAINS]
    if len(starts) < 2:
        return [(0, len(text))]
    bounds = [0, *starts[1:], len(text)]
    return list(itertools.pairwise(bounds))


def _match_chains(text: str, chains: list[tuple[int, int]], lineno: int, prev: str, strict: bool,
                  bk: SymptomBook) -> LineMatch | None:
    """The first attempt's chain decides; the later attempts' readings join as alternatives.

    Later attempts often fail *because of* the first (a retry meets an expired token after a cut
    download), so they never outrank it.
    """
    first: LineMatch | None = None
    extra: dict[Code, float] = {}
    for start, end in chains:
        lm = match_line(text[start:end], lineno=lineno, prev=prev if start == 0 else "", strict=strict,
                        symptom_book=bk)
        if lm is None:
            continue
        if first is None:
            first = lm
            continue
        for code, score in lm.ranked:
            extra[code] = max(extra.get(code, 0.0), score)
    if first is None:
        return None
    top = first.confidence
    merged = dict(first.ranked)
    for code, score in extra.items():
        # below the first chain's primary, whatever the later attempt's own certainty
        merged[code] = max(merged.get(code, 0.0), min(score, round(top * 0.9, 3)))
    ranked = tuple(sorted(merged.items(), key=lambda cs: -cs[1]))
    return LineMatch(lineno=lineno, symptom=first.symptom, matched=first.matched, ranked=ranked,
                     entities=first.entities, notes=first.notes, line=text)


def match_line(text: str, *, lineno: int = 1, prev: str = "", strict: bool = False,
               symptom_book: SymptomBook | None = None) -> LineMatch | None:
    """Recognise one (already redacted) line, or ``None``.

    ``strict`` (a log, not a pasted message): a generic network text (one that is not
    ``standalone``) counts only when the line or the one before shows a registry context.

    >>> m = match_line('Get "https://r.lab.test/v2/": dial tcp: lookup r.lab.test on 10.0.0.2:53: no such host')
    >>> (m.code, m.symptom, m.entities["host"], m.entities["resolver"])
    ('DNS_NXDOMAIN', 'leaf.dns.nxdomain', 'r.lab.test', '10.0.0.2')
    """
    bk = symptom_book or book()
    if strict:
        # a log's records are independent: only the line just before can be the same message's wrapper
        prev = prev.rsplit("\n", 1)[-1]
    # an Engine API SDK's sentence (`Docker API responded with status code=…`) names the daemon's
    # status, not the registry's: the daemon's message, as the CLI prints it, is what is read
    text = engine_api.daemon_message(text)
    chains = _chains(text)
    if len(chains) > 1:
        return _match_chains(text, chains, lineno, prev, strict, bk)
    reading = grammar.read(text)
    rule = bk.leaves.get(reading.leaf.kind) if reading.leaf is not None else None
    hits = _refinements(text, bk)
    if rule is None and not hits:
        return None
    if (strict and not (rule is not None and rule.standalone) and not any(h[0].standalone for h in hits)
            and not any(hint in text for hint in bk.context.registry_hints)):
        return None
    specific = [h for h in hits if not h[0].fallback]
    # a generic phrase (`fallback`) counts only when nothing more specific read the line
    hits = specific if (specific or rule is not None) else hits
    ln = extract(text, prev, reading)
    ln.wrapped = not strict
    for _, m in hits:
        _symptom_entities(m, ln.entities)
    # (id, matched span, ranked, facts, note, refinement?)
    results: list[tuple[str, str, list[tuple[Code, float]], dict[str, Any], str | None, bool]] = []
    if rule is not None and reading.leaf is not None:
        ranked, facts = _leaf_ranking(rule, ln, bk)
        results.append((f"leaf.{rule.kind}", _leaf_span(reading, text), ranked, facts, rule.note, False))
    for sym, m in hits:
        inside_end = m.start("message") if "message" in m.re.groupindex and m.group("message") else m.end()
        ranked, facts = _rank(sym.candidates, sym.on_proxy, reading.proxied or
                              any(mk in text[:m.start()] for mk in bk.context.proxy_markers),
                              ln, m.start(), inside_end, bk)
        results.append((sym.id, m.group(0).strip(), ranked, facts, sym.note, True))
    # The line's primary reading is the one most sure of its top code (a refinement wins a tie:
    # it was written for this message); the others add evidence: every code keeps the best
    # confidence any reading gives it.
    results.sort(key=lambda r: (-r[2][0][1], not r[5]))
    sid, matched, ranked, facts, _, _ = results[0]
    merged: dict[Code, float] = {}
    for _, _, rk, _, _, _ in results:
        for code, score in rk:
            merged[code] = max(merged.get(code, 0.0), score)
    order = sorted(merged.items(), key=lambda cs: -cs[1])
    entities = {k: v for k, v in ln.entities.items() if v not in (None, "")}
    entities.update({k: v for k, v in facts.items() if k != "role"})
    entities["endpoint_role"] = facts["role"]
    entities.update(fingerprints(text, prev, bk))
    acr_entities(entities)
    notes = tuple(dict.fromkeys(n for _, _, _, _, n, _ in results if n))
    return LineMatch(lineno=lineno, symptom=sid, matched=matched, ranked=tuple(order),
                     entities=entities, notes=notes, line=text)


__all__ = ["LineMatch", "is_realm_path", "match_line"]
