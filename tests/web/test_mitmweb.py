"""mitmweb itself, started with the addon on flows/llm.flow: its REST API renders our view by
default for LLM flows, its command API runs our commands, and a real browser (Debian's chromium,
driven by Playwright through `executable_path`; nothing downloads a browser) shows the rebuilt
answer in the Response tab.

Set LLM_REBUILD_UPDATE_SCREENSHOT=1 to also refresh docs/mitmweb-view.png from the browser test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from addon.providers import PROVIDERS
from tests.conftest import CAPTURE, FLOWS_KEYS, read_flows
from tests.mitmweb import Mitmweb, start_mitmweb

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "mitmweb-llm-view.png"
DOCS_SCREENSHOT = ROOT / "docs" / "mitmweb-view.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRETS = FLOWS_KEYS
VIEW = "LLM rebuilt"
SUMMARY_LINE = re.compile(rf"\bllm ({'|'.join(map(re.escape, PROVIDERS))}) ")


def flow_id_of(corpus_name: str) -> str:
    body = (CORPUS / corpus_name).read_bytes()
    return next(f.id for f in read_flows() if f.response and f.response.raw_content == body)


@pytest.fixture(scope="module")
def mitmweb(tmp_path_factory) -> Iterator[Mitmweb]:
    workdir = tmp_path_factory.mktemp("mitmweb")
    web = start_mitmweb(CAPTURE, workdir)
    llm_flows = sum(1 for f in read_flows() if f.request.pretty_host != "example.com")
    try:
        deadline = time.monotonic() + 20
        while True:  # ready once the addon has finished every LLM flow of the capture
            if web.process.poll() is not None:
                pytest.fail(f"mitmweb exited: {web.log_tail()}")
            try:
                events = web.get("/events")
                assert isinstance(events, list)
                done = sum(1 for e in events if SUMMARY_LINE.search(e["message"]))
                if done >= llm_flows:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mitmweb not ready: {web.log_tail()}")
            time.sleep(0.2)
        yield web
    finally:
        web.stop()


def listed_flows(web: Mitmweb) -> list[dict]:
    flows = web.get("/flows")
    assert isinstance(flows, list)
    return flows


def test_rest_api_renders_every_llm_flow_with_the_rebuilt_view(mitmweb):
    flows = listed_flows(mitmweb)
    assert len(flows) == len(read_flows())
    for flow in flows:
        shown = mitmweb.get(f"/flows/{flow['id']}/response/content/auto.json")
        assert isinstance(shown, dict)
        if flow["request"]["host"] == "example.com":
            assert shown["view_name"] != VIEW
            continue
        assert shown["view_name"] == VIEW, flow["request"]["path"]
        assert "(record kept by the addon)" in shown["text"]
        assert "── response object (API-exact) ──" in shown["text"]
        assert not any(secret in shown["text"] for secret in SECRETS)


def test_rest_api_shows_the_rebuilt_answer_text(mitmweb):
    flow_id = flow_id_of("ccproxy/codex_responses_thinking.sse")
    shown = mitmweb.get(f"/flows/{flow_id}/response/content/auto.json")
    assert isinstance(shown, dict)
    text = shown["text"]
    assert text.startswith("provider     openai-responses")
    assert "status       HTTP 200, complete" in text
    assert text.index("── thinking ──") < text.index("── text ──")
    assert "Factorial means multiply all positive integers" in text


def test_commands_run_from_mitmweb_command_api(mitmweb):
    commands = mitmweb.get("/commands")
    assert isinstance(commands, dict)
    assert commands["llm.dump"]["signature_help"] == "llm.dump flows path"
    assert [p["type"] for p in commands["llm.dump"]["parameters"]] == ["flow[]", "path"]
    assert mitmweb.command("llm.rebuild", "@all") == {"value": None}
    out = mitmweb.workdir / "from-web.jsonl"
    assert mitmweb.command("llm.dump", "@all", str(out)) == {"value": None}
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(read_flows()) - 1
    assert not any(secret in out.read_text() for secret in SECRETS)


@pytest.fixture
def chromium():
    """Debian's chromium under Playwright; the only reason to skip is that it is not there."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_browser_shows_the_rebuilt_answer_in_the_response_tab(mitmweb, chromium):
    from playwright.sync_api import expect

    flow_id = flow_id_of("ccproxy/claude_messages_tools.sse")
    position = [f["id"] for f in listed_flows(mitmweb)].index(flow_id)
    answer = "I'll help you get the weather in New York and calculate the distance"
    page = chromium.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{mitmweb.url}/?token={mitmweb.password}")
    rows = page.locator(".flow-table tbody tr.has-response")
    expect(rows).to_have_count(len(read_flows()))
    rows.nth(position).click()
    page.locator(".nav-tabs a").filter(has_text=re.compile(r"^Response$")).click()
    expect(page).to_have_url(re.compile(rf"#/flows/{flow_id}/response$"))
    expect(page.get_by_text(VIEW, exact=True)).to_be_visible()
    expect(page.get_by_text(answer).first).to_be_visible()
    expect(page.get_by_text("── tool call: get_weather ──")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
    if os.environ.get("LLM_REBUILD_UPDATE_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)


def test_browser_command_bar_runs_llm_dump(mitmweb, chromium):
    from playwright.sync_api import expect

    out = mitmweb.workdir / "from-command-bar.jsonl"
    page = chromium.new_page()
    page.goto(f"{mitmweb.url}/?token={mitmweb.password}")
    page.locator("header nav a", has_text="Options").click()
    page.get_by_text("Display Command Bar").click()
    command_input = page.locator(".command input")
    command_input.fill(f"llm.dump @all {out}")
    command_input.press("Enter")
    expect(page.locator(".command-result")).to_contain_text("llm.dump @all")
    deadline = time.monotonic() + 5
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == len(read_flows()) - 1
