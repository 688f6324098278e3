"""Through the registry: challenge → token → manifest → blob → redirect → data endpoint.

Strategy
--------
Runs after the registry endpoint's layers passed (``probe_endpoint`` returned a ``Route`` and
the ``GET /v2/`` answer). Each request is a step of its own with its own deadline, on a fresh
connection through the same route. Hosts that appear on the way are endpoints of their own and
walk every network layer: the token realm (role ``realm``) when it is not the registry itself,
every host the registry's API redirects lead to (``probe.api``), and every redirect target of
the blob download (role ``data``).

Credentials never leave their host: the ``Authorization`` header (Basic or Bearer) is sent to
the host whose ``/v2/`` challenge it answers (the registry, or the host its ``/v2/`` redirect
led to) and, for the token request, to the realm that challenge named; a redirect to any other
host is followed *without* it, as Docker and containerd do. Redirect query strings (SAS
signatures, S3 credentials) are redacted before they become evidence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from regdoctor import auth, classify
from regdoctor.credentials import Credential, CredentialError
from regdoctor.kb.codes import Code
from regdoctor.net import Deadline, NetError
from regdoctor.net.http import HttpResponse
from regdoctor.probe.api import Flow, RegistryApi, same_site
from regdoctor.probe.endpoint import ProbeOptions, Route, probe_endpoint
from regdoctor.probe.errors import code_for
from regdoctor.probe.manifest import INDEX_TYPES, MANIFEST_TYPES, MAX_MANIFEST, pick_platform, read_manifest
from regdoctor.probe.redirects import (
    MAX_REDIRECTS,
    RedirectRefused,
    join_location,
    redirect_target,
    request_target,
    urlscheme,
)
from regdoctor.redact import redact_location


def _ev_base(flow: Flow, method: str, path: str, registry: str | None) -> dict[str, Any]:
    return {"registry_host": flow.display, "method": method, "path": path, "registry": registry or flow.display}


def _errors_text(resp: HttpResponse) -> tuple[list[dict[str, str]], str]:
    errs = classify.registry_errors(resp.body, resp.content_type)
    msg = "; ".join(f"{e['code']}: {e['message']}" for e in errs) if errs else classify.body_excerpt(resp.body, 200)
    return errs, msg


def run_pull_path(
    flow: Flow,
    route: Route,
    v2: HttpResponse,
    opts: ProbeOptions,
    *,
    repository: str | None,
    reference: str | None,
    platform: str,
    credential_lookup: Callable[[], Credential | None],
    registry_name: str | None = None,
) -> None:
    """Append the auth, manifest and blob steps (and realm/data endpoints) to ``flow``."""
    pull = RegistryApi(flow, route, opts)
    followed = pull.follow(v2, route, "GET", "/v2/", name="GET /v2/", shown=True)
    if followed is None:
        return
    v2, pinged = followed
    # the challenge is of the host that sent it: the login's Authorization goes there only
    pull.auth_at = (pinged.host, pinged.port)
    go_on, challenge = _challenge_step(flow, v2)
    if not go_on:
        return
    go_on, cred = _credentials_step(flow, credential_lookup)
    if not go_on:
        return
    if cred is not None and challenge is not None and not same_site(pinged.host, route.host):
        # The challenge came from a host of another domain that the registry's redirect led to.
        # The credential is the registry's: it is not sent there (Go forwards an Authorization on a
        # redirect only within a domain and its subdomains); the pull goes on anonymously.
        flow.skip("auth", "send credentials", f"user {cred.username} is {flow.display}'s: not sent to "
                  f"{pinged.host_header}, another domain its redirect led to; anonymous there")
        cred = None
    scope = f"repository:{repository}:pull" if repository else None
    ev_ctx = _evidence_context(flow, cred, scope, repository, registry_name)
    # the commands a fix prints must reach the registry the way this check did
    ev_ctx["skopeo_flags"] = " --tls-verify=false" if route.scheme == "http" else ""
    if challenge is not None and challenge.scheme == "bearer":
        # Without an image this is `docker login`: a token without scope, from the realm the
        # registry names, so "healthy" means the login would work (issue: realm down = not healthy).
        pull.authz = _bearer_token(pull, challenge, cred, scope, repository, ev_ctx)
        if pull.authz is None:
            return
    elif challenge is not None:  # Basic: the credentials go on every request
        go_on, pull.authz = _basic_login(pull, cred, repository, ev_ctx)
        if not go_on:
            return
    if repository is None or reference is None:
        return
    _manifest_and_blob(pull, repository, reference, platform, ev_ctx, cred)


def _challenge_step(flow: Flow, v2: HttpResponse) -> tuple[bool, auth.Challenge | None]:
    """The challenge ``GET /v2/`` answered with (None: no authentication asked for); False when
    the challenge itself is the failure (recorded)."""
    t0 = time.monotonic()
    if v2.status != 401:
        flow.skip("auth", "challenge", f"/v2/ answered {v2.status}: no authentication asked for")
        return True, None
    lines = v2.header_all("www-authenticate")
    header = "\n".join(lines)
    try:
        challenges = auth.parse_challenges(lines)
    except auth.ChallengeError as exc:
        flow.add("auth", "challenge", "fail", t0, f"unparsable challenge: {exc}", Code.AUTH_MALFORMED_CHALLENGE,
                 {"challenge": header[:300], "reason": str(exc)})
        return False, None
    usable = [c for c in challenges if c.scheme in ("bearer", "basic")]
    if not usable:
        flow.add("auth", "challenge", "fail", t0, f"unsupported scheme {challenges[0].scheme}",
                 Code.AUTH_UNSUPPORTED_SCHEME, {"challenge": header[:300]})
        return False, None
    challenge = next((c for c in usable if c.scheme == "bearer"), usable[0])
    problem = auth.bearer_problem(challenge) if challenge.scheme == "bearer" else None
    if problem:
        flow.add("auth", "challenge", "fail", t0, problem, Code.AUTH_MALFORMED_CHALLENGE,
                 {"challenge": header[:300], "reason": problem})
        return False, None
    flow.add("auth", "challenge", "pass", t0,
             f"{challenge.scheme.capitalize()} " + ", ".join(f"{k}={v}" for k, v in challenge.params.items()),
             evidence={"scheme": challenge.scheme, "params": dict(challenge.params),
                       # RFC 7235 allows several challenges per line; docker and containerd read one
                       "schemes_clients_ignore": auth.challenges_missed(lines)})
    return True, challenge


def _credentials_step(flow: Flow, lookup: Callable[[], Credential | None]) -> tuple[bool, Credential | None]:
    """The credential the client would use (None: anonymous); False when the lookup failed."""
    t0 = time.monotonic()
    try:
        cred = lookup()
    except CredentialError as exc:
        flow.add("auth", "credentials", "fail", t0, str(exc), Code.AUTH_CREDENTIAL_HELPER_FAILED,
                 {"helper": exc.helper, "reason": exc.reason, "registry_host": flow.display})
        return False, None
    if cred is None:
        flow.add("auth", "credentials", "pass", t0, "none found: anonymous",
                 evidence={"credential_source": "anonymous"})
    else:
        flow.add("auth", "credentials", "pass", t0, f"user {cred.username} from {cred.source}",
                 evidence={"username": cred.username, "credential_source": cred.source})
    return True, cred


def _evidence_context(flow: Flow, cred: Credential | None, scope: str | None, repository: str | None,
                      registry_name: str | None) -> dict[str, Any]:
    """The evidence every auth and registry finding carries. Fix texts name the registry as the
    user writes it (host[:port]); az commands only for ACR."""
    return {"registry_host": flow.display, "registry": registry_name or flow.display, "scope": scope or "(none)",
            "username": cred.username if cred else "(anonymous)",
            "credential_source": cred.source if cred else "anonymous",
            "acr_login_note": f" or `az acr login -n {registry_name}`" if registry_name else "",
            "acr_tags_note": (f" or `az acr repository show-tags -n {registry_name} --repository {repository}`"
                              if registry_name and repository else "")}


def _basic_login(pull: RegistryApi, cred: Credential | None, repository: str | None,
                 ev_ctx: dict[str, Any]) -> tuple[bool, str | None]:
    """Basic auth: the credentials go on every request, tried once on ``/v2/``; False when the
    login failed (recorded). Without credentials and without an image there is nothing to try."""
    flow = pull.flow
    if cred is None:
        if repository is None:
            flow.skip("auth", "login", "no image and no credentials given: Basic login not tested")
            return True, None
        flow.add("auth", "login", "fail", time.monotonic(), "Basic auth required and no credentials found",
                 Code.AUTH_CREDENTIALS_REQUIRED, {**ev_ctx, "status": 401})
        return False, None
    authz = auth.basic_header(cred.username, cred.secret)
    t0 = time.monotonic()
    pull.authz = authz
    resp = pull.request("GET", "/v2/", name="login")
    if resp is None:
        return False, None
    if resp.status == 401:
        flow.add("auth", "login", "fail", t0, "401: the registry refused the credentials",
                 Code.AUTH_BAD_CREDENTIALS, {**ev_ctx, "status": 401, "realm": f"https://{flow.display}/v2/"})
        return False, None
    flow.add("auth", "login", "pass" if resp.status == 200 else "fail", t0,
             f"GET /v2/ with Basic credentials: {resp.status} {resp.reason}",
             None if resp.status == 200 else Code.REGISTRY_UNEXPECTED_STATUS,
             {**ev_ctx, "status": resp.status, "method": "GET", "path": "/v2/", "message": resp.reason})
    return resp.status == 200, authz


def _bearer_token(pull: RegistryApi, ch: auth.Challenge, cred: Credential | None, scope: str | None,
                  repository: str | None, ev_ctx: dict[str, Any]) -> str | None:
    flow, opts = pull.flow, pull.opts
    realm = ch.realm or ""
    # an identity token is exchanged the OAuth way (POST, grant_type=refresh_token), as docker
    # does; a user and password go as Basic on a GET with the scope in the query
    oauth = cred is not None and cred.is_identity_token
    scopes = [scope] if scope else []
    url = realm if oauth else auth.token_url(realm, ch.params.get("service"), scopes)
    method, body = ("POST", auth.oauth_refresh_form(ch.params.get("service"), scopes, cred.secret)) \
        if oauth and cred is not None else ("GET", b"")
    try:  # bearer_problem vetted the realm; a URL that still cannot be split is the server's fault too
        parts = urlsplit(url)
        rhost = parts.hostname or ""
        rport = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        flow.add("auth", "challenge", "fail", time.monotonic(), f"unusable realm {realm[:100]!r}: {exc}",
                 Code.AUTH_MALFORMED_CHALLENGE, {**ev_ctx, "challenge": realm[:300], "reason": str(exc)})
        return None
    target = request_target(parts.path, parts.query)
    headers: list[tuple[str, str]] = []
    if oauth:
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    elif cred is not None:
        # the realm is the token service the registry itself names: Docker sends the login there
        headers.append(("Authorization", auth.basic_header(cred.username, cred.secret)))
    ev = {**ev_ctx, "realm": realm, "realm_host": rhost, "realm_port": rport,
          "token_request": "POST grant_type=refresh_token (identity token)" if oauth else
          ("GET with Basic credentials" if cred is not None else "GET, anonymous")}
    t0 = time.monotonic()

    # A backend the registry handed its API to (registry.k8s.io's Artifact Registry) names the
    # repository its own way (`k8s-artifacts-prod/images/pause` for `pause`): what its token grants is
    # not checked against the name asked of the registry - the manifest request tells
    granted_for = repository if pull.auth_at == (pull.route.host, pull.route.port) else None

    def verdict(resp: HttpResponse) -> classify.Verdict:
        return token_verdict(resp, cred is not None, granted_for, ev)

    resp: HttpResponse | None
    # a realm on a host this pull already reached (the registry, its API's backend) uses that route
    known = pull.known(parts.scheme, rhost, rport)
    if known is not None:
        try:
            resp = known.request(method, target, Deadline(opts.timeout), headers, body=body)
        except NetError as exc:
            flow.add("auth", "token", "fail", t0, f"token request failed: {exc.message}", code_for(exc),
                     {**exc.info, **ev, "address": known.address, "port": known.port, "path": target,
                      "timeout_s": opts.timeout,
                      "tls_note": ""})
            return None
        v = verdict(resp)
        flow.add("auth", "token", v.status, t0, v.summary, v.code, v.evidence)
    else:
        sub_opts = replace(opts.for_hop(flow.host, flow.port, rhost, rport), plain_http=parts.scheme == "http")
        result, _, resp = probe_endpoint(rhost, rport, "realm", sub_opts, origin=f"token realm of {flow.display}",
                                         parent=flow.display, path=target, http_check=verdict,
                                         request_headers=headers, method=method, body=body)
        flow.extra.append(result)
        if resp is None or result.failed:
            flow.add("auth", "token", "fail", t0, f"token service {rhost}:{rport} failed: see that endpoint",
                     evidence=ev)
            return None
        v = verdict(resp)
        flow.add("auth", "token", "pass", t0, f"from {rhost}:{rport}: {v.summary}", evidence=v.evidence)
    if v.status == "fail" or resp is None:
        return None
    # trailing blanks are optional whitespace to every server (RFC 9110 §5.5): not sent
    return f"Bearer {auth.parse_token_response(resp.body).token}".rstrip(" \t")


def token_verdict(resp: HttpResponse, had_credentials: bool, repository: str | None,
                  ev: dict[str, Any]) -> classify.Verdict:
    """What a token endpoint's answer means (pure apart from reading the response)."""
    base = {**ev, "status": resp.status}
    errs, msg = _errors_text(resp)
    if resp.status == 200:
        try:
            info = auth.parse_token_response(resp.body)
        except ValueError as exc:
            return classify.Verdict("fail", Code.AUTH_TOKEN_FAILED, f"200 but {exc}", {**base, "message": str(exc)})
        granted = info.granted
        out = {**base, "granted": granted or ("(opaque token)" if info.opaque else "(nothing)"),
               "expires_in": info.expires_in}
        if repository and not info.opaque and not auth.grants_pull(granted, repository):
            code = Code.AUTH_INSUFFICIENT_SCOPE if had_credentials else Code.AUTH_CREDENTIALS_REQUIRED
            return classify.Verdict("fail", code, f"token grants {granted or 'nothing'}, not pull on {repository}",
                                    out)
        # the token itself is a secret: it never enters the verdict (evidence is printed)
        shown = ", ".join(granted) if granted else ("opaque token" if info.opaque else "no scope")
        return classify.Verdict("pass", None, f"token granted: {shown}"
                                f"{f' (expires in {info.expires_in} s)' if info.expires_in else ''}", out)
    if resp.status == 401:
        code = Code.AUTH_BAD_CREDENTIALS if had_credentials else Code.AUTH_CREDENTIALS_REQUIRED
        return classify.Verdict("fail", code, f"401 from the token service: {msg}", {**base, "message": msg})
    if resp.status == 429:
        retry = resp.header("retry-after")
        return classify.Verdict("fail", Code.AUTH_TOKEN_THROTTLED, "429 from the token service",
                                {**base, "retry_after_note": f" (Retry-After: {retry})" if retry else ""})
    if resp.status == 403:
        v = classify.classify_v2(resp.status, resp.reason, resp.headers, resp.body, path=ev.get("realm", ""))
        if v.code == Code.HTTP_FIREWALL_DENIED:
            return replace(v, evidence={**base, **v.evidence})
        if any("retrieving permissions failed" in e["message"] for e in errs):
            return classify.Verdict("fail", Code.AUTH_PERMISSION_DENIED, f"403: {msg}", {**base, "message": msg})
    return classify.Verdict("fail", Code.AUTH_TOKEN_FAILED, f"{resp.status} {resp.reason}: {msg}",
                            {**base, "message": msg})


