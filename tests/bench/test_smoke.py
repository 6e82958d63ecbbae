"""`python -m bench --tiny` runs every scenario on every target, so the benchmark cannot rot. No timings are asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.process import ROOT, clean_env


def test_the_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    result = subprocess.run([sys.executable, "-m", "bench", "--tiny", "--output", str(output)], cwd=ROOT,
                            env=clean_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(output.read_text())
    assert set(results["targets"]) == {"gunicorn", "bot", "naive"}
    for figures in results["targets"].values():
        assert figures["burst"]["answered_once"] == figures["burst"]["commands"]
        assert figures["memory"]["numbers_seen"] == figures["memory"]["distinct"] == figures["memory"]["in_instance"]
        assert figures["miss"]["n"] == figures["raw_sdk"]["n"] == 3
    assert results["targets"]["naive"]["next"]["calls_per_10_clicks"] == 10  # no cache: a call a click
    assert [v["goal"] for v in results["targets_met"]][0] == "cache miss p50 within raw SDK p50 + 15 ms"
    assert "targets (Procfile (gunicorn)):" in result.stdout and "naive bot ÷ Procfile" in result.stdout
