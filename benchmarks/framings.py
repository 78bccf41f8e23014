"""The framings other than plain SSE: `rebuild_answer` against the bare cost of each one.

    uv run python -m benchmarks.framings            # 2k and 200k deltas (about 1-2 minutes)
    uv run python -m benchmarks.framings --quick    # 2k deltas only, fewer rounds

For each framing, a generated text answer of 2k and of 200k deltas (each delta a few
token-sized pieces, the envelope fields copied from the recordings under tests/corpus/) is
timed two ways, CPU time, best of interleaved rounds:

- `floor`: the least any reader of that framing must do: cut the body into its events and
  `orjson.loads` each one. Bedrock InvokeModel: event-stream frames split by their prelude
  lengths (no CRC check), the `{"bytes": ...}` payload loaded, its base64 decoded and the
  inner JSON loaded. ConverseStream: frames split, each payload loaded. Gemini SSE: split on
  the CRLF blank lines, each `data:` loaded. Gemini JSON array: the elements split on the
  separator the generated layout uses. Ollama NDJSON: `splitlines`, each line loaded.
  Responses over a WebSocket: each message `orjson.loads`ed, nothing else (mitmproxy hands
  messages over whole, so there is nothing to cut).
- `rebuild`: `addon.record.rebuild_answer(provider, body, content_type, "", 200, path)` with
  the provider's streamed content type and path (so its `framing_for` picks the framing).
  WebSocket: what the addon does per message of a socket (`addon/proxy/websocket.py`): every
  message, as bytes, to one `ResponsesSocket.message`, then `close`; the records it gives.
  The socket is the first one of `flows/codex.flow` (its `response.create`s, prewarm and
  `codex.rate_limits` messages) with the answer's events replaced by the generated Responses
  text stream of `benchmarks/streams.py`, one event per message.

Every stream is rebuilt once before timing: the record must be complete and its text equal to
the generated text (a socket: every record complete, every message accounted for). Raw numbers
go to benchmarks/.cache/framings.json; see docs/benchmarks.md, "Other framings", for the latest
results.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from addon.record import Record, rebuild_answer
from addon.record.responses_socket import ResponsesSocket
from addon.wire.sse import SSEDecoder
from benchmarks.run import CACHE, Timing, machine_info, time_once
from benchmarks.streams import _pieces, responses_stream
from tests.bedrock_streams import event_frame

SMALL, BIG = 2_000, 200_000
JSON = dict[str, Any]
Body = tuple[Any, str]
"""A generated body (bytes; a socket's messages: a list of bytes) and the text it carries."""
CODEX_FLOWS = Path(__file__).resolve().parent.parent / "flows" / "codex.flow"

_PAD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _deltas(rng: random.Random, count: int) -> list[str]:
    """`count` text deltas of one to four token-sized pieces (a few words each)."""
    return ["".join(_pieces(rng, rng.randint(1, 4))) for _ in range(count)]


def _pad(rng: random.Random) -> str:
    """Bedrock's `p` field: a random-length prefix of the alphabet (hides payload sizes)."""
    return _PAD[: rng.randint(1, len(_PAD))]


# --- generated bodies ----------------------------------------------------------------------


def bedrock_invoke_body(count: int, seed: int = 21) -> Body:
    """InvokeModelWithResponseStream, Claude Messages: `chunk` frames of base64 JSON."""
    rng = random.Random(seed)
    texts = _deltas(rng, count)
    inners: list[JSON] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_bdrk_01UgUptJTW7LFg8dn1kcyjpz",
                "type": "message",
                "role": "assistant",
                "model": "claude-3-5-sonnet-20240620",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 702, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in texts
        ),
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": count},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": 702,
                "outputTokenCount": count,
                "invocationLatency": 3042,
                "firstByteLatency": 791,
            },
        },
    ]
    frames = [
        event_frame(
            "chunk",
            {"bytes": base64.b64encode(orjson.dumps(inner)).decode(), "p": _pad(rng)},
        )
        for inner in inners
    ]
    return b"".join(frames), "".join(texts)


