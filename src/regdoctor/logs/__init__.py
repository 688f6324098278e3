"""``regdoctor logs``: the registry's own login and repository events, analysed on DuckDB.

Modules, in the order data flows through them:

* ``sources``   — expand globs and directories; tell each file's export shape from its first bytes;
* ``fields``    — the canonical record and the column names (any shape, any case) that feed it;
* ``readers``   — the DuckDB SQL that reads each shape and normalises it into one typed view;
* ``engine``    — the bounded DuckDB connection; one scan of the files into an aggregate (``cube``);
* ``analysis``  — the questions asked of the aggregate (groups, peaks, bursts, history);
* ``findings``  — what the answers mean, as catalogue findings (pure);
* ``network``   — the one door into ``regdoctor.acr`` (caller addresses against network rules);
* ``useragent`` — client and version from a user agent (Python and SQL from one rule table);
* ``kql``       — the same questions as Log Analytics queries;
* ``timespec``  — ``--since``/``--until`` values;
* ``report``    — one run (``run``): files in, ``LogsReport`` out.

DuckDB is imported only here (lazily, by ``engine``), never by other commands.

>>> from regdoctor.logs.useragent import parse
>>> parse("Helm/3.14.2")
('helm', '3.14.2')
"""

from __future__ import annotations

from regdoctor.logs.report import LogsReport, Options, run

__all__ = ["LogsReport", "Options", "run"]
