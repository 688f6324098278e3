"""A manifest as the clients decode it: media types, size, JSON limits, the OCI struct shapes,
and the platform an index offers (pure: no I/O).

Clients refuse a manifest whose media type they do not know, Docker schema 1 (Docker 28,
containerd 2), and a document Go's ``json.Unmarshal`` into the OCI structs would refuse; the
check does the same, so "unusable manifest" means what the client would say.
"""

from __future__ import annotations

from typing import Any

from regdoctor import safejson
from regdoctor.net.http import HttpResponse

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = MANIFEST_TYPES[:2]
#: Docker schema 1: refused by containerd 2.x and Docker 28 ("not supported"), named as such.
SCHEMA1_TYPES = ("application/vnd.docker.distribution.manifest.v1+json",
                 "application/vnd.docker.distribution.manifest.v1+prettyjws")
#: the largest manifest read: distribution's own limit on a manifest it accepts (maxManifestBodySize)
MAX_MANIFEST = 4 * 1024 * 1024


def read_manifest(resp: HttpResponse) -> tuple[dict[str, Any], str, str | None]:
    """The manifest document, its media type, and why it is unusable (None when it is usable).

    Real clients refuse a manifest whose media type they do not know (containerd: "unsupported
    media type"), and Docker 28 / containerd 2 refuse schema 1; so does the check.

    >>> from regdoctor.net.http import HttpResponse
    >>> r = HttpResponse(200, "OK", (("content-type", "text/html"),), b"<html>")
    >>> read_manifest(r)[2]
    'not JSON: Expecting value (line 1, column 1)'
    """
    media = resp.content_type
    encoding = (resp.header("content-encoding") or "identity").strip().lower()
    if encoding != "identity":  # regdoctor asks for identity: it never inflates what a server sends
        return {}, media, f"sent with Content-Encoding {encoding[:40]!r} although identity was asked for"
    if resp.truncated:
        why = f"larger than {MAX_MANIFEST} bytes" if len(resp.body) >= MAX_MANIFEST else \
            f"cut after {len(resp.body)} bytes (the connection ended or the deadline passed)"
        return {}, media, f"the manifest is {why}"
    try:
        doc = safejson.loads(resp.body, max_bytes=MAX_MANIFEST)
    except ValueError as exc:  # JSONLimitError names size, depth, encoding or syntax itself
        return {}, media, str(exc)
    if not isinstance(doc, dict):
        return {}, media, "not a JSON object"
    declared = doc.get("mediaType")
    media = str(declared) if isinstance(declared, str) and declared else media
    if media in SCHEMA1_TYPES or doc.get("schemaVersion") == 1:
        return doc, media, "Docker schema 1, which current clients no longer pull"
    if media not in MANIFEST_TYPES:
        return doc, media, f"unknown manifest media type {media[:100]!r}" if media else "no media type"
    return doc, media, shape_problem(doc, index=media in INDEX_TYPES)


#: a descriptor's fields and the JSON types Go's decoder accepts for them (OCI image-spec descriptor)
_DESCRIPTOR_FIELDS: dict[str, tuple[type, ...]] = {"mediaType": (str,), "digest": (str,), "size": (int,),
                                                   "platform": (dict,), "urls": (list,),
                                                   "annotations": (dict,)}


def shape_problem(doc: dict[str, Any], *, index: bool) -> str | None:
    """Why Go's ``json.Unmarshal`` into the OCI structs would refuse ``doc``, or None.

    Clients decode a manifest into typed structs: ``layers`` a list of descriptors, ``config`` a
    descriptor, an index's ``manifests`` a list of descriptors, each field its type. A wrong type
    is "cannot unmarshal" for them, so it is an unusable manifest here too (never a crash).

    >>> shape_problem({"layers": {"digest": 1}}, index=False)
    "'layers' is an object, not a list of descriptors"
    >>> shape_problem({"manifests": [{"digest": "sha256:a", "size": 1}]}, index=True) is None
    True
    """
    for key in ("manifests", "layers"):  # the pull path reads either key whatever the media type says
        value = doc.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            return f"{key!r} is {_json_type(value)}, not a list of descriptors"
        for i, item in enumerate(value):
            problem = _descriptor_problem(item, f"{key}[{i}]", index=index)
            if problem:
                return problem
    if not index and doc.get("config") is not None:
        return _descriptor_problem(doc["config"], "config", index=False)
    return None


def _descriptor_problem(item: Any, where: str, *, index: bool) -> str | None:
    if item is None and index:
        return None  # Go decodes null into a zero descriptor; pick_platform skips it
    if not isinstance(item, dict):
        return f"{where} is {_json_type(item)}, not a descriptor object"
    for name, kinds in _DESCRIPTOR_FIELDS.items():
        value = item.get(name)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            return f"{where}.{name} is {_json_type(value)}, not {_JSON_NAMES[kinds[0]]}"
    return None


_JSON_NAMES = {str: "a string", int: "a number", dict: "an object", list: "a list", bool: "a boolean"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "a boolean"), (str, "a string"), (int, "a number"), (float, "a fraction"),
                       (dict, "an object"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return "something else"


def pick_platform(index: dict[str, Any], platform: str) -> tuple[str | None, list[str]]:
    """The digest of ``os/arch[/variant]`` in an image index, and what the index offers.

    >>> pick_platform({"manifests": [{"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}}]},
    ...               "linux/amd64")
    ('sha256:a', ['linux/amd64'])
    """
    want = platform.split("/")
    available: list[str] = []
    chosen = None
    for m in index.get("manifests") or []:
        if not isinstance(m, dict):
            continue
        p = m.get("platform") or {}
        if not isinstance(p, dict):
            continue
        parts = [str(p.get("os", "?")), str(p.get("architecture", "?"))] + ([str(p["variant"])] if p.get("variant")
                                                                           else [])
        available.append("/".join(parts))
        if chosen is None and parts[:2] == want[:2] and (len(want) < 3 or parts[2:3] == want[2:3]):
            chosen = str(m.get("digest"))
    return chosen, available


__all__ = ["INDEX_TYPES", "MANIFEST_TYPES", "MAX_MANIFEST", "SCHEMA1_TYPES", "pick_platform", "read_manifest",
           "shape_problem"]
