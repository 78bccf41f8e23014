"""A record as one OpenTelemetry GenAI client span: plain data that `proxy.otlp` sends.

The GenAI semantic conventions as they stand (open-telemetry/semantic-conventions-genai, where
they moved after semantic-conventions v1.41.0): named `{operation} {request model}`, kind
CLIENT, the call's own start and end (`timing.started` + `timing.duration`), the request's
parameters, the response's id, model and finish reasons, token usage, time to first chunk, the
agent session as `gen_ai.conversation.id`, `server.address`/`server.port`, and for a call that
did not complete `error.type` with its first error as the status. Message content is opt-in
(`content=True`), from the record's request (already redacted) and response.

Beyond the conventions, for backends that read them: `gen_ai.usage.cost` (USD; Langfuse reads
it as the cost), `session.id` (Langfuse groups sessions by it), `llm_rebuild.*`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from addon.providers import PROVIDERS
from addon.record import Record
from addon.record.redact import Redactor
from addon.record.summary import request_model
from addon.sinks.otlp_content import content_of, responses_finish
from addon.wire.jsonvalue import dumps

JSON = dict[str, Any]
Attribute = str | bool | int | float | Sequence[str]

OPERATIONS = {"openai-completions": "text_completion"}
"""`gen_ai.operation.name` by API; every other API here is `chat`."""
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
"""`gen_ai.provider.name` by API: the flavour of its telemetry, refined by host below."""
HOSTS = (
    ("openai.azure.com", "azure.ai.openai"),
    ("generativelanguage.googleapis.com", "gcp.gemini"),
    ("aiplatform.googleapis.com", "gcp.vertex_ai"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.mistral.ai", "mistral_ai"),
    ("api.x.ai", "x_ai"),
    ("api.perplexity.ai", "perplexity"),
    ("api.moonshot.ai", "moonshot_ai"),
    ("api.moonshot.cn", "moonshot_ai"),
    ("api.cohere.ai", "cohere"),
    ("api.cohere.com", "cohere"),
)
"""Well-known hosts that speak another provider's API (host suffix, provider name)."""
OPENAI_API_TYPES = {"openai-chat": "chat_completions", "openai-responses": "responses"}
STATUS_TEXT = 1000
"""At most this many characters of the first error in the span status."""
INT64 = range(-(2**63), 2**63)


@dataclass(slots=True)
class GenAISpan:
    """What one span says: the exporter only copies it onto a real span."""

    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    error: str | None = None
    """The status description of a call that did not complete (status ERROR); else None."""


