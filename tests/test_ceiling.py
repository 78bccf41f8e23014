"""The ceiling benchmark's bookkeeping, without processes: body offsets from raw arrivals, and
verdicts that say when a number is a projection or no ceiling at all."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.ceiling import Fetched, body_arrivals, targets

HEAD = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"


def fetched(pieces: list[bytes]) -> Fetched:
    return Fetched(0, 7, pieces, list(range(len(pieces))), 0, len(pieces))


def test_body_arrivals_count_body_bytes_not_framing_even_when_cut_anywhere():
    raw = HEAD + b"5\r\nhello\r\n3\r\n!!!\r\n0\r\n\r\n"
    pieces = [raw[:10], raw[10 : len(HEAD) + 4], raw[len(HEAD) + 4 : -7], raw[-7:]]
    size, arrivals = body_arrivals(fetched(pieces))
    assert size == 8
    assert [a for a, _ in arrivals] == [0, 1, 8, 8]  # the head, "h", "ello" + "!!!", the end


def test_body_arrivals_refuse_an_error_answer_and_a_cut_one():
    with pytest.raises(RuntimeError, match="proxy answered"):
        body_arrivals(fetched([b"HTTP/1.1 502 Bad Gateway\r\n\r\n"]))
    with pytest.raises(RuntimeError, match="ended early"):
        body_arrivals(fetched([HEAD + b"5\r\nhel"]))


def _blast(plain_mb: float, addon_mb: float, plain_cores: float) -> dict[str, Any]:
    side = {"proxy_waited": 0.0, "upstream": 0.1, "client": 0.1}
    return {
        "clients": 8,
        "plain": {"mb_s": plain_mb, "mb_per_cpu_s": plain_mb, "proxy": plain_cores, **side},
        "addon": {"mb_s": addon_mb, "mb_per_cpu_s": addon_mb, "proxy": 1.0, **side},
    }


def _paced(streams: int, plain_p99: float, addon_p99: float) -> dict[str, Any]:
    def side(p99: float) -> dict[str, Any]:
        return {
            "p99_ms": p99,
            "carried": p99 <= 50,
            "streams_per_core": 150.0,
            "proxy_waited": 0.0,
        }

    return {
        "streams": streams,
        "plain": side(plain_p99),
        "addon": side(addon_p99),
        "added_p50_ms": 0.1,
        "added_p99_ms": addon_p99 - plain_p99,
    }


def test_targets_compare_with_and_without_and_flag_an_unsaturated_plain_proxy():
    lines = targets({"blast": [_blast(20.0, 19.0, 0.5)], "paced": []})
    assert "19.0 ÷ 20.0 MB/s = 0.95 — target ≥ 0.9: met" in lines[0]
    assert "never had a whole core" in lines[0]
    lines = targets({"blast": [_blast(20.0, 10.0, 1.0)], "paced": []})
    assert "NOT met" in lines[0] and "never had" not in lines[0]


def test_targets_count_the_streams_each_proxy_kept_up_with():
    paced = [_paced(64, 2.0, 2.5), _paced(256, 10.0, 80.0), _paced(1000, 90.0, 95.0)]
    lines = targets({"blast": [], "paced": paced})
    assert "64 ÷ 256 = 0.25 — target ≥ 0.9: NOT met" in lines[0]
    assert "at 64 streams" in lines[1]  # per chunk where both kept up
    assert "p99 +0.500 ms — target ≤ 1 ms p99: met" in lines[2]
    assert "p99 +70.000 ms" in lines[3] and "NOT met" in lines[3]
    assert "no verdict: neither proxy kept up" in lines[4]


def test_targets_give_no_delay_verdict_past_the_ceiling_or_on_a_busy_machine():
    past = _paced(1000, 900.0, 400.0)  # the addon "faster": both saturated, noise
    past["plain"]["proxy_waited"] = 0.6
    lines = targets({"blast": [], "paced": [past]})
    assert "none of the levels" in lines[0]
    assert "no verdict" in lines[2] and "waited for a core 60%" in lines[2]
