"""Helpers for tests that cut and replay streams."""

from __future__ import annotations

import itertools


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut `data` at the given offsets (clamped, deduplicated) into consecutive chunks."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]
