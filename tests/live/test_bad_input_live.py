"""The bad-input catalogue (tests/test_bad_input.py) through a real mitmdump, and a dump folder
that cannot be written.

The fake upstream serves each case's body with the case's status, content type and headers,
cut into small pieces; a raw httpx client reads the body undecoded. For every case: the client
gets exactly upstream's bytes, mitmdump answers a normal request afterwards, and the dumped
record says `complete` as the case does, with readable errors. No case is skipped: every body
in the catalogue is sent over HTTP/1.1 as it stands.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from mitmproxy import io

from addon import rebuild
from tests.live.apps import answer
from tests.live.proxy import Mitmdump
from tests.live.upstream import Plan, Upstream
from tests.test_bad_input import CATALOGUE, PATHS, Case

NORMAL_STREAMS = {
    "anthropic-messages": "sdk/anthropic/tool_use_response.sse",
    "openai-chat": "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    "openai-responses": "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
}
DUMP_FAILED = "llm-rebuild: cannot write dumps to"
SUMMARY = re.compile(r"\] llm (anthropic-messages|openai-chat|openai-responses) ")


class Records:
    """A proxy's dump folder, each file parsed once (one case's dump is over 10 MB)."""

    def __init__(self, proxy: Mitmdump) -> None:
        self.proxy = proxy
        self.by_key: dict[str, list[dict[str, Any]]] = {}
        self.read: set[Path] = set()

    def _scan(self) -> None:
        for path in sorted(self.proxy.dumps.glob("[!.]*.json")):
            if path not in self.read:
                self.read.add(path)
                record = orjson.loads(path.read_bytes())
                key = record["request"]["url"].split("/p/", 1)[1].split("/", 1)[0]
                self.by_key.setdefault(key, []).append(record)

    def of(self, key: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            self._scan()
            found = self.by_key.get(key, [])
            if len(found) > 1:
                raise AssertionError(f"{len(found)} records for plan {key}")
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no record for plan {key}:\n{self.proxy.output()[-4000:]}")
            time.sleep(0.02)


def case_plan(case: Case) -> Plan:
    """The case's body as upstream sends it: in ~40 pieces, not re-encoded (a case's own
    content-encoding header goes out as it is, lie or truncated gzip included), with the
    case's status and content type."""
    return Plan(
        case.body,
        max_piece=max(96, len(case.body) // 40),
        max_pause=0.002 if len(case.body) < 100_000 else 0.0,
        status=case.status,
        headers={"content-type": case.content_type, **case.headers},
    )


def send(
    client: httpx2.Client, proxy: Mitmdump, plan: Plan, provider: str, body: bytes
) -> tuple[int, bytes]:
    url = f"{proxy.url}/p/{plan.key}{PATHS[provider]}"
    headers = {"content-type": "application/json"}
    with client.stream("POST", url, content=body, headers=headers) as response:
        return response.status_code, b"".join(response.iter_raw())


def check_normal_request(
    upstream: Upstream, proxy: Mitmdump, client: httpx2.Client, provider: str
) -> Plan:
    """A well-formed stream passes unchanged: the proxy still works."""
    plan = upstream.add(answer(NORMAL_STREAMS[provider]))
    status, got = send(client, proxy, plan, provider, b'{"model": "m", "stream": true}')
    assert status == 200
    assert got == plan.body
    return plan


@dataclass
class Proxies:
    catalogue: Mitmdump
    catalogue_records: Records
    blocked: Mitmdump
    blocker: Path


@pytest.fixture(scope="module")
def proxies(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxies]:
    """Two mitmdumps of their own, started side by side: the catalogue's dumps (one is 10 MB)
    stay out of the shared proxies, and one mitmdump gets a dump folder it cannot create."""
    reverse = ("--mode", f"reverse:http://127.0.0.1:{upstream.port}")
    catalogue = Mitmdump(tmp_path_factory.mktemp("bad-input"), *reverse)
    blocked = Mitmdump(tmp_path_factory.mktemp("unwritable-dumps"), *reverse)
    # A folder below a regular file can never be created, not even by root (a read-only
    # folder would be written anyway when the tests run as root).
    blocker = blocked.workdir / "regular-file"
    blocker.write_text("not a folder\n")
    blocked.dumps = blocker / "dumps"
    try:
        for proxy in (catalogue, blocked):
            proxy.launch()
        for proxy in (catalogue, blocked):
            proxy.wait_listening()
        yield Proxies(catalogue, Records(catalogue), blocked, blocker)
    finally:
        for proxy in (catalogue, blocked):
            proxy.stop()


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.name)
def test_bad_input_through_mitmdump_passes_unchanged_and_gives_a_readable_record(
    upstream: Upstream, proxies: Proxies, case: Case
):
    proxy = proxies.catalogue
    plan = upstream.add(case_plan(case))
    with httpx2.Client(trust_env=False, timeout=30) as client:
        status, got = send(client, proxy, plan, case.provider, case.request_body)
        assert plan.finished.wait(10) and plan.outcome == "complete"
        # The client's bytes are exactly upstream's, whatever they are.
        assert status == case.status
        assert got == plan.wire_body == case.body
        after = check_normal_request(upstream, proxy, client, "anthropic-messages")

    record = proxies.catalogue_records.of(plan.key)
    assert record["provider"] == case.provider
    assert record["status_code"] == case.status
    assert record["complete"] is case.complete, record["errors"]
    if not case.complete:
        assert record["errors"], "an incomplete record must say why"
    assert all(isinstance(e, str) and e.strip() for e in record["errors"]), record["errors"]
    if case.error:
        assert any(case.error.lower() in e.lower() for e in record["errors"]), record["errors"]
    if case.check is not None:
        case.check(record)

    assert proxies.catalogue_records.of(after.key)["complete"] is True
    assert proxy.process is not None and proxy.process.poll() is None
    assert "Traceback" not in proxy.output()


