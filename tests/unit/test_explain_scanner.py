"""The chunked scanner: exact line numbers, bounded memory, strict log mode, grouping."""

from __future__ import annotations

import random

import pytest

from regdoctor.explain import MAX_LINE, Scanner, explain, explain_chunks

NX = b'Get "https://r.io/v2/": dial tcp: lookup r.io on 10.0.0.2:53: no such host'


def cands(chunks: list[bytes], **kw: int) -> tuple[list[tuple[int, bytes]], Scanner]:
    """The gate's candidates, as in a log (``strict``: a pasted message's first lines are all read)."""
    s = Scanner(strict=True, **kw)
    return [(n, line) for n, line, _ in s.candidates(chunks)], s


def test_a_pasted_message_is_read_whole_then_gated() -> None:
    from regdoctor.explain.scan import READ_ALL

    data = b"2024-01-01T00:00:00Z denied: requested access\n" + b"noise\n" * (READ_ALL + 5) + NX + b"\n"
    found = [n for n, _, _ in Scanner().candidates([data])]
    assert found == [*range(1, READ_ALL + 1), READ_ALL + 7]
    # the fragment users paste (no ": " before the leaf) is explained
    assert {g.code for g in explain_chunks([data]).groups} == {"AUTH_PERMISSION_DENIED", "DNS_NXDOMAIN"}


def test_line_numbers_and_count() -> None:
    data = b"a\nb\n" + NX + b"\nc\n" + NX + b"\n"
    found, s = cands([data])
    assert [n for n, _ in found] == [3, 5] and s.lines == 5
    assert found[0][1] == NX


@pytest.mark.parametrize("trailing", [b"", b"\n"])
def test_last_line_without_newline(trailing: bytes) -> None:
    found, s = cands([b"x\n" + NX + trailing])
    assert [n for n, _ in found] == [2] and s.lines == 2


def test_crlf_lines() -> None:
    ex = explain_chunks([b"x\r\n" + NX + b"\r\ny\r\n"])
    assert ex.groups[0].first_line == 2 and ex.groups[0].sample.endswith("no such host")


def test_chunk_boundaries_anywhere() -> None:
    data = b"noise line\n" * 3 + NX + b"\nmore\n" + NX + b"\n"
    expected, _ = cands([data])
    for cut in range(1, len(data)):
        got, s = cands([data[:cut], data[cut:]])
        assert got == expected, cut
        assert s.lines == 6


def test_random_chunking_matches_whole(tmp_path: object) -> None:
    rng = random.Random(3)
    lines = [NX if rng.random() < 0.05 else f"line {i} ok".encode() for i in range(3000)]
    data = b"\n".join(lines) + b"\n"
    whole, _ = cands([data])
    chunks, pos = [], 0
    while pos < len(data):
        step = rng.randint(1, 700)
        chunks.append(data[pos:pos + step])
        pos += step
    got, s = cands(chunks)
    assert got == whole and s.lines == 3000


