"""Docker Hub REFs read as docker reads them, followed end to end in the lab.

The lab has no Docker Hub: its dnsmasq maps registry-1.docker.io (the host docker dials for docker.io)
to the lab's token registry on 443, which holds the lab image as library/nginx:latest (tests/lab/lab.py,
"Docker Hub's role"). So the probed host, the token scope asked for and the manifest fetched show how a
REF was read: `nginx:latest` is docker.io/library/nginx:latest, never an ACR registry named nginx.

The lab's certificate for registry-1.docker.io is issued by the lab CA, not by one of Docker Hub's public
CAs, so regdoctor rightly warns TLS_INTERCEPTED (the Docker Hub expectations apply because the REF was read
as Docker Hub); that warning is the only finding a healthy lab run has.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lab.lab import DOCKER_HUB_HOST, DOCKER_HUB_REPO, Lab
from lab.runcli import check, steps

pytestmark = pytest.mark.lab


def _step(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [s for s in steps(doc, DOCKER_HUB_HOST) if s["name"] == name]
    assert found, [s["name"] for s in steps(doc)]
    return found[0]


def _only_the_lab_ca_warning(rc: int, doc: dict[str, Any]) -> None:
    assert [(f["code"], f["severity"], f["host"]) for f in doc["findings"]] == [
        ("TLS_INTERCEPTED", "warning", DOCKER_HUB_HOST)], json.dumps(doc["findings"], indent=1)
    assert rc == 1


def _scopes(lab: Lab, before: int) -> list[str]:
    return [scope for r in lab.records(lab.token_log)[before:]
            for scope in parse_qs(urlsplit(r["path"]).query).get("scope", [])]


@pytest.mark.parametrize("ref", ["nginx:latest", "library/nginx", "nginx", "docker.io/nginx",
                                 "index.docker.io/library/nginx:latest", f"{DOCKER_HUB_HOST}/library/nginx"])
def test_docker_hub_reference_is_read_as_docker_reads_it(lab: Lab, ref: str) -> None:
    before = len(lab.records(lab.token_log))
    rc, doc, _ = check(lab, ref)
    _only_the_lab_ca_warning(rc, doc)
    assert doc["targets"] == [ref]
    registry = [(e["host"], e["port"], e["origin"]) for e in doc["endpoints"] if e["role"] == "registry"]
    # docker keeps a domain it does not canonicalise (registry-1.docker.io) and dials Docker Hub all the same
    name = f"{DOCKER_HUB_HOST}/{DOCKER_HUB_REPO}" if ref.startswith(DOCKER_HUB_HOST) else f"docker.io/{DOCKER_HUB_REPO}"
    origin = f"REF {ref}" if ref == f"{name}:latest" else f"REF {ref} = {name}:latest"
    assert registry == [(DOCKER_HUB_HOST, 443, origin)]
    manifest = _step(doc, "manifest")
    assert manifest["status"] == "pass", manifest
    ev = manifest["evidence"]
    assert (ev["repository"], ev["reference"], ev["digest"]) == (DOCKER_HUB_REPO, "latest", lab.manifest_digest)
    assert f"repository:{DOCKER_HUB_REPO}:pull" in _scopes(lab, before)


def test_docker_hub_tag_is_the_tag_docker_reads(lab: Lab) -> None:
    """`ubuntu:22.04`-style REFs: the part after ':' is a tag (not a port); this one is not in the registry."""
    rc, doc, _ = check(lab, "nginx:1.25")
    assert rc == 1
    manifest = _step(doc, "manifest")
    assert manifest["status"] == "fail" and manifest["evidence"]["reference"] == "1.25", manifest
    assert manifest["evidence"]["repository"] == DOCKER_HUB_REPO


def test_docker_hub_registry_alone(lab: Lab) -> None:
    """`docker.io` names the registry alone (SPEC's extension): Docker Hub's API host, no image."""
    rc, doc, _ = check(lab, "docker.io")
    _only_the_lab_ca_warning(rc, doc)
    assert [(e["host"], e["port"]) for e in doc["endpoints"] if e["role"] == "registry"] == [(DOCKER_HUB_HOST, 443)]
    assert not [s for s in steps(doc, DOCKER_HUB_HOST) if s["name"] == "manifest"]