def test_unwritable_dump_folder_gives_one_error_line_and_records_still_reach_the_capture(
    upstream: Upstream, proxies: Proxies
):
    proxy = proxies.blocked
    plans: dict[str, str] = {}  # plan key -> provider
    with httpx2.Client(trust_env=False, timeout=30) as client:
        for _ in range(2):
            for provider in sorted(NORMAL_STREAMS):
                plans[check_normal_request(upstream, proxy, client, provider).key] = provider
        broken = upstream.add(case_plan(CATALOGUE[1]))  # invalid JSON in data
        status, got = send(client, proxy, broken, "anthropic-messages", b"{}")
        assert (status, got) == (200, broken.body)
        plans[broken.key] = "anthropic-messages"
        # The same sentence for every flow would drown the log; one line says it all.
        proxy.wait_for_output(DUMP_FAILED)
        last = check_normal_request(upstream, proxy, client, "openai-chat")
        plans[last.key] = "openai-chat"
    assert proxy.process is not None and proxy.process.poll() is None, "mitmdump keeps serving"
    proxy.stop()  # flushes -w
    output = proxy.output()
    error_lines = [line for line in output.splitlines() if DUMP_FAILED in line]
    assert len(error_lines) == 1, output
    assert str(proxies.blocker / "dumps") in error_lines[0]
    assert "Not a directory" in error_lines[0]
    assert "Traceback" not in output
    # Every flow still gets its summary line, naming no dump file.
    summaries = [line for line in output.splitlines() if SUMMARY.search(line)]
    assert len(summaries) == len(plans), output
    assert not any(" -> " in line for line in summaries)

    with proxy.flow_file.open("rb") as file:
        flows = {f.request.path.split("/")[2]: f for f in io.FlowReader(file).stream()}
    assert set(flows) == set(plans)
    for key, provider in plans.items():
        record = flows[key].metadata["llm_rebuild"]
        plan = upstream.plans[key]
        expected = rebuild(provider, plan.body)
        assert record["response"] == expected["response"]
        assert record["complete"] is expected["complete"]
        assert record["complete"] is (key != broken.key)
