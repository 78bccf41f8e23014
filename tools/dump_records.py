"""Every record the corpus and `flows/` give, in one folder: to diff before and after a change.

    uv run python tools/dump_records.py OUT_DIR

Corpus streams go through `addon.rebuild`; each capture in `flows/` through a real
`mitmdump -nr ... -s addon/llm_rebuild.py` (timing included). Records are written with sorted
keys, one file per stream or flow, so `diff -r BEFORE AFTER` shows exactly what changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from addon import rebuild  # noqa: E402
from tests.oracles import ALL_STREAMS, CORPUS  # noqa: E402


def main(out: Path) -> None:
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    for provider, path in ALL_STREAMS:
        record = rebuild(provider, path.read_bytes())
        record = record if isinstance(record, dict) else record.to_json()
        name = path.relative_to(CORPUS).as_posix().replace("/", "__") + ".json"
        (out / "corpus" / name).write_text(json.dumps(record, indent=1, sort_keys=True))
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


if __name__ == "__main__":
    main(Path(sys.argv[1]))
