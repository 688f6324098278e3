"""The blob download, read from the clients' own wrappers: which endpoint a failure mid-download is about.

Each rule has the real text that motivated it (the issue it was pasted in) and a variant it must
generalise to (another client version, another host, another leaf).
"""

from __future__ import annotations

from regdoctor.explain import explain
from regdoctor.kb import roles


def top(text: str) -> tuple[str, str, str | None]:
    f = explain(text).findings[0]
    return f.layer, f.code, f.host


def codes(text: str) -> list[str]:
    return [f.code for f in explain(text).findings]


# ---- containers/image: the source stream of a blob (copy/copy.go errorAnnotationReader: "happened
# during read" marks an error of the *source*, which PutBlob would otherwise seem to report), and the
# storage destination writing the downloaded blob to a file (storage_dest.go "storing blob to file")

def test_podman_reset_while_storing_a_downloaded_blob_is_the_blob_host() -> None:
    # podman-container-tools/podman#5583 (Docker Hub's CDN at 104.18.x.x reset the layer download)
    real = ('Error: error pulling image "docker.io/rust:latest": unable to pull docker.io/rust:latest: unable to '
            'pull image: Error writing blob: error storing blob to file "/var/tmp/storage787390060/6": read tcp '
            '192.168.178.23:50314->104.18.121.25:443: read: connection reset by peer')
    assert top(real)[:2] == ("data", "DATA_ENDPOINT_BLOCKED")
    assert "TCP_RESET" in codes(real)


def test_happened_during_read_names_the_source_stream_in_newer_podman() -> None:
    # podman-container-tools/podman#29625 (containers/image ≥ 5.x wording, a read timeout this time)
    real = ('WARN[0785] Failed, retrying in 1s ... (1/3). Error: copying system image from manifest list: writing '
            'blob: storing blob to file "/var/tmp/container_images_storage486148637/1": happened during read: read '
            'tcp 192.168.3.11:46618->3.174.230.43:443: read: connection timed out')
    assert top(real)[0] == "data"
    variant = 'Error: reading blob sha256:0a1b: happened during read: unexpected EOF'
    assert top(variant)[0] == "data"


def test_a_push_is_not_made_a_blob_download() -> None:
    # the markers are the pull's: a push's upload failure stays where its leaf puts it
    assert top('error pushing image: Put "https://r.lab.test/v2/a/blobs/uploads/1": read: connection reset by peer'
               )[0] != "data"


# ---- every client verifies a downloaded blob against its digest: a mismatch is content that arrived
# changed (moby pull_v2.go, containerd content store, containers/image digesting_reader.go)

def test_docker_layer_verification_failure_is_a_corrupted_blob() -> None:
    # docker/for-mac#6182 (Docker Desktop, `docker pull ubuntu`)
    real = 'docker: filesystem layer verification failed for digest sha256:bbf..........'
    assert top(real)[:2] == ("data", "DATA_BLOB_CORRUPTED")
    # moby/moby#33527: the same after the layer progress lines
    block = ("dbed9b09434e: Verifying Checksum\nea8a37f15161: Download complete\n"
             "filesystem layer verification failed for digest "
             "sha256:dbed9b09434efb583eb5f23173bf2aadb578cbfe2516e26226e3f7e458fac621")
    assert top(block)[1] == "DATA_BLOB_CORRUPTED"


def test_podman_and_containerd_digest_mismatches_are_the_same_finding() -> None:
    # the containers/image wording, as pasted in public posts
    podman = ('Error: copying system image from manifest list: writing blob: storing blob to file '
              '"/var/tmp/container_images_storage936046123/2": happened during read: Digest did not match, expected '
              'sha256:a92b05b640591907c483d83fccf883b9f5d2b4d90369cd44cca5be58bbf7ea8e, got '
              'sha256:38656550ac584269f4bff1c74b238fea1d77c997d8439b484f75d803e7952012')
    assert top(podman)[1] == "DATA_BLOB_CORRUPTED"
    containerd = ('failed to pull and unpack image "docker.io/library/node:18": failed commit on ref "layer-sha256:'
                  'aa11": unexpected commit digest sha256:bb22, expected sha256:aa11: failed precondition')
    assert top(containerd)[1] == "DATA_BLOB_CORRUPTED"
    size = 'failed commit on ref "layer-sha256:aa11": unexpected commit size 1024, expected 4096: failed precondition'
    assert top(size)[1] == "DATA_BLOB_CORRUPTED"


