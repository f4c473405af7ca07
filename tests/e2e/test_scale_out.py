"""The scale-out recipe of docs/delivery.md, run as it is written: a backfill on Dask's
LocalCluster (two worker processes), one background client per worker process, against the
package's fake server with faults injected. Nothing may be lost."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from customerio_client._fake_server import FakeServer, RecordedRequest
from support.packages import ROOT

DOC = ROOT / "docs" / "delivery.md"


def _recipe() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Scale-out", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "docs/delivery.md has no scale-out recipe"
    return found.group(1)


class Sink:
    """Answers every batch it is given 200 and keeps its message ids (a request failed or
    dropped by an injected fault never reaches it: those messages were not delivered).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ids: set[str] = set()

    def __call__(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        batch: list[dict[str, Any]] = request.json["batch"]
        with self.lock:
            self.ids.update(m["messageId"] for m in batch)
        return 200, {"Content-Type": "application/json"}, json.dumps({}).encode()


def test_the_dask_backfill_recipe_loses_nothing(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    script = tmp_path / "backfill.py"
    script.write_text(_recipe(), encoding="utf-8")
    sink = Sink()
    with FakeServer(sink) as server:
        server.inject_faults(seed=7, error_rate=0.10, drop_rate=0.05)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "generated"),
            "CIO_WRITE_KEY": "cdp-key-123456",
            "CIO_BASE_URL": server.url,
        }
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "sent 20000"
    assert sink.ids == {f"{p}-{n}" for p in range(8) for n in range(2_500)}
