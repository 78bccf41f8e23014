"""Oracles: what the official SDKs' stream helpers make of a stream, for exactness tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from addon.providers import PROVIDERS

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def corpus_streams(folder: str) -> list[Path]:
    """Every recorded stream of one API in the copied corpus, e.g. `sdk/anthropic`."""
    return sorted((CORPUS / folder).glob("*.sse"))


def strip_nulls(value: Any) -> Any:
    """Drop keys whose value is null and the SDK-only `parsed*` keys, recursively."""
    if isinstance(value, dict):
        return {
            k: strip_nulls(v)
            for k, v in value.items()
            if v is not None and not k.startswith("parsed")
        }
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


_PROVIDER_BY_PREFIX = {
    "sdk/anthropic/": "anthropic-messages",
    "sdk/openai-chat/": "openai-chat",
    "sdk/openai-responses/": "openai-responses",
    "ccproxy/claude_": "anthropic-messages",
    "ccproxy/copilot_": "openai-chat",
    "ccproxy/codex_": "openai-responses",
    "chat-compat/": "openai-chat",
    "azure-openai/": "openai-chat",
    "openai-completions/": "openai-completions",
    "gemini/ai-studio/": "gemini",
    "gemini/vertex/": "gemini",
    "gemini/code-assist/": "gemini-code-assist",
    "gemini/interactions/": "gemini-interactions",
}


def corpus_provider(path: Path) -> str:
    """The provider id a corpus stream belongs to, from where it lies."""
    relative = path.relative_to(CORPUS).as_posix()
    for prefix, provider in _PROVIDER_BY_PREFIX.items():
        if relative.startswith(prefix):
            return provider
    raise ValueError(f"no provider known for corpus file {relative}")


ALL_STREAMS: list[tuple[str, Path]] = [
    (provider, p)
    for p in sorted(CORPUS.rglob("*.sse"))
    if (provider := corpus_provider(p)) in PROVIDERS  # a provider not yet registered waits
]


@contextmanager
def answering_client(body: bytes) -> Iterator[httpx2.Client]:
    """An HTTP client for the SDKs (built on `httpx2`) that answers every request with `body`
    as an event stream, in memory: nothing goes over a network."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with httpx2.Client(transport=httpx2.MockTransport(answer)) as client:
        yield client


@contextmanager
def quiet_dump_warnings() -> Iterator[None]:
    """Blocks and items of a type an SDK does not know are built as some other model; dumping
    them makes pydantic warn, while the dumped keys are still the ones that came."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Pydantic serializer warnings", UserWarning)
        yield