def _manifest_and_blob(pull: RegistryApi, repository: str, reference: str, platform: str, ev_ctx: dict[str, Any],
                       cred: Credential | None) -> None:
    flow = pull.flow
    accept = [("Accept", ", ".join(MANIFEST_TYPES))]
    path = f"/v2/{repository}/manifests/{reference}"
    t0 = time.monotonic()
    got = pull.request_via("GET", path, extra=accept, name="manifest", max_body=MAX_MANIFEST)
    if got is None:
        return
    resp, at = got
    ev = {**ev_ctx, **_ev_base(flow, "GET", path, ev_ctx.get("registry")), "repository": repository,
          "reference": reference}
    v = manifest_failure(resp, ev, cred is not None)
    if v is not None and resp.status == 401 and pull.drops_auth(at):
        v = classify.Verdict("fail", Code.AUTH_DROPPED_ON_REDIRECT,
                             f"401 at {at.host_header}: the token stayed behind on the redirect", {
                                 **v.evidence, "request": f"GET {path}", "backend": at.host_header})
    if v is not None:
        flow.add("registry", "manifest", v.status, t0, v.summary, v.code, v.evidence)
        return
    doc, media, problem = read_manifest(resp)
    if problem is not None:
        flow.add("registry", "manifest", "fail", t0, f"unusable manifest: {problem}", Code.REGISTRY_BAD_MANIFEST,
                 {**ev, "media_type": media, "reason": problem})
        return
    digest = resp.header("docker-content-digest")
    flow.add("registry", "manifest", "pass", t0, f"{media} {digest or ''} ({len(resp.body)} bytes)".strip(),
             evidence={**ev, "media_type": media, "digest": digest, "size": len(resp.body)})
    if media in INDEX_TYPES or "manifests" in doc:
        t0 = time.monotonic()
        chosen, available = pick_platform(doc, platform)
        if chosen is None:
            flow.add("registry", "platform", "fail", t0, f"no {platform} manifest in the index",
                     Code.REGISTRY_PLATFORM_MISSING, {**ev, "platform": platform, "available": available})
            return
        ppath = f"/v2/{repository}/manifests/{chosen}"
        answer = pull.request("GET", ppath, extra=accept, name=f"manifest {platform}", max_body=MAX_MANIFEST)
        if answer is None:
            return
        resp = answer
        v = manifest_failure(resp, {**ev, "path": ppath}, cred is not None)
        if v is not None:
            flow.add("registry", f"manifest {platform}", v.status, t0, v.summary, v.code, v.evidence)
            return
        doc, media, problem = read_manifest(resp)
        if problem is None and media in INDEX_TYPES:
            problem = "an index points at another index instead of a platform manifest"
        if problem is not None:
            flow.add("registry", f"manifest {platform}", "fail", t0, f"unusable manifest: {problem}",
                     Code.REGISTRY_BAD_MANIFEST, {**ev, "media_type": media, "reason": problem})
            return
        flow.add("registry", f"manifest {platform}", "pass", t0, f"{chosen}", evidence={**ev, "digest": chosen})
    layers = doc.get("layers") if isinstance(doc, dict) else None
    blob = None
    if isinstance(layers, list) and layers and isinstance(layers[0], dict):
        blob = layers[0].get("digest")
    if not blob and isinstance(doc, dict) and isinstance(doc.get("config"), dict):
        blob = doc["config"].get("digest")
    if not isinstance(blob, str):
        flow.skip("registry", "blob", "the manifest lists no blob to download")
        return
    _blob(pull, repository, blob, ev)


