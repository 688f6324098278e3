"""The words of registry clients' errors: reason phrases, registry error codes, socket and resolver texts.

Tables, not rules: which phrase a client prints for which status, errno or registry code (Go's
``http.StatusText``, the OCI distribution spec's codes with docker/distribution's extras, Go /
glibc / Windows / Python socket and resolver messages). ``tokens`` builds its regexes from them;
what a leaf *means* is ``kb/symptoms.toml [leaf.*]``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

HOST = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,252}+"
# an address as Go prints it: [v6]:port, v4:port, name:port (port optional)
ADDR = r"(?:\[[0-9A-Fa-f:.%a-z]{2,64}+\]|[A-Za-z0-9_.\-]{1,253}+)(?::[0-9]{1,5}+)?"
ADDR_PARTS = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:]+))(?::(?P<port>[0-9]+))?$")

#: HTTP reason phrases (Go's http.StatusText), which make a number a status
REASONS: Mapping[str, int] = {
    "Bad Request": 400, "Unauthorized": 401, "Payment Required": 402, "Forbidden": 403, "Not Found": 404,
    "Method Not Allowed": 405, "Not Acceptable": 406, "Proxy Authentication Required": 407,
    "Request Timeout": 408, "Request Time-out": 408, "Conflict": 409, "Gone": 410, "Length Required": 411,
    "Precondition Failed": 412,
    "Request Entity Too Large": 413, "Payload Too Large": 413, "Request URI Too Long": 414,
    "Unsupported Media Type": 415, "Requested Range Not Satisfiable": 416, "Range Not Satisfiable": 416,
    "Misdirected Request": 421, "Unprocessable Entity": 422, "Too Many Requests": 429,
    "Request Header Fields Too Large": 431, "Unavailable For Legal Reasons": 451,
    "Internal Server Error": 500, "Not Implemented": 501, "Bad Gateway": 502, "Service Unavailable": 503,
    "Gateway Timeout": 504, "Gateway Time-out": 504, "HTTP Version Not Supported": 505,
    "Network Authentication Required": 511,
}
REASON_ALT = "|".join(re.escape(r) for r in sorted(REASONS, key=len, reverse=True))
# Reason phrases a Go proxy CONNECT failure shows bare (transport.go: errors.New(resp.Status[4:]))
# Go shows the *proxy's* own phrase (resp.Status after the code), so the older wordings that Squid 2 and
# nginx send (`Gateway Time-out`, `Request Time-out`) count too.
CONNECT_REASONS = ("Proxy Authentication Required", "Forbidden", "Bad Gateway", "Service Unavailable",
                    "Gateway Timeout", "Gateway Time-out", "Internal Server Error", "Not Found", "Method Not Allowed",
                    "Bad Request", "Unauthorized", "Too Many Requests", "Request Timeout", "Request Time-out")

#: the status a storage service's XML error code stands for (S3's and Azure Blob's error-code
#: tables; GCS speaks S3's XML), so a pasted body without its status line still says 403 or 404
STORAGE_STATUS: Mapping[str, int] = {
    **dict.fromkeys(("AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidAccessKeyId",
                     "SignatureDoesNotMatch", "RequestTimeTooSkewed", "InvalidObjectState", "AuthorizationFailure",
                     "AuthenticationFailed", "AuthorizationPermissionMismatch", "AuthorizationSourceIPMismatch",
                     "AuthorizationProtocolMismatch", "AuthorizationResourceTypeMismatch",
                     "AuthorizationServiceMismatch", "AccountIsDisabled", "InsufficientAccountPermissions",
                     "KeyBasedAuthenticationNotPermitted", "UserProjectAccountProblem"), 403),
    **dict.fromkeys(("NoSuchKey", "NoSuchBucket", "NoSuchUpload", "BlobNotFound", "ContainerNotFound",
                     "ResourceNotFound"), 404),
    **dict.fromkeys(("ExpiredToken", "InvalidToken", "AuthorizationQueryParametersError", "InvalidArgument",
                     "InvalidRequest", "InvalidQueryParameterValue", "InvalidUri"), 400),
    **dict.fromkeys(("SlowDown", "ServerBusy", "ServiceUnavailable"), 503),
    "InternalError": 500, "OperationTimedOut": 500,
}

#: The OCI distribution spec's error codes, with docker/distribution's extras.
OCI_CODES = ("BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
             "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "MANIFEST_UNVERIFIED",
             "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "TAG_INVALID", "UNAUTHORIZED", "DENIED",
             "UNSUPPORTED", "TOOMANYREQUESTS", "UNAVAILABLE", "PAGINATION_NUMBER_INVALID", "RANGE_INVALID")
OCI_UPPER = "|".join(sorted(OCI_CODES, key=len, reverse=True))
# distribution's ErrorCode.Error(): lower case, `_` -> space (oras-go, containerd, docker, c/image)
OCI_LOWER_CODES = tuple(sorted({c.lower().replace("_", " ") for c in OCI_CODES} | {"too many requests"},
                               key=len, reverse=True))
OCI_LOWER = "|".join(OCI_LOWER_CODES)
# RFC 6750 / docker token errors a token service answers with
OAUTH = ("insufficient_scope", "invalid_token", "invalid_grant", "invalid_client", "invalid_request",
          "unauthorized_client", "unsupported_grant_type")

# Python errno numbers (Linux, macOS, Windows) -> the leaf they name
PY_ERRNO: Mapping[int, str] = {
    -2: "nxdomain", -3: "eai_again", -5: "nodata", 8: "nxdomain", 11001: "nxdomain", 11002: "eai_again",
    -9: "nxdomain", 7: "nodata",
    111: "refused", 61: "refused", 10061: "refused",
    110: "timeout", 60: "timeout", 10060: "timeout",
    113: "host_unreachable", 65: "host_unreachable", 10065: "host_unreachable",
    101: "net_unreachable", 51: "net_unreachable", 10051: "net_unreachable",
    104: "reset", 54: "reset", 10054: "reset", 32: "broken_pipe",
    1: "local_policy", 13: "local_policy", 99: "local_resource", 24: "local_resource",
}

# Go / glibc / Windows texts of a failed socket or lookup -> errno kind
ERRNO_TEXT: Mapping[str, str] = {
    "connection refused": "refused",
    "no connection could be made because the target machine actively refused it": "refused",
    "connection reset by peer": "reset",
    "connection reset": "reset",  # Java's SocketException
    "an existing connection was forcibly closed by the remote host": "reset",
    "broken pipe": "broken_pipe",
    "no route to host": "host_unreachable",
    "host is down": "host_unreachable",
    "network is unreachable": "net_unreachable",
    "a socket operation was attempted to an unreachable network": "net_unreachable",
    "a socket operation was attempted to an unreachable host": "host_unreachable",
    "connection timed out": "timeout",
    "connect timed out": "timeout",  # Java's SocketTimeoutException
    "operation timed out": "timeout",
    "a connection attempt failed because the connected party did not properly respond": "timeout",
    "i/o timeout": "timeout",
    # Go's context.Canceled during a lookup or dial: the caller's deadline gave up on it
    "operation was canceled": "timeout",
    "no such host": "nxdomain",
    "no such host is known": "nxdomain",
    "name or service not known": "nxdomain",
    "nodename nor servname provided, or not known": "nxdomain",
    "server misbehaving": "servfail",
    "temporary failure in name resolution": "eai_again",
    "this is usually a temporary error during hostname resolution": "eai_again",
    "a non-recoverable error occurred during a database lookup": "servfail",
    "no address associated with hostname": "nodata",
    "permission denied": "local_policy",
    "operation not permitted": "local_policy",
    "cannot assign requested address": "local_resource",
    "too many open files": "local_resource",
}
# the errno a socket text stands for (Linux names)
ERRNO_NAME: Mapping[str, str] = {
    "connection refused": "ECONNREFUSED", "connection reset by peer": "ECONNRESET", "connection reset": "ECONNRESET",
    "broken pipe": "EPIPE",
    "no route to host": "EHOSTUNREACH", "host is down": "EHOSTDOWN", "network is unreachable": "ENETUNREACH",
    "connection timed out": "ETIMEDOUT", "operation timed out": "ETIMEDOUT", "permission denied": "EACCES",
    "operation not permitted": "EPERM", "cannot assign requested address": "EADDRNOTAVAIL",
    "too many open files": "EMFILE",
}
def grouped(words: list[str]) -> str:
    """An alternation grouped by first letter (either case): ``re`` tries one branch per position."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0].lower(), []).append(w[1:])
    return "|".join(f"[{c.upper()}{c}](?:{'|'.join(re.escape(r) for r in sorted(rest, key=len, reverse=True))})"
                    for c, rest in sorted(groups.items()))


