"""Cost: genai-prices' numbers for every corpus answer, tiers and cache writes priced as billed,
no cost (with a reason) where no price is known, and never a network call."""

from __future__ import annotations

import math
import socket
from datetime import UTC, datetime
from decimal import Decimal

import genai_prices
import orjson
import pytest
from genai_prices import Usage, calc_price, data_snapshot, extract_usage

from addon import rebuild
from addon.insights import cost
from addon.insights.cost import SOURCE, add_cost, price
from addon.providers import PROVIDERS
from tests.oracles import ALL_STREAMS

WHEN = datetime(2026, 11, 2, 12, tzinfo=UTC)
"""Every record is dated: prices depend on the request date."""

URLS = {
    "anthropic-messages": "https://api.anthropic.com/v1/messages",
    "openai-chat": "https://api.openai.com/v1/chat/completions",
    "openai-responses": "https://api.openai.com/v1/responses",
    "openai-completions": "https://api.openai.com/v1/completions",
    "gemini": "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent",
    "gemini-code-assist": "https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent",
    "gemini-interactions": "https://generativelanguage.googleapis.com/v1beta/interactions",
}
ORACLE = {  # provider id -> genai-prices provider and API flavour, written out by hand
    "anthropic-messages": ("anthropic", "default"),
    "openai-chat": ("openai", "chat"),
    "openai-responses": ("openai", "responses"),
    "openai-completions": ("openai", "chat"),
    "gemini": ("google", "default"),
}
"""APIs genai-prices has an extractor for; the others are priced from the record's usage."""
PARTS = ("input", "cache_read", "cache_write", "output", "other")


def corpus_record(provider: str, path) -> dict:
    """The record of a corpus answer as the pipeline makes it, with the normalised usage."""
    record = rebuild(provider, path.read_bytes())
    if isinstance(record["response"], dict):
        record.setdefault(
            "usage", PROVIDERS[provider].accumulator.usage(record["response"]).as_dict()
        )
    url = URLS[provider]
    if path.name.startswith("copilot_"):
        url = "https://api.githubcopilot.com/chat/completions"
    record["request"] = {"method": "POST", "url": url, "headers": {}, "body": {}}
    record["timing"] = {"started": WHEN.timestamp()}
    return record


def oracle_total(provider: str, path, response: dict) -> Decimal:
    """genai-prices' own extract-and-price, as its README shows it."""
    provider_id, flavour = ORACLE[provider]
    if path.name.startswith("copilot_"):
        provider_id = "github-copilot"
    extracted = extract_usage(response, provider_id=provider_id, api_flavor=flavour)
    context = {}
    if isinstance(response.get("service_tier"), str):
        context["service_tier"] = response["service_tier"]
    usage = response.get("usage") or {}
    if isinstance(usage.get("speed"), str):
        context["speed"] = usage["speed"]
    return extracted.calc_price(genai_request_timestamp=WHEN, price_context=context).total_price


def anthropic_record(api_usage: dict, model: str = "claude-sonnet-4-5", **extra) -> dict:
    response = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
        "usage": api_usage,
    }
    return {
        "provider": "anthropic-messages",
        "complete": True,
        "status_code": 200,
        "response": response,
        "request": {"method": "POST", "url": URLS["anthropic-messages"], "body": {}},
        "timing": {"started": WHEN.timestamp()},
        **extra,
    }


def responses_record(usage: dict, model: str = "gpt-5", **fields) -> dict:
    response = {"id": "resp_1", "object": "response", "model": model, "usage": usage, **fields}
    return {
        "provider": "openai-responses",
        "complete": True,
        "status_code": 200,
        "response": response,
        "request": {"method": "POST", "url": URLS["openai-responses"], "body": {}},
        "timing": {"started": WHEN.timestamp()},
    }


def mtok(tokens: int, dollars: str) -> Decimal:
    return Decimal(tokens) * Decimal(dollars) / 1_000_000


def assert_parts_add_up(cost_dict: dict) -> None:
    assert math.isclose(sum(cost_dict[p] for p in PARTS), cost_dict["total"], rel_tol=1e-12)


@pytest.mark.parametrize(("provider", "path"), ALL_STREAMS, ids=lambda v: getattr(v, "name", v))
def test_every_corpus_answer_costs_what_genai_prices_says(provider, path):
    record = corpus_record(provider, path)
    result = price(record)
    if provider not in ORACLE:  # no extractor: never a guess, a price of our usage or a reason
        assert result.cost is not None or result.reason
        return
    try:
        expected = oracle_total(provider, path, record["response"])
    except LookupError:
        assert result.cost is None
        assert "has no price for" in result.reason
        return
    except ValueError:  # the answer reports no usage
        assert result.cost is None
        assert "no usage" in result.reason
        return
    assert result.cost is not None, result.reason
    assert "differs" not in (result.reason or "")  # our usage agrees with the extraction
    assert result.cost["total"] == float(expected)
    assert result.cost["currency"] == "USD"
    assert result.cost["source"] == SOURCE
    assert_parts_add_up(result.cost)