def span_of(
    record: Record, *, content: bool = False, redactor: Redactor | None = None
) -> GenAISpan:
    """The span of one finished record; `content` adds the messages (the request body passed
    through `redactor` once more, as dumps are)."""
    body = (record.request or {}).get("body")
    if redactor is not None:
        body = redactor.body(body)
    body_json = body if isinstance(body, dict) else {}
    response = record.response if isinstance(record.response, dict) else {}
    http_error = record.status_code is not None and record.status_code >= 400
    operation = OPERATIONS.get(record.provider, "chat")
    model = request_model(record)
    provider_name = provider_name_of(record)

    attributes: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name,
        "gen_ai.request.model": model,
    }
    attributes.update(request_parameters(record.provider, body_json))
    if record.streamed:
        attributes["gen_ai.request.stream"] = True
    if not http_error:
        attributes["gen_ai.response.id"] = _str(response.get("id"))
        attributes["gen_ai.response.model"] = _str(response.get("model"))
        reasons = finish_reasons(record, response)
        attributes["gen_ai.response.finish_reasons"] = reasons or None
    attributes.update(usage_attributes(record.usage))
    timing = record.timing
    if record.streamed:
        attributes["gen_ai.response.time_to_first_chunk"] = _float(timing.get("time_to_first_byte"))
    session = record.session if isinstance(record.session, dict) else {}
    conversation = _str(session.get("id"))
    attributes["gen_ai.conversation.id"] = conversation
    attributes["session.id"] = conversation
    attributes.update(server_of(record))
    attributes["http.response.status_code"] = _int(record.status_code)
    if provider_name == "openai":
        attributes["openai.api.type"] = OPENAI_API_TYPES.get(record.provider)
        attributes["openai.request.service_tier"] = _str(body_json.get("service_tier"))
        attributes["openai.response.service_tier"] = _str(response.get("service_tier"))
        attributes["openai.response.system_fingerprint"] = _str(response.get("system_fingerprint"))
    cost = record.cost if isinstance(record.cost, dict) else {}
    attributes["gen_ai.usage.cost"] = _float(cost.get("total"))
    attributes["llm_rebuild.provider"] = record.provider
    attributes["llm_rebuild.flow_id"] = record.flow_id
    attributes["llm_rebuild.complete"] = record.complete
    attributes["llm_rebuild.time_to_first_token"] = _float(timing.get("time_to_first_token"))
    cache = record.cache if isinstance(record.cache, dict) else {}
    attributes["llm_rebuild.cache.explanation"] = _str(cache.get("explanation"))
    error = None
    if not record.complete:
        attributes["error.type"] = error_type(record, response)
        first = record.errors[0] if record.errors else "no terminal event"
        error = first if len(first) <= STATUS_TEXT else first[: STATUS_TEXT - 1] + "…"
    if content:
        for name, value in content_of(record.provider, body, record.response).items():
            if redactor is not None:  # tool arguments sent as JSON text are objects by now
                value = redactor.body(value)
            attributes[name] = dumps(value).decode("utf-8", "replace")

    start_ns, end_ns = times_of(timing)
    return GenAISpan(
        name=f"{operation} {model}" if model else operation,
        start_ns=start_ns,
        end_ns=end_ns,
        attributes={k: v for k, v in attributes.items() if v is not None},
        error=error,
    )


def times_of(timing: JSON) -> tuple[int, int]:
    """Start and end in nanoseconds since the epoch, from the record's own clock (a capture
    replayed later keeps its original times); a record without timing is placed now."""
    started = timing.get("started")
    if not isinstance(started, int | float) or isinstance(started, bool):
        started = time.time()
    duration = timing.get("duration")
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration < 0:
        duration = 0.0
    start_ns = int(started * 1e9)
    return start_ns, start_ns + int(duration * 1e9)


def provider_name_of(record: Record) -> str:
    host = (urlsplit(str((record.request or {}).get("url") or "")).hostname or "").lower()
    if "bedrock" in host and host.endswith(".amazonaws.com"):  # also its OpenAI-style API
        return "aws.bedrock"
    if host.endswith("aiplatform.googleapis.com"):  # `{region}-aiplatform…` too
        return "gcp.vertex_ai"
    for suffix, name in HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return name
    return PROVIDER_NAMES.get(record.provider, record.provider)


def server_of(record: Record) -> JSON:
    """The API's host and port as the URL names them (the upstream, also in reverse mode)."""
    try:
        parts = urlsplit(str((record.request or {}).get("url") or ""))
        port = parts.port
    except ValueError:
        return {}
    if not parts.hostname:
        return {}
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return {"server.address": parts.hostname, "server.port": port or default}


