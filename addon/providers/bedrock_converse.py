"""Bedrock ConverseStream: fold its events into the non-streamed Converse response.

`POST /model/{modelId}/converse-stream` answers in AWS event-stream frames named `messageStart`,
`contentBlockStart`, `contentBlockDelta`, `contentBlockStop`, `messageStop` and `metadata`. The
rebuilt object is what `POST /model/{modelId}/converse` returns:
`{output: {message: {role, content}}, stopReason, usage, metrics, additionalModelResponseFields,
trace, performanceConfig, serviceTier}` (only the keys the stream sent). Rules:

- Every event's `p` (random padding) is dropped; every other key is kept: `messageStart` keys go
  into the message, `messageStop` and `metadata` keys to the top level (so keys newer than
  botocore's model, such as `usage.serverToolUsage`, stay).
- Blocks are addressed by `contentBlockIndex` and kept in the order they first appeared. Text and
  reasoning blocks come without a `contentBlockStart`: the first delta opens them.
- `text` fragments are joined; a text block that got `citation` deltas becomes
  `citationsContent {content: [{text}], citations}` (as the non-streamed answer shapes it).
- `toolUse.input` fragments are joined and parsed once, with pydantic-core (integers of any size
  stay exact); no input at all gives `{}`; JSON that is incomplete keeps what is complete, JSON
  that does not parse keeps the text; both are written to `errors`.
- `reasoningContent`: `text` and `signature` fragments are joined into
  `reasoningText {text, signature}`; `redactedContent` (base64 on the wire) fragments are decoded,
  joined and encoded again into one `redactedContent`.
- `toolResult` deltas (a list of `{text}` / `{json}` items) are appended to the block's `content`
  as they came; `image` deltas set `source` / `error` (base64 `bytes` fragments joined as above).
- A delta of an unknown kind, or one that does not fit its block, is not applied: it goes to
  `unknown` and `errors`. Unknown event types and exception events go to `unknown` (the framing
  already wrote exceptions to its errors).
- The stream is done at `metadata`, its last event; a missing `messageStop` is an error.

Usage: Bedrock's `inputTokens` leaves cache reads and writes out (in the recordings
`totalTokens` = `inputTokens` + `outputTokens` + `cacheReadInputTokens` +
`cacheWriteInputTokens`), so the shared `Usage.input_tokens` adds them.
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson
import pydantic_core

from addon.providers.base import JSON, Accumulator, Provider, Route, Sample, Summary, Usage
from addon.providers.bedrock_request import read_converse
from addon.providers.bedrock_shapes import _text_or_none, converse_parts, converse_usage
from addon.wire import Event
from addon.wire.eventstream import EventStreamDecoder

_loads = orjson.loads
_exact = pydantic_core.from_json

_NO_BLOCK = object()
START_KINDS = frozenset({"toolUse", "toolResult", "image"})
_TOP_LEVEL_ORDER = (
    "stopReason",
    "usage",
    "metrics",
    "additionalModelResponseFields",
    "trace",
    "performanceConfig",
    "serviceTier",
)


class _Block:
    """One content block being built, and its fragments not yet joined."""

    __slots__ = (
        "citations",
        "error",
        "index",
        "items",
        "kind",
        "parts",
        "redacted",
        "signature",
        "source",
        "source_bytes",
        "start",
        "stopped",
    )

    def __init__(self, index: Any, kind: str | None, start: Any = None) -> None:
        self.index = index
        self.kind = kind
        """"text", "toolUse", "reasoningContent", "toolResult", "image", or a new start kind."""
        self.start: Any = start
        self.parts: list[str] = []  # text, tool input or reasoning text fragments
        self.signature: list[str] = []
        self.redacted: list[str] = []
        self.citations: list[Any] = []
        self.items: list[Any] = []
        self.source: Any = None
        self.source_bytes: list[str] = []
        self.error: Any = None
        self.stopped = False

    def build(self) -> tuple[JSON, str | None]:
        """The block as the non-streamed response has it, and what went wrong, if anything."""
        kind = self.kind
        if kind == "text":
            text = "".join(self.parts)
            if self.citations:
                content = [{"text": text}] if self.parts else []
                return {"citationsContent": {"content": content, "citations": self.citations}}, None
            return {"text": text}, None
        if kind == "toolUse":
            tool = dict(self.start) if isinstance(self.start, dict) else {}
            tool["input"], problem = _parse_input("".join(self.parts))
            return {"toolUse": tool}, problem
        if kind == "reasoningContent":
            reasoning: JSON = {}
            if self.parts or self.signature or not self.redacted:
                thought: JSON = {"text": "".join(self.parts)}
                if self.signature:
                    thought["signature"] = "".join(self.signature)
                reasoning["reasoningText"] = thought
            problem = None
            if self.redacted:
                reasoning["redactedContent"], problem = _join_base64(self.redacted)
            return {"reasoningContent": reasoning}, problem
        if kind == "toolResult":
            result = dict(self.start) if isinstance(self.start, dict) else {}
            result["content"] = list(self.items)
            return {"toolResult": result}, None
        if kind == "image":
            image = dict(self.start) if isinstance(self.start, dict) else {}
            problem = None
            source = self.source
            if self.source_bytes:
                source = dict(source) if isinstance(source, dict) else {}
                source["bytes"], problem = _join_base64(self.source_bytes)
            if source is not None:
                image["source"] = source
            if self.error is not None:
                image["error"] = self.error
            return {"image": image}, problem
        return {str(kind): self.start}, None


class BedrockConverse(Accumulator):
    """Rebuilds the Converse response from a ConverseStream (`/model/{id}/converse-stream`)."""

    provider = "bedrock-converse"

    def __init__(self) -> None:
        super().__init__()
        self._message: JSON | None = None  # messageStart's fields (role)
        self._blocks: dict[Any, _Block] = {}
        self._order: list[_Block] = []
        self._top: JSON = {}  # messageStop and metadata fields
        self._stopped = False
        self._events = 0

    # Folding --------------------------------------------------------------------------------

    def feed_all(self, events: list[Event]) -> None:
        """`_feed`'s fast path inline: one more text fragment of an open text block costs no
        call; any other event, or a delta that is not that, goes through `_feed` from scratch.

        The block a fragment was last added to is remembered until the next `_feed` call
        (nothing else changes blocks), so a run of fragments for it skips the block checks.
        """
        blocks = self._blocks
        loads = _loads
        feed = self._feed
        fast = 0  # deltas taken here, not yet counted in `_events`
        last: Any = _NO_BLOCK  # the index of the block `add` appends to
        add = None
        for event in events:
            if event[0] == "contentBlockDelta":
                try:
                    data = loads(event[1])
                    index = data["contentBlockIndex"]
                    text = data["delta"]["text"]
                    if type(text) is str:
                        if index == last and add is not None:
                            add(text)
                            fast += 1
                            continue
                        block = blocks[index]
                        if block.kind == "text" and not block.stopped:
                            add = block.parts.append
                            last = index
                            add(text)
                            fast += 1
                            continue
                except Exception:  # `_feed` reads it again and says what is wrong
                    pass
            self._events += fast
            fast = 0
            last = _NO_BLOCK
            try:
                feed(event)
            except Exception as exc:  # as in `Accumulator.feed_all`
                self._not_applied(event, exc)
        self._events += fast

    def _feed(self, event: Event) -> None:
        self._events += 1
        name = event.event
        if name == "contentBlockDelta":
            data = _loads(event.data)
            try:  # fast path: one more fragment of an open text block
                block = self._blocks[data["contentBlockIndex"]]
                text = data["delta"]["text"]
                if block.kind == "text" and not block.stopped and type(text) is str:
                    block.parts.append(text)
                    return
            except (KeyError, TypeError):
                pass
            delta = data.get("delta") if isinstance(data, dict) else None
            if isinstance(delta, dict) and not delta.keys() <= {"text", "toolUse"}:
                data = _exact(event.data)  # citations, results, images: keep numbers exact
            self.apply(name, data)
        elif name in _EVENTS:
            self.apply(name, _exact(event.data))
        else:
            self._keep(name, event.data)

    def apply(self, name: str, data: Any) -> None:
        """Fold one parsed event (also used for Converse-shaped events inside other streams)."""
        if not isinstance(data, dict):
            self._reject(name, data, "event is not a JSON object")
            return
        data.pop("p", None)
        if name == "contentBlockDelta":
            self._on_delta(name, data)
        elif name == "contentBlockStart":
            self._on_start(name, data)
        elif name == "contentBlockStop":
            self._on_stop(name, data)
        elif name == "messageStart":
            if self._message is not None:
                self._reject(name, data, "a second messageStart was ignored")
            else:
                self._message = data
        elif name == "messageStop":
            if self._stopped:
                self.errors.append(f"{self._where(name)}: a second messageStop")
            self._stopped = True
            self._top.update(data)
        elif name == "metadata":
            if not self._stopped:
                self.errors.append(f"{self._where(name)}: metadata arrived before messageStop")
            self._top.update(data)
            self.done = True
        else:
            self.unknown.append({"event": name, "data": data})

    def _keep(self, name: str, raw: str) -> None:
        """An event this fold does not know (exceptions included), kept as it came."""
        try:
            data: Any = _exact(raw)
        except ValueError:
            data = raw
        self.unknown.append({"event": name, "data": data})

    def _where(self, name: str) -> str:
        return f"{name} #{self._events}"

    def _reject(self, name: str, data: Any, why: str) -> None:
        self.errors.append(f"{self._where(name)}: {why}; kept in unknown events")
        self.unknown.append({"event": name, "data": data})

    def _index(self, name: str, data: JSON) -> int | None:
        index = data.get("contentBlockIndex")
        if type(index) is not int:
            self._reject(name, data, f"contentBlockIndex {index!r} is not an integer")
            return None
        return index

    def _open(self, index: int, kind: str | None, start: Any = None) -> _Block:
        block = _Block(index, kind, start)
        self._blocks[index] = block
        self._order.append(block)
        return block

    def _on_start(self, name: str, data: JSON) -> None:
        index = self._index(name, data)
        if index is None:
            return
        if index in self._blocks:
            self._reject(name, data, f"block {index} was already started")
            return
        start = data.get("start")
        if not isinstance(start, dict) or len(start) != 1:
            self._reject(name, data, "start is not an object with one kind of block")
            return
        ((kind, value),) = start.items()
        self._open(index, kind, value)
        if kind not in START_KINDS:
            self.errors.append(f"{self._where(name)}: unknown block kind {kind!r}, kept as sent")

    def _on_stop(self, name: str, data: JSON) -> None:
        index = self._index(name, data)
        block = self._blocks.get(index) if index is not None else None
        if block is None:
            return  # a block that got neither start nor delta: nothing to show
        if block.stopped:
            self._reject(name, data, f"block {index} was already stopped")
        block.stopped = True

    def _on_delta(self, name: str, data: JSON) -> None:
        index = self._index(name, data)
        if index is None:
            return
        block = self._blocks.get(index)
        delta = data.get("delta")
        if not isinstance(delta, dict) or len(delta) != 1:
            self._reject(name, data, "delta is not an object with one kind of fragment")
            return
        ((kind, value),) = delta.items()
        wanted = _DELTA_KINDS.get(kind)
        if wanted is None:
            self._reject(name, data, f"unknown delta kind {kind!r}, not applied")
            return
        if block is None:
            if wanted == "toolUse":
                self.errors.append(
                    f"{self._where(name)}: toolUse input for block {index} "
                    "which never got its contentBlockStart (no id or name)"
                )
            block = self._open(index, wanted)
        elif block.kind != wanted:
            self._reject(name, data, f"{kind!r} delta does not fit block {index} ({block.kind})")
            return
        if block.stopped:
            self.errors.append(f"{self._where(name)}: delta for block {index} after its stop")
        problem = _DELTA_APPLY[kind](block, value)
        if problem:
            self._reject(name, data, f"{kind!r} delta for block {index}: {problem}")
            return
        if kind != "citation":
            self.content_started = True

    # Results --------------------------------------------------------------------------------

    def result(self) -> JSON | None:
        if self._message is None and not self._order and not self._top:
            return None
        message = dict(self._message) if self._message is not None else {}
        message["content"] = [block.build()[0] for block in self._order]
        response: JSON = {"output": {"message": message}}
        top = self._top
        for key in _TOP_LEVEL_ORDER:
            if key in top:
                response[key] = top[key]
        for key, value in top.items():
            response.setdefault(key, value)
        return response

    def finish(self) -> None:
        for block in self._order:
            _, problem = block.build()
            if problem:
                self.errors.append(f"block {block.index} ({block.kind}): {problem}")
            if not block.stopped:
                self.errors.append(
                    f"end of stream: block {block.index} ({block.kind}) "
                    "never got its contentBlockStop"
                )
        if self._events and self._message is None:
            self.errors.append("end of stream: no messageStart arrived")
        if self.done and not self._stopped:
            self.errors.append("end of stream: no messageStop arrived")
        if not self.done:
            self.errors.append("stream ended before its metadata event")

    @staticmethod
    def summarize(response: JSON) -> Summary:
        if not isinstance(response, dict):
            return Summary()
        usage = response.get("usage")
        summary = Summary(
            stop_reason=_text_or_none(response.get("stopReason")),
            usage=dict(usage) if isinstance(usage, dict) else {},
        )
        summary.parts.extend(converse_parts(response))
        return summary

    @staticmethod
    def usage(response: JSON) -> Usage:
        usage = response.get("usage") if isinstance(response, dict) else None
        return converse_usage(usage)

    read_request = staticmethod(read_converse)


# Delta kinds ----------------------------------------------------------------------------------


def _add_text(block: _Block, value: Any) -> str | None:
    if not isinstance(value, str):
        return "text is not a string"
    block.parts.append(value)
    return None


def _add_tool_input(block: _Block, value: Any) -> str | None:
    fragment = value.get("input") if isinstance(value, dict) else None
    if not isinstance(fragment, str):
        return "no input text"
    block.parts.append(fragment)
    return None


def _add_reasoning(block: _Block, value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return "not an object"
    fields = {"text": block.parts, "signature": block.signature, "redactedContent": block.redacted}
    if not value.keys() <= fields.keys():
        return f"unknown fields {sorted(set(value) - set(fields))}"
    if not all(isinstance(v, str) for v in value.values()):
        return "fields are not strings"
    for key, fragment in value.items():
        fields[key].append(fragment)
    return None


def _add_citation(block: _Block, value: Any) -> str | None:
    block.citations.append(value)
    return None


def _add_tool_result(block: _Block, value: Any) -> str | None:
    if not isinstance(value, list):
        return "not a list of result items"
    block.items.extend(value)
    return None


def _add_image(block: _Block, value: Any) -> str | None:
    if not isinstance(value, dict):
        return "not an object"
    source = value.get("source")
    if isinstance(source, dict) and isinstance(source.get("bytes"), str):
        block.source_bytes.append(source["bytes"])
        source = {k: v for k, v in source.items() if k != "bytes"}
        if not source:
            source = None
    if source is not None:
        block.source = source
    if value.get("error") is not None:
        block.error = value["error"]
    return None


_DELTA_KINDS = {
    "text": "text",
    "citation": "text",
    "toolUse": "toolUse",
    "reasoningContent": "reasoningContent",
    "toolResult": "toolResult",
    "image": "image",
}
_DELTA_APPLY = {
    "text": _add_text,
    "citation": _add_citation,
    "toolUse": _add_tool_input,
    "reasoningContent": _add_reasoning,
    "toolResult": _add_tool_result,
    "image": _add_image,
}
_EVENTS = frozenset(
    {"messageStart", "contentBlockStart", "contentBlockStop", "messageStop", "metadata"}
)


def _parse_input(text: str) -> tuple[Any, str | None]:
    """Tool input from its joined JSON text, and what was wrong with it."""
    if not text:
        return {}, None
    try:
        return _exact(text), None
    except ValueError:
        pass
    try:
        partial = _exact(text, allow_partial=True)
        return partial, f"input JSON is incomplete; input keeps what is complete; raw: {text}"
    except ValueError as exc:
        return text, f"input JSON does not parse ({exc}); input keeps the raw text"


def _join_base64(fragments: list[str]) -> tuple[str, str | None]:
    """One base64 text for fragments that were each encoded on their own."""
    if len(fragments) == 1:
        return fragments[0], None
    try:
        joined = b"".join(binascii.a2b_base64(f, strict_mode=True) for f in fragments)
    except (binascii.Error, ValueError) as exc:
        return "".join(fragments), f"base64 fragments do not decode ({exc}); joined as text"
    return binascii.b2a_base64(joined, newline=False).decode("ascii"), None


_MODEL_PATH = r"/model/[^/]+"

CONVERSE_PROVIDER = Provider(
    id=BedrockConverse.provider,
    title="Amazon Bedrock Converse",
    accumulator=BedrockConverse,
    routes=(
        Route("bedrock-runtime.*.amazonaws.com", _MODEL_PATH + r"/converse(-stream)?$"),
        Route("bedrock-runtime-fips.*.amazonaws.com", _MODEL_PATH + r"/converse(-stream)?$"),
        Route("*.bedrock-runtime.*.vpce.amazonaws.com", _MODEL_PATH + r"/converse(-stream)?$"),
        Route("*", _MODEL_PATH + r"/converse(-stream)?$"),
    ),
    framing=EventStreamDecoder,
    stream_types=("application/vnd.amazon.eventstream",),
    samples=(
        Sample(
            host="bedrock-runtime.us-east-1.amazonaws.com",
            path="/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse-stream",
            request={
                "messages": [
                    {"role": "user", "content": [{"text": "Explain distributed tracing simply"}]}
                ],
                "inferenceConfig": {"maxTokens": 1000},
            },
            answer="bedrock/converse/ddtrace__bedrock_converse_stream__0.eventstream",
            content_type="application/vnd.amazon.eventstream",
            headers=(("authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/fake"),),
        ),
    ),
)
PROVIDER = CONVERSE_PROVIDER
