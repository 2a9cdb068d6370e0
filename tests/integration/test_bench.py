# -*- coding: utf-8 -*-
"""`make bench` cannot rot: its quick mode runs here (the sandbox, the latency proxy, the role, the
single modules and both uri baselines on one tenant with a few entries), and its results must be
complete and plausible. The bench itself checks each run (success, no write in a no-op re-run,
the same objects in the tenant after every approach's first run) and exits 1 when one fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_mode(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "bench" / "bench.py"), "--quick",
                           "--output", str(tmp_path)], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    runs = {(r["approach"], r["run"]): r for r in results["runs"]}
    assert set(runs) == {("role", "first"), ("modules", "first"), ("uri_per_item", "first"),
                         ("uri_batched", "first"), ("uri_batched", "noop")}
    for row in runs.values():
        assert row["tenants"] == 1 and row["wall_s"] > 0 and row["cpu_s"] > 0
        assert row["calls"]["total"] == row["calls"]["token"] + row["calls"]["read"] + row["calls"]["write"]
    # The quick set: 1 source IP, 2 link domains, 1 sender. The per-item baseline: 1 token,
    # 4 reads, 2 policies + 1 group + 2 URLs + 1 member; batched: URLs and members in one call each.
    assert runs[("uri_per_item", "first")]["calls"] == {"token": 1, "read": 4, "write": 6, "total": 11}
    assert runs[("uri_batched", "first")]["calls"] == {"token": 1, "read": 4, "write": 5, "total": 10}
    assert runs[("uri_batched", "noop")]["calls"] == {"token": 1, "read": 5, "write": 0, "total": 6}
    assert runs[("role", "first")]["calls"]["write"] > 0 and runs[("modules", "first")]["calls"]["write"] > 0
    assert runs[("role", "first")]["vs_uri_per_item"]["calls"] == round(
        runs[("role", "first")]["calls"]["total"] / 11, 2)
    table = (tmp_path / "results.md").read_text()
    assert "| role phish_sim_allowlist | first run |" in table and "quick mode" in table
    assert "Machine: " in table