def request_parameters(provider: str, body: JSON) -> JSON:
    """The request's sampling parameters under the conventions' names, by API."""
    out: JSON = {}
    if provider == "bedrock-converse":
        config = _dict(body.get("inferenceConfig"))
        out["gen_ai.request.max_tokens"] = _int(config.get("maxTokens"))
        out["gen_ai.request.temperature"] = _float(config.get("temperature"))
        out["gen_ai.request.top_p"] = _float(config.get("topP"))
        out["gen_ai.request.stop_sequences"] = _strings(config.get("stopSequences"))
        extra = _dict(body.get("additionalModelRequestFields"))
        out["gen_ai.request.top_k"] = _int(extra.get("top_k"))
        return out
    if provider == "openai-responses":
        out["gen_ai.request.max_tokens"] = _int(body.get("max_output_tokens"))
        out["gen_ai.request.reasoning.level"] = _str(_dict(body.get("reasoning")).get("effort"))
        out["gen_ai.request.previous_response.id"] = _str(body.get("previous_response_id"))
        out["gen_ai.output.type"] = _output_type(_dict(_dict(body.get("text")).get("format")))
    else:
        tokens = body.get("max_completion_tokens", body.get("max_tokens", body.get("max_gen_len")))
        out["gen_ai.request.max_tokens"] = _int(tokens)
        out["gen_ai.request.top_k"] = _int(body.get("top_k"))
        stop = body.get("stop_sequences", body.get("stop"))
        out["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else _strings(stop)
    if provider in ("openai-chat", "openai-completions"):
        out["gen_ai.request.frequency_penalty"] = _float(body.get("frequency_penalty"))
        out["gen_ai.request.presence_penalty"] = _float(body.get("presence_penalty"))
        out["gen_ai.request.seed"] = _int(body.get("seed"))
        choices = _int(body.get("n"))
        out["gen_ai.request.choice.count"] = choices if choices != 1 else None
        out["gen_ai.request.reasoning.level"] = _str(body.get("reasoning_effort"))
        out["gen_ai.output.type"] = _output_type(_dict(body.get("response_format")))
    out["gen_ai.request.temperature"] = _float(body.get("temperature"))
    out["gen_ai.request.top_p"] = _float(body.get("top_p"))
    return out


def _output_type(response_format: JSON) -> str | None:
    kind = response_format.get("type")
    if kind in ("json_object", "json_schema"):
        return "json"
    return "text" if kind == "text" else None


def finish_reasons(record: Record, response: JSON) -> list[str]:
    """One reason per generation, as the API named it; `error` where one was expected but
    none came (a cut stream), as the conventions ask."""
    if record.provider in ("openai-chat", "openai-completions"):
        return [
            _str(choice.get("finish_reason")) or "error"
            for choice in response.get("choices") or ()
            if isinstance(choice, dict)
        ] or (["error"] if not record.complete else [])
    if record.provider == "openai-responses":
        return [responses_finish(response)] if response else ["error"]
    provider = PROVIDERS.get(record.provider)
    reason = None
    if provider is not None and response:
        try:
            reason = provider.accumulator.summarize(response).stop_reason
        except Exception:  # a summary is a nicety; a strange body costs only the reason
            reason = None
    if isinstance(reason, str):
        return [reason]
    return ["error"] if not record.complete else []


def usage_attributes(usage: Any) -> JSON:
    """The record's usage (input includes cached tokens, as the conventions count). Cache
    writes go under today's name and v1.41's, which released SDKs and Phoenix still read."""
    usage = usage if isinstance(usage, dict) else {}
    written = _int(usage.get("cache_write_tokens"))
    return {
        "gen_ai.usage.input_tokens": _int(usage.get("input_tokens")),
        "gen_ai.usage.output_tokens": _int(usage.get("output_tokens")),
        "gen_ai.usage.cache_read.input_tokens": _int(usage.get("cache_read_tokens")),
        "gen_ai.usage.cache_write.input_tokens": written,
        "gen_ai.usage.cache_creation.input_tokens": written,
        "gen_ai.usage.reasoning.output_tokens": _int(usage.get("reasoning_tokens")),
    }


def error_type(record: Record, response: JSON) -> str:
    """A low-cardinality class for a call that did not complete: the HTTP status (`429`), the
    API's own error type from a stream (`overloaded_error`), `flow_error` when the connection
    broke, else `incomplete` (the stream ended early or could not be read)."""
    if record.status_code is not None and record.status_code >= 400:
        return str(record.status_code)
    for event in record.extras.get("error_events") or ():
        kind = _dict(_dict(event).get("error")).get("type")
        if isinstance(kind, str) and kind:
            return kind
    code = _dict(response.get("error")).get("code") or _dict(response.get("error")).get("type")
    if isinstance(code, str) and code:
        return code
    if record.errors and record.errors[0].startswith("flow error"):
        return "flow_error"
    return "incomplete"


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    """An int attribute is int64 on the wire: a wider count is left out, never rounded."""
    return value if type(value) is int and value in INT64 else None


def _float(value: Any) -> float | None:
    if type(value) not in (int, float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer past any double
        return None


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None
