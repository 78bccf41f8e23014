"""The readable gist of a record, from its provider: for the log line, the view, the report."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from addon.providers import PROVIDERS, Summary
from addon.record.model import Record

_MODEL_IN_PATH = re.compile(r"/models?/([^/:?]+)")
"""Bedrock's `/model/{id}/…` and Google's `/models/{m}:…` name the model in the URL."""


def summary_of(record: Record) -> Summary:
    """Empty for a missing or non-object response, or an API this version does not know.

    Where the answer names no model (Bedrock, Vertex), the request's is shown."""
    provider = PROVIDERS.get(record.provider)
    if provider is None or not isinstance(record.response, dict):
        return Summary()
    summary = provider.accumulator.summarize(record.response)
    if summary.model is None:
        summary.model = request_model(record)
    return summary


def request_model(record: Record) -> str | None:
    """The model the request asked for: its body's `model`, else the one in its URL."""
    request = record.request or {}
    body = request.get("body")
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        return str(body["model"])
    found = _MODEL_IN_PATH.search(urlsplit(str(request.get("url") or "")).path)
    return unquote(found.group(1)) if found else None
