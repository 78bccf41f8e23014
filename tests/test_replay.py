"""`mitmdump -nr <capture> -s addon/llm_rebuild.py` over flows/: the README's main command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from addon.record import RECORD_KEYS
from addon.record.routing import Router
from flows.make_flows import FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY
from tests.conftest import CAPTURE, read_flows, rebuilt

pytestmark = pytest.mark.live  # runs mitmdump

ROOT = Path(__file__).resolve().parent.parent
MITMDUMP = Path(sys.executable).parent / "mitmdump"


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> tuple[list[dict], str]:
    dumps = tmp_path_factory.mktemp("dumps")
    command = [str(MITMDUMP), "-nr", str(CAPTURE), "-s", "addon/llm_rebuild.py"]
    result = subprocess.run(
        [*command, "--set", f"llm_dump_dir={dumps}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(p.read_text()) for p in sorted(dumps.glob("*.json"))]
    return records, result.stdout + result.stderr


def test_captures_are_up_to_date_with_their_script(tmp_path):
    """flows/ is generated; a changed corpus or script must be regenerated and committed."""
    subprocess.run(
        [sys.executable, "flows/make_flows.py", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    for made in tmp_path.glob("*.flow"):
        ours = [f.get_state() for f in read_flows(made)]
        committed = [f.get_state() for f in read_flows(ROOT / "flows" / made.name)]
        assert ours == committed, f"flows/{made.name} is stale: run flows/make_flows.py"


def test_one_record_per_llm_flow_and_none_for_others(replay):
    records, _ = replay
    flows = read_flows()
    router = Router()
    llm = [f for f in flows if router.provider_for(f.request.host, f.request.port, f.request.path)]
    assert len(llm) < len(flows)  # the capture has a non-LLM flow too
    assert sorted(r["flow_id"] for r in records) == sorted(f.id for f in llm)
    for record in records:
        assert set(RECORD_KEYS) <= set(record)


def test_replayed_records_match_the_core_rebuild_of_each_body(replay):
    records, _ = replay
    by_id = {f.id: f for f in read_flows()}
    for record in records:
        flow = by_id[record["flow_id"]]
        expected = rebuilt(record["provider"], flow)
        assert record["response"] == expected["response"], record["flow_id"]
        assert record["complete"] == expected["complete"]
        assert record["errors"] == expected["errors"]


def test_only_the_truncated_stream_and_the_http_error_are_incomplete(replay):
    records, _ = replay
    incomplete = sorted((r["status_code"], r["events"]) for r in records if not r["complete"])
    assert incomplete == [(200, 16), (429, 0)]
    truncated = next(r for r in records if r["status_code"] == 200 and not r["complete"])
    assert truncated["errors"]
    assert truncated["response"]["content"]  # the partial answer is kept


CREDENTIALS = {"x-api-key", "authorization", "x-goog-api-key"}


def test_no_credential_reaches_a_dump_or_the_output(replay):
    records, output = replay
    text = json.dumps(records)
    for secret in (FAKE_ANTHROPIC_KEY, FAKE_OPENAI_KEY):
        assert secret not in text
        assert secret not in output
    with_credentials = [r for r in records if r["request"]["headers"].keys() & CREDENTIALS]
    assert len(with_credentials) >= len(records) - 2  # Ollama's samples, local, send none
    assert text.count("[REDACTED]") >= len(with_credentials)


def test_summary_line_per_llm_flow_in_the_output(replay):
    records, output = replay
    lines = [line for line in output.splitlines() if "] llm " in line or line.startswith("llm ")]
    assert len(lines) == len(records)