def manifest_failure(resp: HttpResponse, ev: dict[str, Any], had_credentials: bool) -> classify.Verdict | None:
    """None when the manifest answer is a usable 200; else the failing verdict."""
    if resp.status == 200:
        return None
    errs, msg = _errors_text(resp)
    codes = {e["code"].upper() for e in errs}
    base = {**ev, "status": resp.status, "message": msg, "errors": errs}
    if resp.status == 404 and ("NAME_UNKNOWN" in codes):
        return classify.Verdict("fail", Code.REGISTRY_NAME_UNKNOWN, f"404 NAME_UNKNOWN: {msg}", base)
    if resp.status == 404:
        return classify.Verdict("fail", Code.REGISTRY_MANIFEST_UNKNOWN, f"404 MANIFEST_UNKNOWN: {msg}", base)
    if resp.status == 401:
        code = Code.AUTH_INSUFFICIENT_SCOPE if had_credentials else Code.AUTH_CREDENTIALS_REQUIRED
        return classify.Verdict("fail", code, f"401: {msg}", {**base, "granted": ev.get("granted", "?")})
    if resp.status == 403:
        fw = classify.classify_v2(resp.status, resp.reason, resp.headers, resp.body, path=ev.get("path", ""))
        if fw.code == Code.HTTP_FIREWALL_DENIED:
            return classify.Verdict("fail", Code.REGISTRY_FIREWALL_DENIED, fw.summary, {**base, **fw.evidence,
                                                                                     "path": ev.get("path")})
        if "retrieving permissions failed" in msg:
            return classify.Verdict("fail", Code.AUTH_PERMISSION_DENIED, f"403: {msg}", base)
        if errs:
            return classify.Verdict("fail", Code.REGISTRY_DENIED, f"403: {msg}", base)
        return classify.Verdict("fail", Code.HTTP_MIDDLEBOX_BLOCKED, fw.summary, {**base, **fw.evidence})
    if resp.status == 429:
        retry = resp.header("retry-after")
        return classify.Verdict("fail", Code.HTTP_RATE_LIMITED, f"429 on the manifest: {msg}",
                                {**base, "retry_after_note": f" (Retry-After: {retry})" if retry else ""})
    return classify.Verdict("fail", Code.REGISTRY_UNEXPECTED_STATUS, f"{resp.status} {resp.reason}: {msg}", base)


