"""Write a tiny OCI image layout without touching any network.

The lab pushes these layouts with skopeo, so every registry port serves real images: a single-platform
image (`write_oci_layout`) and a multi-platform one whose tag names an OCI image index
(`write_oci_index_layout`, pushed with `skopeo copy --all`). Everything is deterministic (fixed mtimes,
gzip header without a timestamp), so the digests are the same on every run and on every machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
HELLO_TEXT = b"hello from the regdoctor fault lab\n"


@dataclass(frozen=True)
class OciImage:
    layout: Path  # the OCI layout directory (use as `oci:<layout>:<tag>`)
    tag: str
    manifest_digest: str
    config_digest: str
    layer_digest: str


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _layer_tar(text: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mode, info.mtime = len(text), 0o644, 0
        tar.addfile(info, io.BytesIO(text))
    return buf.getvalue()


@dataclass(frozen=True)
class OciIndex:
    layout: Path  # the OCI layout directory (use as `oci:<layout>:<tag>`, with `skopeo copy --all`)
    tag: str
    index_digest: str
    manifests: dict[str, str]  # "os/arch" -> that platform's manifest digest
    layers: dict[str, str]  # "os/arch" -> that platform's layer digest


@dataclass(frozen=True)
class _Image:
    manifest: bytes
    manifest_digest: str
    config_digest: str
    layer_digest: str


def _blob_writer(layout: Path) -> Callable[[bytes], str]:
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> str:
        digest = _digest(data)
        (blobs / digest.removeprefix("sha256:")).write_bytes(data)
        return digest

    return put


def _write_image(put: Callable[[bytes], str], text: bytes, arch: str) -> _Image:
    tar = _layer_tar(text)
    layer = gzip.compress(tar, mtime=0)  # mtime=0: stable digest across runs
    layer_digest = put(layer)
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [_digest(tar)]},
        },
        sort_keys=True,
    ).encode()
    config_digest = put(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer_digest, "size": len(layer)}],
        },
        sort_keys=True,
    ).encode()
    return _Image(manifest, put(manifest), config_digest, layer_digest)


def _finish_layout(layout: Path, tag: str, media_type: str, blob: bytes, digest: str) -> None:
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": media_type,
                "digest": digest,
                "size": len(blob),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def write_oci_layout(layout: Path, tag: str = "latest") -> OciImage:
    """Write an OCI layout with one gzip layer, a config, a manifest and an index tagged `tag`."""
    image = _write_image(_blob_writer(layout), HELLO_TEXT, "amd64")
    _finish_layout(layout, tag, OCI_MANIFEST, image.manifest, image.manifest_digest)
    return OciImage(layout, tag, image.manifest_digest, image.config_digest, image.layer_digest)


def write_oci_index_layout(layout: Path, tag: str = "latest", arches: tuple[str, ...] = ("amd64", "arm64")) -> OciIndex:
    """Write an OCI layout whose tag names an image index with one linux image per architecture.

    Each platform gets its own layer text (and so its own layer, config and manifest digests), so a
    test can tell which platform a client actually fetched.
    """
    put = _blob_writer(layout)
    images = {arch: _write_image(put, HELLO_TEXT.rstrip(b"\n") + f" ({arch})\n".encode(), arch) for arch in arches}
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": image.manifest_digest,
                    "size": len(image.manifest),
                    "platform": {"architecture": arch, "os": "linux"},
                }
                for arch, image in images.items()
            ],
        },
        sort_keys=True,
    ).encode()
    index_digest = put(index)
    _finish_layout(layout, tag, OCI_INDEX, index, index_digest)
    return OciIndex(
        layout,
        tag,
        index_digest,
        {f"linux/{arch}": image.manifest_digest for arch, image in images.items()},
        {f"linux/{arch}": image.layer_digest for arch, image in images.items()},
    )