ERRNO_ALT = grouped(list(ERRNO_TEXT))
# the phrases without their first letter: present whatever its case
ERRNO_TRIGGERS = tuple(sorted({t[1:] for t in ERRNO_TEXT}))
# Go on Windows prints the system's FormatMessage text after the Winsock call (`connectex: …`,
# `wsarecv: …`, `getaddrinfow: …`), in the system's language: the words of Windows' own message
# catalogue for the common errors (WSAECONNREFUSED, WSAETIMEDOUT, WSAECONNRESET, WSAHOST_NOT_FOUND,
# WSAENETUNREACH/WSAEHOSTUNREACH, WSATRY_AGAIN) in its most common display languages -> errno kind.
# A piece distinctive in its sentence is enough (the rest varies with apostrophes and builds).
WINSOCK_LOCALIZED: Mapping[str, str] = {
    # zh-CN
    "积极拒绝": "refused",
    "没有正确答复": "timeout",
    "强迫关闭了一个现有的连接": "reset",
    "不知道这样的主机": "nxdomain",
    "无法连接的网络": "net_unreachable",
    "无法连接的主机": "host_unreachable",
    "主机名解析时出现的暂时错误": "eai_again",
    # zh-TW
    "目標電腦拒絕連線": "refused",
    "遠端主機已強制關閉一個現存的連線": "reset",
    "沒有正確回應": "timeout",
    "沒有此主機": "nxdomain",
    # ja
    "拒否されたため、接続できませんでした": "refused",
    "正しく応答しなかったため": "timeout",
    "リモート ホストに強制的に切断されました": "reset",
    "そのようなホストは不明です": "nxdomain",
    # ko
    "연결을 거부했으므로": "refused",
    "응답이 없어 연결하지 못했거나": "timeout",
    "원격 호스트에 의해 강제로 끊겼습니다": "reset",
    "알려진 호스트가 없습니다": "nxdomain",
    # de
    "Zielcomputer die Verbindung verweigerte": "refused",
    "nicht richtig reagiert": "timeout",
    "vom Remotehost geschlossen": "reset",
    "Der angegebene Host ist unbekannt": "nxdomain",
    # fr
    "expressément refusée": "refused",
    "pas répondu convenablement": "timeout",
    "fermée par l’hôte distant": "reset",
    "fermée par l'hôte distant": "reset",
    "Hôte inconnu": "nxdomain",
    # es
    "denegó expresamente": "refused",
    "no respondió adecuadamente": "timeout",
    "interrupción de una conexión existente": "reset",
    "No se conoce ningún host": "nxdomain",
    # pt-BR
    "recusou ativamente": "refused",
    "não respondeu corretamente": "timeout",
    "cancelamento de uma conexão existente": "reset",
    "Host desconhecido": "nxdomain",
    # ru
    "отверг запрос на подключение": "refused",
    "не получен нужный отклик": "timeout",
    "принудительно разорвал существующее подключение": "reset",
    "Этот хост неизвестен": "nxdomain",
}
# the kind an untranslated (unknown) message after each Winsock call stands for: the call's phase
WINSOCK_DEFAULT: Mapping[str, str] = {"connectex": "other", "wsarecv": "other", "wsasend": "other",
                                      "getaddrinfow": "other"}

