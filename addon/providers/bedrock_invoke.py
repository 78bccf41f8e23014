"""Bedrock InvokeModelWithResponseStream: each model family's chunks back into its own body.

`POST /model/{modelId}/invoke-with-response-stream` answers in AWS event-stream frames; each
`chunk` frame carries `{"bytes": base64(JSON), "p": padding}`. `InvokeStreamDecoder` (the
framing) unwraps them: each becomes one event whose data is the inner JSON text, named by the
inner object's leading `type` when it has one (so an Anthropic stream reads exactly like its
SSE events) and "chunk" otherwise. Exception frames pass through as events named by their
exception type, already written to the framing's errors.

`BedrockInvoke` (the accumulator) tells the family from the first chunk and rebuilds the body
that `POST /model/{modelId}/invoke` returns for that model:

- Anthropic Messages (chunks with a `type`): folded by `AnthropicMessages`, so the Message equals
  what `AnthropicBedrock(...).messages.stream(...).get_final_message()` builds.
- Anthropic Text Completions (Claude 2 / Instant, `completion`) and Meta Llama (`generation`):
  the text fields are joined and every other key takes its last non-null value; that is the
  non-streamed body (`{completion, stop_reason, stop}`, `{generation, prompt_token_count,
  generation_token_count, stop_reason}`).
- Amazon Titan Text (`outputText`): chunks are grouped by `index` into
  `{inputTextTokenCount, results: [{tokenCount, outputText, completionReason}]}`, `tokenCount`
  from `totalOutputTextTokenCount`; numbers stay as sent (a guardrail answer sends `3.0`).
- Amazon Nova (`messageStart`, `contentBlockDelta`, …, each wrapped in a one-key object): folded
  by the ConverseStream accumulator into `{output: {message}, stopReason, usage, …}`. Nova's
  stream gives each text delta its own `contentBlockIndex`; no non-streamed recording shows how
  Nova joins them, so the blocks are kept as the stream numbers them.
- Every other family (Cohere Command, Mistral, …): the response is the list of inner chunks in
  order, because their non-streamed bodies hold fields the stream never sends (Cohere's `id`
  and `prompt`) or no recording shows the rule. Nothing is lost and such a stream is still
  complete.

Bedrock adds `amazon-bedrock-invocationMetrics` to the last chunk: it goes to
`extras["bedrock_invocation_metrics"]`, never into the response, and marks the end of the stream
for families without an end event of their own. Other `amazon-bedrock-*` keys (guardrail action
and trace) stay in the body for the families rebuilt here (the non-streamed body has them at
its top level) and go to `extras` for Anthropic and Nova, whose objects have no place for them.
Token counts also come as `x-amzn-bedrock-*-token-count` response headers, which an accumulator
does not see.
"""

from __future__ import annotations

from typing import Any

import orjson
import pydantic_core

from addon.providers.anthropic_messages import AnthropicMessages
from addon.providers.base import (
    JSON,
    Accumulator,
    Part,
    Provider,
    Route,
    Sample,
    Summary,
    Usage,
    compact_json,
)
from addon.providers.base import count as _count
from addon.providers.bedrock_converse import BedrockConverse
from addon.providers.bedrock_request import read_invoke
from addon.providers.bedrock_shapes import converse_usage
from addon.wire import Event
from addon.wire.bedrock_chunks import (
    _BEDROCK_PREFIX,
    ANTHROPIC_EVENTS,
    CONVERSE_EVENTS,
    METRICS_KEY,
    InvokeStreamDecoder,
)

_loads = orjson.loads


class _Joined:
    """Claude Text Completions and Llama: one text field joined, other keys last non-null."""

    def __init__(self, text_key: str, end_key: str) -> None:
        self.text_key = text_key
        self.end_key = end_key
        self.parts: list[str] = []
        self.fields: JSON = {}
        self.done = False

    def feed(self, data: JSON) -> str | None:
        fields = self.fields
        for key, value in data.items():
            if key == self.text_key and isinstance(value, str):
                self.parts.append(value)
                fields.setdefault(key, "")
            elif value is not None or key not in fields:
                fields[key] = value
        if data.get(self.end_key) is not None:
            self.done = True
        return None

    def result(self) -> JSON:
        response = dict(self.fields)
        if self.text_key in response:
            response[self.text_key] = "".join(self.parts)
        return response


