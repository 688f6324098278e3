"""``regdoctor k8s daemonset|job|npd-config``: print what runs regdoctor on a cluster's nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from regdoctor.cli._common import FiniteRange, handle_errors, write
from regdoctor.cli._targets import acr_name_option


def _shared(f: Callable[..., Any]) -> Callable[..., Any]:
    from regdoctor.k8s.manifests import DEFAULT_NODE_CA, DEFAULT_POOL_LABEL, NAME

    opts = [
        click.argument("refs", nargs=-1, metavar="[REF]..."),
        acr_name_option,
        # long form only: -n is the registry name on every regdoctor command (az acr -n)
        click.option("--namespace", default=NAME, show_default=True, help="Namespace of every object."),
        click.option("--image", metavar="IMG", help="regdoctor's image (build it with the Containerfile)."),
        click.option("--as", "runtime", metavar="RUNTIME",
                     help="Check as this runtime sees it (containerd, docker, crio, k3s, rke2, microk8s): mounts its "
                          "config read-only and adds hostPID."),
        click.option("--pool", "pools", multiple=True, metavar="POOL", help="Only this node pool (repeatable)."),
        click.option("--pool-label", default=DEFAULT_POOL_LABEL, show_default=True,
                     help="The node label that names a node's pool."),
        click.option("--timeout", type=FiniteRange(0.1, 120.0), default=5.0, show_default=True,
                     help="Deadline of each network step, in seconds."),
        click.option("--node-ca", default=DEFAULT_NODE_CA, show_default=True, metavar="PATH|none",
                     help="The node's CA bundle, mounted and used as --ca (none: the image's own store)."),
        click.option("--no-namespace", is_flag=True, help="Do not emit the Namespace object (it exists)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _refs(refs: tuple[str, ...], acr_names: tuple[str, ...]) -> tuple[str, ...]:
    """REFs for the nodes' commands: each REF as given (a REF docker would refuse is bad input here
    too, before any manifest is made) and each ``-n NAME`` as the registry it names."""
    from regdoctor.cli._targets import named_targets
    from regdoctor.errors import BadInput

    targets = named_targets(refs, acr_names)
    if not targets:
        raise BadInput("give a REF or -n NAME to check")
    return (*refs, *(t.host_port for t in targets[len(refs):]))


def _options(refs: tuple[str, ...], acr_names: tuple[str, ...], namespace: str, image: str | None,
             runtime: str | None, pools: tuple[str, ...], pool_label: str, timeout: float, node_ca: str,
             no_namespace: bool, **more: Any) -> Any:
    from regdoctor.k8s.manifests import Options

    refs = _refs(refs, acr_names)
    kw: dict[str, Any] = {"refs": refs, "namespace": namespace, "runtime": runtime, "pools": pools,
                          "pool_label": pool_label, "timeout": timeout, "namespace_object": not no_namespace,
                          "node_ca": None if node_ca.lower() == "none" else node_ca, **more}
    if image is not None:
        kw["image"] = image
    return Options(**kw)


def _warn_image(image: str | None) -> None:
    """After the manifests were made: a warning, not an error (one stderr line for an error)."""
    if image is None:
        click.echo("regdoctor: --image not given; the manifests name the local build "
                   "(push it to a registry the nodes can reach, other than the one under test)", err=True)


@click.group()
def k8s() -> None:
    """Kubernetes manifests that run regdoctor on every node (DaemonSet), on one node or pool
    (Job), and the node-problem-detector plugin config."""


@k8s.command()
@_shared
@click.option("--interval", type=FiniteRange(5.0, 86400.0), default=60.0, show_default=True,
              help="Seconds between rounds on each node.")
@click.option("--port", type=click.IntRange(1024, 65535), default=9737, show_default=True,
              help="Metrics port (on the node: hostNetwork).")
@click.option("--podmonitor", is_flag=True, help="Also emit a Prometheus Operator PodMonitor.")
def daemonset(interval: float, port: int, podmonitor: bool, **kw: Any) -> None:
    """`regdoctor serve` on every Linux node (one DaemonSet per --pool), as YAML."""
    from regdoctor.k8s.manifests import ManifestError, daemonset_bundle, explain
    from regdoctor.render.k8s import manifests_yaml

    with handle_errors():
        o = _options(**kw, interval=interval, port=port, podmonitor=podmonitor)
        try:
            docs = daemonset_bundle(o)
        except ManifestError as exc:
            from regdoctor.errors import BadInput

            raise BadInput(str(exc)) from None
        _warn_image(kw.get("image"))
        write(manifests_yaml(docs, explain(o, "daemonset")))


@k8s.command()
@_shared
@click.option("--node", metavar="NODE", help="Run on this node (spec.nodeName).")
def job(node: str | None, **kw: Any) -> None:
    """`regdoctor check --json` once, on one node (--node) or one node of a pool (--pool), as YAML."""
    from regdoctor.k8s.manifests import ManifestError, explain, job_bundle
    from regdoctor.render.k8s import manifests_yaml

    with handle_errors():
        from regdoctor.errors import BadInput
        from regdoctor.fleet.node import valid_node_name

        if node is not None and not valid_node_name(node):
            raise BadInput(f"--node {node!r}: not a Kubernetes node name")
        o = _options(**kw, node=node)
        try:
            docs = job_bundle(o)
        except ManifestError as exc:
            raise BadInput(str(exc)) from None
        _warn_image(kw.get("image"))
        write(manifests_yaml(docs, explain(o, "job")))


@k8s.command("npd-config")
@click.argument("refs", nargs=-1, metavar="[REF]...")
@acr_name_option
@click.option("--path", default="/usr/local/bin/regdoctor", show_default=True,
              help="regdoctor's path where node-problem-detector runs.")
@click.option("--interval", type=click.IntRange(10, 86400), default=300, show_default=True,
              help="Seconds between checks.")
@click.option("--timeout", type=FiniteRange(0.1, 120.0), default=5.0, show_default=True,
              help="Deadline of each network step, in seconds.")
def npd_config(refs: tuple[str, ...], acr_names: tuple[str, ...], path: str, interval: int, timeout: float) -> None:
    """The node-problem-detector custom plugin monitor (JSON) that runs `regdoctor check --npd`."""
    from regdoctor.k8s.npd import npd_config as build
    from regdoctor.render.k8s import npd_json

    with handle_errors():
        from regdoctor.errors import BadInput

        refs = _refs(refs, acr_names)
        if not path.startswith("/"):
            raise BadInput(f"--path {path!r}: NPD needs an absolute path")
        write(npd_json(build(refs, path, interval, timeout)))