def bedrock_converse_body(count: int, seed: int = 22) -> Body:
    """ConverseStream: one frame per event, JSON payloads with `p` padding, keys sorted."""
    rng = random.Random(seed)
    texts = _deltas(rng, count)
    events: list[tuple[str, JSON]] = [
        ("messageStart", {"p": _pad(rng), "role": "assistant"}),
        *(
            (
                "contentBlockDelta",
                {"contentBlockIndex": 0, "delta": {"text": t}, "p": _pad(rng)},
            )
            for t in texts
        ),
        ("contentBlockStop", {"contentBlockIndex": 0, "p": _pad(rng)}),
        ("messageStop", {"p": _pad(rng), "stopReason": "end_turn"}),
        (
            "metadata",
            {
                "metrics": {"latencyMs": 2368},
                "p": _pad(rng),
                "usage": {"inputTokens": 18, "outputTokens": count, "totalTokens": 18 + count},
            },
        ),
    ]
    return b"".join(event_frame(name, payload) for name, payload in events), "".join(texts)


def _gemini_chunks(count: int, seed: int) -> tuple[list[JSON], str]:
    rng = random.Random(seed)
    texts = _deltas(rng, count)
    details = [{"modality": "TEXT", "tokenCount": 10}]
    chunks: list[JSON] = []
    for number, text in enumerate(texts):
        candidate: JSON = {"content": {"parts": [{"text": text}], "role": "model"}}
        usage: JSON = {"promptTokenCount": 10, "totalTokenCount": 10}
        if number == count - 1:
            candidate["finishReason"] = "STOP"
            usage = {
                "promptTokenCount": 10,
                "candidatesTokenCount": count,
                "totalTokenCount": 10 + count,
                "promptTokensDetails": details,
                "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": count}],
            }
        else:
            usage["promptTokensDetails"] = details
        usage["serviceTier"] = "standard"
        chunks.append(
            {
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": "gemini-2.0-flash",
                "responseId": "jNcEavSuHfWA7_UP9-uokQs",
            }
        )
    return chunks, "".join(texts)


def gemini_sse_body(count: int, seed: int = 23) -> Body:
    """`?alt=sse`: `data: ` lines ended by CRLF pairs, JSON spaced as Google spaces it."""
    chunks, text = _gemini_chunks(count, seed)
    lines = (
        "data: " + json.dumps(c, ensure_ascii=False, separators=(",", ": ")) + "\r\n\r\n"
        for c in chunks
    )
    return "".join(lines).encode(), text


ARRAY_SEPARATOR = b"\n,\r\n"


def gemini_array_body(count: int, seed: int = 24) -> Body:
    """Without `alt=sse`: one JSON array of pretty-printed elements (tests/gemini_streams.py)."""
    chunks, text = _gemini_chunks(count, seed)
    items = [json.dumps(c, indent=2, ensure_ascii=False) for c in chunks]
    return ("[" + ARRAY_SEPARATOR.decode().join(items) + "\n]").encode(), text


