"""Every record the corpus and `flows/` give, in one folder: to diff before and after a change.

    uv run python tools/dump_records.py OUT_DIR

Corpus SSE streams go through `addon.rebuild`; every other corpus body with a `.meta.json`
(event-stream, NDJSON, JSON arrays, plain JSON) is routed by its recorded method and URL and
rebuilt with its recorded status and content type, as the proxy would; each capture
in `flows/` goes through a real `mitmdump -nr ... -s addon/llm_rebuild.py` (timing included).
Records are written with sorted keys, one file per body or flow, so `diff -r BEFORE AFTER`
shows exactly what changed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addon import rebuild  # noqa: E402
from addon.record import rebuild_answer  # noqa: E402
from addon.record.routing import Router  # noqa: E402
from tests.oracles import ALL_STREAMS, CORPUS  # noqa: E402


def main(out: Path) -> None:
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    for provider, path in ALL_STREAMS:
        record = rebuild(provider, path.read_bytes())
        record = record if isinstance(record, dict) else record.to_json()
        name = path.relative_to(CORPUS).as_posix().replace("/", "__") + ".json"
        (out / "corpus" / name).write_text(json.dumps(record, indent=1, sort_keys=True))
    routes = Router()
    for meta_path in sorted(CORPUS.rglob("*.meta.json")):
        body_path = meta_path.with_name(meta_path.name.removesuffix(".meta.json"))
        if body_path.suffix == ".sse" or not body_path.exists():
            continue
        meta = json.loads(meta_path.read_text())
        url = urlsplit(meta.get("uri", ""))
        target = url.path + (f"?{url.query}" if url.query else "")
        provider = routes.provider_for(
            url.hostname or "", url.port or 443, target, meta.get("method", "POST")
        )
        name = body_path.relative_to(CORPUS).as_posix().replace("/", "__") + ".json"
        if provider is None:
            (out / "corpus" / name).write_text('"not routed"')
            continue
        headers = meta.get("response_headers") or {}
        status = (meta.get("status") or {}).get("code")
        record = rebuild_answer(
            provider,
            body_path.read_bytes(),
            _header(headers, "content-type"),
            "",  # the corpus keeps bodies decoded
            status,
            target,
        )
        text = json.dumps(record.to_json(), indent=1, sort_keys=True, default=repr)
        (out / "corpus" / name).write_text(text)
    for capture in sorted((ROOT / "flows").glob("*.flow")):
        with tempfile.TemporaryDirectory() as dumps:
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "mitmdump"),
                    "-nr",
                    str(capture),
                    "-s",
                    str(ROOT / "addon/llm_rebuild.py"),
                    "--set",
                    f"llm_dump_dir={dumps}",
                    "--flow-detail",
                    "0",
                    "-q",
                ],
                check=False,
                cwd=ROOT,
            )
            target = out / "flows" / capture.stem
            target.mkdir(parents=True, exist_ok=True)
            for dump in sorted(Path(dumps).glob("*.json")):
                record = json.loads(dump.read_text())
                (target / f"{record['flow_id']}.json").write_text(
                    json.dumps(record, indent=1, sort_keys=True)
                )


def _header(headers: dict[str, list[str] | str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the records to")
    main(parser.parse_args().out_dir)
