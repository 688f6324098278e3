"""What a registry's own answer says about who failed: its error envelope, its challenge, its realm.

Each rule reads a structure every registry shares (distribution's errcode envelope, the token
challenge, the realm a registry advertises, the host a leaf names) rather than one product's text.
"""

from __future__ import annotations

import pytest

from regdoctor.explain import explain

ROWS: list[tuple[str, str, str]] = [
    # distribution's errcode UNKNOWN carrying the status text: a registry's JSON 404, not some server's
    ("envelope 404", "unknown: Not Found", "REGISTRY_MANIFEST_UNKNOWN"),
    ("envelope 404 daemon", "Error response from daemon: unknown: Not Found", "REGISTRY_MANIFEST_UNKNOWN"),
    # a challenge whose realm is missing or is no URL: the registry's token configuration
    ("realm unparsable", 'Error response from daemon: Get http://r.example:31705/v2/: invalid token auth challenge '
     'realm: parse http://r.example:%!s(<nil>)/v2/token: invalid URL escape "%!s"', "AUTH_MALFORMED_CHALLENGE"),
    ("realm missing", 'Error: initializing source docker://r.example/app:1: missing realm in bearer auth challenge',
     "AUTH_MALFORMED_CHALLENGE"),
    ("realm missing distribution", "Get https://r.example/v2/: no realm specified for token auth challenge",
     "AUTH_MALFORMED_CHALLENGE"),
    # a realm on a bare single-label name behind a dotted registry: the front end builds it from headers
    # it was not given (or the registry's external URL is unset)
    ("internal realm", 'Error response from daemon: Get "https://git.example.com/v2/": Get "http://gitea:3000/v2/'
     'token?account=u&service=container_registry": dial tcp: lookup gitea on 127.0.0.53:53: no such host',
     "HTTP_FRONTEND_MISCONFIGURED"),
    ("public realm stays dns", 'Error response from daemon: Get "https://git.example.com/v2/": Get "https://auth.'
     'example.com/token?account=u&service=x": dial tcp: lookup auth.example.com on 127.0.0.53:53: no such host',
     "DNS_NXDOMAIN"),
    # the host a leaf names is the request that failed, whatever URL a wrapper nested inside it
    ("lookup names the request", "failed to ping target: Head https://harbor-b.example/v2/: Get https://harbor-b/v2/: "
     "dial tcp: lookup harbor-b.example on 127.0.0.11:53: read udp 127.0.0.1:50092->127.0.0.11:53: i/o timeout",
     "DNS_TIMEOUT"),
    # a storage host refusing the registry's Authorization header carried across the blob redirect
    ("storage refuses azure", "Authentication information is not given in the correct format. Check the value "
     "of Authorization header.", "DATA_ENDPOINT_DENIED"),
    ("storage refuses s3", "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the "
     "X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be "
     "specified</Message></Error>", "DATA_ENDPOINT_DENIED"),
    # a lockout after failed logins is the token service refusing a credential, not a pull quota
    ("login lockout", "toomanyrequests: too many failed login attempts for username or IP address.",
     "AUTH_TOKEN_THROTTLED"),
    # containerd's debug line of a token request names the token service
    ("token request log", 'DEBU[0003] token request failed                          body= status="400 Bad Request"',
     "AUTH_TOKEN_FAILED"),
    # a credential helper run by its path that the OS would not execute
    ("helper exec", "/usr/bin/docker-credential-desktop.exe: Invalid argument", "AUTH_CREDENTIAL_HELPER_FAILED"),
    # docker 1.x's layer fetch, named after the status
    ("v1 layer fetch", "FATA[0009] Error pulling image (latest) from hello-world, Server error: Status 403 while "
     "fetching image layer (535020c3e8ad)", "DATA_ENDPOINT_DENIED"),
    # a registry given with no repository: docker's grammar makes it an official image's name
    ("host as repository", "The push refers to repository [docker.io/library/myreg.azurecr.io]\n316e0ab38b7d: "
     "Preparing\ndenied: requested access to the resource is denied", "REGISTRY_NAME_INVALID"),
    # a list of images is no network rule
    ("image allowlist", "Error response from daemon: pull access denied for m.example.io/docker.io/u/app, "
     "repository does not exist or may require 'docker login': denied: this image is not in the allowlist.",
     "REGISTRY_NAME_UNKNOWN"),
    ("address allowlist", "Error response from daemon: pull access denied for m.example.io/docker.io/u/app, "
     "repository does not exist or may require 'docker login': denied: your IP 10.1.2.3 is not in the allowlist.",
     "HTTP_FORBIDDEN"),
    # a dial that names no address ran out of time before it had one: while resolving the name
    ("dial without address", "message: 'Get https://gcr.io/v2/: dial tcp: i/o timeout'", "DNS_TIMEOUT"),
    ("dial with address", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: i/o timeout', "TCP_TIMEOUT"),
    # an HTTPS attempt joined with its plain-HTTP retry: the HTTPS failure is the registry's
    ("plain http retry", 'Get "https://harbor.local/v2/": tls: failed to verify certificate: x509: certificate '
     'signed by unknown authority; Get "http://harbor.local/v2/": dial tcp 10.1.1.1:80: i/o timeout', "TLS_UNKNOWN_CA"),
    # ECS's task start, its chain cut: no path from the task's subnet; with the chain, its leaf decides
    ("ecs cut", "ResourceInitializationError: unable to pull secrets or registry auth", "TCP_TIMEOUT"),
    ("ecs iam", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
     "failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): AccessDeniedException: "
     "User: arn:aws:sts::1:assumed-role/x is not authorized to perform: ecr:GetAuthorizationToken",
     "AUTH_PERMISSION_DENIED"),
    # helm's registry client failing to read the docker config's credential store
    ("helm credentials", 'Error: INSTALLATION FAILED: GET "https://ghcr.io/v2/o/charts/c/tags/list": unable to '
     "retrieve credentials", "AUTH_CREDENTIAL_HELPER_FAILED"),
    # a VPC Service Controls perimeter is a network rule in front of a hosted registry
    ("vpc-sc", "Error response from daemon: Get https://gcr.io/v2/p/base/manifests/1: denied: Request is prohibited "
     "by organization's policy. vpcServiceControlsUniqueIdentifier: c45c76a3f28239f8", "HTTP_FORBIDDEN"),
    # a hosted service's own API refuses a token's scope, not a network
    ("service api 403", "Request to https://gitlab.com/api/v4/projects?per_page=100 failed with status 403: Forbidden",
     "AUTH_PERMISSION_DENIED"),
    # no entry for the platform, in each client's words: containerd/BuildKit (images.Manifest's
    # errdefs.ErrNotFound), go-containerregistry (crane, ko)
    ("containerd platform", "failed to resolve source metadata for docker.io/library/x:1: no match for platform in "
     "manifest sha256:0123abcd: not found", "REGISTRY_PLATFORM_MISSING"),
    ("ggcr platform", "Error: no child with platform linux/arm64 in index gcr.io/p/app:1", "REGISTRY_PLATFORM_MISSING"),
]


@pytest.mark.parametrize(("text", "code"), [(t, c) for _, t, c in ROWS], ids=[r[0] for r in ROWS])
def test_the_registrys_answer_names_who_failed(text: str, code: str) -> None:
    findings = explain(text).findings
    assert findings, text
    assert findings[0].code == code, [f.code for f in findings]


def test_a_token_hosts_own_dns_failure_keeps_its_code_and_names_the_token_service() -> None:
    text = ('Get https://registry-1.docker.io/v2/app/manifests/latest: Get https://auth.docker.io/token?scope=x&'
            'service=registry.docker.io: dial tcp: lookup auth.docker.io on 10.0.16.1:53: read udp '
            '10.0.16.15:33107->10.0.16.1:53: i/o timeout')
    codes = [f.code for f in explain(text).findings]
    assert codes[0] == "DNS_TIMEOUT" and "AUTH_REALM_UNREACHABLE" in codes, codes


def test_a_lookup_cut_before_its_verdict_keeps_the_missing_proxy_among_its_readings() -> None:
    codes = [f.code for f in explain('Error response from daemon: Get "https://registry-1.docker.io/v2/": '
                                     'dial tcp: lookup registry-1.docker.io on 9.9.9.9:53:').findings]
    assert codes[0] == "DNS_NXDOMAIN" and "PROXY_NOT_CONFIGURED" in codes, codes
