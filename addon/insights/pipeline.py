"""The insights of each finished record, in the order records finish: cost, session, cache."""

from __future__ import annotations

from addon.insights.cache import CacheExplainer
from addon.insights.sessions import SessionTracker
from addon.record import Record


class Insights:
    """One per proxy: sessions and cache explanations need the calls that came before.

    Never raises: an insight that fails costs that insight, never the record.
    """

    def __init__(self) -> None:
        self.sessions = SessionTracker()
        self.cache = CacheExplainer()

    @property
    def entries(self) -> int:
        """How many calls and sessions are remembered (each bounded; see sessions and cache)."""
        return self.sessions.entries + self.cache.entries

    def add(self, record: Record) -> None:
        data = record.to_json()
        price_of(record, data)
        try:
            record.session = self.sessions.assign(data)
            record.cache = self.cache.explain(data)
        except Exception as exc:
            record.warn(f"session or cache explanation not made: {exc!r}")


def price_of(record: Record, data: dict[str, object] | None = None) -> None:
    """`cost` (and why it is missing or how it was read) onto the record; stateless."""
    from addon.insights.cost import price  # loads genai-prices' bundled prices once

    result = price(data if data is not None else record.to_json())
    record.cost = result.cost
    record.cost_reason = result.reason
