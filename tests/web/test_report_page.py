"""The session report in a real browser (Debian's chromium through Playwright, no browser
download), opened from disk with every request but the page itself blocked: it loads without a
console error, the overview counts the known capture right, a click shows a call's answer, the
search finds a planted phrase and the context diff marks the planted message.

Set LLM_REBUILD_UPDATE_SCREENSHOT=1 to also refresh docs/report-overview.png and
docs/report-call.png from this test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import io
from mitmproxy.test import tflow

from addon.report.__main__ import main
from tests import report_capture as known
from tests.web.test_mitmweb import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT

DOCS = ROOT / "docs"
SHOTS = {"overview": "report-overview.png", "call": "report-call.png"}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report-page")
    capture = folder / "claude-code-and-codex.flow"
    with capture.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in known.known_capture(live=True):
            writer.add(flow)
    out = folder / "report.html"
    assert (
        main([str(capture), "-o", str(out), "--quiet", "--title", "Debugging the date parser"]) == 0
    )
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Opened:
    def __init__(self, page: Any, problems: list[str], blocked: list[str]) -> None:
        self.page = page
        self.problems = problems
        self.blocked = blocked


@pytest.fixture
def opened(browser, report) -> Iterator[Opened]:
    """The report from disk; console errors and warnings, page errors and every request but
    the page's own are collected (and the requests refused)."""
    context = browser.new_context(viewport={"width": 1480, "height": 1000}, color_scheme="light")
    page = context.new_page()
    url = report.as_uri()
    problems: list[str] = []
    blocked: list[str] = []

    def route(request_route: Any) -> None:
        if request_route.request.url.split("#")[0] == url:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(url)
    page.wait_for_selector("body[data-ready]")
    try:
        yield Opened(page, problems, blocked)
    finally:
        context.close()


def shot(page: Any, name: str, **options: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / SHOTS[name]
    page.screenshot(path=str(target), **options)
    assert target.stat().st_size > 20_000
    if os.environ.get("LLM_REBUILD_UPDATE_SCREENSHOT"):
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS / SHOTS[name])


def claude_row(page: Any, turn: int) -> Any:
    """The calls list's row of a turn of the Claude Code session (its calls come first); rows
    are built only when on screen."""
    page.locator("#calls-section").scroll_into_view_if_needed()
    return page.locator(f'#calls .row[data-call="{turn - 1}"]')


def test_the_page_loads_from_disk_with_no_console_error_and_fetches_nothing(opened):
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(opened.page.locator("#calls .row").first).to_be_visible()
    opened.page.wait_for_timeout(300)  # the session cards draw their charts
    assert opened.problems == []
    assert opened.blocked == []


def test_the_overview_counts_calls_sessions_incomplete_calls_and_cache_misses(opened):
    from playwright.sync_api import expect

    page = opened.page
    totals = page.locator("#totals")
    expect(totals).to_contain_text(f"{known.CALLS} calls")
    expect(totals).to_contain_text(f"{known.SESSIONS} sessions")
    expect(totals).to_contain_text(f"{known.INCOMPLETE} incomplete")
    expect(totals).to_contain_text(f"{known.CACHE_MISSES} cache miss")
    expect(page.locator("#shown")).to_have_text(f"{known.CALLS} calls")
    cards = page.locator("#sessions .session")
    expect(cards).to_have_count(known.SESSIONS)
    claude = cards.first
    expect(claude.locator(".session-stats")).to_contain_text(f"{known.CLAUDE_TURNS} calls")
    expect(claude.locator(".tl-call")).to_have_count(known.CLAUDE_TURNS)
    expect(claude.locator(".tl-call.bad")).to_have_count(1)
    expect(claude.locator(".tl-call.miss")).to_have_count(1)
    expect(claude.locator("svg.chart")).to_have_count(4)
    for chart in range(4):  # each chart marks the miss and the cut stream where they happened
        expect(claude.locator("svg.chart").nth(chart).locator(".marker.miss")).to_have_count(1)
        expect(claude.locator("svg.chart").nth(chart).locator(".marker.bad")).to_have_count(1)
    expect(claude.locator(".chart").first.locator(".bar")).to_have_count(known.CLAUDE_TURNS)
    shot(page, "overview")


