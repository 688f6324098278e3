"""REF → Target: docker's reading (tests/unit/test_peer_reference_tables.py holds docker's own tables),
SPEC's registry-only extension, the endpoint to dial, ACR names, and the error lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from timing import bounded

from regdoctor.errors import BadReference
from regdoctor.reference import InvalidReference, RefError
from regdoctor.target import acr_data_endpoint, acr_name, acr_target, parse_registry, parse_target

DIGEST = "sha256:" + "ab" * 32
HUB = "registry-1.docker.io"
ACR = ".azurecr.io"


@pytest.mark.parametrize(
    ("ref", "host", "port", "repo", "tag", "digest", "normalized"),
    [
        # docker's reading: bare words are Docker Hub images
        ("nginx", HUB, 443, "library/nginx", None, None, "docker.io/library/nginx:latest"),
        ("nginx:latest", HUB, 443, "library/nginx", "latest", None, "docker.io/library/nginx:latest"),
        ("ubuntu:22.04", HUB, 443, "library/ubuntu", "22.04", None, "docker.io/library/ubuntu:22.04"),
        ("myregistry", HUB, 443, "library/myregistry", None, None, "docker.io/library/myregistry:latest"),
        ("library/nginx", HUB, 443, "library/nginx", None, None, "docker.io/library/nginx:latest"),
        ("alpine/git", HUB, 443, "alpine/git", None, None, "docker.io/alpine/git:latest"),
        ("docker.io/alpine", HUB, 443, "library/alpine", None, None, "docker.io/library/alpine:latest"),
        ("index.docker.io/library/alpine:3", HUB, 443, "library/alpine", "3", None, "docker.io/library/alpine:3"),
        ("registry-1.docker.io/library/alpine", HUB, 443, "library/alpine", None, None,
         "registry-1.docker.io/library/alpine:latest"),
        (f"nginx:1.25@{DIGEST}", HUB, 443, "library/nginx", "1.25", DIGEST, f"docker.io/library/nginx@{DIGEST}"),
        # a first component with '.', ':', localhost or upper case is the registry
        ("h.io/repo", "h.io", 443, "repo", None, None, "h.io/repo:latest"),
        ("h.io/team/app:1.2.3", "h.io", 443, "team/app", "1.2.3", None, "h.io/team/app:1.2.3"),
        (f"h.io:8443/team/app:v1@{DIGEST}", "h.io", 8443, "team/app", "v1", DIGEST, f"h.io:8443/team/app@{DIGEST}"),
        ("test:5000/repo", "test", 5000, "repo", None, None, "test:5000/repo:latest"),
        ("localhost/app", "localhost", 443, "app", None, None, "localhost/app:latest"),
        ("Foo/bar", "foo", 443, "bar", None, None, "Foo/bar:latest"),
        ("[2001:db8::1]:5000/repo:tag", "2001:db8::1", 5000, "repo", "tag", None, "[2001:db8::1]:5000/repo:tag"),
        ("[2001:0db8::0001]/repo", "2001:db8::1", 443, "repo", None, None, "[2001:0db8::0001]/repo:latest"),
        ("ghcr.io/org/my_app.x-y:tag_1", "ghcr.io", 443, "org/my_app.x-y", "tag_1", None,
         "ghcr.io/org/my_app.x-y:tag_1"),
        ("h.io:05000/r", "h.io", 5000, "r", None, None, "h.io:05000/r:latest"),
        # SPEC's extension: a single component that is a registry
        ("myreg.azurecr.io", "myreg.azurecr.io", 443, None, None, None, "myreg.azurecr.io"),
        ("MyReg.AzureCR.io", "myreg.azurecr.io", 443, None, None, None, "myreg.azurecr.io"),
        ("registry.lab.test:5443", "registry.lab.test", 5443, None, None, None, "registry.lab.test:5443"),
        ("localhost", "localhost", 443, None, None, None, "localhost"),
        ("localhost:5000", "localhost", 5000, None, None, None, "localhost:5000"),
        ("10.0.0.5:5000", "10.0.0.5", 5000, None, None, None, "10.0.0.5:5000"),
        ("[::1]:5000", "::1", 5000, None, None, None, "[::1]:5000"),
        ("[::1]", "::1", 443, None, None, None, "[::1]"),
        ("docker.io", HUB, 443, None, None, None, "docker.io"),
        ("index.docker.io", HUB, 443, None, None, None, "docker.io"),
        # registry URLs (kept from before): scheme, host[:port], optional /v2/
        ("https://myreg.azurecr.io/v2/", "myreg.azurecr.io", 443, None, None, None, "myreg.azurecr.io"),
        ("HTTPS://h.io:8443", "h.io", 8443, None, None, None, "h.io:8443"),
        ("https://[::1]:5000/", "::1", 5000, None, None, None, "[::1]:5000"),
    ],
)
def test_parse_valid(ref: str, host: str, port: int, repo: str | None, tag: str | None, digest: str | None,
                     normalized: str) -> None:
    t = parse_target(ref)
    assert (t.host, t.port, t.repository, t.tag, t.digest, t.normalized) == (host, port, repo, tag, digest, normalized)
    assert t.raw == ref


@pytest.mark.parametrize(
    ("ref", "kind", "words"),
    [
        ("not a ref!", RefError.INVALID_FORMAT, "white space"),
        ("", RefError.INVALID_FORMAT, "empty"),  # docker: Parse("docker.io/library/")
        ("Nginx", RefError.NAME_CONTAINS_UPPERCASE, "repository name 'library/Nginx' must be lowercase"),
        ("h.io/UPPER", RefError.NAME_CONTAINS_UPPERCASE, "must be lowercase"),
        ("h.io:99999", RefError.INVALID_FORMAT, "invalid port '99999'"),
        ("h.io:99999/r", RefError.INVALID_FORMAT, "invalid port '99999'"),
        ("h.io:0", RefError.INVALID_FORMAT, "invalid port '0'"),
        ("0:\u24f8", RefError.INVALID_FORMAT, "tag '\u24f8'"),  # docker: name "0", tag "⓸" (not \w)
        ("h.io:\u24f8", RefError.INVALID_FORMAT, "is not a port"),  # not an ASCII digit
        ("h.io:\u0665", RefError.INVALID_FORMAT, "is not a port"),  # ARABIC-INDIC DIGIT FIVE
        ("h.io:\u0665/r", RefError.INVALID_FORMAT, "registry 'h.io:\u0665' is not host[:port]"),
        ("myreg.azurecr.io:latest", RefError.INVALID_FORMAT, "'latest' is not a port"),
        ("h.io/r@sha1:zz", RefError.INVALID_FORMAT, "digest 'sha1:zz'"),
        (f"h.io/r@sha256:{'A' * 64}", RefError.DIGEST_INVALID_FORMAT, "64 lower-case hex"),
        ("h.io/r@sha256:" + "a" * 40, RefError.DIGEST_INVALID_LENGTH, "invalid checksum digest length"),
        ("h.io/r@md5:" + "a" * 32, RefError.DIGEST_UNSUPPORTED, "unsupported digest algorithm 'md5'"),
        ("h.io/repo:bad tag", RefError.INVALID_FORMAT, "white space"),
        ("h.io/repo:bad~tag", RefError.INVALID_FORMAT, "tag 'bad~tag'"),
        ("h..io", RefError.INVALID_FORMAT, "not a valid registry host"),
        ("-bad.io", RefError.INVALID_FORMAT, "not a valid registry host"),
        ("foo_bar.com:8080", RefError.INVALID_FORMAT, "not a valid registry host"),
        ("h.io/", RefError.INVALID_FORMAT, "empty path component"),
        ("h.io/a//b", RefError.INVALID_FORMAT, "empty path component"),
        ("h.io/a-/b", RefError.INVALID_FORMAT, "path component 'a-'"),
        ("x" * 5000, RefError.NAME_TOO_LONG, "must not be more than 255 characters"),
        ("h.io/" + "a" * 256, RefError.NAME_TOO_LONG, "255"),
        ("[::1", RefError.INVALID_FORMAT, "unbalanced '['"),
        ("[fe80::1%eth0]:5000", RefError.INVALID_FORMAT, "zone"),
        ("[fe80::1%eth0]:5000/r", RefError.INVALID_FORMAT, "not host[:port]"),
        ("[2001:db8:3:4::192.0.2.33]:5000/r", RefError.INVALID_FORMAT, "not host[:port]"),
        ("[fd00123123123]:5000/r", RefError.INVALID_FORMAT, "is not an IPv6 address"),
        ("[1:2:3:4:5:6:7:8:9]", RefError.INVALID_FORMAT, "is not an IPv6 address"),
        ("fd00::1:5000/debian", RefError.INVALID_FORMAT, "in brackets"),
        ("a" * 64, RefError.NAME_IS_IDENTIFIER, "64-byte hexadecimal"),
        ("h" * 64 + ".io", RefError.INVALID_FORMAT, "not a resolvable host name"),
        ("https://h.io/team/app", RefError.INVALID_FORMAT, "https://host[:port][/v2/]"),
        ("ftp://h.io", RefError.INVALID_FORMAT, "registry URL"),
        ("https://", RefError.INVALID_FORMAT, "no host"),
        ("nginx\n", RefError.INVALID_FORMAT, "white space"),  # Go's $ is end of text, not before a newline
    ],
)
def test_parse_invalid(ref: str, kind: RefError, words: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse_target(ref)
    assert info.value.kind is kind
    message = str(info.value)
    assert words in message, message
    assert "\n" not in message and len(message) < 400, message


def test_url_credentials_are_refused_and_never_echoed() -> None:
    with pytest.raises(BadReference) as info:
        parse_target("https://user:s3cret@h.io/v2/")
    assert "s3cret" not in str(info.value) and "user" not in str(info.value).replace("user:password", "")


def test_long_input_is_echoed_cut() -> None:
    with pytest.raises(BadReference) as info:
        parse_target("h.io/" + "x" * 10_000 + "!")
    assert len(str(info.value)) < 400 and "10006 characters" in str(info.value)


def test_reference_defaults_to_latest_and_digest_wins() -> None:
    assert parse_target("h.io/r").reference == "latest"
    assert parse_target(f"h.io/r:v1@{DIGEST}").reference == DIGEST
    assert parse_target("h.io").reference is None


def test_plain_http_default_port() -> None:
    t = parse_target("h.io", plain_http=True)
    assert (t.scheme, t.port, t.host_port) == ("http", 80, "h.io")
    assert parse_target("http://h.io:5000").scheme == "http"
    assert parse_target("nginx", plain_http=True).port == 80


def test_host_port_for_certs_d() -> None:
    assert parse_target("h.io").host_port == "h.io"
    assert parse_target("h.io:5443").host_port == "h.io:5443"
    assert parse_target("[::1]:5000").host_port == "[::1]:5000"


@pytest.mark.parametrize(
    ("name", "host"),
    [("myregistry", "myregistry.azurecr.io"), ("MyRegistry", "myregistry.azurecr.io"),
     ("myregistry.azurecr.io", "myregistry.azurecr.io"), ("abcde", "abcde.azurecr.io"), ("a" * 50, "a" * 50 + ACR)],
)
def test_acr_target(name: str, host: str) -> None:
    t = acr_target(name)
    assert (t.host, t.port, t.repository, t.acr_name) == (host, 443, None, host.partition(".")[0])



@pytest.mark.parametrize("name", ["abcd", "a" * 51, "my-reg", "my_reg", "myreg.example.com", "", "ab\u0663cd1"])
def test_acr_target_invalid(name: str) -> None:
    with pytest.raises(InvalidReference, match="5-50 letters and digits"):
        acr_target(name)


@pytest.mark.parametrize(
    ("text", "host_port", "host"),
    [("myregistry", "myregistry", "myregistry"), ("myregistry:5000", "myregistry:5000", "myregistry"),
     ("index.docker.io", "registry-1.docker.io", HUB), ("https://index.docker.io", "registry-1.docker.io", HUB),
     ("localhost:5000", "localhost:5000", "localhost")],
)
def test_parse_registry_takes_any_domain(text: str, host_port: str, host: str) -> None:
    t = parse_registry(text)
    assert (t.host_port, t.host, t.repository) == (host_port, host, None)


@pytest.mark.parametrize(
    ("host", "name"),
    [("myreg.azurecr.io", "myreg"), ("MYREG.azurecr.io", "myreg"), ("myreg.westeurope.data.azurecr.io", "myreg"),
     ("azurecr.io", None), ("a.b.azurecr.io", None), ("ghcr.io", None), ("ab.azurecr.io", None)],
)
def test_acr_name(host: str, name: str | None) -> None:
    assert acr_name(host) == name


def test_acr_data_endpoint() -> None:
    assert acr_data_endpoint("MyReg", "WestEurope") == "myreg.westeurope.data.azurecr.io"


# ---------------------------------------------------------------- hostile input: never another exception

_REF_ALPHABET = st.sampled_from([*"abcAZ09.-_:/@[]%", "sha256:", "\u24f8", "\u0130", "\u212a", " ", "\n",
                                                              "localhost", "docker.io", "::1", "5000"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_REF_ALPHABET, max_size=40).map("".join)))
def test_any_text_is_a_target_or_a_bad_reference(text: str) -> None:
    def read() -> None:
        try:
            t = parse_target(text)
        except BadReference as exc:
            message = str(exc)
            assert message and "\n" not in message and len(message) < 500
        else:
            assert t.host and 0 < t.port <= 65535
            assert t.repository is None or len(t.repository) <= 255

    bounded(read, 0.1)


@pytest.mark.parametrize("make", [
    lambda n: "a" * n + "!", lambda n: "a-" * n + "!", lambda n: "a." * n + "/", lambda n: "a/" * n + ":",
    lambda n: "a__" * n + "_", lambda n: "x/" + "a." * n + "a:" + "1" * n, lambda n: "[" + "a:" * n + "]:1/x!",
    lambda n: "h.io/r@" + "a" * n + ":" + "f" * n + "!", lambda n: "A" * n,
])
def test_hostile_input_is_linear(make: object) -> None:
    """100 000 characters of the worst shapes for a backtracking engine: well under a second."""
    assert callable(make)
    text = make(100_000)

    def refuse() -> None:
        with pytest.raises(BadReference):
            parse_target(text)

    bounded(refuse, 1.0)


@pytest.mark.parametrize(("url", "normalized", "host", "port", "scheme"), [
    # the URL a Go error prints: `Get "https://r.io/v2/<name>/manifests/<reference>": …`
    ("https://myreg.azurecr.io/v2/team/app/manifests/1.2", "myreg.azurecr.io/team/app:1.2", "myreg.azurecr.io",
     443, "https"),
    ("https://r.io/v2/app/manifests/sha256:" + "a" * 64, "r.io/app@sha256:" + "a" * 64, "r.io", 443, "https"),
    ("http://localhost:5000/v2/x/tags/list", "localhost:5000/x:latest", "localhost", 5000, "http"),
    ("https://[::1]:5000/v2/a/b/blobs/sha256:00", "[::1]:5000/a/b:latest", "::1", 5000, "https"),
    ("https://r.io/v2/team/manifests/app/manifests/1", "r.io/team/manifests/app:1", "r.io", 443, "https"),
    ("https://registry-1.docker.io/v2/library/nginx/manifests/1.25", "docker.io/library/nginx:1.25",
     "registry-1.docker.io", 443, "https"),  # Docker Hub's API host is Docker Hub
    ("https://r/v2/app/manifests/1", "r/app:1", "r", 443, "https"),  # the URL names its host: no Docker Hub guess
    # containers-transports(5): skopeo's `docker://` wraps a docker reference
    ("docker://nginx:1.25", "docker.io/library/nginx:1.25", "registry-1.docker.io", 443, "https"),
    ("DOCKER://ghcr.io/org/app@sha256:" + "b" * 64, "ghcr.io/org/app@sha256:" + "b" * 64, "ghcr.io", 443, "https"),
])
def test_api_urls_and_transports_name_the_image(url: str, normalized: str, host: str, port: int,
                                                scheme: str) -> None:
    t = parse_target(url)
    assert (t.normalized, t.host, t.port, t.scheme, t.raw) == (normalized, host, port, scheme, url)


@pytest.mark.parametrize(("url", "says"), [
    ("https://r.io/v2/App/manifests/1", "must be lowercase"),
    ("https://r.io/v2/app/manifests/bad+tag", "invalid reference format"),
    ("https://r.io/v2/app/blobs/nodigest", "API URL"),
    ("https://r.io/v2/app/manifests/", "API URL"),
    ("oci://ghcr.io/org/chart", "VERSION"),
    ("docker://", "invalid reference format"),
])
def test_bad_api_urls_say_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(BadReference) as exc:
        parse_target(url)
    assert says in str(exc.value)


def test_a_transport_wraps_one_reference() -> None:
    with pytest.raises(BadReference, match="not a URL"):
        parse_target("docker://" * 10_000)  # never a recursion
    with pytest.raises(BadReference, match="not a URL"):
        parse_target("docker://https://r.io/v2/")
