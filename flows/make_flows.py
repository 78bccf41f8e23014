"""Build the sample captures in flows/ from the recorded streams in tests/corpus/.

    uv run python flows/make_flows.py

Each stream becomes one HTTP flow as mitmproxy would have saved it: a POST to the API's official
host with a JSON request and fake credentials (so the redaction can be seen working), and the
recorded SSE body as the response. A plain JSON answer, an HTTP 429 and a non-LLM flow are added
so every path of the addon shows up. The output is deterministic: same corpus, same files.
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

from mitmproxy import connection, http, io
from mitmproxy.proxy.mode_specs import ProxyMode

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
OUT = ROOT / "flows"

FAKE_ANTHROPIC_KEY = "sk-ant-api03-FAKE-flows-key-0000000000"
FAKE_OPENAI_KEY = "sk-proj-FAKE-flows-key-1111111111"

ENDPOINTS = {
    "anthropic-messages": ("api.anthropic.com", "/v1/messages"),
    "openai-chat": ("api.openai.com", "/v1/chat/completions"),
    "openai-responses": ("api.openai.com", "/v1/responses"),
}

STREAMS = {
    "anthropic-messages": [
        "ccproxy/claude_messages.sse",
        "ccproxy/claude_messages_tools.sse",
        "sdk/anthropic/tool_use_response.sse",
        "sdk/anthropic/stream-a-refusal.sse",
        "sdk/anthropic/stream-a-toolrefusal.sse",
        "sdk/anthropic/incomplete_partial_json_response.sse",
    ],
    "openai-chat": [
        "ccproxy/copilot_chat_completions.sse",
        "ccproxy/copilot_chat_completions_tools.sse",
        "sdk/openai-chat/test_parse_pydantic_model_multiple_choices.a491adda08c3.sse",
        "sdk/openai-chat/test_content_logprobs_events.83b060bae42e.sse",
        "sdk/openai-chat/test_parse_max_tokens_reached.4cc50a6135d2.sse",
    ],
    "openai-responses": [
        "ccproxy/codex_responses.sse",
        "ccproxy/codex_responses_tools.sse",
        "ccproxy/codex_responses_thinking.sse",
        "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
        "sdk/openai-responses/dotnet.StreamingResponsesWithReasoningSummary.e0.sse",
    ],
}

T0 = 1764046800.0  # 2025-11-25 05:00 UTC; flows are one second apart


def request_body(provider: str, stream_file: Path) -> dict:
    """The recorded request where ccproxy kept it, else a small one of the right shape."""
    sidecar = stream_file.with_suffix(".json")
    if sidecar.exists():
        return json.loads(sidecar.read_text())["request"]
    if provider == "openai-responses":
        return {"model": "gpt-4o-mini", "input": "Hello", "stream": True}
    body: dict = {"model": "model", "messages": [{"role": "user", "content": "Hello"}]}
    if provider == "anthropic-messages":
        body["max_tokens"] = 1024
    body["stream"] = True
    return body


def credentials(provider: str) -> list[tuple[bytes, bytes]]:
    if provider == "anthropic-messages":
        return [(b"x-api-key", FAKE_ANTHROPIC_KEY.encode()), (b"anthropic-version", b"2023-06-01")]
    return [(b"authorization", f"Bearer {FAKE_OPENAI_KEY}".encode())]


def make_flow(
    n: int,
    host: str,
    path: str,
    body: dict | None,
    headers: list[tuple[bytes, bytes]],
    status: int,
    content_type: str,
    content: bytes,
) -> http.HTTPFlow:
    start = T0 + n
    client = connection.Client(
        id=str(uuid.UUID(int=1000 + n)),
        peername=("127.0.0.1", 50000 + n),
        sockname=("127.0.0.1", 8080),
        timestamp_start=start,
        proxy_mode=ProxyMode.parse("regular"),
    )
    server = connection.Server(
        id=str(uuid.UUID(int=2000 + n)), address=(host, 443), timestamp_start=start
    )
    flow = http.HTTPFlow(client, server)
    flow.id = str(uuid.UUID(int=n + 1))
    flow.timestamp_created = start
    raw_request = json.dumps(body).encode() if body is not None else b""
    flow.request = http.Request(
        host,
        443,
        b"POST" if body is not None else b"GET",
        b"https",
        host.encode(),
        path.encode(),
        b"HTTP/1.1",
        http.Headers([(b"host", host.encode()), (b"content-type", b"application/json"), *headers]),
        raw_request,
        None,
        start,
        start + 0.01,
    )
    flow.response = http.Response(
        b"HTTP/1.1",
        status,
        http.status_codes.RESPONSES.get(status, "").encode(),
        http.Headers([(b"content-type", content_type.encode())]),
        content,
        None,
        start + 0.4,
        start + 0.9,
    )
    return flow


def build() -> dict[str, list[http.HTTPFlow]]:
    captures: dict[str, list[http.HTTPFlow]] = {}
    n = 0
    for provider, files in STREAMS.items():
        host, path = ENDPOINTS[provider]
        for name in files:
            stream = CORPUS / name
            flow = make_flow(
                n,
                host,
                path,
                request_body(provider, stream),
                credentials(provider),
                200,
                "text/event-stream; charset=utf-8",
                stream.read_bytes(),
            )
            captures.setdefault(provider, []).append(flow)
            n += 1
    plain = {
        "id": "msg_01PlainJsonAnswer",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "A plain, non-streamed answer."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 8},
    }
    host, path = ENDPOINTS["anthropic-messages"]
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    creds = credentials("anthropic-messages")
    captures["anthropic-messages"].append(
        make_flow(n, host, path, body, creds, 200, "application/json", json.dumps(plain).encode())
    )
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited."}}
    captures["anthropic-messages"].append(
        make_flow(
            n + 1, host, path, body, creds, 429, "application/json", json.dumps(error).encode()
        )
    )
    other = make_flow(n + 2, "example.com", "/", None, [], 200, "text/html", b"<p>not an LLM</p>")
    captures["other"] = [other]
    return captures


def write(path: Path, flows: list[http.HTTPFlow]) -> None:
    with path.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in flows:
            writer.add(flow)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default: flows/)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    captures = build()
    for provider in ENDPOINTS:
        write(out / f"{provider}.flow", captures[provider])
    everything = sorted(
        (f for flows in captures.values() for f in flows), key=lambda f: f.request.timestamp_start
    )
    write(out / "llm.flow", everything)
    print(f"wrote {len(everything)} flows to {out}")


if __name__ == "__main__":
    main()