class _Titan:
    """Amazon Titan Text: chunks grouped by `index` into `results`."""

    def __init__(self) -> None:
        self.results: dict[Any, JSON] = {}
        self.parts: dict[Any, list[str]] = {}
        self.top: JSON = {}
        self.done = False

    def feed(self, data: JSON) -> str | None:
        index = data.get("index", 0)
        if isinstance(index, (dict, list)):
            return f"index {index!r} is not a number"
        result = self.results.setdefault(index, {})
        parts = self.parts.setdefault(index, [])
        for key, value in data.items():
            if key == "outputText":
                if isinstance(value, str):
                    parts.append(value)
                result["outputText"] = ""
            elif key == "totalOutputTextTokenCount":
                if value is not None:
                    result["tokenCount"] = value
            elif key == "completionReason":
                if value is not None:
                    result["completionReason"] = value
                    self.done = True
            elif key == "index":
                continue
            elif value is not None or key not in self.top:
                self.top[key] = value
        if self.top.get("amazon-bedrock-guardrailAction") == "INTERVENED":
            self.done = True
        return None

    def result(self) -> JSON:
        response: JSON = {}
        if "inputTextTokenCount" in self.top:
            response["inputTextTokenCount"] = self.top["inputTextTokenCount"]
        results = []
        for index, fields in self.results.items():
            result = dict(fields)
            if "outputText" in result:
                result["outputText"] = "".join(self.parts[index])
            results.append(result)
        response["results"] = results
        for key, value in self.top.items():
            response.setdefault(key, value)
        return response


class _Chunks:
    """A family not rebuilt: the inner chunks in order."""

    def __init__(self) -> None:
        self.chunks: list[Any] = []
        self.done = False

    def feed(self, data: JSON) -> str | None:
        self.chunks.append(data)
        if data.get("is_finished") is True:
            self.done = True  # Cohere's last chunk
        return None

    def result(self) -> list[Any]:
        return list(self.chunks)


_Fold = _Joined | _Titan | _Chunks


