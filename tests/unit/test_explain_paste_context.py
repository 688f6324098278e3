"""explain's reading of a paste as a whole: what other lines of it say about the failing one."""

from __future__ import annotations

import pytest

from regdoctor.explain import explain


@pytest.mark.parametrize("setting", [
    "$ export HTTPS_PROXY=http://proxy.corp:3128",
    "https_proxy='http://proxy.corp:3128'",
    " HTTPS Proxy: http://proxy.corp:8080",
    '{"proxies": {"default": {"httpsProxy": "http://proxy.corp:3128"}}}',
])
@pytest.mark.parametrize("leaf", [
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp 54.1.2.3:443: i/o timeout',
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io '
    'on 10.0.0.2:53: no such host',
])
def test_a_proxy_setting_in_the_paste_and_a_direct_dial_mean_the_puller_had_no_proxy(setting: str, leaf: str) -> None:
    # the seed article's case: the proxy is set where the user looked, the failing process went direct
    assert explain(f"{setting}\n$ docker pull nginx\n{leaf}").findings[0].code == "PROXY_NOT_CONFIGURED"
    assert explain(leaf).findings[0].code != "PROXY_NOT_CONFIGURED"  # without it, the network's fault first


def test_a_proxy_setting_does_not_override_a_failure_through_the_proxy() -> None:
    text = ("HTTPS_PROXY=http://proxy.corp:3128\n"
            'Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.9:3128: i/o timeout')
    assert explain(text).findings[0].code == "PROXY_TIMEOUT"


