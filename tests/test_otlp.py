"""The OpenTelemetry export without a backend: the record → span mapping (`addon.sinks.otlp`)
over every record of flows/llm.flow and crafted ones, and the addon's options and exporter
lifecycle with the SDK's own in-memory exporter in place of the network. The real backend
(Arize Phoenix, spans read back through its REST API) is in tests/live/test_otlp_phoenix.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from addon.llm_rebuild import LLMRebuild
from addon.proxy import otlp
from addon.proxy.otlp import LLMOtlp, ReportingExporter, header_map, traces_url
from addon.record import Record
from addon.record.redact import MASK, Redactor
from addon.sinks.otlp import span_of
from tests.conftest import FLOWS_KEYS, LLM_FLOWS_IN_CAPTURE, anthropic_sse, llm_flow, read_flows

CONTENT = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
)
PROVIDER_NAMES = {
    "anthropic-messages": "anthropic",
    "anthropic-vertex": "gcp.vertex_ai",
    "openai-chat": "openai",
    "openai-responses": "openai",
    "openai-completions": "openai",
    "bedrock-invoke": "aws.bedrock",
    "bedrock-converse": "aws.bedrock",
    "gemini": "gcp.gemini",
    "gemini-code-assist": "gcp.gemini",
    "gemini-interactions": "gcp.gemini",
    "ollama-chat": "ollama",
    "ollama-generate": "ollama",
}


def expected_provider_name(record: Record) -> str:
    """By API, except Gemini served by Vertex AI, which the conventions name by its host."""
    if "aiplatform.googleapis.com" in str((record.request or {}).get("url")):
        return "gcp.vertex_ai"
    return PROVIDER_NAMES[record.provider]


@pytest.fixture(scope="module")
def records() -> list[Record]:
    """Every record of flows/llm.flow, as an offline `mitmdump -nr` publishes them."""
    rebuilder = LLMRebuild()
    published: list[Record] = []
    rebuilder.listeners.append(published.append)
    with taddons.context(rebuilder) as tctx:
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        for flow in read_flows():
            rebuilder.response(flow)
    assert len(published) == LLM_FLOWS_IN_CAPTURE
    return published


def by_provider(records: list[Record], provider: str) -> list[Record]:
    return [r for r in records if r.provider == provider]


# The mapping --------------------------------------------------------------------------------


def test_every_record_is_one_client_span_named_operation_and_model_at_its_own_times(records):
    for record in records:
        span = span_of(record)
        attributes = span.attributes
        model = attributes["gen_ai.request.model"]
        operation = "text_completion" if record.provider == "openai-completions" else "chat"
        assert span.name == f"{operation} {model}"
        assert attributes["gen_ai.operation.name"] == operation
        assert attributes["gen_ai.provider.name"] == expected_provider_name(record)
        started = record.timing["started"]
        assert span.start_ns == int(started * 1e9)
        assert span.end_ns == span.start_ns + int(record.timing["duration"] * 1e9)
        assert started < 1.8e9  # the capture's own clock (2025), not the time of the export
        assert attributes["llm_rebuild.flow_id"] == record.flow_id
        # The local servers (vLLM, Ollama) listen on their own ports; the clouds on 443.
        assert attributes["server.port"] == (urlsplit(record.request["url"]).port or 443)


def test_usage_response_and_request_parameters_come_from_the_record(records):
    for record in records:
        attributes = span_of(record).attributes
        usage = record.usage or {}
        for ours, theirs in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
            ("cache_write_tokens", "gen_ai.usage.cache_write.input_tokens"),
            ("reasoning_tokens", "gen_ai.usage.reasoning.output_tokens"),
        ):
            assert attributes.get(theirs) == usage.get(ours), (record.provider, theirs)
        assert attributes.get("gen_ai.usage.cache_creation.input_tokens") == usage.get(
            "cache_write_tokens"
        )
        response = record.response
        if record.status_code == 200 and isinstance(response.get("id"), str):
            assert attributes["gen_ai.response.id"] == response["id"]
        if record.status_code == 200 and isinstance(response.get("model"), str):
            assert attributes["gen_ai.response.model"] == response["model"]
        body = record.request["body"]
        if "max_tokens" in body and record.provider != "openai-responses":
            assert attributes["gen_ai.request.max_tokens"] == body["max_tokens"]
        assert attributes.get("gen_ai.request.stream") == (True if record.streamed else None)
        if record.cost is not None:
            assert attributes["gen_ai.usage.cost"] == record.cost["total"]


def test_finish_reasons_are_the_apis_own_one_per_generation(records):
    anthropic = by_provider(records, "anthropic-messages")[2]
    assert span_of(anthropic).attributes["gen_ai.response.finish_reasons"] == ["tool_use"]
    chat = by_provider(records, "openai-chat")[1]
    reasons = [c["finish_reason"] for c in chat.response["choices"]]
    assert span_of(chat).attributes["gen_ai.response.finish_reasons"] == reasons
    converse = by_provider(records, "bedrock-converse")[0]
    assert span_of(converse).attributes["gen_ai.response.finish_reasons"] == ["tool_use"]
    responses = by_provider(records, "openai-responses")[0]
    assert span_of(responses).attributes["gen_ai.response.finish_reasons"] == ["completed"]


def test_bedrock_and_vertex_name_the_model_of_the_url_and_converse_its_inference_config(records):
    converse = by_provider(records, "bedrock-converse")[0]
    attributes = span_of(converse).attributes
    assert attributes["gen_ai.request.model"].startswith("anthropic.claude-3-sonnet")
    config = converse.request["body"]["inferenceConfig"]
    if "maxTokens" in config:
        assert attributes["gen_ai.request.max_tokens"] == config["maxTokens"]
    vertex = by_provider(records, "anthropic-vertex")[0]
    assert span_of(vertex).attributes["server.address"].endswith("aiplatform.googleapis.com")


def test_an_http_error_is_its_status_as_error_type_with_the_first_error_as_status(records):
    failed = next(r for r in records if r.status_code == 429)
    span = span_of(failed)
    assert span.attributes["error.type"] == "429"
    assert span.error == failed.errors[0]
    assert "gen_ai.response.finish_reasons" not in span.attributes
    assert span.attributes["http.response.status_code"] == 429


def test_complete_records_have_no_error_and_no_content_unless_asked(records):
    for record in records:
        span = span_of(record)
        if record.complete:
            assert span.error is None and "error.type" not in span.attributes
        assert not set(CONTENT) & set(span.attributes)


def test_content_follows_the_conventions_shapes_for_every_api(records):
    for record in records:
        attributes = span_of(record, content=True).attributes
        messages = json.loads(attributes["gen_ai.input.messages"])
        assert messages and all(isinstance(m["role"], str) and m["parts"] for m in messages)
        for message in messages:
            assert all(isinstance(part["type"], str) for part in message["parts"])
        if record.status_code != 200:
            continue
        output = json.loads(attributes["gen_ai.output.messages"])
        assert output, record.provider
        for message in output:
            assert message["role"] == "assistant" and isinstance(message["finish_reason"], str)


def test_content_of_a_tool_call_conversation(records):
    record = by_provider(records, "anthropic-messages")[2]  # the get_weather tool use
    attributes = span_of(record, content=True).attributes
    assert json.loads(attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]}
    ]
    (output,) = json.loads(attributes["gen_ai.output.messages"])
    assert output["finish_reason"] == "tool_use"
    assert output["parts"][1] == {
        "type": "tool_call",
        "id": "toolu_01NRLabsLyVHZPKxbKvkfSMn",
        "name": "get_weather",
        "arguments": {"location": "Paris"},
    }
    chat = by_provider(records, "openai-chat")[1]
    tools = json.loads(span_of(chat, content=True).attributes["gen_ai.tool.definitions"])
    assert (
        tools[0]["type"] == "function"
        and tools[0]["name"] == chat.request["body"]["tools"][0]["function"]["name"]
    )


def test_content_is_redacted_again_with_the_redaction_in_force():
    record = Record(provider="anthropic-messages", complete=True, streamed=False)
    record.request = {
        "url": "https://api.anthropic.com/v1/messages",
        "body": {
            "model": "claude",
            "system": "You are terse.",
            "messages": [{"role": "user", "content": "hi"}],
            "metadata": {"internal_token": "tok-SECRET", "api_key": MASK},
        },
    }
    attributes = span_of(record, content=True, redactor=Redactor(["internal_token"])).attributes
    text = json.dumps(attributes)
    assert "tok-SECRET" not in text
    assert json.loads(attributes["gen_ai.system_instructions"]) == [
        {"type": "text", "content": "You are terse."}
    ]


def test_a_cut_stream_finishes_with_error_and_is_typed_incomplete(addon_ctx):
    addon, _, _ = addon_ctx
    cut = anthropic_sse(
        {
            "type": "message_start",
            "message": {"id": "msg_1", "model": "claude", "content": [], "usage": {}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    published: list[Record] = []
    addon.listeners.append(published.append)
    addon.response(llm_flow(cut))
    (record,) = published
    span = span_of(record)
    assert span.attributes["gen_ai.response.finish_reasons"] == ["error"]
    assert span.attributes["error.type"] == "incomplete"
    assert span.error == record.errors[0]


def test_an_api_error_event_is_its_own_error_type(addon_ctx):
    addon, _, _ = addon_ctx
    stream = anthropic_sse(
        {"type": "message_start", "message": {"id": "m", "model": "c", "content": [], "usage": {}}},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    published: list[Record] = []
    addon.listeners.append(published.append)
    addon.response(llm_flow(stream))
    assert span_of(published[0]).attributes["error.type"] == "overloaded_error"


def test_the_agent_session_is_the_conversation_id(addon_ctx):
    addon, _, _ = addon_ctx
    published: list[Record] = []
    addon.listeners.append(published.append)
    flow = llm_flow()
    flow.request.headers["X-Claude-Code-Session-Id"] = "0b9c3f5e-session"
    addon.response(flow)
    attributes = span_of(published[0]).attributes
    assert attributes["gen_ai.conversation.id"] == "0b9c3f5e-session"
    assert attributes["session.id"] == "0b9c3f5e-session"


def test_counts_wider_than_int64_are_left_out_not_rounded():
    record = Record(provider="openai-chat", complete=True)
    record.usage = {"input_tokens": 2**70, "output_tokens": 5}
    attributes = span_of(record).attributes
    assert "gen_ai.usage.input_tokens" not in attributes
    assert attributes["gen_ai.usage.output_tokens"] == 5


def test_hosts_that_speak_another_providers_api_are_named_for_it():
    record = Record(provider="openai-chat", complete=True)
    record.request = {"url": "https://api.groq.com/openai/v1/chat/completions", "body": {}}
    attributes = span_of(record).attributes
    assert attributes["gen_ai.provider.name"] == "groq"
    assert "openai.api.type" not in attributes  # openai.* only on the openai flavour
    record.request["url"] = "https://my.openai.azure.com/openai/deployments/x/chat/completions"
    assert span_of(record).attributes["gen_ai.provider.name"] == "azure.ai.openai"
    record.request["url"] = (
        "https://bedrock-runtime.us-west-2.amazonaws.com/openai/v1/chat/completions"
    )
    assert span_of(record).attributes["gen_ai.provider.name"] == "aws.bedrock"


def test_a_record_without_timing_is_placed_now():
    span = span_of(Record(provider="anthropic-messages"))
    assert span.name == "chat"
    assert span.end_ns == span.start_ns > 1.7e18


# Options ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
        ("http://127.0.0.1:6006/", "http://127.0.0.1:6006/v1/traces"),
        (
            "https://cloud.langfuse.com/api/public/otel",
            "https://cloud.langfuse.com/api/public/otel/v1/traces",
        ),
        ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
        ("", ""),
    ],
)
def test_the_endpoint_is_a_base_url_and_the_traces_path_is_added(given: str, url: str):
    assert traces_url(given) == url


@pytest.mark.parametrize("given", ["127.0.0.1:4318", "grpc://h:4317", "http://", "http://h:x"])
def test_an_endpoint_that_is_no_http_url_is_refused(given: str):
    with pytest.raises(ValueError, match="llm_otlp_endpoint"):
        traces_url(given)


def test_headers_take_either_separator_and_never_show_a_value_in_a_mistake():
    assert header_map(["Authorization=Basic cGs6c2s=", "x-langfuse-ingestion-version: 4"]) == {
        "authorization": "Basic cGs6c2s=",
        "x-langfuse-ingestion-version": "4",
    }
    with pytest.raises(ValueError) as raised:
        header_map(["sk-lf-0123456789"])
    assert "sk-lf" not in str(raised.value) and "entry 1" in str(raised.value)


# The addon with the SDK's in-memory exporter in place of the network ----------------------


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, InMemorySpanExporter]]:
    memory = InMemorySpanExporter()
    made: list[dict[str, Any]] = []

    def exporter(endpoint: str, headers: dict[str, str]) -> InMemorySpanExporter:
        made.append({"endpoint": endpoint, "headers": headers})
        return memory

    monkeypatch.setattr(otlp, "otlp_exporter", exporter)
    rebuilder = LLMRebuild()
    exporting = LLMOtlp(rebuilder)
    with taddons.context(rebuilder, exporting) as tctx:
        tctx.configure(rebuilder, llm_dump_dir="", llm_summary=False)
        yield (tctx, rebuilder, exporting, made), memory


def test_spans_are_batched_and_flushed_at_done_with_the_records_times(exported):
    (tctx, rebuilder, exporting, made), memory = exported
    tctx.configure(
        exporting,
        llm_otlp_endpoint="http://127.0.0.1:4318",
        llm_otlp_headers=["Authorization=Basic abc="],
    )
    assert made == [
        {
            "endpoint": "http://127.0.0.1:4318/v1/traces",
            "headers": {"authorization": "Basic abc="},
        }
    ]
    flows = read_flows()
    for flow in flows:
        rebuilder.response(flow)
    assert memory.get_finished_spans() == ()  # queued for the background batch
    exporting.done()
    spans = memory.get_finished_spans()
    assert len(spans) == LLM_FLOWS_IN_CAPTURE
    for span in spans:
        assert span.kind is SpanKind.CLIENT and span.parent is None
        assert span.resource.attributes["service.name"] == "llm-rebuild"
        assert span.start_time < 1.8e18 and span.end_time - span.start_time == 900_000_000
    failed = {s.attributes["error.type"] for s in spans if s.status.status_code is StatusCode.ERROR}
    assert failed == {"429", "incomplete"}  # the rate limit, and the stream cut in a tool input
    assert len({s.context.trace_id for s in spans}) == LLM_FLOWS_IN_CAPTURE  # one trace per call


def test_nothing_is_exported_while_the_endpoint_is_empty(exported):
    (_, rebuilder, exporting, made), memory = exported
    for flow in read_flows():
        rebuilder.response(flow)
    exporting.done()
    assert exporting.export is None and made == [] and memory.get_finished_spans() == ()


def test_content_goes_on_the_spans_only_when_asked(exported):
    (tctx, rebuilder, exporting, _), memory = exported
    tctx.configure(exporting, llm_otlp_endpoint="http://127.0.0.1:4318", llm_otlp_content=True)
    for flow in read_flows():
        rebuilder.response(flow)
    exporting.done()
    spans = memory.get_finished_spans()
    assert all("gen_ai.input.messages" in s.attributes for s in spans)
    assert not any(key in json.dumps(dict(s.attributes)) for s in spans for key in FLOWS_KEYS)


def test_a_bad_endpoint_set_while_running_is_refused_and_the_old_one_stays(exported):
    (tctx, _, exporting, _), _ = exported
    tctx.configure(exporting, llm_otlp_endpoint="http://127.0.0.1:4318")
    before = exporting.export
    exporting.running()
    with pytest.raises(exceptions.OptionsError, match="llm_otlp_endpoint"):
        tctx.configure(exporting, llm_otlp_endpoint="127.0.0.1:4318")
    assert exporting.export is before
    exporting.done()


class Failing:
    """An exporter whose backend refuses, then answers: what the OTLP exporter reports."""

    def __init__(self) -> None:
        self.up = False

    def export(self, spans: Any) -> SpanExportResult:
        if self.up:
            return SpanExportResult.SUCCESS
        logging.getLogger(otlp.SDK_LOGGERS[0]).warning("Transient error Connection refused")
        logging.getLogger(otlp.SDK_LOGGERS[0]).error("Failed to export spans batch")
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def test_a_backend_that_is_down_is_one_warning_and_one_line_when_it_is_back(caplog):
    inner = Failing()
    exporter = ReportingExporter(inner, "http://127.0.0.1:9/v1/traces")  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO):
        for _ in range(5):
            assert exporter.export([]) is SpanExportResult.FAILURE
        inner.up = True
        assert exporter.export([]) is SpanExportResult.SUCCESS
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "cannot send OpenTelemetry spans to http://127.0.0.1:9/v1/traces" in lines[0]
    assert "(Connection refused)" in lines[0]
    assert caplog.records[0].levelno == logging.WARNING
    assert "again" in lines[1]


def test_the_exporter_is_the_sdks_otlp_http_protobuf_one_for_the_traces_url():
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = otlp.otlp_exporter("http://127.0.0.1:9/v1/traces", {"authorization": "Basic x"})
    try:
        assert isinstance(exporter, OTLPSpanExporter)
        assert exporter._endpoint == "http://127.0.0.1:9/v1/traces"
    finally:
        exporter.shutdown()
