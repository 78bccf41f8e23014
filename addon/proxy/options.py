"""The addon's options: declared in `load`, checked in `configure`, one clear sentence each."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mitmproxy import ctx
from mitmproxy.utils import human

from addon.providers import PROVIDERS
from addon.record.redact import Redactor
from addon.record.routing import ROUTE_SYNTAX, Router, parse_route
from addon.sinks.dump import DumpWriter

log = logging.getLogger(__name__)

DEFAULT_DUMP_DIR = "llm-dumps"
BOOLEANS = ("llm_summary", "llm_ws_keep_messages")


def declare(loader: Any) -> None:
    loader.add_option(
        "llm_dump_dir",
        str,
        DEFAULT_DUMP_DIR,
        "Folder for one JSON record per LLM flow (created when needed). Empty: no dump files.",
    )
    loader.add_option(
        "llm_routes",
        Sequence[str],
        [],
        f"Extra routes to LLM APIs, checked before the built-in ones: {ROUTE_SYNTAX}. "
        f"Providers: {', '.join(sorted(PROVIDERS))}.",
    )
    loader.add_option(
        "llm_max_body",
        str,
        "64m",
        "Largest streamed body kept to put back on the flow (for -w, mitmweb and replay), "
        "e.g. 64m. 0: no limit. The rebuild itself never needs the body kept.",
    )
    loader.add_option(
        "llm_redact",
        Sequence[str],
        [],
        "More header, query and JSON body field names whose values are credentials "
        "(authorization, x-api-key, cookie, key=, api_key, ... are always masked).",
    )
    loader.add_option("llm_summary", bool, True, "Log a one-line summary of every LLM flow.")


def reject_bad_booleans(names: Sequence[str] = BOOLEANS) -> None:
    """`--set llm_summary=maybe` would make mitmproxy drop the whole script without a word
    (the value is parsed while the script loads): say what is wrong instead, and drop it."""
    deferred = getattr(ctx.options, "deferred", {})
    for name in names:
        value = deferred.get(name)
        texts = getattr(value, "val", None)
        if texts is None:
            continue
        text = texts[-1] if texts else ""
        if text not in ("", "true", "false", "toggle"):
            log.error("llm-rebuild: %s: %r is not true or false", name, text)
            del deferred[name]


def max_body(text: str) -> int:
    try:
        size = human.parse_size(text)
    except ValueError:
        size = None
    if size is None and text.strip() not in ("", "0"):
        raise ValueError(f"llm_max_body: {text!r} is not a size such as 64m, 512k or 0")
    if size is not None and size < 0:
        raise ValueError(f"llm_max_body: {text!r} is negative; give a size such as 64m, or 0")
    return size or 0


def router(specs: Sequence[str]) -> Router:
    try:
        return Router(tuple(parse_route(spec) for spec in specs))
    except ValueError as exc:
        raise ValueError(f"llm_routes: {exc}") from None


def dump_writer(folder: str) -> DumpWriter | None:
    if not folder:
        return None
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"llm_dump_dir: {folder!r} is a file, not a folder")
    return DumpWriter(path)


def redactor(names: Sequence[str]) -> Redactor:
    return Redactor(names)
