# -*- coding: utf-8 -*-
"""The pieces of `make bench` (tests/bench/bench.py) that its numbers rest on: the latency proxy
forwards every call unchanged, delays it and counts it by kind; the ratios and the Markdown table."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench  # noqa: E402  pylint: disable=wrong-import-position
from sandbox import Sandbox  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def proxied():
    with Sandbox(tenants={"t01": {}}, page_size=100) as sandbox:
        proxy = bench.LatencyProxy(sandbox.url, 0.2)
        proxy.start()
        try:
            yield sandbox, proxy
        finally:
            proxy.stop()


def test_proxy_forwards_delays_and_counts_by_kind(proxied):
    sandbox, proxy = proxied
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        started = time.monotonic()
        answer = http.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "mc-t01-client",
                                                 "client_secret": "mc-t01-secret"})
        assert time.monotonic() - started >= 0.2
        assert answer.status_code == 200, answer.text
        auth = {"Authorization": "Bearer " + answer.json()["access_token"]}
        listed = http.post("/api/ttp/url/get-all-managed-urls", json={"data": []}, headers=auth)
        assert listed.status_code == 200 and listed.json()["data"] == []
        assert "X-RateLimit-Remaining" in listed.headers
        created = http.post("/api/ttp/url/create-managed-url", headers=auth, json={"data": [
            {"url": "a.bench-sim.example", "action": "permit", "matchType": "domain"},
            {"url": "b.bench-sim.example", "action": "permit", "matchType": "domain"}]})
        assert created.status_code == 200 and len(created.json()["data"]) == 2
        rest = http.get("/policy-management/cloud-gateway/v1/greylisting/policies", headers=auth)
        assert rest.status_code == 200
        missing = http.delete("/policy-management/cloud-gateway/v1/greylisting/policies/nope", headers=auth)
        assert missing.status_code == 404
    assert proxy.take_counts() == {"token": 1, "read": 2, "write": 2, "total": 5}
    assert proxy.take_counts() == {"token": 0, "read": 0, "write": 0, "total": 0}
    assert len(sandbox.state("t01")["managed_urls"]) == 2
    assert len(sandbox.writes("t01")) == 2


def test_ratios_and_table():
    def row(approach, run, calls, wall):
        return {"approach": approach, "run": run, "tenants": 1, "wall_s": wall, "cpu_s": 2.0, "cpu_s_per_tenant": 2.0,
                "calls": {"token": 1, "read": 4, "write": calls - 5, "total": calls}}
    results = {"runs": [row("role", "first", 12, 3.0), row("uri_per_item", "first", 38, 9.0),
                        row("uri_batched", "first", 10, 6.0)], "scaling": [], "overhead": [],
               "meta": {"machine": {"cpus": 2, "cpu_model": "Test CPU", "memory": "1.0 GiB", "python": "3.11",
                                    "ansible_core": "2.19", "load_average_at_start": [1.0, 1.0, 1.0],
                                    "load_average_at_end": [2.0, 2.0, 2.0]},
                        "bench_wall_s": 20.0, "delay_ms": 150, "vendor_set": "50 entries", "quick": False}}
    bench.add_ratios(results)
    role = results["runs"][0]
    assert role["vs_uri_per_item"] == {"calls": 0.32, "wall": 0.33, "cpu": 1.0}
    assert role["vs_uri_batched"] == {"calls": 1.2, "wall": 0.5, "cpu": 1.0}
    table = bench.markdown(results)
    assert "| role phish_sim_allowlist | first run | 12 (1/4/7) | 3.0 | 2.00 | 0.32× calls, 0.33× wall " \
           "| 1.2× calls, 0.5× wall |" in table
    assert "Test CPU" in table and "150 ms" in table


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        bench.parse_args(["--tenants", "1,x"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--parts", "everything"])
    quick = bench.parse_args(["--quick"])
    assert quick.tenants == [] and quick.overhead_tasks == 0 and quick.delay == 0.02
    full = bench.parse_args([])
    assert full.tenants == [1, 10, 50] and full.forks == 10 and full.delay == 0.15