def data_verdict(resp: HttpResponse) -> classify.Verdict:
    """What a data endpoint's answer to the redirected blob download means."""
    ev: dict[str, Any] = {"status": resp.status, "headers": classify.kept_headers(resp.headers)}
    if resp.status in (200, 206):
        return classify.Verdict("pass", None, f"{resp.status} {resp.reason}: {len(resp.body)} bytes of the blob", ev)
    location = resp.header("location")
    if 300 <= resp.status < 400 and location:
        return classify.Verdict("pass", None, f"{resp.status} redirect to {redact_location(location)}", ev)
    _, msg = _errors_text(resp)
    ip = classify.classify_v2(403, "", resp.headers, resp.body).evidence.get("client_ip") if resp.status == 403 \
        else None
    ev.update(message=msg, client_ip=ip or "this client's egress address",
              message_note=f": `{msg}`" if msg else "")
    if resp.status in (401, 403):
        return classify.Verdict("fail", Code.DATA_ENDPOINT_DENIED, f"{resp.status} {resp.reason}: {msg}", ev)
    if resp.status == 429:
        retry = resp.header("retry-after")
        ev["retry_after_note"] = f" (Retry-After: {retry})" if retry else ""
        return classify.Verdict("fail", Code.DATA_BLOB_THROTTLED, f"429 {resp.reason}", ev)
    return classify.Verdict("fail", Code.DATA_UNEXPECTED_STATUS, f"{resp.status} {resp.reason}: {msg}", ev)


