"""Known secrets, planted in every place a client puts them, appear in no byte we write."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mitmproxy import http, io
from mitmproxy.test import tflow

from addon.llm_rebuild import METADATA_KEY
from tests.oracles import CORPUS

pytestmark = pytest.mark.live  # runs mitmdump

ROOT = Path(__file__).resolve().parent.parent
MITMDUMP = Path(sys.executable).parent / "mitmdump"

SECRETS = {
    "authorization": "sk-proj-SECRET-authorization-0001",
    "x-api-key": "sk-ant-SECRET-x-api-key-0002",
    "api-key": "SECRET-azure-api-key-0003",
    "cookie": "SECRET-cookie-0004",
    "proxy-authorization": "SECRET-proxy-auth-0005",
    "x-goog-api-key": "SECRET-goog-0006",
    "query key": "SECRET-query-key-0007",
    "query api_key": "SECRET-query-api-key-0008",
    "body api_key": "SECRET-body-api-key-0009",
    "body client_secret": "SECRET-body-client-secret-0010",
    "custom header (llm_redact)": "SECRET-custom-header-0011",
    "custom body field (llm_redact)": "SECRET-custom-body-0012",
    "x-amz-security-token": "SECRET-aws-session-token-0013",
    "x-goog-user-project": "SECRET-goog-project-0014",
    "query X-Amz-Signature": "SECRET-aws-presigned-0015",
}


def planted_flows() -> list[http.HTTPFlow]:
    flows = []
    for provider_path, stream in [
        ("/v1/messages", "sdk/anthropic/tool_use_response.sse"),
        ("/v1/chat/completions", "ccproxy/copilot_chat_completions_tools.sse"),
        ("/v1/responses", "ccproxy/codex_responses.sse"),
    ]:
        flow = tflow.tflow(resp=True)
        flow.live = False
        flow.request.host = "llm.example.test"
        flow.request.path = (
            f"{provider_path}?key={SECRETS['query key']}"
            f"&api_key={SECRETS['query api_key']}&beta=true"
            f"&X-Amz-Signature={SECRETS['query X-Amz-Signature']}"
        )
        flow.request.method = "POST"
        headers = flow.request.headers
        headers["authorization"] = f"Bearer {SECRETS['authorization']}"
        headers["x-api-key"] = SECRETS["x-api-key"]
        headers["api-key"] = SECRETS["api-key"]
        headers["cookie"] = f"session={SECRETS['cookie']}"
        headers["proxy-authorization"] = f"Basic {SECRETS['proxy-authorization']}"
        headers["x-goog-api-key"] = SECRETS["x-goog-api-key"]
        headers["x-amz-security-token"] = SECRETS["x-amz-security-token"]
        headers["x-goog-user-project"] = SECRETS["x-goog-user-project"]
        headers["x-tenant-token"] = SECRETS["custom header (llm_redact)"]
        flow.request.content = json.dumps(
            {
                "model": "m",
                "stream": True,
                "api_key": SECRETS["body api_key"],
                "auth": {"client_secret": SECRETS["body client_secret"]},
                "metadata": {"tenant_secret": SECRETS["custom body field (llm_redact)"]},
            }
        ).encode()
        flow.response = http.Response.make(
            200, (CORPUS / stream).read_bytes(), {"content-type": "text/event-stream"}
        )
        flows.append(flow)
    return flows


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secrets")
    capture = folder / "planted.flow"
    with capture.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in planted_flows():
            writer.add(flow)
    dumps = folder / "dumps"
    saved = folder / "out.flow"
    command = [str(MITMDUMP), "-nr", str(capture), "-s", "addon/llm_rebuild.py", "-w", str(saved)]
    options = {
        "llm_dump_dir": str(dumps),
        "termlog_verbosity": "debug",
        # mitmproxy's own flow listing prints URLs as sent (README: Guarantees); ours must not.
        "flow_detail": "0",
        "llm_redact": ["x-tenant-token", "tenant_secret"],
    }
    for name, values in options.items():
        for value in values if isinstance(values, list) else [values]:
            command += ["--set", f"{name}={value}"]
    result = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    return dumps, saved, result.stdout + result.stderr


def test_no_secret_in_any_dump_file(replay):
    dumps, _, _ = replay
    files = list(dumps.iterdir())
    assert len(files) == 3
    written = b"".join(p.read_bytes() for p in files)
    for where, secret in SECRETS.items():
        assert secret.encode() not in written, f"{where} leaked into a dump"


def test_no_secret_in_any_log_line_or_summary(replay):
    _, _, output = replay
    assert b"llm " in output  # the summary lines are there
    for where, secret in SECRETS.items():
        assert secret.encode() not in output, f"{where} leaked into the log"


def test_no_secret_in_the_records_saved_with_the_flows(replay):
    _, saved, _ = replay
    with saved.open("rb") as file:
        records = [f.metadata[METADATA_KEY] for f in io.FlowReader(file).stream()]
    text = json.dumps(records)
    assert len(records) == 3
    for where, secret in SECRETS.items():
        assert secret not in text, f"{where} leaked into flow metadata"


def test_redacted_places_still_show_that_a_credential_was_sent(replay):
    dumps, _, _ = replay
    record = json.loads(next(dumps.iterdir()).read_text())
    assert record["request"]["headers"]["authorization"] == "[REDACTED]"
    assert record["request"]["body"]["api_key"] == "[REDACTED]"
    assert "beta=true" in record["request"]["url"]
