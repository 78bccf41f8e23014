"""The apps: official SDK clients streaming through the proxy, as an agent would.

Each runner streams one answer with the SDK's own stream helper, notes when the first event
arrived (and sets `first_event`, which the fake upstream waits on before its last piece), and
returns the helper's final object as `model_dump(mode="json")`.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
import openai

from tests.live.upstream import Plan
from tests.oracles import CORPUS, strip_nulls


@dataclass
class Run:
    """What the app saw."""

    first_event_at: float | None = None  # time.monotonic()
    events: int = 0
    final: dict[str, Any] | None = None
    error: Any = None  # what the SDK raised, when a test expects it to
    first_event: threading.Event = field(default_factory=threading.Event)

    def saw_event(self) -> None:
        if self.first_event_at is None:
            self.first_event_at = time.monotonic()
            self.first_event.set()
        self.events += 1


def run_anthropic(base_url: str, http_client: httpx2.Client, run: Run) -> None:
    """`base_url` is what would go in ANTHROPIC_BASE_URL (the client adds /v1/messages)."""
    client = anthropic.Anthropic(
        api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
    )
    with client.beta.messages.stream(
        model="claude-test", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            run.saw_event()
        run.final = stream.get_final_message().model_dump(mode="json")


def run_openai_chat(base_url: str, http_client: httpx2.Client, run: Run) -> None:
    """`base_url` is what would go in OPENAI_BASE_URL (ends in /v1)."""
    client = openai.OpenAI(
        api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
    )
    with client.chat.completions.stream(
        model="gpt-test", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for _ in stream:
            run.saw_event()
        run.final = stream.get_final_completion().model_dump(mode="json")


def run_openai_responses(base_url: str, http_client: httpx2.Client, run: Run) -> None:
    client = openai.OpenAI(
        api_key="test-key", base_url=base_url, max_retries=0, http_client=http_client
    )
    with client.responses.stream(model="gpt-test", input="hi") as stream:
        for _ in stream:
            run.saw_event()
        run.final = stream.get_final_response().model_dump(mode="json")


@dataclass(frozen=True)
class Api:
    provider: str
    api_path: str  # what the SDK appends to the part of base_url after the host
    sdk_prefix: str  # what base_url carries beyond the plan prefix
    runner: Callable[[str, httpx2.Client, Run], None]


APIS = {
    "anthropic-messages": Api("anthropic-messages", "/v1/messages", "", run_anthropic),
    "openai-chat": Api("openai-chat", "/v1/chat/completions", "/v1", run_openai_chat),
    "openai-responses": Api("openai-responses", "/v1/responses", "/v1", run_openai_responses),
}


def comparable(obj: Any) -> Any:
    """How the oracle tests compare: nulls and the SDK-only `parsed*` keys dropped."""
    return strip_nulls(obj)


def corpus_body(name: str) -> bytes:
    """A recorded stream by its path under tests/corpus, e.g. `sdk/anthropic/x.sse`."""
    return (CORPUS / name).read_bytes()


def answer(name: str, run: Run | None = None, **plan: Any) -> Plan:
    """A plan replaying a corpus stream in ~40 random pieces; with `run`, the last piece waits
    until the app has seen its first event."""
    body = corpus_body(name)
    plan.setdefault("max_piece", max(64, len(body) // 20))
    plan.setdefault("seed", zlib.crc32(name.encode()))
    plan.setdefault("gate", run.first_event if run else None)
    return Plan(body, **plan)
