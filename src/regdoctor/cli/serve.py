"""``regdoctor serve REF… --interval S --listen ADDR``: checks on a schedule, a Prometheus exporter."""

from __future__ import annotations

import re
import signal
import sys
from typing import Any

import click

from regdoctor.cli._common import FiniteRange, handle_errors
from regdoctor.cli._probeargs import probe_options, probe_setup
from regdoctor.cli._targets import acr_name_option, named_targets

# clear of node-exporter 9100, blackbox 9115, kubelet 10250, NPD 20257: with hostNetwork the port is the node's
DEFAULT_PORT = 9737

_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9.-]*)):(?P<port>\d{1,5})$")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every IPv4 address) or ``[V6]:PORT``.

    >>> parse_listen(":9737"), parse_listen("[::1]:0")
    (('0.0.0.0', 9737), ('::1', 0))
    """
    from regdoctor.errors import BadInput

    m = _LISTEN.match(text.strip())
    if not m or int(m.group("port")) > 65535:
        raise BadInput(f"--listen {text!r}: expected HOST:PORT, :PORT or [IPv6]:PORT, e.g. :{DEFAULT_PORT}")
    host = m.group("v6") or m.group("host") or "0.0.0.0"
    return host, int(m.group("port"))


def _default_node() -> str:
    import socket

    from regdoctor.fleet.node import valid_node_name

    name = socket.gethostname()
    return name if valid_node_name(name) else ""


@click.command()
@click.argument("refs", nargs=-1, metavar="REF...")
@acr_name_option
@click.option("--interval", type=FiniteRange(0.01, 86400.0), default=60.0, show_default=True,
              help="Seconds between the starts of two rounds of one target.")
@click.option("--jitter", type=FiniteRange(0.0, 0.5), default=0.1, show_default=True,
              help="Each wait is interval × (1 ± jitter); the first round waits up to jitter × interval.")
@click.option("--listen", default=f":{DEFAULT_PORT}", show_default=True, metavar="ADDR",
              help="Where to serve /metrics, /report.json, /history.json, /healthz.")
@click.option("--node", "node_name", envvar="NODE_NAME", metavar="NAME",
              help="The node label of every metric and report (default: $NODE_NAME, else the host name).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="A label of this node in the reports, for `regdoctor fleet` (repeatable).")
@click.option("--history", "window", type=click.IntRange(1, 10_000), default=60, show_default=True,
              help="Rounds of root-cause history to keep per target.")
@click.option("--quiet", is_flag=True, help="Do not print each round's report as a JSON line on stdout.")
@probe_options
def serve(refs: tuple[str, ...], acr_names: tuple[str, ...], interval: float, jitter: float, listen: str,
          node_name: str | None, labels: tuple[str, ...], window: int, quiet: bool, **probe: Any) -> None:
    """Check REF… on a schedule and export the results: Prometheus /metrics (blackbox_exporter's
    probe_* names plus regdoctor_finding), the latest report at /report.json, a root-cause
    history at /history.json, and /healthz. Each round's report is also one JSON line on stdout,
    so `kubectl logs … | regdoctor fleet -` works.

    \b
    Stops cleanly on SIGTERM or SIGINT (exit 0). Exit 2 on bad usage or when ADDR cannot be bound.
    """
    from regdoctor.errors import BadInput
    from regdoctor.fleet.node import node_info

    with handle_errors():
        address = parse_listen(listen)
        node = node_info(node_name if node_name is not None else _default_node(), labels)
        plain_http = bool(probe["plain_http"])
        targets = named_targets(refs, acr_names, plain_http=plain_http)
        if not targets:
            raise BadInput("serve needs a REF or -n NAME to check")
        if len({t.raw for t in targets}) != len(targets):
            raise BadInput("a REF is given twice")
        opts, pull, vantage = probe_setup(**probe)
        timeout = opts.timeout

        from regdoctor.render import report_json
        from regdoctor.runtime.source import Source
        from regdoctor.runtime.vantage import check_from
        from regdoctor.serve.app import Exporter, ServeConfig
        from regdoctor.serve.state import with_node

        source = Source(vantage.root_dir, vantage.proc_dir)
        config = ServeConfig(targets=tuple((t.raw, t.host_port) for t in targets), interval=interval,
                             listen=address, node=node, jitter=jitter, window=window,
                             stuck_after=max(3 * interval, timeout * 40 + 30))
        logging = [not quiet]

        def log_round(report: Any) -> None:
            if not logging[0]:
                return
            try:
                sys.stdout.write(report_json(report, compact=True))
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):  # nobody reads stdout any more: keep serving
                logging[0] = False

        try:
            exporter = Exporter(config, lambda i: with_node(check_from([targets[i]], opts, pull, actor=vantage.actor,
                                                                       source=source, aks=vantage.aks), node),
                                on_round=log_round)
        except OSError as exc:
            raise BadInput(f"--listen {listen}: cannot listen ({exc.strerror or exc})") from None

        def on_signal(signum: int, _frame: object) -> None:
            exporter.request_stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        click.echo(f"regdoctor serve: {len(targets)} target(s) every {interval:g} s; listening on {exporter.url}",
                   err=True)
        ended = exporter.run(grace=min(timeout * 2, 20.0))
        click.echo("regdoctor serve: stopped" + ("" if ended else " (a round was still running)"), err=True)
    sys.exit(0)
