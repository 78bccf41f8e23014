"""Build the sample captures in flows/ from the recorded streams in tests/corpus/.

    uv run python flows/make_flows.py

Each sample of every provider in the registry (`Provider.samples`) becomes one HTTP flow as
mitmproxy would have saved it: a POST to the API's host with a JSON request and fake
credentials (so the redaction can be seen working), and the recorded body as the response.
A plain JSON answer, an HTTP 429 and a non-LLM flow are added so every path of the addon
shows up. The output is deterministic: same corpus, same files.
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

from mitmproxy import connection, http, io
from mitmproxy.proxy.mode_specs import ProxyMode

from addon.providers import PROVIDERS, REGISTRY, Sample

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
OUT = ROOT / "flows"

FAKE_ANTHROPIC_KEY = "sk-ant-api03-FAKE-flows-key-0000000000"
FAKE_OPENAI_KEY = "sk-proj-FAKE-flows-key-1111111111"

T0 = 1764046800.0  # 2025-11-25 05:00 UTC; flows are one second apart
EXTRA = 500
"""The added flows are numbered from here, so a provider's new samples never renumber them."""


def request_body(sample: Sample) -> dict:
    """The recorded request where the corpus kept it (ccproxy), else the sample's own."""
    sidecar = (CORPUS / sample.answer).with_suffix(".json")
    if sidecar.exists():
        return json.loads(sidecar.read_text())["request"]
    return sample.request


def encoded(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers]


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
    """One flow per sample of every registered provider, then the extra paths."""
    captures: dict[str, list[http.HTTPFlow]] = {}
    n = 0
    for provider in REGISTRY:
        for sample in provider.samples:
            content_type = sample.content_type
            if content_type == "text/event-stream":
                content_type += "; charset=utf-8"
            flow = make_flow(
                n,
                sample.host,
                sample.path,
                request_body(sample),
                encoded(sample.headers),
                200,
                content_type,
                (CORPUS / sample.answer).read_bytes(),
            )
            captures.setdefault(provider.id, []).append(flow)
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
    anthropic = PROVIDERS["anthropic-messages"].samples[0]
    host, path = anthropic.host, anthropic.path
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    creds = encoded(anthropic.headers)
    captures["anthropic-messages"].append(
        make_flow(
            EXTRA, host, path, body, creds, 200, "application/json", json.dumps(plain).encode()
        )
    )
    error = {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limited."}}
    captures["anthropic-messages"].append(
        make_flow(
            EXTRA + 1, host, path, body, creds, 429, "application/json", json.dumps(error).encode()
        )
    )
    other = make_flow(
        EXTRA + 2, "example.com", "/", None, [], 200, "text/html", b"<p>not an LLM</p>"
    )
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
    for provider in REGISTRY:
        if provider.id in captures:
            write(out / f"{provider.id}.flow", captures[provider.id])
    everything = sorted(
        (f for flows in captures.values() for f in flows), key=lambda f: f.request.timestamp_start
    )
    write(out / "llm.flow", everything)
    print(f"wrote {len(everything)} flows to {out}")


if __name__ == "__main__":
    main()
