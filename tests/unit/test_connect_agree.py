"""A proxy's refusal of CONNECT gets one code whether ``check`` met it or ``explain`` read a client's words for it.

``classify.classify_connect_reply`` judges the answer check's probe received; the ``connect.*`` leaves of
``kb/symptoms.toml`` judge a client's report of the same answer (urllib3's ``Tunnel connection failed``,
curl's ``Received HTTP code``). Every status a proxy can answer must land on the same code in both.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from regdoctor.classify import classify_connect_reply
from regdoctor.explain import explain

STATUSES = [s for s in range(300, 600) if s // 100 != 2]


@pytest.mark.parametrize("status", STATUSES)
def test_a_connect_refusal_reads_as_check_probes_it(status: int) -> None:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    probed = classify_connect_reply(status, reason, [], b"").code
    for text in (f"ProxyError('Unable to connect to proxy', OSError('Tunnel connection failed: {status} {reason}'))",
                 f"curl: (56) Received HTTP code {status} from proxy after CONNECT"):
        findings = explain(text).findings
        assert findings and findings[0].code == probed, (text, [f.code for f in findings])