@pytest.mark.parametrize(("text", "code"), [
    ("dial tcp: lookup <redacted registry host> on <cluster DNS IP>:53: read udp <pod IP>:60645-><cluster DNS IP>:53: "
     "i/o timeout", "DNS_TIMEOUT"),
    ('Get "https://<my registry>/v2/": dial tcp: lookup <my registry> on 10.0.0.2:53: no such host', "DNS_NXDOMAIN"),
    ('Get "https://<registry>/v2/": dial tcp <ip>:443: connect: connection refused', "TCP_REFUSED"),
])
def test_a_users_redaction_stands_where_the_name_was(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_an_html_page_is_not_taken_for_a_redaction() -> None:
    page = ('error parsing HTTP 403 response body: invalid character \'<\' looking for beginning of value: '
            '"<html><head><title>403 Forbidden</title></head><body><center><h1>403 Forbidden</h1></center>'
            '</body></html>"')
    assert explain(page).findings[0].code == "HTTP_MIDDLEBOX_BLOCKED"


@pytest.mark.parametrize(("text", "code"), [
    ("The remote server returned an error: (403) Forbidden.", "HTTP_FIREWALL_DENIED"),  # .NET WebException
    ("urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='r.io', port=443): Max retries exceeded with url: "
     "/v2/ (Caused by ResponseError('too many 503 error responses'))", "HTTP_SERVER_ERROR"),
    ("(remote response: 429: Too Many Requests)", "HTTP_RATE_LIMITED"),  # Artifactory's remote repository
    ("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", "DATA_ENDPOINT_DENIED"),
])
def test_statuses_in_other_wordings(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_a_401_on_an_anonymous_token_wants_a_login_and_on_an_oauth_token_refuses_one() -> None:
    # containerd asks anonymously when it has no credentials for the host, with OAuth when it has
    chain = 'failed to resolve reference "r.io/app:v1": failed to authorize: failed to fetch {} token: ' \
            "unexpected status: 401 Unauthorized"
    assert explain(chain.format("anonymous")).findings[0].code == "AUTH_CREDENTIALS_REQUIRED"
    assert explain(chain.format("oauth")).findings[0].code == "AUTH_BAD_CREDENTIALS"


@pytest.mark.parametrize(("host", "code"), [
    ("registry-1.docker.io", "TLS_INTERCEPTED"), ("myreg.azurecr.io", "TLS_INTERCEPTED"),
    ("production.cloudflare.docker.com", "TLS_INTERCEPTED"),
    ("harbor.corp.example", "TLS_UNKNOWN_CA"), ("10.0.0.5:5000", "TLS_UNKNOWN_CA"),
])
def test_an_unknown_authority_on_a_hosted_registry_is_inspection(host: str, code: str) -> None:
    # hosted registries and their CDNs chain to public CAs every trust store has; a private one has its own
    text = f'Error response from daemon: Get "https://{host}/v2/": x509: certificate signed by unknown authority'
    ranked = [f.code for f in explain(text).findings]
    assert ranked[0] == code and {"TLS_INTERCEPTED", "TLS_UNKNOWN_CA"} <= set(ranked)


def test_a_registrys_own_token_service_answering_is_a_token_failure() -> None:
    token = "https://ghcr.io/token?scope=repository%3Aaquasecurity%2Ftrivy-db%3Apull&service=ghcr.io"
    assert explain(f"GET {token}: UNAVAILABLE: service unavailable").findings[0].code == "AUTH_TOKEN_FAILED"
    # a connection failure on that host and path is the registry's: one host, one path
    assert explain(f'Get "{token}": dial tcp 140.82.1.1:443: i/o timeout').findings[0].code == "TCP_TIMEOUT"


def test_permission_denied_inside_a_registrys_sentence_is_not_a_socket_error() -> None:
    text = ('pull access denied for gcr.io/x/y, repository does not exist or may require \'docker login\': denied: '
            'Permission denied for "sha256:ced4" from request "/v2/x/y/manifests/sha256:ced4".')
    assert "TCP_LOCAL_POLICY" not in [f.code for f in explain(text).findings]
    assert explain("dial tcp 10.0.0.1:443: connect: permission denied").findings[0].code == "TCP_LOCAL_POLICY"


def test_a_pull_refused_after_credentials_were_sent_is_a_permission() -> None:
    text = ("Authenticating with credentials from job payload (GitLab Registry)\n"
            "ERROR: Job failed: failed to pull image \"r.example.net/p/image:latest\": Error response from daemon: "
            "pull access denied for r.example.net/p/image, repository does not exist or may require 'docker login': "
            "denied: requested access to the resource is denied")
    assert explain(text).findings[0].code == "AUTH_PERMISSION_DENIED"


@pytest.mark.parametrize("text", [
    "403 Server failed to authenticate the request.",
    '<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code><Message>Authentication '
    "information is not given in the correct format. Check the value of Authorization header.</Message></Error>",
    "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query "
    "parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>",
    'statusCode: 403, "server": "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"',
])
def test_the_storage_host_refusing_a_forwarded_authorization_is_the_data_hosts_answer(text: str) -> None:
    assert explain(text).findings[0].code == "DATA_ENDPOINT_DENIED"


@pytest.mark.parametrize(("text", "code"), [
    ("curl: (5) Could not resolve proxy: proxy.corp.example", "PROXY_UNRESOLVABLE"),
    ("curl: (7) Failed to connect to registry-1.docker.io port 443 after 21045 ms: Timed out", "TCP_TIMEOUT"),
    ("curl: (7) Failed to connect to registry-1.docker.io port 443: Connection refused", "TCP_REFUSED"),
    ("curl: (28) Operation timed out after 30001 milliseconds with 0 bytes received", "HTTP_NO_RESPONSE"),
    ("curl: (35) OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to registry-1.docker.io:443",
     "TLS_HANDSHAKE_CLOSED"),
    ("curl: (52) Empty reply from server", "HTTP_CONNECTION_CLOSED"),
    ("curl: (56) Proxy CONNECT aborted", "PROXY_CLOSED"),
    ("curl: (56) Received HTTP code 407 from proxy after CONNECT", "PROXY_AUTH_REQUIRED"),
    ("curl: (60) SSL certificate problem: unable to get local issuer certificate", "TLS_UNKNOWN_CA"),
])
def test_curl_run_by_hand_is_read_by_its_exit_code(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


@pytest.mark.parametrize(("text", "code"), [
    ("docker.errors.DockerException: Credentials store error: StoreError('docker-credential-osxkeychain not "
     "installed or not available in PATH',)", "AUTH_CREDENTIAL_HELPER_FAILED"),
    ("dockerpycreds.errors.InitializationError: docker-credential-desktop not installed or not available in PATH",
     "AUTH_CREDENTIAL_HELPER_FAILED"),
    ("2026/06/15 19:12:14 [error] 75#75: *11 upstream SSL certificate verify error: (22:certificate chain too long) "
     'while SSL handshaking to upstream, host: "auth.docker.io"', "TLS_UNKNOWN_CA"),
    ('time="2017-10-11T11:53:15Z" level=warning msg="Error forwarding to https://10.2.13.13:443, err: stream error: '
     'stream ID 87; PROTOCOL_ERROR"', "HTTP_FRONTEND_MISCONFIGURED"),
    # az's token exchange got no 401 challenge from GET /v2/ (ACR's firewall 403 most often)
    ("Unable to get AAD authorization tokens with message: Registry 'contoso.azurecr.io' did not issue a challenge.",
     "HTTP_FIREWALL_DENIED"),
])
def test_other_programs_words_for_known_faults(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_a_certificate_for_another_name_on_a_hosted_registry_keeps_dns_among_the_readings() -> None:
    text = ('Error response from daemon: Get https://auth.docker.io/token?service=registry.docker.io: '
            "x509: certificate is valid for *.hms.example.com, not auth.docker.io")
    ranked = [f.code for f in explain(text).findings]
    assert {"TLS_NAME_MISMATCH", "TLS_INTERCEPTED", "DNS_HOSTS_OVERRIDE"} <= set(ranked)


@pytest.mark.parametrize(("text", "code"), [
    ("Error: image library/foo:latest not found", "REGISTRY_MANIFEST_UNKNOWN"),
    ("Error: tag does not exist: 1.0", "REGISTRY_MANIFEST_UNKNOWN"),
    ('Error: chart "redis" version "99.0.0" not found in https://charts.bitnami.com/bitnami repository',
     "REGISTRY_MANIFEST_UNKNOWN"),
    ("docker: no matching manifest for windows/amd64 10.0.17763 in the manifest list entries.",
     "REGISTRY_PLATFORM_MISSING"),
    ("Error response from daemon: image with reference nginx was found but does not match the specified platform: "
     "wanted linux/arm64, actual: linux/amd64", "REGISTRY_PLATFORM_MISSING"),
    # the pull brought another platform's image: docker's warning, then the kernel's ENOEXEC
    ("WARNING: The requested image's platform (linux/arm64/v8) does not match the detected host platform "
     "(linux/amd64/v3) and no specific platform was requested", "REGISTRY_PLATFORM_MISSING"),
    ("standard_init_linux.go:228: exec user process caused: exec format error", "REGISTRY_PLATFORM_MISSING"),
    ('OCI runtime create failed: runc create failed: unable to start container process: exec: "/app": '
     "exec format error: unknown", "REGISTRY_PLATFORM_MISSING"),
    ("Error: layer sha256:1c10e93757391bd4 not found", "REGISTRY_BLOB_UNKNOWN"),
    ("Error: image is not a valid manifest list", "REGISTRY_BAD_MANIFEST"),
    ("Error response from daemon: manifest verification failed for digest sha256:4be9f9a3", "REGISTRY_BAD_MANIFEST"),
    ('Warning  Failed  kubelet  Error: InvalidImageName', "REGISTRY_NAME_INVALID"),
    ('failed to pull and unpack image "r.io/a:1": failed to resolve reference "r.io/a:1": unexpected media type '
     "text/html for sha256:0e3d2c1b: not found", "HTTP_MIDDLEBOX_BLOCKED"),
])
def test_registry_content_in_the_clients_own_words(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_check_and_explain_read_plain_http_to_a_tls_port_from_the_same_words() -> None:
    from regdoctor.classify import PLAIN_HTTP_TO_TLS, classify_v2

    for phrase in PLAIN_HTTP_TO_TLS:
        body = phrase + b"."
        assert classify_v2(400, "Bad Request", [("content-type", "text/plain")], body).code == "TLS_CLIENT_PLAIN_HTTP"
        text = f'Error response from daemon: Get "http://r.io:5000/v2/": {phrase.decode()}.'
        assert explain(text).findings[0].code == "TLS_CLIENT_PLAIN_HTTP"
    assert classify_v2(400, "Bad Request", [], b"nope").code == "HTTP_UNEXPECTED_STATUS"
    assert explain('Get "https://r.io/v2/": net/http: HTTP/1.x transport connection broken: malformed HTTP '
                   'response "\\x15\\x03\\x01\\x00\\x02\\x02"').findings[0].code == "TLS_CLIENT_PLAIN_HTTP"


@pytest.mark.parametrize("setting", ["http://http://proxy.corp:3128", "http//proxy.corp:3128",
                                     "\u201dhttp://proxy.corp:8080\u201d"])
def test_a_malformed_proxy_url_is_named_by_check_and_by_explain(setting: str) -> None:
    from regdoctor.probe.layers import decide_proxy
    from regdoctor.probe.options import ProbeOptions
    from regdoctor.proxyconf.rules import parse_proxy_url

    plan = decide_proxy("registry-1.docker.io", 443, ProbeOptions(timeout=1, env={"HTTPS_PROXY": setting}))
    assert plan.step.code == "PROXY_BAD_URL"  # before any lookup of the "host" Go took from it
    host = parse_proxy_url(setting).host
    if host.isascii():  # (Go refuses a non-ASCII name before any lookup: `invalid domain name`)
        text = f'Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp: lookup {host} on 10.0.0.2:53: ' \
               "no such host"
        assert explain(text).findings[0].code == "PROXY_BAD_URL"


def test_a_one_component_name_on_docker_hub_is_a_name_problem_not_a_login() -> None:
    # oras/crane/a mirror asked for `nginx` where docker would ask for `library/nginx`
    one = ('GET "https://registry-1.docker.io/v2/nginx/manifests/latest": response status code 401: unauthorized: '
           "authentication required: [map[Action:pull Class: Name:nginx Type:repository]]")
    assert explain(one).findings[0].code == "REGISTRY_NAME_UNKNOWN"
    token = ("failed to fetch anonymous token: unexpected status from GET request to "
             "https://auth.docker.io/token?scope=repository%3Anginx%3Apull&service=registry.docker.io: "
             "401 Unauthorized")
    assert explain(token).findings[0].code == "REGISTRY_NAME_UNKNOWN"
    two = one.replace("/v2/nginx/", "/v2/library/nginx/").replace("Name:nginx", "Name:library/nginx")
    assert explain(two).findings[0].code == "AUTH_CREDENTIALS_REQUIRED"
    other = one.replace("registry-1.docker.io", "ghcr.io")  # other registries have one-component names
    assert explain(other).findings[0].code == "AUTH_CREDENTIALS_REQUIRED"


def test_a_port_before_a_reason_phrase_is_not_a_status() -> None:
    from regdoctor.explain.grammar import read

    r = read('connect to r.io port 443: Service Unavailable, then Get "https://r.io:443/v2/": Forbidden')
    assert "443" not in {t.fields.get("status") for t in r.tokens}


@pytest.mark.parametrize(("text", "code"), [
    ("Error response from daemon: unknown blob", "REGISTRY_BLOB_UNKNOWN"),
    ("Error: pulling image: unknown: unknown blob", "REGISTRY_BLOB_UNKNOWN"),
    ("NOT_FOUND: Requested entity was not found.", "REGISTRY_MANIFEST_UNKNOWN"),
])
def test_missing_content_in_distributions_and_googles_words(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


@pytest.mark.parametrize(("text", "code"), [
    ("X-Squid-Error: ERR_ACCESS_DENIED 0", "PROXY_DENIED"),
    ("Access control configuration prevents your request from being allowed at this time.", "PROXY_DENIED"),
    ("X-Squid-Error: ERR_CONNECT_FAIL 110", "PROXY_UPSTREAM_FAILED"),
    ("<title>ERROR: The requested URL could not be retrieved</title>", "PROXY_UPSTREAM_FAILED"),
    ("X-Squid-Error: ERR_CACHE_ACCESS_DENIED 0", "PROXY_AUTH_REQUIRED"),
    ("error parsing HTTP 403 response body: invalid character '<' looking for beginning of value: "
     '"<html><head><title>Zscaler</title></head><body>Website blocked</body></html>"', "PROXY_DENIED"),
])
def test_the_proxys_own_answer(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


@pytest.mark.parametrize(("text", "code"), [
    ('Get "https://r.io/v2/": dial tcp: lookup r.io: operation was canceled', "DNS_TIMEOUT"),
    ('Get "https://r.io/v2/": dial tcp 10.0.0.1:443: operation was canceled', "TCP_TIMEOUT"),
])
def test_a_canceled_operation_is_the_deadline_giving_up_on_that_step(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


@pytest.mark.parametrize("text", [
    "denied: Your IP address 203.0.113.9 is not allowed",  # a registry's own wording, no ACR
    "Error response from daemon: Get https://registry.gitlab.com/v2/a/b/manifests/1: 403 Forbidden: "
    "access from your country is blocked",  # a hosted registry's 403 is IAM - unless it names a place
    '{"errors":[{"code":"DENIED","message":"requested access from 198.51.100.7 is blocked by network rules"}]}',
    "unauthorized: the client IP is not in the IP allow list of project team",
])
def test_a_refusal_that_names_the_clients_network_is_a_network_rule(text: str) -> None:
    # the registry's own rule (not ACR's firewall, whose fix is `az acr network-rule`)
    assert explain(text).findings[0].code == "HTTP_FORBIDDEN"


def test_acrs_refusal_naming_the_client_stays_acrs_firewall() -> None:
    text = "Error response from daemon: Get https://myacr.azurecr.io/v2/a/manifests/1: denied: your IP is not allowed"
    assert explain(text).findings[0].code == "HTTP_FIREWALL_DENIED"


@pytest.mark.parametrize("text", [
    "denied: requested access to the resource is denied",
    "Error response from daemon: Get https://ghcr.io/v2/a/b/manifests/1: 403 Forbidden",
    "unauthorized: authentication required",
])
def test_a_refusal_that_names_no_network_stays_an_identity_verdict(text: str) -> None:
    assert explain(text).findings[0].layer == "auth"


@pytest.mark.parametrize("text", [
    # CRI-O through the kubelet: the message follows gRPC's `desc = `, not ": "
    'Failed to inspect image "kicbase/echo-server:1.0": rpc error: code = Unknown desc = short-name '
    '"kicbase/echo-server:1.0" did not resolve to an alias and no unqualified-search registries are defined in '
    '"/etc/containers/registries.conf"',
    # a logfmt value
    'level=error msg="PullImage failed" error="short-name \\"app:1\\" did not resolve to an alias and no '
    'unqualified-search registries are defined in \\"/etc/containers/registries.conf\\""',
])
def test_a_phrase_after_grpcs_desc_or_a_logfmt_value_is_read_as_after_a_colon(text: str) -> None:
    assert explain(text).findings[0].code == "REGISTRY_SHORT_NAME_UNRESOLVED"


def test_a_refusal_from_a_hosted_registrys_address_was_made_on_the_way() -> None:
    # a hosted registry always listens on 443: the refusal is a network that lets only its proxy out
    hosted = ('Error response from daemon: Get "https://mcr.microsoft.com/v2/": dial tcp 204.79.197.219:443: connect: '
              "connection refused")
    codes = [f.code for f in explain(hosted).findings]
    assert codes[0] == "PROXY_NOT_CONFIGURED" and "TCP_REFUSED" in codes
    # a registry of one's own may simply not listen there
    own = 'Get "http://registry.corp.example:5000/v2/": dial tcp 10.0.0.7:5000: connect: connection refused'
    assert explain(own).findings[0].code == "TCP_REFUSED"
    # a hosted name dialled at loopback: the name resolved there
    looped = 'Get "https://registry-1.docker.io/v2/": dial tcp 127.0.0.1:443: connect: connection refused'
    assert explain(looped).findings[0].code == "DNS_LOOPBACK"
    # behind the proxy hop the refusal is the proxy's
    proxied = ('Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: '
               "connection refused")
    assert explain(proxied).findings[0].code == "PROXY_REFUSED"


@pytest.mark.parametrize(("text", "code"), [
    # pyOpenSSL's and OpenSSL's own reason string, on a hosted registry (public CA): inspection first
    ("HTTPSConnectionPool(host='contoso.azurecr.io', port=443): Max retries exceeded with url: /v2/ (Caused by "
     "SSLError(SSLError(\"bad handshake: Error([('SSL routines', 'tls_process_server_certificate', 'certificate "
     "verify failed')],)\",),))", "TLS_INTERCEPTED"),
    ("error:1416F086:SSL routines:tls_process_server_certificate:certificate verify failed", "TLS_UNKNOWN_CA"),
    # ARM's linked-scope refusal (az acr import from another registry)
    ("The client 'a1' with object id 'a1' has permission to perform action 'Microsoft.ContainerRegistry/registries/"
     "importImage/action' on scope '/s/r'; however, it does not have permission to perform action 'read' on the "
     "linked scope(s) '/s/o'.", "AUTH_PERMISSION_DENIED"),
    # `DNS lookup to HOST … : OK` is az check-health's prose, not a failed lookup
    ("DNS lookup to contoso.azurecr.io at IP 172.27.1.5 : OK\nAn error occurred: CONNECTIVITY_CHALLENGE_ERROR\n"
     "Registry 'contoso.azurecr.io' did not issue a challenge.", "HTTP_FIREWALL_DENIED"),
])
def test_azure_clients_words(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_a_manifest_blob_unknown_to_an_acr_replica_keeps_the_replica_reading() -> None:
    text = "Error: PUT https://contoso.azurecr.io/v2/app/manifests/1: MANIFEST_BLOB_UNKNOWN: blob unknown to registry"
    assert "DNS_REPLICA_SWITCHED" in [f.code for f in explain(text).findings]


def test_a_hosted_registrys_denial_that_only_repeats_itself_rejects_the_stored_credential() -> None:
    # GHCR answers an expired or revoked stored token with `denied: denied`
    echoed = 'Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1.2": denied: denied'
    assert explain(echoed).findings[0].code == "AUTH_BAD_CREDENTIALS"
    # a bare `denied` to an anonymous pull: a private repository or one that does not exist, alike
    bare = [f.code for f in explain('Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1.2": '
                                     "denied").findings]
    assert "REGISTRY_NAME_UNKNOWN" in bare[:2]
    # a reason of its own keeps the registry's word
    reason = "denied: permission_denied: write_package"
    assert explain(reason).findings[0].code == "AUTH_PERMISSION_DENIED"


def test_a_lookup_the_user_elided_is_still_a_lookup() -> None:
    assert explain("dial tcp: lookup production.cloudflare.docker.com ... i/o timeout").findings[0].layer in ("dns",
                                                                                                             "data")


def test_a_push_copies_its_blobs_to_the_registry_not_to_a_storage_host() -> None:
    # containers/image prints `Copying blob` on a push too: the 413 is the registry's front end
    text = ("podman push localhost:5001/centos:stream8 --tls-verify=false\nGetting image source signatures\n"
            "Copying blob 1e56088a7464 [====>------] 29.0MiB / 214.7MiB\nError: writing blob: uploading layer chunked: "
            "StatusCode: 413, <html>\n<head><title>413 Request Entity Too Large</title></head>")
    assert explain(text).findings[0].code == "HTTP_FRONTEND_MISCONFIGURED"


def test_a_request_the_server_never_received_whole_keeps_the_mtu_reading() -> None:
    text = ("Error parsing HTTP response: invalid character '<' looking for beginning of value: \"408 Request Time-out "
            "Your browser didn't send a complete request in time\"")
    assert "TCP_MTU_BLACKHOLE" in [f.code for f in explain(text).findings]


def test_a_registry_without_identities_refuses_by_network_rule() -> None:
    # registry.k8s.io is anonymous only: its 403 is never an identity verdict
    text = ('failed to resolve reference "registry.k8s.io/kube-apiserver:v1.30.1": unexpected status from HEAD request '
            "to https://registry.k8s.io/v2/kube-apiserver/manifests/v1.30.1: 403 Forbidden")
    assert explain(text).findings[0].layer == "http"


@pytest.mark.parametrize(("text", "code"), [
    ("Error: chart \"mychart\" matching 1.2.3 not found in myrepo index. (try 'helm repo update'): no chart version "
     "found for mychart-1.2.3", "REGISTRY_MANIFEST_UNKNOWN"),
    ('Error: failed to download "oci://registry-1.docker.io/bitnamicharts/redis" at version "99.0.0"',
     "REGISTRY_MANIFEST_UNKNOWN"),
    ("Error: unable to pull image: image platform (linux/arm64) does not match the expected platform (linux/amd64)",
     "REGISTRY_PLATFORM_MISSING"),
    ("Error response from daemon: unsupported docker v1 repository request for 'docker.io/library/foo'",
     "REGISTRY_UNSUPPORTED"),
])
def test_more_clients_words_for_registry_content(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


@pytest.mark.parametrize("text", [
    "failed to authorize: failed to fetch anonymous token: unexpected status from GET request to "
    "https://ghcr.io/token?scope=repository%3Aacme%2Fcharts%2Fapp%3Apull&service=ghcr.io: 403 Forbidden",
    'failed to authorize: failed to fetch anonymous token: unexpected status: 403 Forbidden: denied',
])
def test_an_anonymous_request_refused_asked_for_a_private_or_missing_name(text: str) -> None:
    # no identity was sent, so none lacks a permission: the name is private (log in) or wrong
    codes = [f.code for f in explain(text).findings]
    assert codes[0] == "REGISTRY_NAME_UNKNOWN" and "AUTH_CREDENTIALS_REQUIRED" in codes[:3], codes
    assert codes.index("AUTH_PERMISSION_DENIED") > codes.index("AUTH_CREDENTIALS_REQUIRED"), codes


def test_a_refusal_of_a_credential_is_still_a_permission_verdict() -> None:
    text = ('Error response from daemon: Head "https://ghcr.io/v2/acme/app/manifests/1": denied: '
            'permission_denied: The token provided does not match expected scopes.')
    assert explain(text).findings[0].code == "AUTH_PERMISSION_DENIED"


def test_another_host_below_a_podman_pull_may_be_its_mirror() -> None:
    # containers/image tries registries.conf mirrors first and marks their requests with nothing
    mirror = ("/usr/bin/podman pull registry.suse.com/ses/7/ceph/ceph\n"
              "  Get https://192.168.8.66:5000/v2/: http: server gave HTTP response to HTTPS client")
    assert explain(mirror).findings[0].code == "TLS_NOT_TLS"
    # ... but when the client says the request was for the registry, the registry redirected it
    redirect = ('Error: initializing source docker://r.example/lab/app:1: pinging container registry r.example: '
                'Get "https://backend.example:5601/v2/": dial tcp 10.0.0.21:5601: i/o timeout')
    assert explain(redirect).findings[0].code == "DATA_ENDPOINT_BLOCKED"
    # docker has no unmarked mirrors for a registry of its own: another /v2/ host is the redirect's
    docker = ("$ docker pull registry.k8s.io/pause:3.9\nError response from daemon: Get "
              '"https://us-west1-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/manifests/3.9": '
              "dial tcp 10.2.3.4:443: i/o timeout")
    assert explain(docker).findings[0].code == "DATA_ENDPOINT_BLOCKED"


@pytest.mark.parametrize(("text", "code"), [
    # a token service's JSON body: its string member starts a message as `: ` does
    ('reading image "index.docker.io/library/busybox:latest": no token in bearer response:\n'
     '{"details":"incorrect username or password"}', "AUTH_BAD_CREDENTIALS"),
    # containers/image's wrapper of a credential helper, and the helpers' own "not found"
    ('Error parsing image name "docker://r.example/app": error getting username and password: credentials not '
     'found in native keychain', "AUTH_CREDENTIAL_HELPER_FAILED"),
])
def test_credential_answers_in_their_own_words(text: str, code: str) -> None:
    assert explain(text).findings[0].code == code


def test_no_ipv6_route_is_this_machines_for_every_host() -> None:
    # an IPv6-only token host (or an AAAA answer preferred) on a machine without an IPv6 route
    text = ('failed to solve: node:18: failed to authorize: failed to fetch anonymous token: Get '
            '"https://auth.ipv6.docker.com/token?scope=repository%3Alibrary%2Fnode%3Apull&service=registry.docker.io":'
            ' dial tcp [2600:1f18:2148:bc00::1]:443: connect: network is unreachable')
    assert explain(text).findings[0].code == "TCP_NET_UNREACHABLE"
    # over IPv4 a missing route can be that host's own (a private endpoint's subnet): the realm's fault
    v4 = text.replace("[2600:1f18:2148:bc00::1]", "10.20.0.4")
    assert explain(v4).findings[0].code == "AUTH_REALM_UNREACHABLE"


@pytest.mark.parametrize("dial", ["[::1]:8443", "127.0.0.1:8443"])
def test_a_registry_name_dialled_at_loopback_resolved_there(dial: str) -> None:
    text = ('failed to do request: Head "https://gitea.example.test:8443/v2/admin/app/manifests/latest": '
            f"dial tcp {dial}: connect: connection refused")
    assert explain(text).findings[0].code == "DNS_LOOPBACK"
    local = text.replace("gitea.example.test", "localhost")  # asked for loopback: nothing listens there
    assert explain(local).findings[0].code == "TCP_REFUSED"


@pytest.mark.parametrize("text", [
    "Error pushing to registry: Server error: 301 trying to push app blob - sha256:819d5b58",
    'failed to push r.example/app:1: unexpected status: 307 Temporary Redirect',
    'PUT "https://r.example/v2/app/blobs/uploads/x": unexpected status code 308 Permanent Redirect',
])
def test_a_redirect_the_client_reports_is_the_front_ends(text: str) -> None:
    assert explain(text).findings[0].code == "HTTP_FRONTEND_MISCONFIGURED"


def test_a_302_found_that_is_no_status_is_not_read_as_one() -> None:
    assert "HTTP_FRONTEND_MISCONFIGURED" not in [f.code for f in explain("moved 302 Found files to r.example").findings]


@pytest.mark.parametrize("text", [
    'failed to get converter for "registry.k8s.io/busybox:latest": Pulling Schema 1 images have been deprecated '
    "and disabled by default since containerd v2.0.",
    "[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by "
    "default and will be removed in an upcoming release.",
    "copying system image from manifest list: Unexpectedly received a manifest list instead of a manifest for a "
    "single image",
])
def test_a_manifest_kind_the_client_refuses(text: str) -> None:
    assert explain(text).findings[0].code == "REGISTRY_BAD_MANIFEST"


def test_a_tool_that_announced_its_proxy_and_dialled_direct_did_not_use_it() -> None:
    text = "Setting proxy from environment: http://proxy.corp:3128/\nError: connect ETIMEDOUT 44.213.61.252:443"
    assert explain(text).findings[0].code == "PROXY_NOT_CONFIGURED"
    assert explain(text.splitlines()[1]).findings[0].code == "TCP_TIMEOUT"


def test_a_dial_to_the_proxy_cut_before_its_reason_is_the_proxy_hop() -> None:
    text = ("Failed to pull image \"nginx\": rpc error: code = Unknown desc = Error response from daemon: "
            "Get https://registry-1.docker.io/v2/: proxyconnect tcp: dial tcp")
    f = explain(text).findings
    assert f[0].layer == "proxy" and "PROXY_REFUSED" in [x.code for x in f], [x.code for x in f]


def test_a_layer_retried_without_a_reason_is_cut_on_its_way() -> None:
    push = ("The push refers to repository [r.example/app]\ne156c976a2ba: Pushing [====>]  3.072kB\n"
            "45d8dc025525: Retrying in 1 second")
    assert explain(push).findings[0].code == "HTTP_FRONTEND_MISCONFIGURED"  # what stands in front of the registry
    pull = ("latest: Pulling from library/app\ne156c976a2ba: Downloading [====>]  3.072kB\n"
            "45d8dc025525: Retrying in 5 seconds")
    assert explain(pull).findings[0].code == "DATA_ENDPOINT_BLOCKED"  # the download from the data host


def test_an_oci_chart_with_two_content_layers_is_a_manifest_the_client_cannot_use() -> None:
    text = ("rpc error: code = Unknown desc = expected only a single oci content layer, got 2")
    assert explain(text).findings[0].code == "REGISTRY_BAD_MANIFEST"