def _created_at(rng: random.Random, count: int, start: float) -> list[str]:
    stamps = []
    now = start
    for _ in range(count):
        now += rng.uniform(0.008, 0.04)
        whole = int(now)
        stamps.append(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
        stamps[-1] += f".{int((now - whole) * 1e6):06d}Z"
    return stamps


_STATS: JSON = {
    "total_duration": 8625649709,
    "load_duration": 142828459,
    "prompt_eval_count": 21,
    "prompt_eval_duration": 59321000,
    "eval_duration": 8419494000,
}


def ollama_chat_body(count: int, seed: int = 25) -> Body:
    """`/api/chat`: one compact JSON object per line, the last with `done` and the stats."""
    rng = random.Random(seed)
    texts = _deltas(rng, count)
    stamps = _created_at(rng, count + 1, 1_786_083_000.0)
    lines: list[JSON] = [
        {
            "model": "qwen3.6:latest",
            "created_at": stamp,
            "message": {"role": "assistant", "content": text},
            "done": False,
        }
        for stamp, text in zip(stamps, texts, strict=False)
    ]
    lines.append(
        {
            "model": "qwen3.6:latest",
            "created_at": stamps[-1],
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            **_STATS,
            "eval_count": count,
        }
    )
    return b"".join(orjson.dumps(line) + b"\n" for line in lines), "".join(texts)


def ollama_generate_body(count: int, seed: int = 26) -> Body:
    """`/api/generate`: `response` fragments, the last line with `context` and the stats."""
    rng = random.Random(seed)
    texts = _deltas(rng, count)
    stamps = _created_at(rng, count + 1, 1_747_646_819.0)
    lines: list[JSON] = [
        {"model": "gemma3:1b", "created_at": stamp, "response": text, "done": False}
        for stamp, text in zip(stamps, texts, strict=False)
    ]
    context = [rng.randint(100, 260_000) for _ in range(64)]
    lines.append(
        {
            "model": "gemma3:1b",
            "created_at": stamps[-1],
            "response": "",
            "done": True,
            "done_reason": "stop",
            "context": context,
            **_STATS,
            "eval_count": count,
        }
    )
    return b"".join(orjson.dumps(line) + b"\n" for line in lines), "".join(texts)


def codex_envelope() -> list[tuple[bool, bytes]]:
    """The first socket of flows/codex.flow up to its answer: (from_client, content) of its
    prewarm create and answer, its second create and the `codex.rate_limits` before the answer."""
    from mitmproxy import io

    with CODEX_FLOWS.open("rb") as file:
        flow = next(f for f in io.FlowReader(file).stream() if getattr(f, "websocket", None))
    out: list[tuple[bool, bytes]] = []
    creates = 0
    for message in flow.websocket.messages:
        creates += message.from_client
        if creates == 2 and b'"response.created"' in message.content[:40]:
            break  # the answer itself starts here
        out.append((message.from_client, message.content))
    if creates != 2 or out[-1][0] or b"codex.rate_limits" not in out[-1][1]:
        raise RuntimeError(f"{CODEX_FLOWS}: not the Codex socket this benchmark expects")
    return out


def websocket_body(count: int) -> Body:
    """A Codex socket whose answer is the generated Responses text stream, one event per
    message; the text is the answer's deltas, joined."""
    sse, _ = responses_stream("text", count)
    decoder = SSEDecoder()
    events = [e.data.encode() for e in decoder.feed(sse) + decoder.close()]
    texts = []
    for event in events:
        data = orjson.loads(event)
        if data["type"] == "response.output_text.delta":
            texts.append(data["delta"])
    messages = [content for _, content in codex_envelope()] + events
    return messages, "".join(texts)


def from_client(body: Any) -> list[bool]:
    """Each message's side: the client sends the creates, the server everything else."""
    if isinstance(body, bytes):
        return []
    return [m.startswith(b'{"type":"response.create"') for m in body]


# --- floors --------------------------------------------------------------------------------


def _frame_payloads(body: bytes) -> list[bytes]:
    """Payloads of the event-stream frames, by the prelude's two lengths (no CRC checked)."""
    unpack = struct.Struct(">II").unpack_from
    out = []
    at, end = 0, len(body)
    while at < end:
        total, headers = unpack(body, at)
        out.append(body[at + 12 + headers : at + total - 4])
        at += total
    return out


def floor_invoke(body: bytes) -> None:
    loads, b64 = orjson.loads, base64.b64decode
    for payload in _frame_payloads(body):
        loads(b64(loads(payload)["bytes"]))


def floor_converse(body: bytes) -> None:
    loads = orjson.loads
    for payload in _frame_payloads(body):
        loads(payload)


def floor_gemini_sse(body: bytes) -> None:
    loads = orjson.loads
    for event in body.split(b"\r\n\r\n"):
        if event:
            loads(event[6:])  # after `data: `


def floor_json_array(body: bytes) -> None:
    loads = orjson.loads
    for element in body[1:-2].split(ARRAY_SEPARATOR):  # inside `[` ... `\n]`
        loads(element)


def floor_ndjson(body: bytes) -> None:
    loads = orjson.loads
    for line in body.splitlines():
        loads(line)


def floor_messages(messages: list[bytes]) -> None:
    loads = orjson.loads
    for message in messages:
        loads(message)


# --- the text a record carries ---------------------------------------------------------------


def _anthropic_text(response: JSON) -> str:
    return "".join(b.get("text", "") for b in response["content"])


def _converse_text(response: JSON) -> str:
    return "".join(b.get("text", "") for b in response["output"]["message"]["content"])


def _gemini_text(response: JSON) -> str:
    parts = response["candidates"][0]["content"]["parts"]
    return "".join(p.get("text", "") for p in parts)


@dataclass(frozen=True)
class Framing:
    name: str
    provider: str
    content_type: str
    path: str
    build: Callable[[int], Body]
    floor: Callable[[Any], None]
    text: Callable[[JSON], str]
    count_events: Callable[[Any], int]
    socket: bool = False
    """WebSocket messages (a list of bytes) instead of an HTTP body."""

    def rebuild(self, body: Any, from_client: list[bool]) -> list[Record]:
        """What the addon does with the body: one record, or a socket's, one per response
        (`from_client`: each message's side)."""
        if not self.socket:
            return [rebuild_answer(self.provider, body, self.content_type, "", 200, self.path)]
        socket = ResponsesSocket(0.0, self.provider)
        message = socket.message
        finished = []
        at = 0.0
        for side, content in zip(from_client, body, strict=True):
            at += 0.001
            finished += message(side, content, at)
        finished += socket.close(at)
        return [f.record for f in finished]


def _count_frames(body: bytes) -> int:
    return len(_frame_payloads(body))


def _responses_text(response: JSON) -> str:
    return "".join(
        part.get("text", "")
        for item in response["output"]
        if item.get("type") == "message"
        for part in item["content"]
    )


FRAMINGS = (
    Framing(
        "bedrock-invoke",
        "bedrock-invoke",
        "application/vnd.amazon.eventstream",
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke-with-response-stream",
        bedrock_invoke_body,
        floor_invoke,
        _anthropic_text,
        _count_frames,
    ),
    Framing(
        "bedrock-converse",
        "bedrock-converse",
        "application/vnd.amazon.eventstream",
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        bedrock_converse_body,
        floor_converse,
        _converse_text,
        _count_frames,
    ),
    Framing(
        "gemini SSE",
        "gemini",
        "text/event-stream",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
        gemini_sse_body,
        floor_gemini_sse,
        _gemini_text,
        lambda body: body.count(b"\r\n\r\n"),
    ),
    Framing(
        "gemini JSON array",
        "gemini",
        "application/json; charset=UTF-8",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        gemini_array_body,
        floor_json_array,
        _gemini_text,
        lambda body: body.count(ARRAY_SEPARATOR) + 1,
    ),
    Framing(
        "ollama-chat",
        "ollama-chat",
        "application/x-ndjson",
        "/api/chat",
        ollama_chat_body,
        floor_ndjson,
        lambda response: response["message"]["content"],
        lambda body: body.count(b"\n"),
    ),
    Framing(
        "ollama-generate",
        "ollama-generate",
        "application/x-ndjson",
        "/api/generate",
        ollama_generate_body,
        floor_ndjson,
        lambda response: response["response"],
        lambda body: body.count(b"\n"),
    ),
    Framing(
        "responses WebSocket",
        "openai-responses",
        "",
        "/v1/responses",
        websocket_body,
        floor_messages,
        _responses_text,
        len,
        socket=True,
    ),
)


# --- streams, checks, timing ---------------------------------------------------------------


@dataclass
class Stream:
    framing: Framing
    deltas: int
    body: bytes
    text: str
    events: int
    timings: dict[str, Timing] = field(default_factory=dict)
    check: str = ""
    sides: list[bool] = field(default_factory=list)
    """A socket's messages: which the client sent."""

    def __post_init__(self) -> None:
        self.sides = from_client(self.body)

    @property
    def name(self) -> str:
        return f"{self.framing.name} {self.deltas // 1000}k"

    @property
    def size(self) -> int:
        body = self.body
        return len(body) if isinstance(body, bytes) else sum(len(m) for m in body)

    def rebuild(self) -> list[Record]:
        return self.framing.rebuild(self.body, self.sides)

    def contender(self, name: str) -> Callable[[], None]:
        body = self.body
        if name == "floor":
            floor = self.framing.floor
            return lambda: floor(body)
        rebuild = self.rebuild

        def run() -> None:
            rebuild()

        return run


def check(stream: Stream) -> str:
    records = stream.rebuild()
    for record in records:
        if not record.complete:
            return "incomplete: " + "; ".join(record.errors[:2])
    record = records[-1]
    events = sum(r.events for r in records)
    if stream.framing.socket:  # each response's create, its events, what was kept beside it
        events += sum(1 + len(r.extras["websocket"]["messages"]) for r in records)
    if events != stream.events:
        return f"{events} events, expected {stream.events}"
    try:
        text = stream.framing.text(record.response)
    except (KeyError, IndexError, TypeError) as exc:
        return f"no text in the response: {exc!r}"
    return "ok" if text == stream.text else "TEXT DIFFERS"


def make_streams(sizes: tuple[int, ...], only: str = "") -> list[Stream]:
    out = []
    for framing in FRAMINGS:
        if only not in framing.name:
            continue
        for deltas in sizes:
            body, text = framing.build(deltas)
            stream = Stream(framing, deltas, body, text, framing.count_events(body))
            stream.check = check(stream)  # also the warm-up
            log(
                f"{stream.name}: {stream.size / 1e6:.2f} MB, {stream.events:,} events, "
                f"check {stream.check}"
            )
            out.append(stream)
    return out


@dataclass
class Plan:
    rounds: int = 9  # on 2k streams
    big_rounds: int = 3  # on 200k streams
    sizes: tuple[int, ...] = (SMALL, BIG)
    only: str = ""
    """Only the framings whose name contains this."""


CONTENDERS = ("floor", "rebuild")


def run_rounds(all_streams: list[Stream], plan: Plan) -> None:
    total = max(plan.rounds, plan.big_rounds)
    for r in range(total):
        started = time.perf_counter()
        shift = r % len(all_streams)
        for stream in all_streams[shift:] + all_streams[:shift]:
            if r >= (plan.big_rounds if stream.deltas >= BIG else plan.rounds):
                continue
            order = CONTENDERS if r % 2 == 0 else CONTENDERS[::-1]
            for name in order:
                timing = stream.timings.setdefault(name, Timing())
                seconds, error = time_once(stream.contender(name), None)
                if error:
                    timing.error = error
                elif seconds is not None:
                    timing.seconds.append(seconds)
        log(f"round {r + 1}/{total} done in {time.perf_counter() - started:.1f} s")


# --- report --------------------------------------------------------------------------------


def best(stream: Stream, name: str) -> float | None:
    timing = stream.timings.get(name)
    return timing.best if timing else None


def per_event(stream: Stream, name: str) -> float | None:
    b = best(stream, name)
    return b / stream.events if b is not None else None


def _f(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


def summary(all_streams: list[Stream]) -> list[JSON]:
    by_key = {(s.framing.name, s.deltas): s for s in all_streams}
    rows = []
    for s in all_streams:
        fb, rb = best(s, "floor"), best(s, "rebuild")
        mb = s.size / 1e6
        row: JSON = {
            "stream": s.name,
            "framing": s.framing.name,
            "provider": s.framing.provider,
            "content_type": s.framing.content_type,
            "path": s.framing.path,
            "deltas": s.deltas,
            "events": s.events,
            "bytes": s.size,
            "check": s.check,
            "floor_seconds": s.timings["floor"].seconds if "floor" in s.timings else [],
            "rebuild_seconds": s.timings["rebuild"].seconds if "rebuild" in s.timings else [],
            "floor_mb_s": mb / fb if fb else None,
            "rebuild_mb_s": mb / rb if rb else None,
            "floor_us_per_event": fb / s.events * 1e6 if fb else None,
            "rebuild_us_per_event": rb / s.events * 1e6 if rb else None,
            "rebuild_over_floor": rb / fb if rb and fb else None,
            "rebuild_linearity": None,
            "floor_linearity": None,
        }
        small = by_key.get((s.framing.name, SMALL))
        if s.deltas >= BIG and small is not None:
            for name in CONTENDERS:
                a, b = per_event(small, name), per_event(s, name)
                row[f"{name}_linearity"] = b / a if a and b else None
        rows.append(row)
    return rows


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}x {'met' if value <= limit else 'NOT met'}"


def table(rows: list[JSON]) -> list[str]:
    lines = [
        "| stream | MB | events | check | floor MB/s | rebuild MB/s | floor µs/event "
        "| rebuild µs/event | rebuild ÷ floor (≤ 1.5x) | per event 200k ÷ 2k (≤ 1.2x) "
        "| floor 200k ÷ 2k |",
        "|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['stream']} | {row['bytes'] / 1e6:.2f} | {row['events']:,} | {row['check']} "
            f"| {_f(row['floor_mb_s'], 0)} | {_f(row['rebuild_mb_s'], 0)} "
            f"| {_f(row['floor_us_per_event'], 2)} | {_f(row['rebuild_us_per_event'], 2)} "
            f"| {_verdict(row['rebuild_over_floor'], 1.5)} "
            f"| {_verdict(row['rebuild_linearity'], 1.2)} "
            f"| {_f(row['floor_linearity'], 2, 'x')} |"
        )
    return lines


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.framings",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="2k streams only, fewer rounds")
    parser.add_argument("--rounds", type=int, help="rounds on 2k streams (default 9)")
    parser.add_argument("--big-rounds", type=int, help="rounds on 200k streams (default 3)")
    parser.add_argument(
        "--only", default="", help="only the framings whose name contains this (e.g. WebSocket)"
    )
    args = parser.parse_args(argv)
    plan = Plan(rounds=5, sizes=(SMALL,)) if args.quick else Plan()
    plan.only = args.only
    if args.rounds:
        plan.rounds = args.rounds
    if args.big_rounds:
        plan.big_rounds = args.big_rounds
    return plan


def main(argv: list[str] | None = None) -> None:
    plan = parse_args(argv)
    started = time.perf_counter()
    info = machine_info()
    log(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
    log("generating streams ...")
    all_streams = make_streams(plan.sizes, plan.only)
    run_rounds(all_streams, plan)
    rows = summary(all_streams)
    info["load_at_end"] = os.getloadavg()
    info["seconds"] = round(time.perf_counter() - started, 1)
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['os']}; "
        f"Python {info['python']}; orjson {info['orjson']}. "
        f"Load average at start {info['load_at_start'][0]:.2f}, at end "
        f"{info['load_at_end'][0]:.2f}; run took {info['seconds']} s "
        f"(best of {plan.rounds} rounds on 2k streams, {plan.big_rounds} on 200k).",
        "",
        *table(rows),
    ]
    print("\n".join(lines))
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / "framings.json"
    plan_json = {"rounds": plan.rounds, "big_rounds": plan.big_rounds, "sizes": plan.sizes}
    out.write_text(json.dumps({"machine": info, "plan": plan_json, "streams": rows}, indent=1))
    log(f"raw numbers: {out}")


if __name__ == "__main__":
    main()