class BedrockInvoke(Accumulator):
    """Rebuilds an InvokeModel body from its `invoke-with-response-stream` chunks."""

    provider = "bedrock-invoke"

    def __init__(self) -> None:
        super().__init__()
        self.family: str | None = None
        """"anthropic", "anthropic-completion", "llama", "titan", "nova" or "other"."""
        self._anthropic: AnthropicMessages | None = None
        self._converse: BedrockConverse | None = None
        self._fold: _Fold | None = None
        self._metrics_seen = False
        self._chunks = 0

    def feed(self, event: Event) -> None:
        super().feed(event)
        self._sync()

    def feed_all(self, events: list[Event]) -> None:
        """As `Accumulator.feed_all`; a Claude text delta goes straight to the Anthropic fold
        (it never carries Bedrock's keys, which only the last chunk has)."""
        feed = self._feed
        inner = self._anthropic._feed if self._anthropic is not None else None
        for event in events:
            try:
                if inner is not None and event[0] == "content_block_delta":
                    inner(event)
                else:
                    feed(event)
                    if inner is None and self._anthropic is not None:
                        inner = self._anthropic._feed
            except Exception as exc:  # as in `Accumulator.feed_all`
                self._not_applied(event, exc)
        self._sync()

    def _sync(self) -> None:
        inner = self._anthropic or self._converse
        if inner is not None:
            self.done = inner.done
            self.content_started = inner.content_started
        elif self._fold is not None:
            self.done = self._fold.done or self._metrics_seen

    def _feed(self, event: Event) -> None:
        anthropic = self._anthropic
        if anthropic is not None:
            if event.event != "content_block_delta" and _BEDROCK_PREFIX in event.data:
                self._take_bedrock_keys(event.data)
            anthropic._feed(event)
            return
        if self.family is None and event.event in ANTHROPIC_EVENTS:
            self._start("anthropic")
            self._feed(event)
            return
        if event.event.endswith("Exception"):
            self._keep(event)  # an exception frame: the framing wrote it to its errors
            return
        try:
            data = _loads(event.data)
        except orjson.JSONDecodeError as exc:
            self._reject(event, event.data, f"chunk is not JSON ({exc})")
            return
        if not isinstance(data, dict):
            self._reject(event, data, "chunk is not a JSON object")
            return
        if self.family is None:
            self._start(_family_of(data))
            if self._anthropic is not None:
                self._feed(event)
                return
        self._chunks += 1
        self._fold_chunk(event, data)

    def _fold_chunk(self, event: Event, data: JSON) -> None:
        if any(key.startswith(_BEDROCK_PREFIX) for key in data):
            metrics = data.pop(METRICS_KEY, None)
            if metrics is not None:
                self._note_metrics(metrics)
            if self._converse is not None:
                for key in [k for k in data if k.startswith(_BEDROCK_PREFIX)]:
                    self.extras[key] = data.pop(key)
        converse = self._converse
        if converse is not None:
            if len(data) != 1 or next(iter(data)) not in CONVERSE_EVENTS:
                if data:
                    self._reject(event, data, "not one Converse stream event")
                return
            ((name, body),) = data.items()
            if name in ("messageStop", "metadata", "contentBlockStart") or (
                name == "contentBlockDelta" and not _is_plain_delta(body)
            ):
                body = pydantic_core.from_json(event.data)[name]  # numbers exact
            converse.apply(name, body)
            return
        fold = self._fold
        if fold is not None:
            problem = fold.feed(data)
            if problem:
                self._reject(event, data, problem)
            else:
                self.content_started = True  # these models put text in every chunk

    def _start(self, family: str) -> None:
        self.family = family
        inner: Accumulator
        if family == "anthropic":
            inner = self._anthropic = AnthropicMessages()
        elif family == "nova":
            inner = self._converse = BedrockConverse()
        else:
            if family == "anthropic-completion":
                self._fold = _Joined("completion", "stop_reason")
            elif family == "llama":
                self._fold = _Joined("generation", "stop_reason")
            elif family == "titan":
                self._fold = _Titan()
            else:
                self._fold = _Chunks()
            return
        # One list of errors and unknown events for the record, whoever folds.
        inner.errors = self.errors
        inner.unknown = self.unknown

    def _take_bedrock_keys(self, raw: str) -> None:
        try:
            data = pydantic_core.from_json(raw)
        except ValueError:
            return  # the Anthropic fold reports it
        if not isinstance(data, dict):
            return
        for key, value in data.items():
            if key == METRICS_KEY:
                self._note_metrics(value)
            elif key.startswith(_BEDROCK_PREFIX):
                self.extras[key] = value

    def _note_metrics(self, metrics: Any) -> None:
        if self._metrics_seen:
            self.errors.append("amazon-bedrock-invocationMetrics came twice; the last is kept")
        self._metrics_seen = True
        self.extras["bedrock_invocation_metrics"] = metrics

    def _keep(self, event: Event) -> None:
        try:
            data: Any = pydantic_core.from_json(event.data)
        except ValueError:
            data = event.data
        self.unknown.append({"event": event.event, "data": data})

    def _reject(self, event: Event, data: Any, why: str) -> None:
        self.errors.append(f"{event.event} #{self._chunks + 1}: {why}; kept in unknown events")
        self.unknown.append({"event": event.event, "data": data})

    def result(self) -> Any:
        """The family's non-streamed body; a list of chunks for a family not rebuilt."""
        inner = self._anthropic or self._converse
        if inner is not None:
            return inner.result()
        if self._fold is not None:
            return self._fold.result()
        return None

    def finish(self) -> None:
        inner = self._anthropic or self._converse
        if inner is not None:
            inner.finish()  # writes into the shared errors
            self._sync()
            return
        self._sync()
        if self.family is None and not self.unknown:
            self.errors.append("end of stream: no chunk arrived")
        super().finish()

    @staticmethod
    def summarize(response: JSON) -> Summary:
        kind = shape_of(response)
        if kind == "anthropic":
            return AnthropicMessages.summarize(response)
        if kind == "nova":
            return BedrockConverse.summarize(response)
        summary = Summary()
        if isinstance(response, list):
            summary.parts.extend(Part("chunk", compact_json(chunk)) for chunk in response)
            return summary
        if kind == "titan":
            for result in response.get("results") or ():
                if isinstance(result, dict):
                    summary.parts.append(Part("text", str(result.get("outputText") or "")))
                    summary.stop_reason = _str(result.get("completionReason"))
        elif kind in ("anthropic-completion", "llama"):
            key = "completion" if kind == "anthropic-completion" else "generation"
            summary.parts.append(Part("text", str(response.get(key) or "")))
            summary.stop_reason = _str(response.get("stop_reason"))
        counts = BedrockInvoke.usage(response).as_dict()
        summary.usage = {key: value for key, value in counts.items() if value is not None}
        return summary

    @staticmethod
    def usage(response: JSON) -> Usage:
        kind = shape_of(response)
        if kind == "anthropic":
            return AnthropicMessages.usage(response)
        if kind == "nova":
            return converse_usage(response.get("usage"))
        if kind == "titan":
            results = [r for r in response["results"] if isinstance(r, dict)]
            counts = [_count(r.get("tokenCount")) for r in results]
            return Usage(
                input_tokens=_count(response.get("inputTextTokenCount")),
                output_tokens=None if None in counts or not counts else sum(c or 0 for c in counts),
            )
        if kind == "llama":
            return Usage(
                input_tokens=_count(response.get("prompt_token_count")),
                output_tokens=_count(response.get("generation_token_count")),
            )
        return Usage()

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        if shape_of(response) == "anthropic":
            return AnthropicMessages.response_complete(response)
        return []

    read_request = staticmethod(read_invoke)


