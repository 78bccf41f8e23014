"""What real clients and real APIs send, in process: each test names the fault it guards."""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from pathlib import Path

import brotli
import pytest
from mitmproxy.test import tflow

from addon import rebuild
from addon.llm_rebuild import METADATA_KEY
from addon.record import Record
from addon.sinks.logline import summary_line
from addon.wire.encoding import zstd
from tests.conftest import STREAM, anthropic_sse, dumps_in, llm_flow, streaming_flow

PLAIN = {
    "id": "msg_plain",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
PLAIN_BODY = json.dumps(PLAIN).encode()
COMPRESSED = {
    "gzip": gzip.compress(PLAIN_BODY),
    "br": brotli.compress(PLAIN_BODY),
    "zstd": zstd.compress(PLAIN_BODY),
    "deflate": zlib.compress(PLAIN_BODY),
}
HUGE = 123456789012345678901234567890


@pytest.mark.parametrize("encoding", COMPRESSED)
def test_compressed_plain_json_answer_is_a_complete_json_record(addon_ctx, encoding):
    """Fault 1: SDKs ask for gzip/br/zstd/deflate and APIs compress plain JSON answers; the
    body was sniffed before it was decoded and recorded as a broken stream."""
    addon, _, _ = addon_ctx
    flow = llm_flow(
        COMPRESSED[encoding], "application/json", headers={"content-encoding": encoding}
    )
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is True, record["errors"]
    assert record["streamed"] is False
    assert record["response"] == PLAIN


def test_compressed_stream_without_a_stream_content_type_is_still_read_as_a_stream(addon_ctx):
    addon, _, _ = addon_ctx
    flow = llm_flow(gzip.compress(STREAM), "text/plain", headers={"content-encoding": "gzip"})
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["streamed"] is True and record["response"]["content"]
    assert "body is SSE but its content type is text/plain" in record["warnings"]


def test_content_encoding_that_lies_about_plain_json_is_read_as_it_is(addon_ctx):
    addon, _, _ = addon_ctx
    flow = llm_flow(PLAIN_BODY, "application/json", headers={"content-encoding": "gzip"})
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["response"] == PLAIN
    assert record["complete"] is False
    assert record["errors"][0].startswith("content-encoding 'gzip': body does not decode")


def test_integers_wider_than_64_bits_stay_exact_in_every_sink(addon_ctx):
    """Fault 2: `orjson.dumps` raised on them (no dump, no summary, a traceback) and plain JSON
    and request bodies turned them into floats."""
    addon, _, dumps = addon_ctx
    tool = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "tool_use", "id": "t", "name": "count", "input": {}},
    }
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "input_json_delta", "partial_json": json.dumps({"n": HUGE})},
    }
    start = {"type": "message_start", "message": {**PLAIN, "content": []}}
    body = anthropic_sse(start, tool, delta, {"type": "content_block_stop", "index": 0})
    body += anthropic_sse({"type": "message_stop"})
    streamed = llm_flow(body)
    streamed.request.content = json.dumps({"model": "m", "seed": HUGE}).encode()
    plain = llm_flow(
        json.dumps({**PLAIN, "content": [{"type": "text", "text": "x", "n": HUGE}]}).encode(),
        "application/json",
    )
    for flow in (streamed, plain):
        addon.response(flow)
    records = dumps_in(dumps)
    assert len(records) == 2
    by_id = {r["flow_id"]: r for r in records}
    assert by_id[streamed.id]["response"]["content"][0]["input"] == {"n": HUGE}
    assert by_id[streamed.id]["request"]["body"]["seed"] == HUGE
    assert by_id[plain.id]["response"]["content"][0]["n"] == HUGE
    assert streamed.metadata[METADATA_KEY]["response"]["content"][0]["input"]["n"] == HUGE


def test_stored_record_is_never_replaced_by_a_worse_one(addon_ctx):
    """Fault 4: a capture whose body was over `llm_max_body` kept its live record, and
    `mitmdump -nr` or `mitmweb -r` overwrote it with an empty, incomplete one."""
    addon, tctx, _ = addon_ctx
    tctx.configure(addon, llm_max_body="100")
    flow = streaming_flow(addon)
    flow.response.stream(STREAM)
    addon.response(flow)
    live = flow.metadata[METADATA_KEY]
    assert live["complete"] and flow.response.raw_content is None
    flow.live = False  # as `-nr` loads it
    addon.response(flow)
    assert flow.metadata[METADATA_KEY]["response"] == live["response"]
    assert flow.metadata[METADATA_KEY]["complete"] is True


