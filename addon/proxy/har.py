"""`llm.har @all out.har`: a HAR file whose LLM entries carry their record beside the raw body.

The entries are mitmproxy's own (`mitmproxy.addons.savehar`, what `save.har` writes), so HAR
viewers and `mitmdump -nr out.har` read the file as usual. Each LLM call's entry gains
`_llm_rebuild` (HAR allows custom fields that start with an underscore): the record `llm.dump`
writes. A flow loaded without the addon is rebuilt and priced, as `llm.rebuild` does (its
session and cache explanation need the calls in order, so they stay empty). Credentials are
masked as in dumps: secret headers, cookies, query keys and JSON body fields; bodies are
otherwise the bytes that went over the wire.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from mitmproxy import command, exceptions, flow, http, types
from mitmproxy.addons.savehar import SaveHar

from addon.insights.pipeline import price_of
from addon.proxy.resolver import REBUILT, Resolver
from addon.record.redact import MASK, Redactor
from addon.sinks.dump import written_temporary
from addon.sinks.metadata import METADATA_KEY
from addon.wire.jsonvalue import dumps, loads_exact

log = logging.getLogger(__name__)

HAR_FIELD = f"_{METADATA_KEY}"
"""`_llm_rebuild`: the record of an LLM entry."""


class LLMHar:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    @command.command("llm.har")  # type: ignore[untyped-decorator]  # mitmproxy is untyped here
    def har(self, flows: Sequence[flow.Flow], path: types.Path) -> None:
        """Write the flows as a HAR file (replaced if it exists), LLM calls with their record."""
        chosen = [f for f in flows if isinstance(f, http.HTTPFlow)]
        har = har_of(chosen, self.resolver)
        target = os.path.expanduser(path)
        folder = os.path.dirname(os.path.abspath(target))
        try:
            with written_temporary(folder, dumps(har, indent=True), ".har") as tmp:
                os.replace(tmp, target)
        except OSError as exc:
            raise exceptions.CommandError(f"llm.har: cannot write {target}: {exc}") from None
        entries = har["log"]["entries"]
        llm = sum(HAR_FIELD in entry for entry in entries)
        log.info("llm.har: wrote %d entries (%d LLM calls) to %s", len(entries), llm, target)


def har_of(flows: Sequence[http.HTTPFlow], resolver: Resolver) -> dict[str, Any]:
    """mitmproxy's HAR of the flows, entries in their order, LLM ones with their record."""
    har: dict[str, Any] = SaveHar().make_har(flows)
    redactor = resolver.settings.redactor
    for chosen, entry in zip(flows, har["log"]["entries"], strict=True):
        redact_entry(entry, redactor)
        resolved = resolver.resolve(chosen, prefer_stored=True)
        if resolved is not None:
            record, source = resolved
            if source == REBUILT:  # a flow loaded without the addon: priced as llm.rebuild does
                price_of(record)
            entry[HAR_FIELD] = record.to_json()
    har["log"]["creator"]["comment"] = f"LLM calls carry their record in {HAR_FIELD}"
    return har


def redact_entry(entry: dict[str, Any], redactor: Redactor) -> None:
    """Mask what a dump masks: the entry keeps its shape, so readers still load it."""
    for side in ("request", "response"):
        part = entry.get(side)
        if not isinstance(part, dict):
            continue
        _mask_pairs(part.get("headers"), redactor.header_names)
        _mask_pairs(part.get("cookies"), None)
        if isinstance(part.get("url"), str):
            part["url"] = redactor.url(part["url"])
        _mask_pairs(part.get("queryString"), redactor.query_keys)
    post = entry.get("request", {}).get("postData")
    if isinstance(post, dict):
        _mask_pairs(post.get("params"), redactor.body_keys)
        text = post.get("text")
        if isinstance(text, str) and text:
            try:
                body = loads_exact(text)
            except ValueError:
                return
            masked = redactor.body(body)
            if masked != body:
                post["text"] = dumps(masked).decode("utf-8")


def _mask_pairs(pairs: Any, names: frozenset[str] | set[str] | None) -> None:
    """HAR's `[{name, value}]` lists; every value when `names` is None (cookies)."""
    if not isinstance(pairs, list):
        return
    for pair in pairs:
        name = pair.get("name") if isinstance(pair, dict) else None
        if isinstance(name, str) and (names is None or name.lower() in names):
            pair["value"] = MASK
