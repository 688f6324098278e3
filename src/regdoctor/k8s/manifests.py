"""The manifests that run regdoctor on every node (DaemonSet) or on one node or pool (Job).

Why each choice (each is also said in the YAML's comments, where an operator reads it):

- ``hostNetwork: true``: the kubelet's image pulls leave from the node's network namespace, not
  a pod's; only a host-network pod takes the same route, source address and egress rules.
- ``dnsPolicy: Default``: the pod gets the node's resolv.conf (the kubelet's ``--resolv-conf``),
  which is what containerd resolves registry names with. ``ClusterFirstWithHostNet`` would send
  lookups to CoreDNS, which no image pull ever uses, and hide a broken node resolver.
- The node's resolv.conf and the runtime's config (per ``--as``: ``/etc/containerd``, the systemd
  units with their proxy drop-ins, ``/etc/environment``) are mounted read-only under ``/host``
  for ``proxy --root /host`` and ``check --as``. Only paths that exist on every node of that
  runtime, with a hostPath ``type``, so the kubelet never creates a missing one on the node.
- The node's CA bundle (``--node-ca``) is mounted and passed as ``--ca``: containerd trusts the
  node's store, and a corporate CA installed there must not look like TLS interception.
- ``hostPID`` and ``SYS_PTRACE`` only with ``--as``: reading ``/proc/<containerd>/environ`` (the
  proxy variables the daemon really has) needs the host's PID namespace, and the kernel's ptrace
  access check for a process with more capabilities than the reader; without ``--as`` the pod
  runs as a non-root user with no capability at all.
- Tolerations for every taint: a node pool tainted for special workloads pulls images too.
- The Namespace is labelled ``pod-security.kubernetes.io/enforce: privileged``: the baseline
  Pod Security Standard forbids hostNetwork and hostPath, so a restricted namespace would refuse
  these pods.
- The ServiceAccount has ``automountServiceAccountToken: false`` and no Role: regdoctor never
  talks to the API server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from regdoctor import __version__

NAME = "regdoctor"
METRICS_PORT = 9737
HOST_ROOT = "/host"
NODE_CA_PATH = "/host/node-ca.crt"
# AKS; EKS: eks.amazonaws.com/nodegroup, GKE: cloud.google.com/gke-nodepool
DEFAULT_POOL_LABEL = "kubernetes.azure.com/agentpool"
# Debian/Ubuntu (AKS Ubuntu); RHEL and relatives: /etc/pki/tls/certs/ca-bundle.crt
DEFAULT_NODE_CA = "/etc/ssl/certs/ca-certificates.crt"
ZONE_LABEL = "topology.kubernetes.io/zone"

#: --as RUNTIME -> (host path, hostPath type) mounted read-only under /host; each exists on every node of it
RUNTIME_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "containerd": (("/etc/containerd", "Directory"), ("/etc/systemd/system", "Directory"),
                   ("/etc/environment", "File")),
    "docker": (("/etc/docker", "Directory"), ("/etc/systemd/system", "Directory"), ("/etc/environment", "File")),
    "crio": (("/etc/crio", "Directory"), ("/etc/containers", "Directory"), ("/etc/systemd/system", "Directory")),
    "k3s": (("/var/lib/rancher/k3s/agent/etc/containerd", "Directory"), ("/etc/systemd/system", "Directory")),
    "rke2": (("/var/lib/rancher/rke2/agent/etc/containerd", "Directory"), ("/etc/systemd/system", "Directory")),
    "microk8s": (("/var/snap/microk8s/current/args", "Directory"),),
}
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class ManifestError(ValueError):
    """An option that cannot make a valid manifest (the CLI turns it into exit 2)."""


@dataclass(frozen=True)
class Options:
    refs: tuple[str, ...]
    namespace: str = NAME
    image: str = f"{NAME}:{__version__}"
    runtime: str | None = None  # --as
    pools: tuple[str, ...] = ()
    pool_label: str = DEFAULT_POOL_LABEL
    node: str | None = None  # Job only
    interval: float = 60.0
    timeout: float = 5.0
    port: int = METRICS_PORT
    node_ca: str | None = DEFAULT_NODE_CA
    extra_args: tuple[str, ...] = field(default=())
    namespace_object: bool = True
    podmonitor: bool = False


def dns_label(text: str) -> str:
    """``text`` as a DNS-1123 label (for names derived from pools and nodes).

    >>> dns_label("NP_2.pool")
    'np-2-pool'
    """
    out = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    if not _DNS1123_LABEL.match(out):
        raise ManifestError(f"{text!r} cannot become a Kubernetes name")
    return out


def validate(o: Options) -> None:
    if not o.refs:
        raise ManifestError("give at least one REF")
    if not _DNS1123_LABEL.match(o.namespace):
        raise ManifestError(f"--namespace {o.namespace!r}: expected a DNS-1123 label (lower case, digits, '-')")
    if o.runtime is not None and o.runtime not in RUNTIME_PATHS:
        raise ManifestError(f"--as {o.runtime!r}: expected one of {', '.join(sorted(RUNTIME_PATHS))}")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$", o.image):
        raise ManifestError(f"--image {o.image!r}: not an image reference")
    for p in o.pools:
        dns_label(p)
    if o.node_ca is not None and not o.node_ca.startswith("/"):
        raise ManifestError(f"--node-ca {o.node_ca!r}: expected an absolute path on the node, or none")


def _labels(instance: str, pool: str | None = None) -> dict[str, str]:
    out = {"app": NAME, "app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": instance,
           "app.kubernetes.io/version": __version__, "app.kubernetes.io/component": "node-check"}
    if pool:
        out["regdoctor.io/pool"] = dns_label(pool)
    return out


def _env() -> list[dict[str, Any]]:
    return [
        {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        # copied onto pods by the PodTopologyLabelsAdmission plugin (beta in 1.35); empty where absent
        {"name": "NODE_ZONE", "valueFrom": {"fieldRef": {"fieldPath": f"metadata.labels['{ZONE_LABEL}']"}}},
        {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
    ]


def _mounts(o: Options) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    paths: list[tuple[str, str]] = [("/etc/resolv.conf", "File")]
    if o.runtime is not None:
        paths += [p for p in RUNTIME_PATHS[o.runtime] if p not in paths]
    volumes: list[dict[str, Any]] = [{"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]
    # the root filesystem is read-only; a small private /tmp for whatever a library writes there
    mounts: list[dict[str, Any]] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108
    for i, (path, kind) in enumerate(paths):
        name = f"host-{i}-{dns_label(path)}"[:63].rstrip("-")
        volumes.append({"name": name, "hostPath": {"path": path, "type": kind}})
        mounts.append({"name": name, "mountPath": HOST_ROOT + path, "readOnly": True})
    if o.node_ca is not None:
        volumes.append({"name": "node-ca", "hostPath": {"path": o.node_ca, "type": "File"}})
        mounts.append({"name": "node-ca", "mountPath": NODE_CA_PATH, "readOnly": True})
    return volumes, mounts


def _common_args(o: Options, pool: str | None) -> list[str]:
    args = ["--node", "$(NODE_NAME)", "--label", "zone=$(NODE_ZONE)", "--timeout", f"{o.timeout:g}"]
    if pool:
        args += ["--label", f"pool={pool}"]
    if o.node_ca is not None:
        args += ["--ca", NODE_CA_PATH]
    if o.runtime is not None:
        args += ["--as", o.runtime, "--root", HOST_ROOT]
    return args + list(o.extra_args)


def _container(o: Options, args: list[str], serve: bool) -> dict[str, Any]:
    privileged_read = o.runtime is not None
    c: dict[str, Any] = {
        "name": NAME,
        "image": o.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "env": _env(),
        "resources": {"requests": {"cpu": "10m", "memory": "48Mi"}, "limits": {"cpu": "250m", "memory": "160Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "privileged": False,
            "capabilities": {"drop": ["ALL"], **({"add": ["SYS_PTRACE"]} if privileged_read else {})},
        },
    }
    if serve:
        c["ports"] = [{"name": "metrics", "containerPort": o.port, "protocol": "TCP"}]
        probe = {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 30, "timeoutSeconds": 5}
        c["livenessProbe"] = {**probe, "initialDelaySeconds": 10, "failureThreshold": 4}
        c["readinessProbe"] = {**probe, "initialDelaySeconds": 2}
    return c


def _pod_spec(o: Options, container: dict[str, Any], pool: str | None, restart: str) -> dict[str, Any]:
    privileged_read = o.runtime is not None
    volumes, mounts = _mounts(o)
    container["volumeMounts"] = mounts
    selector = {"kubernetes.io/os": "linux"}
    if pool:
        selector[o.pool_label] = pool
    spec: dict[str, Any] = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": False,
        "hostNetwork": True,
        "dnsPolicy": "Default",
        "enableServiceLinks": False,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 30,
        "nodeSelector": selector,
        "tolerations": [{"operator": "Exists"}],
        "securityContext": ({"runAsUser": 0, "runAsNonRoot": False} if privileged_read else
                            {"runAsUser": 65532, "runAsGroup": 65532, "runAsNonRoot": True}) |
                           {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
        "volumes": volumes,
    }
    if privileged_read:
        spec["hostPID"] = True
    return spec


def namespace(o: Options) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": o.namespace, "labels": {
        "app.kubernetes.io/name": NAME,
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
    }}}


def service_account(o: Options) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": o.namespace, "labels": {"app.kubernetes.io/name": NAME}},
            "automountServiceAccountToken": False}


def daemonset(o: Options, pool: str | None = None) -> dict[str, Any]:
    instance = NAME if pool is None else f"{NAME}-{dns_label(pool)}"
    args = ["serve", "--interval", f"{o.interval:g}", "--listen", f":{o.port}", *_common_args(o, pool), *o.refs]
    labels = _labels(instance, pool)
    selector = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": instance}
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": instance, "namespace": o.namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": selector},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    "prometheus.io/scrape": "true", "prometheus.io/port": str(o.port), "prometheus.io/path": "/metrics",
                }},
                "spec": _pod_spec(o, _container(o, args, serve=True), pool, "Always"),
            },
        },
    }


def job(o: Options) -> dict[str, Any]:
    pool = o.pools[0] if o.pools else None
    if (o.node is None) == (pool is None):
        raise ManifestError("a Job runs on one node or one pool: give exactly one of --node or --pool")
    target = o.node if o.node is not None else pool
    assert target is not None
    instance = f"{NAME}-check-{dns_label(target)}"[:63].rstrip("-")
    args = ["check", "--json", *_common_args(o, pool), *o.refs]
    labels = _labels(instance, pool)
    spec = _pod_spec(o, _container(o, args, serve=False), pool, "Never")
    if o.node is not None:
        spec["nodeName"] = o.node  # as canipull does: straight to that node, whatever the scheduler thinks
    # every step has a deadline; the fan-out's own bound is timeout × 20 + 5 s
    deadline = int(o.timeout * 20 + 60)
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": instance, "namespace": o.namespace, "labels": labels},
        "spec": {"backoffLimit": 0, "activeDeadlineSeconds": deadline, "ttlSecondsAfterFinished": 3600,
                 "template": {"metadata": {"labels": labels}, "spec": spec}},
    }


def podmonitor(o: Options) -> dict[str, Any]:
    """For the Prometheus Operator (a CRD: not in the Kubernetes OpenAPI schemas)."""
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
            "metadata": {"name": NAME, "namespace": o.namespace, "labels": {"app.kubernetes.io/name": NAME}},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
                     "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "60s"}]}}


def daemonset_bundle(o: Options) -> list[dict[str, Any]]:
    """Namespace, ServiceAccount, one DaemonSet per pool (or one for every Linux node), PodMonitor."""
    validate(o)
    docs = [namespace(o)] if o.namespace_object else []
    docs.append(service_account(o))
    docs += [daemonset(o, p) for p in o.pools] if o.pools else [daemonset(o)]
    if o.podmonitor:
        docs.append(podmonitor(o))
    return docs


def job_bundle(o: Options) -> list[dict[str, Any]]:
    validate(o)
    if len(o.pools) > 1:
        raise ManifestError("a Job runs on one pool: give --pool once (or use daemonset)")
    docs = [namespace(o)] if o.namespace_object else []
    return [*docs, service_account(o), job(o)]


def explain(o: Options, kind: str) -> Sequence[str]:
    """The comment block printed above the manifests."""
    lines = [
        f"regdoctor {__version__}: {kind} manifests (kubectl apply -f -).",
        "hostNetwork: true  - pulls leave from the node's network namespace; only a host-network pod takes",
        "                     the same route, source address and egress rules as the kubelet's pulls.",
        "dnsPolicy: Default - the node's resolv.conf, which containerd resolves registry names with;",
        "                     ClusterFirstWithHostNet would ask CoreDNS, which image pulls never use.",
        "Namespace pod-security=privileged: the baseline Pod Security Standard refuses hostNetwork/hostPath.",
        "ServiceAccount: no token, no Role - regdoctor never calls the API server.",
        "Tolerates every taint: tainted pools pull images too. Linux nodes only (hostNetwork pods).",
        f"The image ({o.image}) must come from a registry other than the one under test,",
        "or the pod cannot start on exactly the nodes that cannot pull.",
    ]
    if o.node_ca is not None:
        lines.append(f"--ca {NODE_CA_PATH}: the node's CA bundle ({o.node_ca}), the trust containerd uses.")
    if o.runtime is not None:
        lines += [f"--as {o.runtime}: its config mounted read-only under {HOST_ROOT}; hostPID and SYS_PTRACE",
                  "  (and uid 0) only to read the runtime daemon's /proc/<pid>/environ (its real proxy settings)."]
    else:
        lines.append("Runs as uid 65532 with no capability and a read-only root filesystem.")
    if kind == "daemonset":
        lines.append(f"Metrics: port 'metrics' ({o.port}) /metrics; Prometheus annotations, PodMonitor-ready port.")
        lines.append("Fleet verdict: kubectl logs -n NS -l app=regdoctor --prefix --tail=1 | regdoctor fleet -")
    else:
        lines.append("Result: kubectl logs -n NS job/NAME | regdoctor fleet -   (exit 1 = problems found)")
    return lines