# where a leaf text can start: after Go's ": ", Python's "] " / "'" / "(", or at the line start
AFTER_SEP = r"(?:(?<=: )|(?<=\] )|(?<=')|(?<=\()|(?<=tcp )|(?<=udp )|^)"

# A refusal that names the client's network or place - its address, a network rule or allow list, a
# country - is a service-side network rule, whatever status or registry code carries it: GitLab's and
# Harbor's IP allow lists, Artifactory's and Nexus's network policies, CDNs' geo blocks, ACR's own
# wording. Read only in a refusal's own message (a 403 or `denied` and what follows it).
NETWORK_RULE = re.compile(
    r"\b(?i:ip(?:v[46])?+(?: address)?+|network (?:rule|polic|acl|access|restriction)|firewall|vnet|vpc|"
    r"virtual network|(?:allow|white|deny|block)[- ]?list(?:ed)?+|ip[- ]?range|cidr|geo(?:[- ]?block|graph|location)|"
    r"countr(?:y|ies)|location|jurisdiction|embargo|vpc[ -]?service[ -]?controls\w*|service perimeter)\b|"
    r"\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b")
# ... unless the list is one of images (`this image is not in the allowlist`: a mirror's or a policy
# engine's list of repositories, the registry's verdict on the name, not on the client's network)
_CONTENT_LIST = re.compile(r"(?i:image|repositor(?:y|ies)|repo|package|artifact|tag|chart)s?\b[^.;\n]{0,40}$")


def names_network_rule(words: str) -> bool:
    """Does a refusal's message name the client's network or place (``NETWORK_RULE``), not a list of images?"""
    for m in NETWORK_RULE.finditer(words):
        if "list" in m.group(0).lower() and _CONTENT_LIST.search(words, 0, m.start()):
            continue
        return True
    return False