def test_over_long_line_is_cut_and_skipped_without_keeping_it() -> None:
    big = b"x" * (MAX_LINE * 3)
    data = [big[: MAX_LINE // 2], big[MAX_LINE // 2:], b"\n" + NX + b"\n"]
    found, s = cands(data)
    assert [n for n, _ in found] == [2] and s.lines == 2 and s.cut_lines == 1


def test_symptom_in_the_head_of_a_long_line_is_found() -> None:
    data = NX + b" " + b"y" * (MAX_LINE * 4) + b"\nok\n"
    ex = explain_chunks([data[i:i + 10_000] for i in range(0, len(data), 10_000)])
    assert ex.findings[0].code == "DNS_NXDOMAIN" and ex.lines == 2 and ex.cut_lines == 1
    assert len(ex.groups[0].sample) <= 400


def test_binary_and_garbage_do_not_break_it() -> None:
    rng = random.Random(5)
    noise = bytes(rng.randrange(256) for _ in range(200_000))
    ex = explain_chunks([noise, b"\n" + NX + b"\n", noise])
    assert ex.findings[0].code == "DNS_NXDOMAIN"
    assert not explain_chunks([b"\x00\xff\xfe" * 1000]).findings
    assert not explain("").findings and explain("").lines == 0


def test_strict_log_mode_ignores_other_services_network_errors() -> None:
    log = (b'E0501 reflector.go:138] failed to list *v1.Pod: Get "https://10.96.0.1:443/api/v1/pods": '
           b"context deadline exceeded\n"
           b"app: upstream 10.0.0.1:8080: connection reset by peer\n"
           b"worker: read config: unexpected EOF\n"
           + NX + b"\n"
           b"toomanyrequests: You have reached your unauthenticated pull rate limit.\n")
    ex = explain_chunks([log], strict=True)
    assert [(g.code, g.first_line) for g in ex.groups] == [("DNS_NXDOMAIN", 4), ("HTTP_RATE_LIMITED", 5)]
    # pasted as a message, the user already said it is a registry error
    assert len(explain_chunks([log]).groups) > 2


def test_groups_count_and_first_last_lines() -> None:
    log = b"\n".join([b"start", NX, b"mid", NX, NX, b"Get \"https://r.io/v2/\": EOF", b"end"]) + b"\n"
    ex = explain_chunks([log], strict=True)
    g = {x.code: x for x in ex.groups}
    assert (g["DNS_NXDOMAIN"].count, g["DNS_NXDOMAIN"].first_line, g["DNS_NXDOMAIN"].last_line) == (3, 2, 5)
    assert g["TLS_HANDSHAKE_CLOSED"].first_line == 6 and ex.matched_lines == 4 and ex.lines == 7
    nx = next(f for f in ex.findings if f.code == "DNS_NXDOMAIN")
    assert (nx.evidence["count"], nx.evidence["first_line"], nx.evidence["last_line"]) == (3, 2, 5)


def test_distinct_hosts_make_distinct_groups_but_stay_bounded() -> None:
    from regdoctor.explain import rank as mod

    lines = [f'Get "https://r{i}.io/v2/": dial tcp: lookup r{i}.io on 10.0.0.2:53: no such host'.encode()
             for i in range(mod.MAX_GROUPS + 50)]
    ex = explain_chunks([b"\n".join(lines)])
    assert len(ex.groups) == mod.MAX_GROUPS
    assert sum(g.count for g in ex.groups) == len(lines)


def test_in_a_log_the_lines_before_do_not_lend_their_hosts() -> None:
    log = (b'app: GET https://api.example.com/v1/orders status: 200\n'
           b"postgres[1]: LOG: connection received: host=10.0.118.135 port=1\n"
           b"error pulling image configuration: download failed after attempts=6: dial tcp 20.60.1.2:443: i/o timeout\n"
           b"systemd[1]: Started Session 7 of user alice.\n"
           b"toomanyrequests: You have reached your pull rate limit. https://www.docker.com/increase-rate-limit\n")
    ex = explain_chunks([log], strict=True)
    hosts = {g.code: g.host for g in ex.groups}
    assert hosts == {"DATA_ENDPOINT_BLOCKED": None, "HTTP_RATE_LIMITED": None}, hosts
    # a pasted message is one message: a URL wrapped onto the line before does count
    pasted = (b"error pulling image configuration: Get https://cdn.example.net/registry-v2/docker/registry/v2/blobs/\n"
              b"sha256/93/data?Expires=1: dial tcp 52.85.221.56:443: i/o timeout\n")
    assert explain_chunks([pasted]).findings[0].host == "cdn.example.net"


def test_a_paste_hard_wrapped_by_a_terminal_is_read_as_one_line() -> None:
    # a terminal 90 columns wide cut the error chain: full pieces and a shorter tail
    line = ('Error: parsing image configuration: Get "https://production.cloudflare.docker.com/registry-v2/'
            'docker/registry/v2/blobs/sha256/a2/a2a5/data?verify=1": tls: failed to verify certificate: '
            'x509: certificate has expired or is not yet valid: current time 2023-05-11T07:06:36Z is before '
            '2023-05-12T00:00:00Z')
    width = 90
    pieces = [line[i:i + width] for i in range(0, len(line), width)]
    assert len(pieces) >= 3 and len(pieces[-1]) < width
    ex = explain_chunks(["\n".join(pieces).encode()])
    assert ex.findings[0].code == "TLS_NOT_YET_VALID"
    assert ex.lines == len(pieces) and ex.groups[0].first_line == len(pieces)  # numbers as pasted
    # a log's lines are its own: --file does not join them
    strict = explain_chunks(["\n".join(pieces).encode()], strict=True)
    assert "TLS_NOT_YET_VALID" not in [f.code for f in strict.findings]


def test_lines_of_one_width_that_are_messages_of_their_own_are_not_joined() -> None:
    from regdoctor.explain.paste import unwrap

    retries = [f"E1201 12:00:0{i} kubelet: Failed to pull image: dial tcp 10.0.0.{i}:443: i/o timeout".encode()
               for i in range(3)]
    assert unwrap(b"\n".join([*retries, b"short"])) == b"\n".join([*retries, b"short"])
    same_start = [f'Get "https://r{i}.io/v2/": dial tcp: lookup r{i}.io: no such host'.encode() for i in range(10, 13)]
    assert unwrap(b"\n".join([*same_start, b"x"])) == b"\n".join([*same_start, b"x"])


def test_an_error_chain_the_paster_broke_at_its_separators_is_read_as_one() -> None:
    text = ('Failed to pull image "r.example/mirror/busybox:1": rpc error: code = DeadlineExceeded desc = failed to '
            'pull and unpack image\n'
            '"r.example/mirror/busybox:1": failed to copy:\n'
            'httpReadSeeker: failed open: failed to do request:\n'
            'Get "https://production.cloudflare.docker.com/registry-v2/docker/registry/v2/blobs/sha256/1c/1c10/data":')
    ex = explain_chunks([text.encode()])
    assert ex.findings[0].code == "DATA_ENDPOINT_BLOCKED" and ex.lines == 4
    # a formatter's indented continuation (crane inside another tool)
    crane = ("Error: agent operation failed: pull image: crane manifest failed: fetching manifest\n"
             "  docker.io/library/nginx:1: GET https://index.docker.io/v2/library/nginx/manifests/1:\n"
             "  UNAUTHORIZED: authentication required; [map[Action:pull Class: Name:library/nginx Type:repository]]")
    assert explain_chunks([crane.encode()]).findings[0].code == "AUTH_CREDENTIALS_REQUIRED"


def test_a_list_of_errors_one_per_line_stays_a_list() -> None:
    from regdoctor.explain.paste import unwrap

    block = (b"Error: reading manifest latest in r.io/lab/private: errors:\n"
             b"denied: requested access to the resource is denied\nunauthorized: authentication required")
    assert unwrap(block) == block


@pytest.mark.parametrize(("head", "tail"), [
    (b"    dial tcp: lookup registry-1.docker.io on 192.168.0.1:53: read udp",
     b"    172.17.0.2:48484->192.168.0.1:53: i/o timeout"),
    (b"dial tcp: lookup", b"r.example on 10.0.0.1:53: no such host"),
    (b"dial tcp: lookup r.example on", b"10.0.0.1:53: no such host"),
    (b"read tcp 10.0.0.2:5555->", b"1.2.3.4:443: read: connection reset by peer"),
    (b'Get "https://r.example/v2/": proxyconnect tcp', b"10.0.0.9:3128: connect: connection refused"),
])
def test_a_network_error_broken_where_go_still_owes_an_address_is_one_line(head: bytes, tail: bytes) -> None:
    from regdoctor.explain.paste import unwrap

    assert unwrap(head + b"\n" + tail).split(b"\n") == [b"", head.rstrip() + b" " + tail.strip()]


@pytest.mark.parametrize("block", [
    b"the registry mirror is turned on\nnext message",  # `on` closing a sentence is no lookup
    b"dial tcp 10.0.0.1:443: i/o timeout\n  retrying",  # a complete error, then a line of its own
])
def test_a_complete_line_is_not_joined_to_the_next(block: bytes) -> None:
    from regdoctor.explain.paste import unwrap

    assert unwrap(block) == block


def test_a_host_name_broken_at_a_dot_is_glued_back_whole() -> None:
    from regdoctor.explain.paste import unwrap

    text = (b"Error response from daemon: Get https://registry-1.docker.io/v2/: proxyconnect tcp: dial tcp: lookup "
            b"docker.for.win.10.0\n.75.1 on 192.168.65.1:53: no such host")
    assert unwrap(text).split(b"\n")[1].endswith(b"lookup docker.for.win.10.0.75.1 on 192.168.65.1:53: no such host")
    ex = explain_chunks([text])
    assert ex.findings[0].code == "PROXY_UNRESOLVABLE", [f.code for f in ex.findings]