def _blob(pull: RegistryApi, repository: str, digest: str, ev: dict[str, Any]) -> None:
    flow, route, opts, authz = pull.flow, pull.route, pull.opts, pull.authz
    path = f"/v2/{repository}/blobs/{digest}"
    rng = [("Range", "bytes=0-1023")]
    t0 = time.monotonic()
    # not followed as an API request: a blob's redirects lead to storage, walked hop by hop below
    resp = pull.request("GET", path, extra=rng, name="blob", follow=False)
    if resp is None:
        return
    bev = {**ev, "path": path, "digest": digest, "status": resp.status}
    if resp.status in (200, 206):
        flow.add("registry", "blob", "pass", t0, f"{resp.status}: served by the registry itself", evidence=bev)
        return
    if not (300 <= resp.status < 400 and resp.header("location")):
        errs, _ = _errors_text(resp)
        codes = {e["code"].upper() for e in errs}
        if resp.status == 404 and "BLOB_UNKNOWN" in codes:
            flow.add("registry", "blob", "fail", t0, f"404 BLOB_UNKNOWN {digest}", Code.REGISTRY_BLOB_UNKNOWN, bev)
            return
        v = manifest_failure(resp, bev, authz is not None)
        if v is not None:
            flow.add("registry", "blob", v.status, t0, v.summary, v.code, v.evidence)
        return
    # follow redirects by hand: credentials only to the registry's own host:port
    seen = [f"{route.scheme}://{route.host_header}{path}"]
    current = join_location(seen[0], resp.header("location") or "")
    flow.add("registry", "blob", "pass", t0, f"{resp.status} redirect to {redact_location(current)}",
             evidence={**bev, "location": redact_location(current)})
    for hop in range(1, MAX_REDIRECTS + 1):
        t0 = time.monotonic()
        if current in seen:
            chain = [redact_location(u) for u in [*seen, current]]
            flow.add("registry", "redirect", "fail", t0, f"redirect loop after {hop} hops",
                     Code.REGISTRY_REDIRECT_LOOP, {**bev, "redirects": hop, "chain": chain})
            return
        seen.append(current)
        hop_target = redirect_target(current)
        if isinstance(hop_target, RedirectRefused):
            flow.add("registry", f"redirect {hop}", "fail", t0,
                     f"redirect to {redact_location(current)}: {hop_target.reason}", hop_target.code,
                     {**bev, "location": redact_location(current), "reason": hop_target.reason,
                      "scheme": urlscheme(current) or "(none)"})
            return
        scheme, host, port, target = hop_target
        known = pull.known(scheme, host, port)
        if known is not None:  # the registry itself, or a host its API redirects led to
            resp = pull.send(known, "GET", target, extra=rng, name=f"redirect {hop}")
            if resp is None:
                return
            if 300 <= resp.status < 400 and resp.header("location"):
                current = join_location(current, resp.header("location") or "")
                continue
            v = data_verdict(resp)
            flow.add("registry", f"redirect {hop}", v.status, t0, v.summary, v.code, {**bev, **v.evidence})
            return
        sub = replace(opts.for_hop(flow.host, flow.port, host, port), plain_http=scheme == "http")
        shown = urlsplit(redact_location(current))
        result, _, dresp = probe_endpoint(host, port, "data", sub, origin=f"blob redirect from {flow.display}",
                                          parent=flow.display, path=target, http_check=data_verdict,
                                          request_headers=rng,
                                          shown_path=shown.path + (f"?{shown.query}" if shown.query else ""))
        flow.extra.append(result)
        if dresp is None or result.failed:
            flow.add("data", "download", "fail", t0, f"data endpoint {host}:{port} failed: see that endpoint",
                     evidence={"fqdn": host})
            return
        if 300 <= dresp.status < 400 and dresp.header("location"):
            current = join_location(current, dresp.header("location") or "")
            continue
        flow.add("data", "download", "pass", t0, f"{host}:{port} served the blob", evidence={"fqdn": host})
        return
    chain = [redact_location(u) for u in seen]
    flow.add("registry", "redirect", "fail", time.monotonic(), f"more than {MAX_REDIRECTS} redirects",
             Code.REGISTRY_REDIRECT_LOOP, {**bev, "redirects": len(seen) - 1, "chain": chain})


__all__ = ["Flow", "data_verdict", "manifest_failure", "run_pull_path", "token_verdict"]
