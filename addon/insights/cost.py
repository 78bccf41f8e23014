"""What one LLM call cost, from its record, with pydantic's genai-prices.

Decisions, so the numbers can be trusted and checked:

- **Only the bundled prices.** genai-prices fetches newer prices only when an `UpdatePrices`
  is started; nothing here starts one. The module also never reads genai-prices' global
  snapshot (which an `UpdatePrices` elsewhere in the process would replace): it builds its own
  `DataSnapshot` from the package's bundled `genai_prices.data`, so a record is always priced
  from the snapshot named in `source` (`genai-prices <version> bundled prices`).
- **Usage: genai-prices' own extractor first.** The response object is read by genai-prices'
  extractor for its API flavour (Anthropic `usage` with the 5-minute / 1-hour split of cache
  writes in `cache_creation`, web searches; OpenAI Chat / Responses with cached and audio
  tokens; Bedrock Converse; Gemini `usageMetadata`), which keeps what our normalised
  `record["usage"]` has no field for. Where the record has `usage`, its input, output, cache
  read and cache write counts are compared with the extraction; if they disagree the record's
  usage is priced instead (it is the one tested against the API) and the reason says so. When
  the extractor cannot read the response (no extractor for that API, an unusual body), the
  record's usage is priced; with neither there is no cost.
- **Who is priced:** the provider whose API address matches the request URL (so Copilot,
  Azure, OpenRouter, Groq … get their own prices; reverse-proxied flows carry the upstream
  URL), else the vendor of the API (Anthropic, OpenAI, AWS, Google). The model is the one the
  response names (the served model), else the request's. `priced_as` names the price entry.
- **Tiers as the vendor bills them, where genai-prices models them:** long-context tiers
  (the whole request at the higher rate once the input crosses the threshold, e.g. Sonnet 4.5
  / 4.6 above 200k), the request date (`timing.started`), OpenAI `service_tier` as the
  response reports it (flex, priority, …), Anthropic `usage.speed` (fast mode) and
  `usage.service_tier: batch`. Not modelled by genai-prices, so priced at standard rates and
  said in the reason: Anthropic Priority Tier (contract prices), Anthropic `inference_geo: us`
  (1.1x), and Claude Sonnet 4's old 1M-context beta tier (genai-prices has no >200k tier
  for that model).
- **Errors cost nothing.** An HTTP error (status >= 400, rate limits included) is not billed
  by Anthropic or OpenAI: it gets a zero cost (so sums stay sums) with the reason
  "HTTP 429: nothing billed". A cut stream is priced from the usage that arrived, with a
  reason saying it may be partial.
- **Numbers are JSON floats** (USD). genai-prices computes in Decimal; orjson cannot write
  Decimal and a string would make every sum a parse. A double keeps 15-16 significant
  digits, far below a millionth of a cent at these magnitudes, and orjson writes the
  shortest repr (Decimal("0.000615") -> 0.000615).

The cost dict: `input` (uncached input), `cache_read`, `cache_write`, `output`, `other`
(per-request and tool-call fees such as web searches), `total` (genai-prices' total: the five
parts add up to it), `currency`, `source`, `priced_as`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

import genai_prices
from genai_prices.data_snapshot import DataSnapshot
from genai_prices.data_units import unit_data
from genai_prices.decompose import compute_leaf_values
from genai_prices.types import (
    ModelInfo,
    ModelPrice,
    PriceCalculation,
    Provider,
    TieredPrices,
    Usage,
    calc_unit_price,
)
from genai_prices.units import UnitRegistry

JSON = dict[str, Any]

SOURCE = f"genai-prices {genai_prices.__version__} bundled prices"
CURRENCY = "USD"

API_SHAPES: dict[str, tuple[str | None, str]] = {
    "anthropic-messages": ("anthropic", "anthropic"),
    "anthropic-bedrock": ("aws", "anthropic"),
    "bedrock-invoke": ("aws", "anthropic"),
    "bedrock-converse": ("aws", "converse"),
    "anthropic-vertex": ("google", "anthropic"),
    "gemini": ("google", "gemini"),
    "gemini-code-assist": ("google", "gemini"),
    "gemini-interactions": ("google", "gemini"),
    "openai-chat": ("openai", "chat"),
    "openai-responses": ("openai", "responses"),
    "openai-completions": ("openai", "chat"),
    "ollama-chat": (None, "ollama"),
    "ollama-generate": (None, "ollama"),
}
"""Our provider id -> (genai-prices provider of the API's vendor, shape of the response)."""

NATIVE_FLAVOURS: dict[str, dict[str, str]] = {
    "anthropic": {"anthropic": "default"},
    "aws": {"converse": "default", "anthropic": "anthropic"},
    "google": {"gemini": "default"},
}
"""genai-prices names a provider's own API flavour `default`; other flavours by their shape."""

_COMPARED = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


@dataclass(frozen=True, slots=True)
class CostResult:
    """A cost dict, or None; `reason` says why there is none, or what the number leaves out."""

    cost: JSON | None
    reason: str | None = None


def preload() -> None:
    """Build the price data now (half a second of CPU) rather than inside the first call's
    hook, where it would hold every stream going through the proxy."""
    _snapshot()
    _registry()


@cache
def _snapshot() -> DataSnapshot:
    """Our own snapshot of the bundled prices: immune to an `UpdatePrices` in the process.
    Built on first use or by `preload` (the price data takes a quarter of a second to import)."""
    from genai_prices import data

    return DataSnapshot(providers=data.providers, from_auto_update=False)


@cache
def _registry() -> UnitRegistry:
    return UnitRegistry(unit_data)


def add_cost(record: JSON) -> CostResult:
    """Set `record["cost"]` (the dict or None) and return the result with its reason."""
    result = price(record)
    record["cost"] = result.cost
    return result


def price(record: JSON) -> CostResult:
    """The cost of the call a record describes; never raises."""
    try:
        return _price(record)
    except Exception as exc:  # a pricing bug must cost the cost, never the record
        return CostResult(None, f"could not price this call: {exc!r}")


def _price(record: JSON) -> CostResult:
    status = record.get("status_code")
    if isinstance(status, int) and status >= 400:
        return CostResult(_zero_cost(), f"HTTP {status}: nothing billed")
    response = record.get("response")
    if not isinstance(response, dict):
        return CostResult(None, "no response object to price")
    vendor, shape = API_SHAPES.get(str(record.get("provider")), (None, ""))
    provider = _provider_for(_request_url(record), vendor)
    if provider is None:
        where = urlsplit(_request_url(record) or "").hostname or record.get("provider")
        return CostResult(None, f"{SOURCE} has no provider for {where}")

    notes: list[str] = []
    usage, model_ref = _usage(provider, shape, response, record, notes)
    if usage is None:
        reason = "the response reports no usage"
        if shape == "chat":
            reason += " (Chat streams report it only with stream_options.include_usage)"
        return CostResult(None, reason)
    model_ref = model_ref or _model_ref(record)
    if not model_ref:
        return CostResult(None, "no model name in the response or request")
    try:
        found, model = _snapshot().find_provider_model(model_ref, provider, None, None)
    except LookupError:
        return CostResult(None, f"{SOURCE} has no price for {model_ref!r} at {provider.id}")

    context = _price_context(response, notes)
    when = _started(record)
    try:
        calc = model.calc_price(
            usage, found, genai_request_timestamp=when, price_context=context or None
        )
        parts = _breakdown(calc.model_price, usage)
    except ValueError as exc:
        return CostResult(None, f"genai-prices could not price this usage: {exc}")
    if sum(parts.values()) != calc.total_price:
        notes.append("parts do not add up to genai-prices' total (genai-prices changed?)")
    if not record.get("complete", True):
        notes.append("the call did not complete: priced the usage reported so far")
    return CostResult(_cost_dict(parts, calc, found, model, context), "; ".join(notes) or None)


def _zero_cost() -> JSON:
    return {
        "input": 0.0,
        "output": 0.0,
        "cache_read": 0.0,
        "cache_write": 0.0,
        "other": 0.0,
        "total": 0.0,
        "currency": CURRENCY,
        "source": SOURCE,
        "priced_as": None,
    }


def _cost_dict(
    parts: dict[str, Decimal],
    calc: PriceCalculation,
    provider: Provider,
    model: ModelInfo,
    context: dict[str, str],
) -> JSON:
    priced_as = f"{provider.id}/{model.id}"
    if context:
        priced_as += " (" + ", ".join(f"{k}={v}" for k, v in sorted(context.items())) + ")"
    return {
        "input": float(parts["input"]),
        "output": float(parts["output"]),
        "cache_read": float(parts["cache_read"]),
        "cache_write": float(parts["cache_write"]),
        "other": float(parts["other"]),
        "total": float(calc.total_price),
        "currency": CURRENCY,
        "source": SOURCE,
        "priced_as": priced_as,
    }


def _request_url(record: JSON) -> str | None:
    request = record.get("request")
    url = request.get("url") if isinstance(request, dict) else None
    return url if isinstance(url, str) else None


def _provider_for(url: str | None, vendor: str | None) -> Provider | None:
    snapshot = _snapshot()
    if url:
        try:
            return snapshot.find_provider(None, None, url)
        except LookupError:
            pass
    if vendor is None:
        return None
    try:
        return snapshot.find_provider(None, vendor, None)
    except LookupError:
        return None


def _flavour(provider: Provider, shape: str) -> str | None:
    flavour = NATIVE_FLAVOURS.get(provider.id, {}).get(shape, shape)
    if any(e.api_flavor == flavour for e in provider.extractors or ()):
        return flavour
    return None


def _usage(
    provider: Provider, shape: str, response: JSON, record: JSON, notes: list[str]
) -> tuple[Usage | None, str | None]:
    """genai-prices' extraction where it agrees with the record's usage, else the record's."""
    extracted: Usage | None = None
    model_ref: str | None = None
    flavour = _flavour(provider, shape)
    if flavour is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # unknown usage keys are not our concern
                model_ref, extracted = provider.extract_usage(response, api_flavor=flavour)
        except (ValueError, TypeError):
            extracted = None
    ours = _normalised_usage(record)
    if extracted is not None:
        if ours is not None:
            differs = [
                key
                for key in _COMPARED
                if ours.get(key) is not None and ours[key] != extracted.reported_value(key)
            ]
            if differs:
                notes.append(
                    "record usage differs from genai-prices' extraction in "
                    + ", ".join(differs)
                    + ": priced the record's usage"
                )
                return _usage_from(ours), model_ref
        return extracted, model_ref
    if ours is not None and ours.get("input_tokens") is not None:
        return _usage_from(ours), model_ref
    return None, model_ref


def _normalised_usage(record: JSON) -> dict[str, int] | None:
    usage = record.get("usage")
    if not isinstance(usage, dict):
        return None
    return {
        key: value
        for key in _COMPARED
        if isinstance(value := usage.get(key), int) and not isinstance(value, bool)
    }


def _usage_from(ours: dict[str, int]) -> Usage:
    return Usage(**{key: ours.get(key) for key in _COMPARED})


def _model_ref(record: JSON) -> str | None:
    """The model when the response does not name it: the request body, else the URL path
    (Bedrock `/model/<id>/…`, Vertex and Gemini `…/models/<id>:<verb>`)."""
    request = record.get("request")
    if isinstance(request, dict):
        body = request.get("body")
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
    path = unquote(urlsplit(_request_url(record) or "").path)
    parts = path.split("/")
    for marker in ("model", "models"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return parts[parts.index(marker) + 1].split(":")[0] or None
    return None


def _price_context(response: JSON, notes: list[str]) -> dict[str, str]:
    """The request context genai-prices selects variants by, from what the response reports."""
    context: dict[str, str] = {}
    tier = response.get("service_tier")
    if isinstance(tier, str) and tier not in ("auto", "default"):  # default: standard rates
        context["service_tier"] = tier
    usage = response.get("usage")
    if isinstance(usage, dict):
        if isinstance(usage.get("speed"), str) and usage["speed"] != "standard":
            context["speed"] = usage["speed"]
        tier = usage.get("service_tier")
        if tier == "batch":
            context["processing"] = "batch"
        elif tier == "priority":
            notes.append("Anthropic Priority Tier is not in genai-prices: standard rates shown")
        geo = usage.get("inference_geo")
        if isinstance(geo, str) and geo not in ("global", "not_available"):
            notes.append(
                f"inference_geo={geo}: Anthropic's regional premium (1.1x) is not in "
                "genai-prices: standard rates shown"
            )
    return context


def _started(record: JSON) -> datetime | None:
    timing = record.get("timing")
    started = timing.get("started") if isinstance(timing, dict) else None
    if isinstance(started, int | float) and not isinstance(started, bool):
        return datetime.fromtimestamp(started, UTC)
    return None


def _breakdown(model_price: ModelPrice, usage: Usage) -> dict[str, Decimal]:
    """genai-prices' own arithmetic (`ModelPrice.calc_price`), kept per priced unit so the
    total splits into input, cache reads, cache writes, output and other fees."""
    priced = [
        (unit, value)
        for unit in _registry().units.values()
        if (value := getattr(model_price, unit.price_key)) is not None
    ]
    units = {unit.usage_key: unit for unit, _ in priced if unit.usage_key != "requests"}
    counts: dict[str, Any] = dict(compute_leaf_values(set(units), usage, units))
    counts["requests"] = 1
    tiered = any(isinstance(value, TieredPrices) for _, value in priced)
    total_input = usage.input_tokens if tiered else 0
    parts = dict.fromkeys(("input", "cache_read", "cache_write", "output", "other"), Decimal(0))
    for unit, value in priced:
        amount = calc_unit_price(value, counts[unit.usage_key], total_input, unit.per)
        direction = unit.dimensions.get("direction")
        token_type = unit.dimensions.get("token_type")
        if direction == "output":
            parts["output"] += amount
        elif direction == "input" and token_type in ("cache_read", "cache_write"):
            parts[str(token_type)] += amount
        elif direction == "input":
            parts["input"] += amount
        else:
            parts["other"] += amount
    return parts
