from __future__ import annotations

import pytest

from regdoctor.errors import BadReference
from regdoctor.target import acr_data_endpoint, acr_name, parse_target

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("ref", "host", "port", "repo", "tag", "digest"),
    [
        ("myregistry", "myregistry.azurecr.io", 443, None, None, None),
        ("MyRegistry", "myregistry.azurecr.io", 443, None, None, None),
        ("registry.example.com", "registry.example.com", 443, None, None, None),
        ("registry.lab.test:5443", "registry.lab.test", 5443, None, None, None),
        ("localhost:5000", "localhost", 5000, None, None, None),
        ("localhost", "localhost", 443, None, None, None),
        ("10.0.0.1:5000", "10.0.0.1", 5000, None, None, None),
        ("[::1]:5000", "::1", 5000, None, None, None),
        ("h.io/repo", "h.io", 443, "repo", None, None),
        ("h.io/team/app:1.2.3", "h.io", 443, "team/app", "1.2.3", None),
        (f"h.io/team/app@{DIGEST}", "h.io", 443, "team/app", None, DIGEST),
        (f"h.io:8443/team/app:v1@{DIGEST}", "h.io", 8443, "team/app", "v1", DIGEST),
        ("docker.io/library/alpine", "registry-1.docker.io", 443, "library/alpine", None, None),
        ("docker.io/alpine", "registry-1.docker.io", 443, "library/alpine", None, None),
        ("index.docker.io/library/alpine:3", "registry-1.docker.io", 443, "library/alpine", "3", None),
        ("alpine/git", "registry-1.docker.io", 443, "alpine/git", None, None),
        ("https://myreg.azurecr.io/v2/", "myreg.azurecr.io", 443, None, None, None),
        ("ghcr.io/org/my_app.x-y:tag_1", "ghcr.io", 443, "org/my_app.x-y", "tag_1", None),
    ],
)
def test_parse_valid(ref: str, host: str, port: int, repo: str | None, tag: str | None, digest: str | None) -> None:
    t = parse_target(ref)
    assert (t.host, t.port, t.repository, t.tag, t.digest) == (host, port, repo, tag, digest)


@pytest.mark.parametrize(
    "ref",
    ["not a ref!", "", "   ", "ab", "my-reg", "h.io/UPPER", "h.io:99999", "h.io:0", "h.io/r@sha1:zz",
     "h.io/repo:bad tag", "h..io", "-bad.io", "h.io/", "h.io/a//b", "x" * 5000, "[::1", "myreg@" + DIGEST],
)
def test_parse_invalid(ref: str) -> None:
    with pytest.raises(BadReference):
        parse_target(ref)


def test_reference_defaults_to_latest() -> None:
    assert parse_target("h.io/r").reference == "latest"
    assert parse_target(f"h.io/r:v1@{DIGEST}").reference == DIGEST


def test_plain_http_default_port() -> None:
    t = parse_target("h.io", plain_http=True)
    assert (t.scheme, t.port, t.host_port) == ("http", 80, "h.io")
    assert parse_target("http://h.io:5000").scheme == "http"


def test_host_port_for_certs_d() -> None:
    assert parse_target("h.io").host_port == "h.io"
    assert parse_target("h.io:5443").host_port == "h.io:5443"


@pytest.mark.parametrize(
    ("host", "name"),
    [("myreg.azurecr.io", "myreg"), ("MYREG.azurecr.io", "myreg"), ("myreg.westeurope.data.azurecr.io", "myreg"),
     ("azurecr.io", None), ("a.b.azurecr.io", None), ("ghcr.io", None), ("ab.azurecr.io", None)],
)
def test_acr_name(host: str, name: str | None) -> None:
    assert acr_name(host) == name


def test_acr_data_endpoint() -> None:
    assert acr_data_endpoint("MyReg", "WestEurope") == "myreg.westeurope.data.azurecr.io"