def test_the_corpus_has_priced_and_unpriced_answers():
    results = [price(corpus_record(p, path)) for p, path in ALL_STREAMS]
    priced = [r for r in results if r.cost is not None]
    assert len(priced) > 100
    assert any(r.cost["cache_read"] > 0 for r in priced)  # codex answers read the cache
    assert any(r.cost is None and "has no price for 'gpt-4o-so'" in r.reason for r in results)


def test_five_minute_and_one_hour_cache_writes_have_their_own_rates():
    usage = {
        "input_tokens": 100,
        "cache_creation_input_tokens": 3000,
        "cache_read_input_tokens": 5000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 50,
    }
    result = price(anthropic_record(usage))
    assert result.reason is None
    c = result.cost
    assert c["input"] == float(mtok(100, "3"))
    assert c["cache_read"] == float(mtok(5000, "0.30"))
    assert c["cache_write"] == float(mtok(1000, "3.75") + mtok(2000, "6"))
    assert c["output"] == float(mtok(50, "15"))
    assert c["priced_as"] == "anthropic/claude-sonnet-4-5"
    oracle = extract_usage({"model": "claude-sonnet-4-5", "usage": usage}, provider_id="anthropic")
    assert c["total"] == float(oracle.calc_price(genai_request_timestamp=WHEN).total_price)


def test_cache_writes_without_a_split_are_priced_at_the_five_minute_rate():
    usage = {"input_tokens": 10, "cache_creation_input_tokens": 4000, "output_tokens": 1}
    assert price(anthropic_record(usage)).cost["cache_write"] == float(mtok(4000, "3.75"))


def test_a_long_context_request_is_priced_at_the_long_context_rates_throughout():
    usage = {"input_tokens": 150_000, "cache_read_input_tokens": 60_000, "output_tokens": 1000}
    record = anthropic_record(usage, model="claude-sonnet-4-6")
    record["timing"]["started"] = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    c = price(record).cost
    assert c["input"] == float(mtok(150_000, "6"))  # over 200k in all: every token at 2x
    assert c["cache_read"] == float(mtok(60_000, "0.6"))
    assert c["output"] == float(mtok(1000, "22.5"))
    short = anthropic_record({"input_tokens": 150_000, "output_tokens": 1000}, "claude-sonnet-4-6")
    short["timing"]["started"] = record["timing"]["started"]
    assert price(short).cost["input"] == float(mtok(150_000, "3"))


def test_the_request_date_picks_the_prices_in_force():
    usage = {"input_tokens": 150_000, "cache_read_input_tokens": 60_000, "output_tokens": 1000}
    flat = price(anthropic_record(usage, model="claude-sonnet-4-6")).cost  # after 2026-03-13
    assert flat["input"] == float(mtok(150_000, "3"))


def test_openai_service_tier_from_the_response_selects_its_rates():
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    flex = price(responses_record(usage, model="o3", service_tier="flex")).cost
    standard = price(responses_record(usage, model="o3", service_tier="default")).cost
    expected = calc_price(
        Usage(input_tokens=1_000_000, output_tokens=1_000_000),
        "o3",
        provider_id="openai",
        genai_request_timestamp=WHEN,
        price_context={"service_tier": "flex"},
    )
    assert flex["total"] == float(expected.total_price)
    assert flex["total"] < standard["total"]
    assert flex["priced_as"] == "openai/o3 (service_tier=flex)"


def test_anthropic_fast_mode_and_batch_select_their_rates():
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    fast = price(anthropic_record({**usage, "speed": "fast"}, model="claude-fable-5-2")).cost
    assert fast["total"] == 96.0  # genai-prices' README example
    batch = price(anthropic_record({**usage, "service_tier": "batch"}, model="claude-opus-4-5"))
    full = price(anthropic_record({**usage, "service_tier": "standard"}, model="claude-opus-4-5"))
    assert batch.cost["total"] == full.cost["total"] / 2
    assert "processing=batch" in batch.cost["priced_as"]


def test_what_genai_prices_does_not_model_is_said_in_the_reason():
    usage = {"input_tokens": 1000, "output_tokens": 10, "service_tier": "priority"}
    result = price(anthropic_record(usage))
    assert result.cost is not None
    assert "Priority Tier" in result.reason
    geo = price(anthropic_record({"input_tokens": 1, "output_tokens": 1, "inference_geo": "us"}))
    assert "inference_geo=us" in geo.reason
    assert price(anthropic_record({**usage, "inference_geo": "global"})).reason.count(";") == 0


def test_an_http_error_costs_nothing():
    record = {
        "provider": "anthropic-messages",
        "status_code": 429,
        "response": {"type": "error", "error": {"type": "rate_limit_error"}},
        "request": {"url": URLS["anthropic-messages"]},
    }
    result = add_cost(record)
    assert result.reason == "HTTP 429: nothing billed"
    assert record["cost"]["total"] == 0.0
    assert all(record["cost"][p] == 0.0 for p in PARTS)