def test_a_visible_proxy_raises_the_proxy_reading_of_a_corrupted_blob() -> None:
    plain = dict((f.code, f.confidence) for f in explain('filesystem layer verification failed for digest sha256:1'
                                                         ).findings)
    proxied = dict((f.code, f.confidence) for f in explain('HTTPS_PROXY=http://10.0.0.1:3128 docker: filesystem layer '
                                                           'verification failed for digest sha256:1').findings)
    assert (proxied["PROXY_CLOSED"] or 0) > (plain["PROXY_CLOSED"] or 0)


# ---- Docker Desktop's forwarder names the host it dials (`dialing H:443 …`): the endpoint's role

def test_desktop_dialing_a_cdn_host_is_the_data_endpoint() -> None:
    # docker/hub-feedback#2442 (the forwarder's wording; the dial behind it shows only an address)
    real = ('dialing docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com:443 container via '
            'direct connection because static system has no HTTPS proxy: connecting to 172.64.66.1:443: dial tcp '
            '172.64.66.1:443: connectex: A connection attempt failed because the connected party did not properly '
            'respond after a period of time, or established connection failed because connected host has failed to '
            'respond.')
    layer, code, host = top(real)
    assert (layer, code) == ("data", "DATA_ENDPOINT_BLOCKED")
    assert host == "docker-images-prod.6aa30f8b08e16409b46e0173d6de2f56.r2.cloudflarestorage.com"
    assert "PROXY_NOT_CONFIGURED" in codes(real)


def test_desktop_dialing_the_registry_stays_a_proxy_finding() -> None:
    variant = ('Error response from daemon: Get "https://registry-1.docker.io/v2/": dialing registry-1.docker.io:443 '
               'container via direct connection because static system has no HTTPS proxy: connecting to 54.1.2.3:443: '
               'dial tcp 54.1.2.3:443: connect: connection refused')
    assert top(variant)[:2] == ("proxy", "PROXY_NOT_CONFIGURED")
    # an address, not a name, says nothing about the role
    assert top('dialing 10.0.0.9:443 container via direct connection because static system has no HTTPS proxy: '
               'connecting to 10.0.0.9:443: dial tcp 10.0.0.9:443: i/o timeout')[0] == "proxy"


# ---- S3's path-style endpoints are storage hosts too (a self-hosted registry's S3 redirect)

