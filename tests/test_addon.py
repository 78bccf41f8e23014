"""The addon's hooks, in process: routing, records in metadata, dumps, options, containment."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons, tflow

from addon.llm_rebuild import METADATA_KEY, LLMRebuild
from addon.record import RECORD_KEYS
from tests.conftest import SECRET, STREAM, dumps_in, llm_flow, streaming_flow


def test_offline_stream_gets_a_record_in_metadata_and_one_dump(addon_ctx):
    addon, _, dumps = addon_ctx
    flow = llm_flow()
    addon.responseheaders(flow)
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert set(RECORD_KEYS) <= set(record)
    assert record["flow_id"] == flow.id
    assert record["provider"] == "anthropic-messages"
    assert record["streamed"] is True and record["status_code"] == 200
    assert record["complete"] is True, record["errors"]
    assert record["request"]["method"] == "POST"
    assert record["request"]["body"] == {"model": "claude", "stream": True}
    assert dumps_in(dumps) == [record]


def test_non_llm_flow_is_left_alone(addon_ctx):
    addon, _, dumps = addon_ctx
    flow = llm_flow(host="example.com", path="/index.html", content_type="text/html")
    addon.responseheaders(flow)
    addon.response(flow)
    assert METADATA_KEY not in flow.metadata
    assert not dumps.exists()


def test_plain_json_answer_is_recorded_as_it_is(addon_ctx):
    addon, _, _ = addon_ctx
    body = {"id": "msg_1", "type": "message", "content": [], "usage": {"output_tokens": 1}}
    flow = llm_flow(json.dumps(body).encode(), "application/json")
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["response"] == body
    assert record["streamed"] is False and record["complete"] is True


def test_http_error_is_recorded_incomplete_with_its_error_body(addon_ctx):
    addon, _, _ = addon_ctx
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    flow = llm_flow(json.dumps(body).encode(), "application/json", status=529)
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is False
    assert record["response"] == body
    assert record["errors"] == ["HTTP 529: overloaded_error: Overloaded"]


def test_live_stream_passes_chunks_unchanged_and_restores_the_body(addon_ctx):
    addon, _, _ = addon_ctx
    flow = streaming_flow(addon)
    tee = flow.response.stream
    assert callable(tee)
    chunks = [STREAM[i : i + 37] for i in range(0, len(STREAM), 37)]
    assert [tee(c) for c in chunks] == chunks
    assert tee(b"") == b""
    addon.response(flow)
    assert flow.response.raw_content == STREAM
    assert addon.captures == {}
    offline = llm_flow()
    addon.response(offline)
    live_record = flow.metadata[METADATA_KEY]
    offline_record = offline.metadata[METADATA_KEY]
    assert live_record["response"] == offline_record["response"]
    assert live_record["events"] == offline_record["events"]


def test_live_body_over_the_cap_is_not_kept_but_still_rebuilt(addon_ctx):
    addon, tctx, _ = addon_ctx
    tctx.configure(addon, llm_max_body="100")
    flow = streaming_flow(addon)
    flow.response.stream(STREAM)
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert flow.response.raw_content is None
    assert record["response"] is not None
    assert any("llm_max_body" in w for w in record["warnings"])


def test_store_streamed_bodies_is_respected_without_a_second_copy(addon_ctx):
    addon, tctx, _ = addon_ctx
    tctx.options.add_option("store_streamed_bodies", bool, True, "as mitmproxy declares it")
    flow = streaming_flow(addon)
    capture = flow.response.stream
    capture(STREAM)
    assert capture.chunks == []  # mitmproxy keeps the body itself


def test_cut_stream_is_recorded_incomplete_with_the_error(addon_ctx):
    addon, _, dumps = addon_ctx
    flow = streaming_flow(addon)
    flow.response.stream(STREAM[: len(STREAM) // 2])
    flow.error = tflow.terr("connection closed by peer")
    addon.error(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is False
    assert record["errors"][0] == "flow error: connection closed by peer"
    assert record["events"] > 0
    assert addon.captures == {}
    assert len(dumps_in(dumps)) == 1


def test_exception_inside_the_addon_is_contained_logged_and_recorded(
    addon_ctx, monkeypatch, caplog
):
    addon, _, _ = addon_ctx

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("addon.proxy.resolver.rebuild_response", broken)
    flow = llm_flow()
    with caplog.at_level(logging.ERROR):
        addon.response(flow)  # must not raise
    assert sum("response hook failed" in r.message for r in caplog.records) == 1
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is False
    assert "boom" in record["errors"][-1]


def test_exception_inside_the_stream_tee_never_breaks_the_flow(addon_ctx, monkeypatch):
    addon, _, _ = addon_ctx
    flow = streaming_flow(addon)
    capture = flow.response.stream

    def broken(chunk):
        raise RuntimeError("decoder bug")

    monkeypatch.setattr(capture, "take", broken)
    assert capture(b"data: x\n\n") == b"data: x\n\n"
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is False
    assert any("decoder bug" in e for e in record["errors"])


def test_dump_failure_logs_one_line_and_keeps_the_record_in_metadata(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir=str(blocker / "dumps"))
        flows = [llm_flow() for _ in range(3)]
        with caplog.at_level(logging.WARNING):
            for flow in flows:
                addon.response(flow)
    lines = [r for r in caplog.records if "cannot write dumps" in r.message]
    assert len(lines) == 1
    # Not an error: mitmproxy ends offline runs and mitmweb on errors logged at start-up.
    assert lines[0].levelno == logging.WARNING and lines[0].exc_info is None
    assert all(METADATA_KEY in f.metadata for f in flows)


def test_empty_dump_dir_turns_dumps_off(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir="")
        flow = llm_flow()
        addon.response(flow)
    assert METADATA_KEY in flow.metadata
    assert list(tmp_path.iterdir()) == []


BAD_OPTIONS = [
    ("llm_routes", ["just-one-part"], "llm_routes: route 'just-one-part' needs three or four"),
    ("llm_routes", ["h ^/x$ nope"], "unknown provider 'nope'"),
    ("llm_max_body", "lots", "llm_max_body: 'lots' is not a size"),
    ("llm_max_body", "-5", "llm_max_body: '-5' is negative"),
]


@pytest.mark.parametrize(("option", "value", "message"), BAD_OPTIONS)
def test_bad_option_at_start_up_is_one_error_line_and_is_not_applied(
    option, value, message, caplog
):
    addon = LLMRebuild()
    with taddons.context(addon) as tctx, caplog.at_level(logging.ERROR):
        before = (addon.settings.router, addon.max_body)
        tctx.configure(addon, **{option: value})
        assert (addon.settings.router, addon.max_body) == before
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [message in r.getMessage() for r in errors] == [True]
    assert errors[0].exc_info is None  # one sentence, no traceback


@pytest.mark.parametrize(("option", "value", "message"), BAD_OPTIONS)
def test_bad_option_while_running_is_refused(option, value, message):
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        addon.running()
        with pytest.raises(exceptions.OptionsError, match=message):
            tctx.configure(addon, **{option: value})


def test_dump_dir_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        addon.running()
        with pytest.raises(exceptions.OptionsError, match="is a file, not a folder"):
            tctx.configure(addon, llm_dump_dir=str(blocker))


def test_user_route_sends_other_paths_to_a_provider(addon_ctx):
    addon, tctx, _ = addon_ctx
    tctx.configure(addon, llm_routes=["llm.internal ^/generate$ anthropic-messages"])
    flow = llm_flow(host="llm.internal", path="/generate")
    addon.response(flow)
    assert flow.metadata[METADATA_KEY]["provider"] == "anthropic-messages"


def test_credentials_reach_neither_dump_nor_log(addon_ctx, caplog):
    addon, _, dumps = addon_ctx
    flow = llm_flow(path="/v1/messages?key=" + SECRET)
    flow.request.headers["authorization"] = f"Bearer {SECRET}"
    flow.request.headers["cookie"] = f"session={SECRET}"
    with caplog.at_level(logging.DEBUG):
        addon.response(flow)
    written = b"".join(p.read_bytes() for p in dumps.glob("*"))
    assert written
    assert SECRET.encode() not in written
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(flow.metadata[METADATA_KEY])


def test_summary_line_is_logged_per_llm_flow(addon_ctx, caplog):
    addon, _, _ = addon_ctx
    with caplog.at_level(logging.INFO):
        addon.response(llm_flow())
    lines = [r.message for r in caplog.records if r.message.startswith("llm ")]
    assert len(lines) == 1
    assert lines[0].startswith("llm anthropic-messages ")


def test_core_imports_neither_mitmproxy_nor_the_sdks():
    code = (
        "import sys, addon, addon.record, addon.wire.sse, addon.providers, addon.sinks.view,"
        " addon.sinks.dump, addon.sinks.jsonl, addon.sinks.logline, addon.record.routing;"
        "bad = {m.split('.')[0] for m in sys.modules} & {'mitmproxy', 'anthropic', 'openai'};"
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_failure_at_the_end_of_a_live_stream_still_puts_the_body_back(addon_ctx, monkeypatch):
    addon, _, _ = addon_ctx
    flow = streaming_flow(addon)
    capture = flow.response.stream
    capture(STREAM)

    def broken():
        raise RuntimeError("finish bug")

    monkeypatch.setattr(capture, "finish", broken)
    addon.response(flow)  # must not raise
    assert flow.response.raw_content == STREAM
    assert addon.captures == {}
    assert flow.metadata[METADATA_KEY]["complete"] is False
