# -*- coding: utf-8 -*-
"""mimecast_audit's Cloud Integrated checks against the sandbox (no DNS: dns_checks off)."""

from __future__ import annotations

from conftest import module_task

AUDIT = "mailsec.mimecast.mimecast_audit"
TARGETS = {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "addressMatch": "BOTH"}


def audit(play, **extra):
    result = play([module_task(AUDIT, dns_checks=False, **extra)])
    return result, result.task("t")


def test_disabled_policy_reported_and_no_ci_account_skipped(sandbox, play):
    [disabled] = sandbox.seed("demo", "cloud_integrated", [
        {"name": "Old pilot", "description": "Old pilot", "protectionMode": "DISABLED", "targets": TARGETS}])
    result, out = audit(play, ci_policy_ids=[disabled])
    assert result.rc == 0, out
    checks = {c["id"]: c for c in out["checks"]}
    assert checks["MC-CI-001"]["status"] == "fail" and checks["MC-CI-002"]["status"] == "pass"
    assert checks["MC-CI-001"]["objects"] == [{"policy": "Old pilot", "id": disabled, "default": False,
                                               "protection_mode": "DISABLED"}]
    assert "MC-CI-001" in out["report_markdown"] and out["not_applicable"] == []
    assert sandbox.writes("demo") == [] and out["api_calls"]["write"] == 0

    sandbox.add_fault(method="GET", path="/email/cloud-integrated/v1/policies/default-policy", status=404)
    result, out = audit(play)
    assert result.rc == 0, out
    assert not {"MC-CI-001", "MC-CI-002"} & {c["id"] for c in out["checks"]}
    assert [s["id"] for s in out["not_applicable"]] == ["MC-CI-001", "MC-CI-002"]
    assert "HTTP 404" in out["not_applicable"][0]["reason"]
    assert out["incomplete"] is False and not {"MC-CI-001", "MC-CI-002"} & {f["id"] for f in out["findings"]}