def test_unwritable_dump_folder_is_a_warning_not_an_error(tmp_path, caplog):
    """Fault 5: an error logged while mitmproxy starts ends offline runs and mitmweb."""
    from mitmproxy.test import taddons

    from addon.llm_rebuild import LLMRebuild

    blocker = tmp_path / "file"
    blocker.write_text("x")
    addon = LLMRebuild()
    with taddons.context(addon) as tctx, caplog.at_level(logging.DEBUG):
        tctx.configure(addon, llm_dump_dir=str(blocker / "dumps"))
        addon.response(llm_flow())
        addon.response(llm_flow())
    assert [r.levelname for r in caplog.records if "cannot write dumps" in r.message] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_hang_up_after_done_is_one_answer_for_hooks_and_commands(addon_ctx):
    """Fault 6: the `error` hook kept `complete: true` with a warning, `llm.rebuild` of the
    same flow said `complete: false`."""
    from addon.proxy.commands import LLMCommands

    addon, tctx, _ = addon_ctx
    flow = streaming_flow(addon)
    flow.response.stream(STREAM)
    flow.error = tflow.terr("client disconnected")
    addon.error(flow)
    by_hook = flow.metadata[METADATA_KEY]
    assert by_hook["complete"] is True
    assert (
        by_hook["warnings"][-1] == "flow error after the answer was complete: client disconnected"
    )
    commands = LLMCommands(addon.resolver)
    tctx.master.addons.add(commands)
    commands.rebuild([flow])
    by_command = flow.metadata[METADATA_KEY]
    assert by_command["complete"] is True
    assert by_command["warnings"] == by_hook["warnings"]


@pytest.mark.parametrize("method", ["HEAD", "GET", "DELETE"])
def test_other_methods_on_an_llm_path_are_not_calls(addon_ctx, method):
    """Fault 7: HEAD, GET and DELETE were recorded (HEAD as `INCOMPLETE (empty body)`)."""
    addon, _, dumps = addon_ctx
    flow = llm_flow(b"", "application/json", method=method)
    addon.responseheaders(flow)
    addon.response(flow)
    assert METADATA_KEY not in flow.metadata
    assert not dumps.exists()


def test_responses_token_count_is_not_a_responses_call(addon_ctx):
    """Fault 7: `POST /v1/responses/input_tokens` was taken for a Responses call."""
    addon, _, _ = addon_ctx
    flow = llm_flow(
        b'{"object": "response.input_tokens", "input_tokens": 11}',
        "application/json",
        host="api.openai.com",
        path="/v1/responses/input_tokens",
    )
    addon.response(flow)
    assert METADATA_KEY not in flow.metadata


def test_summary_line_is_one_bounded_line(addon_ctx, caplog):
    """Fault 8: an error quoting a cut tool input printed the whole JSON over many lines."""
    addon, _, _ = addon_ctx
    cut = STREAM[: STREAM.index(b"content_block_stop", STREAM.index(b"input_json_delta"))]
    long_input = b'{\\"text\\": \\"' + b"line\\\\n" * 400
    cut = cut.replace(b'"partial_json":"', b'"partial_json":"' + long_input, 1)
    with caplog.at_level(logging.INFO):
        addon.response(llm_flow(cut))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("llm ")]
    assert len(lines) == 1
    assert "\n" not in lines[0]
    assert "INCOMPLETE (" in lines[0]
    error_text = re.search(r"INCOMPLETE \((.*)\)(?: \[| ->|$)", lines[0])
    assert error_text is not None and len(error_text.group(1)) <= 200


def test_killed_flow_summary_says_no_response():
    """Fault 10: a killed flow's summary read `HTTP None`."""
    record = Record(provider="anthropic-messages", errors=["flow error: Connection killed."])
    assert "HTTP None" not in summary_line(record, None)
    assert "no response" in summary_line(record, None)


def test_empty_stream_body_says_empty_body():
    """Fault 10: an empty SSE body said "stream ended before its terminal event"."""
    record = rebuild("anthropic-messages", b"", streamed=True)
    assert record["errors"] == ["empty body"]


def test_running_the_same_capture_again_replaces_its_dumps(addon_ctx):
    """Fault 10: re-running the README command piled up `-1`, `-2` copies of each dump."""
    addon, _, dumps = addon_ctx
    flow = llm_flow()
    for _ in range(3):
        addon.response(flow)
    assert len(list(Path(dumps).iterdir())) == 1


def test_anthropic_error_event_is_not_an_unknown_event():
    """Fault 10: the documented `event: error` was listed among unknown events."""
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    body = STREAM[: STREAM.index(b"event: message_stop")] + anthropic_sse(error)
    record = rebuild("anthropic-messages", body)
    assert record["unknown_events"] == []
    assert record["extras"]["error_events"] == [error]


def test_bedrock_invoke_model_usage_comes_from_its_headers(addon_ctx):
    """Plain InvokeModel bodies of some families carry no usage; Bedrock sends it as headers."""
    addon, _, _ = addon_ctx
    flow = llm_flow(
        json.dumps({"generation": "Hi", "stop_reason": "stop"}).encode(),
        "application/json",
        host="bedrock-runtime.us-east-1.amazonaws.com",
        path="/model/meta.llama3-8b-instruct-v1:0/invoke",
        headers={
            "x-amzn-bedrock-input-token-count": "12",
            "x-amzn-bedrock-output-token-count": "3",
        },
    )
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["provider"] == "bedrock-invoke"
    assert record["usage"]["input_tokens"] == 12 and record["usage"]["output_tokens"] == 3
    assert record["timing"]["output_tokens"] == 3
