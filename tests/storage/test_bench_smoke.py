"""The store benchmark still runs end to end (tiny sizes); its timings are never asserted."""

import json
from pathlib import Path

import pytest

from bench import store as bench


@pytest.mark.slow
def test_the_store_benchmark_runs_and_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "store.json"

    assert bench.main(["--quick", "--out", str(out)]) == 0

    results = json.loads(out.read_text())
    assert set(results["write_ms"]) == {"journal", "tinydb_default", "sqlite_wal_full"}
    assert all(len(sizes) == 3 for sizes in results["write_ms"].values())
    assert {"max_stall_ms", "max_loop_cpu_per_call_ms", "compaction_ms"} <= set(results["stalls"])
    assert {"open_s", "peak_rss_mb"} <= set(results["startup"])
    assert set(results["targets"]) == set(bench.TARGETS)
    assert "puts_per_s_50_writers" in results["postgres"] or "skipped" in results["postgres"]
    assert "targets:" in capsys.readouterr().out
