"""``regdoctor serve``: checks on a schedule, exported the way monitoring already reads them.

    samples    pure: a Report -> per-endpoint probe samples (blackbox_exporter's phases) and findings
    history    pure: a bounded record of each round's root causes (first/last seen, counts in a window)
    state      the latest round per target, behind a lock; what every HTTP answer reads
    metrics    the Prometheus collector (prometheus_client, its own registry, never the global one)
    scheduler  one thread per target: jittered rounds that never overlap, bounded by the step deadlines
    httpd      a bounded, threaded HTTP server: /metrics, /report.json, /history.json, /healthz
"""