def test_s3_path_style_endpoints_are_data_hosts() -> None:
    t = roles.table()
    for host in ("s3.amazonaws.com", "s3.eu-west-1.amazonaws.com", "s3-us-west-2.amazonaws.com",
                 "s3.dualstack.us-east-1.amazonaws.com"):
        assert t.role_of_host(host) == "data", host
    for host in ("sts.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "s3.example.com"):
        assert t.role_of_host(host) != "data", host
    text = ('Get "https://s3.eu-west-1.amazonaws.com/my-registry-bucket/docker/registry/v2/blobs/sha256/aa/aabb/data'
            '?X-Amz-Signature=x": dial tcp 52.218.1.1:443: i/o timeout')
    assert top(text)[:2] == ("data", "DATA_ENDPOINT_BLOCKED")


# ---- gRPC's status wrapper (CRI): `rpc error: code = DeadlineExceeded desc = <chain>` is the status of the
# whole call; the chain's innermost request is what the deadline cut

def test_grpc_deadline_is_about_the_innermost_request_of_its_description() -> None:
    # aws/containers-roadmap#2304: kubelet prints the event on one line (the reporter's paste wrapped it);
    # the description ends at the blob URL on Docker Hub's CDN, which the private EKS nodes cannot reach
    real = ('Failed to pull image "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/docker.io/library/busybox:'
            '1.35.0": rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "123456789012.dkr.ecr.'
            'eu-west-1.amazonaws.com/mirror/docker.io/library/busybox:1.35.0": failed to copy: httpReadSeeker: '
            'failed open: failed to do request: Get "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/'
            'sha256/1c/1c10e93757391bd459976f6382e0c0e03a0af3f239cd745424b06d3b4737f60e/data?verify=1709809284-GBrKCqH8'
            'amXhl9E%!D(MISSING)":')
    layer, _, host = top(real)
    assert (layer, host) == ("data", "production.cloudflare.docker.com")
    variant = ('Failed to pull image "quay.io/a/b:1": rpc error: code = DeadlineExceeded desc = failed to pull and '
               'unpack image "quay.io/a/b:1": failed to copy: httpReadSeeker: failed open: failed to do request: Get '
               '"https://cdn01.quay.io/quayio-production-s3/sha256/aa/aabb?X-Amz-Signature=x":')
    assert top(variant)[::2] == ("data", "cdn01.quay.io")


def test_a_leaf_in_the_grpc_description_still_decides() -> None:
    # radius-project/radius test data (a real kubelet message): the description's own timeout is the leaf
    real = ('rpc error: code = DeadlineExceeded desc = failed to pull and unpack image "ghcr.io/radius-project/mirror/'
            'rabbitmq:3.10": failed to copy: httpReadSeeker: failed open: failed to do request: Get "https://ghcr.io/v2/'
            'radius-project/mirror/rabbitmq/manifests/sha256:0c60": net/http: timeout awaiting response headers')
    assert top(real)[2] == "ghcr.io"
    assert top(real)[0] != "data"
    bare = 'rpc error: code = DeadlineExceeded desc = context deadline exceeded'
    assert explain(bare).findings  # still a timeout finding, with no URL to be about


# ---- Go shows a proxy's refusal of CONNECT as the proxy's own reason phrase (transport.go), old wordings too

def test_squid_and_nginx_old_reason_phrases_are_connect_refusals() -> None:
    assert top('Error response from daemon: Get "https://registry.example.com/v2/": Gateway Time-out')[:2] == (
        "proxy", "PROXY_UPSTREAM_FAILED")
    assert top('Error response from daemon: Get https://registry-1.docker.io/v2/: Request Time-out')[0] == "proxy"


def test_docker_config_blob_verification_failure_is_a_corrupted_blob() -> None:
    # distribution/distribution#1539 (title: the message docker printed for the image config blob)
    real = 'image config verification failed for digest sha256:<sha256>'
    assert top(real)[1] == "DATA_BLOB_CORRUPTED"
    variant = 'error pulling image configuration: image config verification failed for digest sha256:9f0a'
    assert top(variant)[:2] == ("data", "DATA_BLOB_CORRUPTED")


def test_a_blob_body_shorter_than_its_descriptor_is_the_download() -> None:
    # containerd's content copy (content/helpers.go: "short read: expected %d bytes but got %d"), with
    # or without the "failed to copy:" wrapper that already names the blob
    for text in ("short read: expected 32014336 bytes but got 18432000: unexpected EOF",
                 'failed to pull and unpack image "docker.io/library/python:3.12": failed to copy: short read: '
                 "expected 49557601 bytes but got 0: unexpected EOF"):
        assert top(text)[:2] == ("data", "DATA_ENDPOINT_BLOCKED")


# ---- a registry that hands its API to another registry host (registry.k8s.io redirects to regional
# Artifact Registry backends): the registry works, the host it sent the client to does not

def test_the_backend_a_registry_redirects_its_api_to_is_the_data_path() -> None:
    # kubernetes/registry.k8s.io#137 (the *.pkg.dev backend blocked; registry.k8s.io itself answered)
    real = ("# docker pull registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.7.0\n"
            'Error response from daemon: Head "https://asia-east1-docker.pkg.dev/v2/k8s-artifacts-prod/images/'
            'kube-state-metrics/kube-state-metrics/manifests/v2.7.0": dial tcp 108.177.97.82:443: i/o timeout')
    assert top(real)[:3] == ("data", "DATA_ENDPOINT_BLOCKED", "asia-east1-docker.pkg.dev")
    kubelet = ('Failed to pull image "registry.k8s.io/pause:3.9": rpc error: code = Unknown desc = failed to pull and '
               'unpack image "registry.k8s.io/pause:3.9": failed to resolve reference "registry.k8s.io/pause:3.9": '
               'failed to do request: Head "https://europe-west2-docker.pkg.dev/v2/k8s-artifacts-prod/images/pause/'
               'manifests/3.9": dial tcp 142.250.1.82:443: i/o timeout')
    assert top(kubelet)[0] == "data"


def test_a_mirror_is_not_a_redirect() -> None:
    # containerd marks a mirror request with ?ns=; a Docker Hub pull meets other hosts only as a mirror
    for text in ('failed to resolve reference "quay.io/app/x:1": failed to do request: Head "https://harbor.corp.example'
                 '/v2/quay/app/x/manifests/1?ns=quay.io": dial tcp 10.1.1.1:443: i/o timeout',
                 '$ docker pull nginx:1.25\nError response from daemon: Get "https://mirror.corp.example/v2/library/'
                 'nginx/manifests/1.25": dial tcp 10.1.1.1:443: i/o timeout'):
        assert top(text)[0] == "tcp"


def test_the_pull_command_above_an_error_names_the_image() -> None:
    from regdoctor.explain.entities import image_entities

    ex = explain("$ ctr -n k8s.io images pull --user a:b myacr.azurecr.io/team/app:1\n"
                 "ctr: failed to resolve reference: unexpected status code 401 Unauthorized")
    assert image_entities("myacr.azurecr.io/team/app:1")["registry_host"] == "myacr.azurecr.io"
    assert any(f.evidence.get("registry_host") == "myacr.azurecr.io" for f in ex.findings)


def test_a_download_cut_before_its_reason_still_names_the_data_host() -> None:
    # the reason was cut off (an ECS console's status field); the wrapper and the URL remain
    cut = ("Error: error pulling image configuration: Get https://prod-us-east-1-starport-layer-bucket.s3.amazonaws.com"
           "/61d6a6b7/d834cc02?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-A")
    assert top(cut)[:2] == ("data", "DATA_ENDPOINT_BLOCKED")
    # with its reason, the reason decides
    whole = cut + ": dial tcp 52.216.1.1:443: i/o timeout"
    assert explain(whole).findings[0].confidence > explain(cut).findings[0].confidence


def test_a_fault_kept_on_a_data_host_keeps_the_data_host_as_a_reading() -> None:
    # inspection of the CDN's domain alone: the trust store's verdict decides, the data host stays a reading
    text = "Get https://d2glxqk2uabbnd.cloudfront.net/a/b: x509: certificate signed by unknown authority"
    found = codes(text)
    assert found[0] == "TLS_INTERCEPTED" and "DATA_ENDPOINT_BLOCKED" in found


def test_containerd_blob_reader_cut_before_its_url_is_still_the_download() -> None:
    from regdoctor.explain import explain

    text = ('Failed to pull image "r.azurecr.io/app:1": failed to pull and unpack image "r.azurecr.io/app:1": '
            'failed to copy: httpReadSeeker: failed open: failed to do request:  │')
    assert explain(text).findings[0].code == "DATA_ENDPOINT_BLOCKED"
    # a registry request cut the same way is not a download
    cut = 'failed to resolve reference "r.azurecr.io/app:1": failed to do request:'
    codes = [f.code for f in explain(cut).findings]
    assert codes[:1] != ["DATA_ENDPOINT_BLOCKED"], codes