def _family_of(data: JSON) -> str:
    """The model family of a stream, from its first chunk."""
    kind = data.get("type")
    if "completion" in data and kind in (None, "completion"):
        return "anthropic-completion"
    if isinstance(kind, str):
        return "anthropic"
    if any(key in CONVERSE_EVENTS for key in data):
        return "nova"
    if "outputText" in data:
        return "titan"
    if "generation" in data:
        return "llama"
    return "other"


def shape_of(response: Any) -> str | None:
    """Which family a (streamed or plain) InvokeModel body belongs to, by its shape."""
    if not isinstance(response, dict):
        return None
    if response.get("type") == "message" or isinstance(response.get("content"), list):
        return "anthropic"
    if isinstance(response.get("output"), dict):
        return "nova"
    if isinstance(response.get("results"), list):
        return "titan"
    if "generation" in response:
        return "llama"
    if "completion" in response:
        return "anthropic-completion"
    return None


def _is_plain_delta(body: Any) -> bool:
    """A Converse delta of text or tool input: strings only, so orjson's parse is exact."""
    delta = body.get("delta") if isinstance(body, dict) else None
    return isinstance(delta, dict) and delta.keys() <= {"text", "toolUse"}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_MODEL_PATH = r"/model/[^/]+"
_ROUTE_PATH = _MODEL_PATH + r"/invoke(-with-response-stream)?$"

INVOKE_PROVIDER = Provider(
    id=BedrockInvoke.provider,
    title="Amazon Bedrock InvokeModel",
    accumulator=BedrockInvoke,
    routes=(
        Route("bedrock-runtime.*.amazonaws.com", _ROUTE_PATH),
        Route("bedrock-runtime-fips.*.amazonaws.com", _ROUTE_PATH),
        Route("*.bedrock-runtime.*.vpce.amazonaws.com", _ROUTE_PATH),
        Route("*", _ROUTE_PATH),
    ),
    framing=InvokeStreamDecoder,
    stream_types=("application/vnd.amazon.eventstream",),
    usage_headers=("x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count"),
    samples=(
        Sample(
            host="bedrock-runtime.us-east-1.amazonaws.com",
            path="/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke-with-response-stream",
            request={
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "What is the weather in San Francisco?"}],
            },
            answer=(
                "bedrock/invoke/openinference__TestInvokeModelWithStreamResponse"
                ".test_invoke__0.eventstream"
            ),
            content_type="application/vnd.amazon.eventstream",
            headers=(("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/fake"),),
        ),
        Sample(
            host="bedrock-runtime.us-east-1.amazonaws.com",
            path="/model/meta.llama2-13b-chat-v1/invoke-with-response-stream",
            request={"prompt": "What does lorem ipsum mean?", "max_gen_len": 60},
            answer="bedrock/invoke/ddtrace__meta_invoke_stream__0.eventstream",
            content_type="application/vnd.amazon.eventstream",
            headers=(("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/fake"),),
        ),
    ),
)
PROVIDER = INVOKE_PROVIDER
