"""The network and TLS leaves of stacks other than Go's, as their own sources word them.

Registry clients are not all Go: Jib and Testcontainers are Java, Renovate and many CI actions Node,
the .NET SDK publishes containers itself, Dependabot is Ruby. Each stack has its own words for the same
leaf (a reset, a closed handshake, an untrusted root, a deadline); each row is the wording of that
stack's source or documentation, and the leaf must decide as Go's words for it do.
"""

from __future__ import annotations

import pytest

from regdoctor.explain import explain, explain_chunks

ROWS: list[tuple[str, str, str]] = [
    # Java: java.net.SocketException, sun.security.ssl (JSSE), java.security.cert, java.net.http
    ("java reset", "java.net.SocketException: Connection reset", "TCP_RESET"),
    ("jsse closed", "javax.net.ssl.SSLHandshakeException: Remote host terminated the handshake",
     "TLS_HANDSHAKE_CLOSED"),
    ("jsse closed old", "javax.net.ssl.SSLHandshakeException: Remote host closed connection during handshake",
     "TLS_HANDSHAKE_CLOSED"),
    ("jsse plain", "javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?", "TLS_NOT_TLS"),
    ("java expired", "java.security.cert.CertificateExpiredException: NotAfter: Tue Jan 02 10:00:00 UTC 2024",
     "TLS_EXPIRED"),
    ("java not yet", "java.security.cert.CertificateNotYetValidException: NotBefore: Mon Jan 01 00:00:00 UTC 2035",
     "TLS_NOT_YET_VALID"),
    ("java validity", "sun.security.validator.ValidatorException: PKIX path validation failed: "
     "java.security.cert.CertPathValidatorException: validity check failed", "TLS_EXPIRED"),
    ("java san", "java.security.cert.CertificateException: No subject alternative DNS name matching "
     "reg.example.com found.", "TLS_NAME_MISMATCH"),
    ("java ip san", "java.security.cert.CertificateException: No subject alternative names matching IP address "
     "10.0.0.5 found", "TLS_NAME_MISMATCH"),
    ("java connect timeout", "java.net.http.HttpConnectTimeoutException: HTTP connect timed out", "TCP_TIMEOUT"),
    # Node: net/tls/http errors and OpenSSL's verify texts as Node reports them
    ("node hang up", "Error: socket hang up", "HTTP_CONNECTION_CLOSED"),
    ("node tls closed", "Error: Client network socket disconnected before secure TLS connection was established",
     "TLS_HANDSHAKE_CLOSED"),
    ("node first cert", "Error: unable to verify the first certificate", "TLS_UNKNOWN_CA"),
    ("node issuer", "Error: unable to get issuer certificate", "TLS_UNKNOWN_CA"),
    ("node not yet", "Error: certificate is not yet valid (CERT_NOT_YET_VALID)", "TLS_NOT_YET_VALID"),
    ("node tunnel closed", "Error: tunneling socket could not be established, cause=socket hang up", "PROXY_CLOSED"),
    ("node tunnel refused", "Error: tunneling socket could not be established, cause=connect ECONNREFUSED "
     "10.0.0.1:3128", "PROXY_REFUSED"),
    ("got timeout", "RequestError: Timeout awaiting 'request' for 60000ms", "TCP_TIMEOUT"),
    # .NET: X509ChainStatusFlags / SslPolicyErrors in SslStream's messages, HttpClient's deadline
    ("dotnet untrusted", "System.Net.Http.HttpRequestException: The SSL connection could not be established, see "
     "inner exception. ---> System.Security.Authentication.AuthenticationException: The remote certificate is "
     "invalid because of errors in the certificate chain: UntrustedRoot", "TLS_UNKNOWN_CA"),
    ("dotnet partial", "The remote certificate is invalid because of errors in the certificate chain: PartialChain",
     "TLS_UNKNOWN_CA"),
    ("dotnet time", "The remote certificate is invalid because of errors in the certificate chain: NotTimeValid",
     "TLS_EXPIRED"),
    ("dotnet name", "The remote certificate is invalid according to the validation procedure: "
     "RemoteCertificateNameMismatch", "TLS_NAME_MISMATCH"),
    ("dotnet closed", "System.IO.IOException: Received an unexpected EOF or 0 bytes from the transport stream.",
     "TLS_HANDSHAKE_CLOSED"),
    ("dotnet closed old", "System.Security.Authentication.AuthenticationException: Authentication failed because "
     "the remote party has closed the transport stream.", "TLS_HANDSHAKE_CLOSED"),
    ("dotnet deadline", "The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.",
     "TCP_TIMEOUT"),
    # Ruby: Net::HTTP's deadlines
    ("ruby open", "Net::OpenTimeout: execution expired", "TCP_TIMEOUT"),
    ("ruby read", "Net::ReadTimeout with #<TCPSocket:(closed)>", "HTTP_NO_RESPONSE"),
    # Go on Windows prints the system's message in its own language after the Winsock call
    ("win zh timeout", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: '
     "由于连接方在一段时间后没有正确答复或连接的主机没有反应，连接尝试失败。", "TCP_TIMEOUT"),
    ("win zh refused", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: '
     "由于目标计算机积极拒绝，无法连接。", "TCP_REFUSED"),
    ("win zh nxdomain", 'Get "https://r.example/v2/": dial tcp: lookup r.example: getaddrinfow: '
     "不知道这样的主机。", "DNS_NXDOMAIN"),
    ("win zh reset", 'Get "https://r.example/v2/": read tcp 10.0.0.5:50000->10.0.0.1:443: wsarecv: '
     "远程主机强迫关闭了一个现有的连接。", "TCP_RESET"),
    ("win de refused", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: Es konnte keine Verbindung '
     "hergestellt werden, da der Zielcomputer die Verbindung verweigerte.", "TCP_REFUSED"),
    ("win ja refused", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: '
     "対象のコンピューターによって拒否されたため、接続できませんでした。", "TCP_REFUSED"),
    ("win fr timeout", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: Une tentative de connexion '
     "a échoué car le parti connecté n’a pas répondu convenablement au-delà d’une certaine durée", "TCP_TIMEOUT"),
    ("win unknown words", 'Get "https://r.example/v2/": dial tcp 10.0.0.1:443: connectex: Ein unbekannter Fehler ist '
     "aufgetreten.", "TCP_CONNECT_FAILED"),
    # Go's x/net/proxy SOCKS5 client: RFC 1928's replies, read as the same refusal of an HTTP CONNECT
    ("socks failure", 'Get "https://reg.example.com/v2/": socks connect tcp 127.0.0.1:1080->reg.example.com:443: '
     "unknown error general SOCKS server failure", "PROXY_UPSTREAM_FAILED"),
    ("socks host", 'Get "https://reg.example.com/v2/": socks connect tcp 127.0.0.1:1080->reg.example.com:443: '
     "unknown error host unreachable", "PROXY_UPSTREAM_FAILED"),
    ("socks ruleset", 'Get "https://reg.example.com/v2/": socks connect tcp 127.0.0.1:1080->reg.example.com:443: '
     "unknown error connection not allowed by ruleset", "PROXY_DENIED"),
    ("socks auth", 'Get "https://reg.example.com/v2/": socks connect tcp 127.0.0.1:1080->reg.example.com:443: '
     "username/password authentication failed", "PROXY_AUTH_REQUIRED"),
    ("socks down", 'Get "https://reg.example.com/v2/": socks connect tcp 127.0.0.1:1080->reg.example.com:443: '
     "dial tcp 127.0.0.1:1080: connect: connection refused", "PROXY_REFUSED"),
    # macOS's platform verifier, whose words Go (before 1.18) printed after `x509: `
    ("macos untrusted", 'failed to fetch oauth token: Post "https://r.example/service/token": tls: failed to verify '
     "certificate: x509: “r.example” certificate is not trusted", "TLS_UNKNOWN_CA"),
    ("macos name", 'Get "https://r.example/v2/": x509: “r.example” certificate name does not match input',
     "TLS_NAME_MISMATCH"),
    ("macos expired", 'Get "https://r.example/v2/": x509: “r.example” certificate is expired', "TLS_EXPIRED"),
    # Jib: HTTPS verification failed and it may not fall back to HTTP
    ("jib insecure", "com.google.cloud.tools.jib.registry.InsecureRegistryException: Failed to verify the server at "
     "https://r.example/v2/app/manifests/1 because only secure connections are allowed.", "TLS_UNKNOWN_CA"),
    # macOS's resolver API (dns_sd.h): Docker Desktop's host side logs the code, libraries the constant
    ("dnssd timeout", "com.docker.backend: unexpected error from dnssd: Timeout (-65568)", "DNS_TIMEOUT"),
    ("dnssd no name", "DNSServiceGetAddrInfo failed: NoSuchName (-65538)", "DNS_NXDOMAIN"),
    ("dnssd no record", "resolve r.example: kDNSServiceErr_NoSuchRecord", "DNS_NODATA"),
    ("dnssd refused", "unexpected error from dnssd: Refused (-65553)", "DNS_REFUSED"),
]


@pytest.mark.parametrize(("text", "code"), [(t, c) for _, t, c in ROWS], ids=[r[0] for r in ROWS])
def test_another_stacks_leaf_gives_the_code_gos_would(text: str, code: str) -> None:
    findings = explain(text).findings
    assert findings, text
    assert findings[0].code == code, [f.code for f in findings]


def test_a_bare_connection_reset_in_prose_is_no_leaf() -> None:
    # the Java text is a leaf only where a leaf can start (after `: `, a bracket, a quote, the line start)
    assert not explain("we saw the connection reset counters rise on the switch").findings


@pytest.mark.parametrize(("text", "code"), [(t, c) for _, t, c in ROWS], ids=[r[0] for r in ROWS])
def test_a_log_line_with_another_stacks_leaf_is_read(text: str, code: str) -> None:
    # in a log (`--file`) the scanner's prefilter must admit the line, or the leaf is never read
    line = f"2026-12-02T10:00:00Z pull registry.example.com/app:1 failed: {text}\n".encode()
    findings = explain_chunks([line], strict=True).findings
    assert findings and findings[0].code == code, [f.code for f in findings]
