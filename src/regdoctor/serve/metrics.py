"""The Prometheus collector of ``regdoctor serve`` (prometheus_client, imported only by serve).

Strategy
--------
A custom collector renders every scrape from the latest round of each target (``TargetState``),
instead of long-lived ``Gauge`` objects whose label sets would have to be removed by hand: a
finding that went away simply is not in the next scrape, so the number of series is bounded by
what the last round saw (blackbox_exporter works the same way, one fresh registry per probe).
The registry is the exporter's own ``CollectorRegistry``, never prometheus_client's global one,
so importing regdoctor as a library registers nothing.

Names follow blackbox_exporter where the meaning is the same (``probe_success``,
``probe_duration_seconds``, ``probe_dns_lookup_time_seconds``, ``probe_http_duration_seconds
{phase}``, ``probe_http_status_code``, ``probe_ssl_earliest_cert_expiry``), so its dashboards
and alerts apply; what blackbox cannot say has the ``regdoctor_`` prefix. Labels: ``registry``
(host[:port] of the REF), ``target`` (the REF as given), ``endpoint`` (host:port probed),
``role`` (registry, realm, data, replica), ``node``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from regdoctor import __version__
from regdoctor.serve.state import TargetState

ROUND_RESULTS = ("ok", "problems", "unknown")

#: name -> (type, help); the README's metrics table is generated from this (tests keep them in step).
METRICS: dict[str, tuple[str, str]] = {
    "probe_success": ("gauge", "Whether every layer of this endpoint passed in the latest round (1) or not (0)."),
    "probe_duration_seconds": ("gauge", "Seconds this endpoint's steps took in the latest round."),
    "probe_dns_lookup_time_seconds": ("gauge", "Seconds the DNS lookup of this endpoint took."),
    "probe_http_duration_seconds": ("gauge", "Seconds per phase of this endpoint's first HTTP request "
                                             "(resolve, connect, tls, processing, transfer), as blackbox_exporter."),
    "probe_http_status_code": ("gauge", "HTTP status of this endpoint's first response (0: none came back)."),
    "probe_ssl_earliest_cert_expiry": ("gauge", "Unix time the earliest certificate of the presented chain expires."),
    "regdoctor_layer_duration_seconds": ("gauge", "Seconds per layer (dns, proxy, tcp, tls, http, auth, registry) "
                                                  "of this endpoint, pull path included."),
    "regdoctor_finding": ("gauge", "1 while the latest round has this finding; the series is gone once it is."),
    "regdoctor_check_success": ("gauge", "Whether the latest round of this target found no problem (1) or not (0)."),
    "regdoctor_check_duration_seconds": ("gauge", "Seconds the latest round of this target took."),
    "regdoctor_check_timestamp_seconds": ("gauge", "Unix time the latest round of this target ended."),
    "regdoctor_check_rounds": ("counter", "Rounds run for this target, by result (ok, problems, unknown)."),
    "regdoctor_root_cause_window_rounds": ("gauge", "Rounds of the history window in which this root cause was seen."),
    "regdoctor_history_window_rounds": ("gauge", "Rounds in the history window of this target."),
    "regdoctor_build_info": ("gauge", "Always 1; the regdoctor version in a label."),
}


def _family(name: str, labels: Sequence[str]) -> GaugeMetricFamily:
    kind, doc = METRICS[name]
    assert kind == "gauge"
    return GaugeMetricFamily(name, doc, labels=list(labels))


class ServeCollector(Collector):
    """Yields every metric from the targets' current state, at scrape time."""

    def __init__(self, states: Sequence[TargetState], node: Callable[[], str]) -> None:
        self.states = list(states)
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node = self.node()
        ep_labels = ["registry", "target", "endpoint", "role", "node"]
        fams = {n: _family(n, ep_labels) for n in (
            "probe_success", "probe_duration_seconds", "probe_dns_lookup_time_seconds", "probe_http_status_code",
            "probe_ssl_earliest_cert_expiry")}
        phase = _family("probe_http_duration_seconds", [*ep_labels, "phase"])
        layer = _family("regdoctor_layer_duration_seconds", [*ep_labels, "layer"])
        finding = _family("regdoctor_finding", ["registry", "target", "code", "layer", "host", "role", "severity",
                                                "root_cause", "node"])
        t_labels = ["registry", "target", "node"]
        success = _family("regdoctor_check_success", t_labels)
        duration = _family("regdoctor_check_duration_seconds", t_labels)
        stamp = _family("regdoctor_check_timestamp_seconds", t_labels)
        rounds = CounterMetricFamily("regdoctor_check_rounds", METRICS["regdoctor_check_rounds"][1],
                                     labels=[*t_labels, "result"])
        window = _family("regdoctor_history_window_rounds", t_labels)
        cause_window = _family("regdoctor_root_cause_window_rounds",
                               ["registry", "target", "code", "layer", "host", "role", "node"])
        for st in self.states:
            v = st.view()
            tl = [v.registry, v.target, node]
            counts = dict(v.rounds)
            for result in ROUND_RESULTS:
                rounds.add_metric([*tl, result], counts.get(result, 0))
            n, causes = st.window_counts()
            window.add_metric(tl, n)
            for (code, lay, host), role, hits in causes:
                cause_window.add_metric([v.registry, v.target, code, lay, host, role, node], hits)
            if v.sample is None:
                continue
            s = v.sample
            success.add_metric(tl, 1.0 if s.result == "ok" else 0.0)
            duration.add_metric(tl, s.duration_s)
            if v.last_round_at is not None:
                stamp.add_metric(tl, v.last_round_at)
            for e in s.endpoints:
                el = [v.registry, v.target, e.endpoint, e.role, node]
                fams["probe_success"].add_metric(el, 1.0 if e.success else 0.0)
                fams["probe_duration_seconds"].add_metric(el, e.duration_s)
                fams["probe_dns_lookup_time_seconds"].add_metric(el, e.dns_s)
                fams["probe_http_status_code"].add_metric(el, e.status_code)
                if e.cert_expiry is not None:
                    fams["probe_ssl_earliest_cert_expiry"].add_metric(el, e.cert_expiry)
                for name, secs in e.phases:
                    phase.add_metric([*el, name], secs)
                for name, secs in e.layers:
                    layer.add_metric([*el, name], secs)
            for f in s.findings:
                finding.add_metric([v.registry, v.target, f.code, f.layer, f.host, f.role, f.severity,
                                    "true" if f.root_cause else "false", node], 1.0)
        yield from fams.values()
        yield phase
        yield layer
        yield finding
        yield from (success, duration, stamp, rounds, window, cause_window)
        info = _family("regdoctor_build_info", ["version"])
        info.add_metric([__version__], 1.0)
        yield info


def make_registry(states: Sequence[TargetState], node: Callable[[], str]) -> CollectorRegistry:
    """The exporter's own registry: the serve collector plus the process's own metrics (RSS, CPU, fds)."""
    from prometheus_client import ProcessCollector

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServeCollector(states, node))
    ProcessCollector(registry=registry)
    return registry

