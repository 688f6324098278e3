"""Many machines, one verdict: which nodes of a cluster fail, at which layer, grouped by cause and pool.

``node`` parses ``--node``/``--label``; ``ingest`` reads per-node ``check --json`` reports from files,
directories and ``kubectl logs`` streams; ``merge`` turns them into a ``FleetVerdict``. All pure: the
CLI reads the files, ``render.fleet`` shows the verdict.
"""