def test_clicking_a_call_shows_its_answer_usage_and_exact_objects(opened):
    from playwright.sync_api import expect

    page = opened.page
    claude_row(page, known.CLAUDE_TURNS).click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(page).to_have_url(re.compile(r"#call-\d+$"))
    answer = detail.locator("section.answer")
    expect(answer).to_contain_text("Found it: `parse_date` keeps only the first 10 characters")
    expect(answer.locator(".thinking")).to_contain_text("parse_date cuts at 10 characters")
    expect(detail.locator(".metrics")).to_contain_text("read from cache")
    expect(detail.locator(".card.cache")).to_contain_text("hit: read")
    detail.get_by_role("button", name="Response object (API-exact)").click()
    expect(detail.locator("pre.raw")).to_contain_text('"stop_reason": "end_turn"')
    detail.get_by_role("button", name="Request JSON").click()
    expect(detail.locator("pre.raw")).to_contain_text('"model": "claude-sonnet-4-5-20250929"')
    expect(detail.locator("pre.raw")).to_contain_text('"api_key": "[REDACTED]"')
    detail.get_by_role("button", name="Copy").click()
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    assert opened.problems == []


def test_the_search_finds_the_planted_phrase_in_one_prompt(opened):
    from playwright.sync_api import expect

    page = opened.page
    page.locator("#q").fill(known.SEARCH_PHRASE)
    expect(page.locator("#shown")).to_have_text(f"1 call of {known.CALLS}")
    expect(page.locator("#sessions .session:not([hidden])")).to_have_count(1)
    page.locator("#calls .row").first.click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text(f"turn {known.SEARCH_TURN}")
    expect(detail.locator("mark").first).to_have_text(known.SEARCH_PHRASE)
    page.locator("#f-clear").click()
    expect(page.locator("#shown")).to_have_text(f"{known.CALLS} calls")


def test_the_filters_pick_incomplete_calls_cache_misses_models_and_tools(opened):
    from playwright.sync_api import expect

    page = opened.page
    shown = page.locator("#shown")
    page.locator("#f-incomplete").check()
    expect(shown).to_have_text(f"{known.INCOMPLETE} calls of {known.CALLS}")
    page.locator("#f-incomplete").uncheck()
    page.locator("#f-miss").check()
    expect(shown).to_have_text(f"{known.CACHE_MISSES} call of {known.CALLS}")
    page.locator("#f-miss").uncheck()
    page.locator("#f-model").select_option("gpt-5-codex")
    expect(shown).to_have_text(f"{known.CODEX_TURNS} calls of {known.CALLS}")
    page.locator("#f-model").select_option("")
    page.locator("#f-provider").select_option("openai-chat")
    expect(shown).to_have_text(f"2 calls of {known.CALLS}")
    page.locator("#f-provider").select_option("")
    page.locator("#f-tool").select_option("Read")
    reads = sum(1 for name, _, _ in known.STEPS if name == "Read")
    expect(shown).to_have_text(f"{reads} calls of {known.CALLS}")


def test_the_context_diff_highlights_the_planted_new_message(opened):
    from playwright.sync_api import expect

    page = opened.page
    page.locator("#sessions .session").first.locator(".tl-call").nth(known.PLANTED_TURN - 1).click()
    detail = page.locator("#detail")
    expect(detail.locator(".detail-title")).to_contain_text(f"turn {known.PLANTED_TURN}")
    new = detail.locator(".msg.new")
    expect(new).to_have_count(3)
    expect(new.last).to_contain_text(known.PLANTED_MESSAGE)
    expect(new.last.locator(".badge.new")).to_have_text("new")
    fold = detail.locator("details.unchanged")
    expect(fold.locator("summary")).to_contain_text(
        f"unchanged since turn {known.PLANTED_TURN - 1}"
    )
    assert fold.get_attribute("open") is None  # what did not change stays folded
    expect(detail.locator(".msg.changed")).to_have_count(0)
    page.set_viewport_size({"width": 1480, "height": 1560})  # the answer and the whole diff
    shot(page, "call")
    for _ in range(known.MISS_TURN - known.PLANTED_TURN):  # on to the turn with a new date
        detail.get_by_role("button", name="▶").click()
    expect(detail.locator(".system.changed .badge.changed")).to_contain_text(
        f"changed since turn {known.MISS_TURN - 1}"
    )
    expect(detail.locator(".card.cache.miss")).to_contain_text("cache miss: system[1] changed")
    assert opened.problems == []


def test_a_capture_without_llm_calls_gives_a_page_that_says_so(browser, tmp_path):
    from playwright.sync_api import expect

    capture = tmp_path / "plain.flow"
    with capture.open("wb") as file:
        io.FlowWriter(file).add(tflow.tflow(resp=True))
    out = tmp_path / "empty.html"
    assert main([str(capture), "-o", str(out), "--quiet"]) == 0
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-ready]")
    expect(page.locator("#sessions")).to_have_text("No LLM calls in this capture.")
    expect(page.locator("#totals")).to_contain_text("0 calls")
    assert problems == []
    page.close()