# Node.js / libuv error codes (also in Go programs' wrapped errors, and Rust's io::ErrorKind names)
NODE_ERRNO: Mapping[str, str] = {
    "ENOTFOUND": "nxdomain", "EAI_AGAIN": "eai_again", "ECONNREFUSED": "refused", "ETIMEDOUT": "timeout",
    "ECONNRESET": "reset", "EHOSTUNREACH": "host_unreachable", "ENETUNREACH": "net_unreachable", "EPIPE": "broken_pipe",
    "ESOCKETTIMEDOUT": "timeout", "ECONNABORTED": "reset",
}

# Certificate verdicts other TLS stacks print (OpenSSL via curl and Python, Node, Java, rustls, .NET)
TLS_PHRASES: Mapping[str, str] = {
    "unable to get local issuer certificate": "unknown_ca",
    "self signed certificate in certificate chain": "unknown_ca",
    "self-signed certificate in certificate chain": "unknown_ca",
    "self signed certificate": "self_signed", "self-signed certificate": "self_signed",
    "certificate has expired": "expired", "certificate is not yet valid": "not_yet_valid",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE": "unknown_ca", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY": "unknown_ca",
    "SELF_SIGNED_CERT_IN_CHAIN": "unknown_ca", "DEPTH_ZERO_SELF_SIGNED_CERT": "self_signed",
    "CERT_HAS_EXPIRED": "expired", "ERR_TLS_CERT_ALTNAME_INVALID": "name_mismatch",
    "does not match certificate's altnames": "name_mismatch",
    "no alternative certificate subject name matches target host name": "name_mismatch",
    "PKIX path building failed": "unknown_ca",
    "unable to find valid certification path to requested target": "unknown_ca",
    "invalid peer certificate: UnknownIssuer": "unknown_ca", "invalid peer certificate: Expired": "expired",
    "invalid peer certificate: NotValidForName": "name_mismatch",
    "The remote certificate is invalid according to the validation procedure": "unknown_ca",
    "Could not establish trust relationship for the SSL/TLS secure channel": "unknown_ca",
    "The SSL connection could not be established": "handshake_failed",
    # Java's JSSE and its CertificateException family
    "Unrecognized SSL message, plaintext connection": "not_tls",
    "CertificateExpiredException": "expired", "CertificateNotYetValidException": "not_yet_valid",
    "validity check failed": "expired",
    "No subject alternative DNS name matching": "name_mismatch",
    "No subject alternative names matching IP address": "name_mismatch",
    "No subject alternative names present": "name_mismatch",
    # Jib's InsecureRegistryException: HTTPS verification failed and plain HTTP is not allowed
    "because only secure connections are allowed": "verify_failed",
    # Node's OpenSSL verify texts and codes
    "unable to verify the first certificate": "unknown_ca", "unable to get issuer certificate": "unknown_ca",
    "UNABLE_TO_GET_ISSUER_CERT": "unknown_ca", "CERT_NOT_YET_VALID": "not_yet_valid",
    # .NET's X509ChainStatusFlags and SslPolicyErrors as its exceptions print them
    "UntrustedRoot": "unknown_ca", "PartialChain": "unknown_ca", "NotTimeValid": "expired",
    "RemoteCertificateNameMismatch": "name_mismatch", "RemoteCertificateChainErrors": "unknown_ca",
}

__all__ = ["ERRNO_NAME", "ERRNO_TEXT", "NETWORK_RULE", "NODE_ERRNO", "OCI_CODES", "PY_ERRNO", "REASONS", "TLS_PHRASES",
           "WINSOCK_DEFAULT", "WINSOCK_LOCALIZED", "grouped", "names_network_rule"]

# macOS's resolver API (dns_sd.h, DNSServiceErrorType): Docker Desktop's host side resolves through
# it and logs `unexpected error from dnssd: Timeout (-65568)`; libraries print the constant name
# (`kDNSServiceErr_NoSuchRecord`). Every failure of this API is a resolution's, whatever the request
# around it. Code -> (name, leaf kind); the names not listed are the API misused, read as "other".
DNSSD_ERRORS: dict[int, tuple[str, str]] = {
    -65537: ("Unknown", "other"), -65538: ("NoSuchName", "nxdomain"), -65539: ("NoMemory", "local_resource"),
    -65549: ("Invalid", "other"), -65550: ("Firewall", "local_policy"), -65553: ("Refused", "rcode_refused"),
    -65554: ("NoSuchRecord", "nodata"), -65555: ("NoAuth", "rcode_refused"), -65562: ("Transient", "eai_again"),
    -65563: ("ServiceNotRunning", "other"), -65566: ("NoRouter", "net_unreachable"), -65568: ("Timeout", "timeout"),
    -65569: ("DefunctConnection", "other"), -65570: ("PolicyDenied", "local_policy"),
}
DNSSD_BY_NAME: dict[str, str] = {name: kind for name, kind in DNSSD_ERRORS.values()}
