"""The ACR pull path, whose token endpoint is the registry host itself (`/oauth2/token`), not a separate realm:
an opaque (non-JWT) access token, the blob redirected to an ACR-style data endpoint with a SAS-like query.
The registry is the lab's ACR imitation (tests/lab/fronts.py `acr-flow`, :5611; `acr-flow-429data`, :5612,
whose data endpoint answers 429); the data endpoint is the lab data host, serving the real registry storage."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lab.lab import Lab
from lab.runcli import check, root, steps

pytestmark = pytest.mark.lab

R = "registry.lab.test"
IMG = "lab/hello:latest"
ACR = f"{R}:5611"
ACR_429 = f"{R}:5612"
DATA = "pullreg.westeurope.data.azurecr.io"
SAS_SIGNATURE = "SECRETSIGNATURE"  # the `sig=` value of every blob redirect the imitation sends


def step(doc: dict[str, Any], host: str, name: str) -> dict[str, Any]:
    found = [s for s in steps(doc, host) if s["name"] == name]
    assert found, (host, name, [s["name"] for s in steps(doc, host)])
    return found[0]


def new_records(lab: Lab, log: Any, before: int) -> list[dict[str, Any]]:
    return lab.records(log)[before:]


def header(record: dict[str, Any], name: str) -> str | None:
    return next((v for n, v in record["headers"] if n.lower() == name.lower()), None)


def test_healthy_acr_flow(lab: Lab) -> None:
    before = len(lab.records(lab.acrflow_log))
    rc, doc, _ = check(lab, f"{ACR}/{IMG}")
    assert rc == 0, json.dumps(doc, indent=1)[:4000]
    assert not [s for s in steps(doc) if s["status"] == "fail"]
    token = step(doc, R, "token")
    assert token["status"] == "pass" and "opaque" in token["summary"], token
    # the token came from the registry host itself: no separate realm endpoint
    assert (token["evidence"]["realm_host"], token["evidence"]["realm_port"]) == (R, 5611)
    assert {e["host"]: e["role"] for e in doc["endpoints"]} == {R: "registry", DATA: "data"}
    manifest = step(doc, R, "manifest")
    assert manifest["status"] == "pass" and manifest["evidence"]["digest"] == lab.manifest_digest, manifest
    blob = step(doc, R, "blob")
    assert blob["status"] == "pass" and f"redirect to https://{DATA}/" in blob["summary"], blob
    data = next(e for e in doc["endpoints"] if e["host"] == DATA)
    http = next(s for s in data["steps"] if s["layer"] == "http")
    assert http["status"] == "pass" and "206" in http["summary"], http
    issued = [r["issued_token"] for r in new_records(lab, lab.acrflow_log, before) if "issued_token" in r]
    assert len(issued) == 1, issued
    text = json.dumps(doc)
    assert SAS_SIGNATURE not in text and issued[0] not in text


@pytest.mark.parametrize("fmt", ["--format=text", "--format=markdown", "--format=junit"])
def test_sas_signature_and_opaque_token_appear_in_no_output(lab: Lab, fmt: str) -> None:
    before = len(lab.records(lab.acrflow_log))
    rc, out, err = check(lab, f"{ACR}/{IMG}", "-u", "labuser", password="labpass", fmt=fmt)
    assert rc == 0, out + err
    assert DATA in out  # the redirect target is reported...
    issued = [r["issued_token"] for r in new_records(lab, lab.acrflow_log, before) if "issued_token" in r]
    assert len(issued) == 1, issued
    assert SAS_SIGNATURE not in out + err and issued[0] not in out + err  # ...but not its signature nor the token


def test_acr_flow_with_credentials(lab: Lab) -> None:
    acr_before, data_before = len(lab.records(lab.acrflow_log)), len(lab.records(lab.data_log))
    rc, doc, _ = check(lab, f"{ACR}/{IMG}", "-u", "labuser", password="labpass")
    assert rc == 0, json.dumps(doc["findings"], indent=1)
    assert step(doc, R, "credentials")["evidence"]["username"] == "labuser"
    acr = [r for r in new_records(lab, lab.acrflow_log, acr_before) if r["listen"].endswith(":5611")]
    token_requests = [r for r in acr if r["path"].startswith("/oauth2/token?")]
    assert len(token_requests) == 1 and token_requests[0]["status"] == 200, token_requests
    basic = "Basic " + base64.b64encode(b"labuser:labpass").decode()
    assert header(token_requests[0], "Authorization") == basic
    assert token_requests[0]["user"] == "labuser"
    bearer = f"Bearer {token_requests[0]['issued_token']}"
    manifests = [r for r in acr if r["path"] == "/v2/lab/hello/manifests/latest"]
    assert manifests and all(header(r, "Authorization") == bearer and r["status"] == 200 for r in manifests)
    blobs = [r for r in acr if r["path"].startswith("/v2/lab/hello/blobs/")]
    assert blobs and all(header(r, "Authorization") == bearer and r["status"] == 307 for r in blobs)
    downloads = [r for r in new_records(lab, lab.data_log, data_before) if header(r, "Host") == DATA]
    assert downloads, "the data endpoint saw no request: the redirect was not followed"
    for r in downloads:
        assert header(r, "Authorization") is None, r  # neither the Basic login nor the Bearer token
        assert "labpass" not in json.dumps(r) and token_requests[0]["issued_token"] not in json.dumps(r)
        assert r["status"] == 206 and f"sig={SAS_SIGNATURE}" in r["path"]  # the SAS query reached the data host


def test_acr_flow_wrong_password(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{ACR}/{IMG}", "-u", "labuser", password="wrong-password")
    first = root(doc)
    assert (first["code"], first["layer"]) == ("AUTH_BAD_CREDENTIALS", "auth"), json.dumps(doc["findings"], indent=1)
    assert first["evidence"]["status"] == 401
    assert first["evidence"]["realm"] == f"https://{ACR}/oauth2/token"
    assert rc == 1


def test_acr_flow_manifest_unknown(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{ACR}/lab/hello:nope")
    first = root(doc)
    assert (first["code"], first["layer"]) == ("REGISTRY_MANIFEST_UNKNOWN", "registry"), json.dumps(
        doc["findings"], indent=1
    )
    assert first["evidence"]["status"] == 404 and first["evidence"]["reference"] == "nope"
    assert step(doc, R, "token")["status"] == "pass"
    assert rc == 1


def test_acr_flow_data_endpoint_throttled(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{ACR_429}/{IMG}")
    first = root(doc)
    assert (first["code"], first["layer"]) == ("DATA_BLOB_THROTTLED", "data"), json.dumps(doc["findings"], indent=1)
    assert first["host"] == DATA
    assert first["evidence"]["status"] == 429 and "Retry-After: 2" in first["evidence"]["retry_after_note"]
    assert step(doc, R, "manifest")["status"] == "pass" and step(doc, R, "blob")["status"] == "pass"
    assert SAS_SIGNATURE not in json.dumps(doc)
    assert rc == 1


# Fix commands name the registry as the user wrote it, port included: `docker login registry.lab.test`
# would store a credential Docker never uses for registry.lab.test:5611. (Found by this test; fixed.)
@pytest.mark.parametrize(
    ("ref", "args", "password", "code", "wanted"),
    [
        (f"{ACR}/{IMG}", ("-u", "labuser"), "wrong-password", "AUTH_BAD_CREDENTIALS", f"`docker login {ACR}`"),
        (f"{ACR}/lab/hello:nope", (), None, "REGISTRY_MANIFEST_UNKNOWN", f"docker://{ACR}/lab/hello"),
    ],
    ids=["docker-login", "list-tags"],
)
def test_fix_commands_keep_the_registry_port(
    lab: Lab, ref: str, args: tuple[str, ...], password: str | None, code: str, wanted: str
) -> None:
    _, doc, _ = check(lab, ref, *args, password=password)
    first = root(doc)
    assert first["code"] == code
    assert wanted in first["fix"], first["fix"]
    assert "az acr" not in first["fix"]  # not an ACR registry: no az command to suggest
