"""The readable gist of a record, from its provider: for the log line, the view, the report."""

from __future__ import annotations

from addon.providers import PROVIDERS, Summary
from addon.record.model import Record


def summary_of(record: Record) -> Summary:
    """Empty for a missing or non-object response, or an API this version does not know."""
    provider = PROVIDERS.get(record.provider)
    if provider is None or not isinstance(record.response, dict):
        return Summary()
    return provider.accumulator.summarize(record.response)
