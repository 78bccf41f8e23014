"""The layout is the pipeline: each stage imports only earlier ones, the core no mitmproxy,
and a new API is one module plus one registry line."""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import sys
import textwrap
from pathlib import Path

import pytest
from mitmproxy import contentviews
from mitmproxy.contentviews import Metadata

from addon.llm_rebuild import METADATA_KEY
from addon.providers import PROVIDERS
from tests.conftest import dumps_in, llm_flow

ADDON = Path(__file__).resolve().parent.parent / "addon"
STAGES = ("wire", "providers", "record", "insights", "sinks", "proxy", "report")
"""In pipeline order; `addon/llm_rebuild.py` (the entry point) may import any of them."""
CORE = {"wire", "providers", "record", "insights", "sinks"}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "addon" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in STAGES else None


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(p for p in ADDON.rglob("*.py") if p.parent != ADDON)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ADDON)))
def test_a_stage_imports_only_itself_and_earlier_stages(path: Path):
    own = path.relative_to(ADDON).parts[0]
    assert own in STAGES, f"{own}/ is not a stage of the pipeline"
    for name in imports_of(path):
        stage = stage_of(name)
        if stage is not None:
            assert STAGES.index(stage) <= STAGES.index(own), f"{own} imports {name}"
        if own in CORE:
            assert name.split(".")[0] != "mitmproxy", f"{path.name} imports {name}"


def test_the_entry_point_is_glue_only():
    entry = ADDON / "llm_rebuild.py"
    assert len(entry.read_text().splitlines()) <= 150


@pytest.mark.parametrize("path", sorted(ADDON.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_over_about_500_lines(path: Path):
    assert len(path.read_text().splitlines()) <= 550


TOY = '''
    """A toy API: `data: {"delta": "..."}` events, then `data: {"done": true, "usage": ...}`."""

    import orjson

    from addon.providers.base import (
        JSON, Accumulator, Part, Provider, Route, Sample, Summary, Usage, count,
    )
    from addon.wire import Event


    class ToyEcho(Accumulator):
        provider = "toy-echo"

        def __init__(self) -> None:
            super().__init__()
            self.text: list[str] = []
            self.usage_seen: JSON | None = None

        def _feed(self, event: Event) -> None:
            data = orjson.loads(event.data)
            if "delta" in data:
                self.content_started = True
                self.text.append(data["delta"])
            elif data.get("done"):
                self.done = True
                self.usage_seen = data.get("usage")
            else:
                self.unknown.append({"event": event.event, "data": data})

        def result(self) -> JSON | None:
            return {"text": "".join(self.text), "usage": self.usage_seen}

        @staticmethod
        def summarize(response: JSON) -> Summary:
            parts = [Part("text", response["text"])]
            return Summary(model="toy-1", stop_reason="done", parts=parts)

        @staticmethod
        def usage(response: JSON) -> Usage:
            usage = response.get("usage") or {}
            return Usage(count(usage.get("in")), count(usage.get("out")))


    PROVIDER = Provider(
        id=ToyEcho.provider,
        title="Toy echo",
        accumulator=ToyEcho,
        routes=(Route("toy.test", r"^/v1/echo$"),),
        samples=(Sample("toy.test", "/v1/echo", {"say": "hi"}, "toy.sse"),),
    )
'''
TOY_STREAM = (
    b'data: {"delta": "Hello, "}\n\ndata: {"delta": "toy!"}\n\n'
    b'data: {"done": true, "usage": {"in": 3, "out": 2}}\n\n'
)


def test_a_toy_provider_in_one_new_module_is_routed_rebuilt_summarised_dumped_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, addon_ctx, caplog
):
    module_file = tmp_path / "toy_echo.py"
    module_file.write_text(textwrap.dedent(TOY))
    spec = importlib.util.spec_from_file_location("toy_echo", module_file)
    assert spec is not None and spec.loader is not None
    toy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "toy_echo", toy)
    spec.loader.exec_module(toy)
    # The one registry line:
    monkeypatch.setitem(PROVIDERS, toy.PROVIDER.id, toy.PROVIDER)

    addon, tctx, dumps = addon_ctx
    tctx.configure(addon, llm_routes=[])  # routes are read again, as at start-up
    flow = llm_flow(TOY_STREAM, host="toy.test", path="/v1/echo")
    with caplog.at_level(logging.INFO):
        addon.responseheaders(flow)
        addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["provider"] == "toy-echo"
    assert record["complete"] is True, record["errors"]
    assert record["response"] == {"text": "Hello, toy!", "usage": {"in": 3, "out": 2}}
    assert record["usage"]["input_tokens"] == 3 and record["usage"]["output_tokens"] == 2
    assert dumps_in(dumps) == [json.loads(json.dumps(record))]
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("llm "))
    assert line.startswith("llm toy-echo toy-1 stop=done tokens=3/2")
    shown = contentviews.prettify_message(flow.response, flow)
    assert shown.view_name == "LLM rebuilt"
    assert "── text ──\nHello, toy!" in shown.text
    metadata = Metadata(flow=flow, http_message=flow.response)
    assert contentviews.registry["LLM rebuilt"].render_priority(b"x", metadata) > 1