def test_an_unknown_model_has_no_cost_and_says_why():
    record = anthropic_record({"input_tokens": 1, "output_tokens": 1}, model="claude-nonesuch-9")
    result = add_cost(record)
    assert record["cost"] is None
    assert result.reason == f"{SOURCE} has no price for 'claude-nonesuch-9' at anthropic"


def test_a_chat_stream_without_usage_has_no_cost_and_says_why():
    record = {
        "provider": "openai-chat",
        "status_code": 200,
        "response": {"id": "c", "object": "chat.completion", "model": "gpt-4o", "choices": []},
        "request": {"url": URLS["openai-chat"]},
    }
    result = price(record)
    assert result.cost is None
    assert "stream_options.include_usage" in result.reason


def test_a_local_server_without_prices_has_no_cost():
    record = {
        "provider": "ollama-chat",
        "response": {"model": "llama3", "prompt_eval_count": 5, "eval_count": 3},
        "request": {"url": "http://127.0.0.1:11434/api/chat"},
    }
    result = price(record)
    assert result.cost is None
    assert "no provider for 127.0.0.1" in result.reason


def test_the_host_picks_the_provider_and_an_unknown_host_falls_back_to_the_vendor():
    record = anthropic_record({"input_tokens": 10, "output_tokens": 1})
    record["request"]["url"] = "http://127.0.0.1:8081/v1/messages"
    assert price(record).cost["priced_as"] == "anthropic/claude-sonnet-4-5"
    chat = {
        "provider": "openai-chat",
        "response": {
            "model": "gpt-4o",
            "usage": {"prompt_tokens": 10, "completion_tokens": 1},
        },
        "request": {"url": "https://api.githubcopilot.com/chat/completions"},
    }
    assert price(chat).cost["priced_as"] == "github-copilot/gpt-4o"


def test_the_model_comes_from_the_url_when_the_response_does_not_name_it():
    record = {
        "provider": "bedrock-converse",
        "response": {"usage": {"inputTokens": 1000, "outputTokens": 100, "totalTokens": 1100}},
        "request": {
            "url": "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
            "anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
        },
        "timing": {"started": WHEN.timestamp()},
    }
    result = price(record)
    assert result.cost is not None, result.reason
    assert result.cost["priced_as"].startswith("aws/")
    assert result.cost["total"] > 0


def test_extracted_usage_is_used_where_it_agrees_with_the_record_usage():
    usage = {
        "input_tokens": 100,
        "cache_creation_input_tokens": 2000,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 5,
    }
    ours = {"input_tokens": 2100, "output_tokens": 5, "cache_write_tokens": 2000}
    agreed = price(anthropic_record(usage, usage=ours))
    assert agreed.reason is None
    assert agreed.cost["cache_write"] == float(mtok(2000, "6"))  # the 1-hour split is kept


def test_the_record_usage_wins_where_the_extraction_disagrees():
    usage = {"input_tokens": 100, "output_tokens": 5}
    ours = {"input_tokens": 100, "output_tokens": 50, "cache_read_tokens": None}
    result = price(anthropic_record(usage, usage=ours))
    assert "differs from genai-prices' extraction in output_tokens" in result.reason
    assert result.cost["output"] == float(mtok(50, "15"))


def test_an_incomplete_call_is_priced_with_a_caveat():
    record = anthropic_record({"input_tokens": 100, "output_tokens": 1}, complete=False)
    result = price(record)
    assert result.cost is not None
    assert "did not complete" in result.reason


def test_the_cost_is_plain_json():
    record = anthropic_record({"input_tokens": 123, "output_tokens": 45})
    add_cost(record)
    assert orjson.loads(orjson.dumps(record))["cost"] == record["cost"]
    assert isinstance(record["cost"]["total"], float)


def test_pricing_never_touches_the_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    cost._snapshot.cache_clear()
    for provider, path in ALL_STREAMS[:20]:
        price(corpus_record(provider, path))
    usage = {"input_tokens": 5, "output_tokens": 5}
    assert price(anthropic_record(usage)).cost is not None
    assert attempts == []
    assert genai_prices.update_prices._shared_updater.thread is None  # no updater running


def test_prices_come_from_the_bundled_snapshot_even_if_another_is_installed():
    empty = data_snapshot.DataSnapshot(providers=[], from_auto_update=True)
    data_snapshot.set_custom_snapshot(empty)
    try:
        result = price(anthropic_record({"input_tokens": 5, "output_tokens": 5}))
    finally:
        data_snapshot.set_custom_snapshot(None)
    assert result.cost is not None
    assert result.cost["source"] == f"genai-prices {genai_prices.__version__} bundled prices"


def test_a_pricing_bug_costs_the_cost_not_the_record(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cost, "_breakdown", broken)
    result = price(anthropic_record({"input_tokens": 5, "output_tokens": 5}))
    assert result.cost is None
    assert "boom" in result.reason
