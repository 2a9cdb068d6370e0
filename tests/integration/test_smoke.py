# -*- coding: utf-8 -*-
"""playbooks/smoke.yml against the sandbox: every read, zero writes, a shape report without values."""

from __future__ import annotations

import json

from conftest import CREDENTIALS, ROOT, module_task

from ansible_collections.mailsec.mimecast.plugins.module_utils._smoke import ENDPOINTS

PLAYBOOK = ROOT / "playbooks" / "smoke.yml"
CG = "/policy-management/cloud-gateway/v1/"
SECRETS_OF_THE_TENANT = ["Sim relay 7f3a", "Quarterly VIPs 9c1d", "vip.person@corp.example",
                         "sim-sender@vendor.example", "docs-sim.example", "52.201.210.35", "Smoke subject 4e2b"]


def seed(sandbox):
    sandbox.seed("demo", "anti-spoofing", [{"description": "Sim relay 7f3a", "option": "no_action",
                                            "sourceIPs": ["52.201.210.0/24"]}])
    sandbox.seed("demo", "groups", [{"description": "Quarterly VIPs 9c1d"}])
    sandbox.seed("demo", "group_members", [{"group": "Quarterly VIPs 9c1d", "emailAddress": "vip.person@corp.example"}])
    sandbox.seed("demo", "managed_urls", [{"url": "docs-sim.example", "action": "permit", "matchType": "domain",
                                           "disableRewrite": True}])
    sandbox.deliver("demo", "sim-sender@vendor.example", ["vip.person@corp.example"], "Smoke subject 4e2b",
                    "52.201.210.35", "<p>hello</p>")


def run_smoke(play, tmp_path, **kwargs):
    out_dir = tmp_path / "report"
    result = play(None, playbook=PLAYBOOK, extra_args=("-e", "smoke_report_dir=%s" % out_dir), **kwargs)
    return result, out_dir


def test_smoke_reads_everything_writes_nothing_and_leaks_no_value(sandbox, play, tmp_path):
    seed(sandbox)
    sandbox.clear_requests()
    result, out_dir = run_smoke(play, tmp_path)
    smoke = result.task("Call every read and write the shape report")
    assert result.rc == 0, (result.stdout, result.stderr)
    assert sandbox.writes("demo") == [] and smoke["api_calls"]["write"] == 0
    assert smoke["changed"] is False
    report = json.loads((out_dir / "smoke-report.json").read_text())
    text = (out_dir / "smoke-report.json").read_text() + (out_dir / "smoke-report.md").read_text()
    # Every endpoint was called (none skipped) and is in both reports.
    called = {r["path"] for r in sandbox.requests("demo")}
    for label, method, path, *dummy in ENDPOINTS:
        assert report["endpoints"][label]["endpoint"] == "%s %s" % (method, path)
        assert report["endpoints"][label]["calls"] >= 1 and path in called
        assert path in (out_dir / "smoke-report.md").read_text()
    assert smoke["mismatch_count"] == 0 and smoke["mismatches"] == {}, report
    assert smoke["error_count"] == 0
    # No value of the tenant: descriptions, addresses, ids, the credentials.
    state = sandbox.state("demo")
    ids = [p["id"] for p in state["anti-spoofing"]] + [g["id"] for g in state["groups"]]
    ids += [u["entryId"] for u in state["managed_urls"]] + [m["id"] for m in state["messages"]]
    for value in SECRETS_OF_THE_TENANT + ids + list(CREDENTIALS["demo"]) + ["corp.example"]:
        assert value not in text, value


def test_smoke_lists_each_mismatch_of_an_alternative_shape(sandbox, play, tmp_path):
    """Wrapped items, a top-level next-page token, two list keys, a list key left out."""
    sandbox.add_fault(method="GET", path=CG + "anti-spoofing/policies", status=200, times=10,
                      body={"policies": [{"policy": {"id": "x1", "description": "Wrapped one"}}],
                            "meta": {"nextToken": None}})
    sandbox.add_fault(method="GET", path=CG + "greylisting/policies", status=200, times=10,
                      body={"policies": [], "nextToken": None})
    sandbox.add_fault(method="GET", path=CG + "blocked-senders/policies", status=200, times=10,
                      body={"definitions": [], "policies": [{"id": "y1", "description": "Other key"}]})
    sandbox.add_fault(method="GET", path=CG + "delivery-route/definitions", status=200, times=10,
                      body={"meta": {}})
    result, out_dir = run_smoke(play, tmp_path)
    smoke = result.task("Call every read and write the shape report")
    assert result.rc == 0, (result.stdout, result.stderr)
    assert sandbox.writes("demo") == []
    mismatches = smoke["mismatches"]
    # What the collection's reader does not read is a mismatch; what it reads in another shape is a note.
    assert mismatches["anti-spoofing policies"] == ["a paging key the collection does not read: meta.nextToken"]
    assert "greylisting policies" not in mismatches and "blocked senders policies" not in mismatches
    assert mismatches["delivery route definitions"][0].startswith("none of the list keys")
    report = json.loads((out_dir / "smoke-report.json").read_text())
    notes = json.dumps(report)
    assert "the items are wrapped in policy, which the collection unwraps" in notes
    assert "the next-page token is at the top level (nextToken), which the collection reads" in notes
    assert "more than one list key (definitions, policies)" in notes
    md = (out_dir / "smoke-report.md").read_text()
    assert "Wrapped one" not in md and "x1" not in md and "Mismatch" in md


def test_read_only_refuses_a_write_before_sending_it(sandbox, play):
    config = [{"description": "Never written", "source_ips": ["52.201.210.35"]}]
    result = play([module_task("mailsec.mimecast.mimecast_antispoof_bypass", config=config)],
                  extra_env={"MIMECAST_READ_ONLY": "true"})
    out = result.task("t")
    assert result.rc != 0 and "Read-only mode: refused the write POST" in out["msg"], out
    assert "MIMECAST_READ_ONLY" in out["msg"] and out["api_calls"]["write"] == 0
    assert sandbox.writes("demo") == [] and sandbox.state("demo")["anti-spoofing-bypass"] == []


def test_bad_report_dir_and_window_fail_cleanly_before_any_call(sandbox, play, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args, reason in (({"report_dir": str(blocker / "sub")}, "cannot be created"),
                         ({"report_dir": str(tmp_path), "search_minutes": 0}, "search_minutes 0 is out of range"),
                         ({"report_dir": str(tmp_path), "search_minutes": 10 ** 9}, "give a value from 1 to 1440")):
        result = play([module_task("mailsec.mimecast.mimecast_smoke_info", **args)])
        out = result.task("t")
        assert result.rc != 0 and reason in out["msg"], out
        assert "module_stderr" not in out and "Traceback" not in result.stdout
    assert sandbox.requests("demo") == []


def test_smoke_against_the_alternative_shape_sandbox(sandbox, play, tmp_path):
    """The sandbox's alternative list shapes: the run still writes nothing, and the report says how each
    answer differs from the primary shape (values never shown)."""
    seed(sandbox)
    sandbox.set_shapes(["alternative"])
    sandbox.clear_requests()
    result, out_dir = run_smoke(play, tmp_path)
    smoke = result.task("Call every read and write the shape report")
    assert result.rc == 0, (result.stdout, result.stderr)
    assert sandbox.writes("demo") == [] and smoke["api_calls"]["write"] == 0
    text = (out_dir / "smoke-report.json").read_text()
    assert "which the collection unwraps" in text and "at the top level (nextToken)" in text
    assert "more than one list key" in text
    for secret in ("mc-demo-secret", "mc-demo-client"):
        assert secret not in text
