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


def test_ci_spf_include_checked_on_cloud_integrated_accounts_only(sandbox, play, dns):
    """MC-CI-003: the region's Cloud Integrated include, judged only where the account has Cloud Integrated."""
    host, port = dns.address
    domains = [d["domain"] for d in sandbox.state("demo")["internal_domains"]]
    for domain in domains:
        dns.set(domain, "TXT", ["v=spf1 include:us._netblocks.mimecast.com -all"])
        dns.set("_dmarc." + domain, "TXT", ["v=DMARC1; p=reject"])
    dns.set(domains[0], "TXT", ["v=spf1 include:us._netblocks.mimecast.com include:spf.uk-1.a.mimecastprotect.com -all"])
    args = dict(nameservers=[host], dns_port=port, dns_timeout=2)
    result = play([module_task(AUDIT, ci_region="uk", **args)])
    out = result.task("t")
    assert result.rc == 0, out
    ci3 = {c["id"]: c for c in out["checks"]}["MC-CI-003"]
    assert ci3["status"] == "fail" and sorted(o["domain"] for o in ci3["objects"]) == sorted(domains[1:]), ci3
    # without the region: left out of the score and listed as not applicable, never passed
    out = play([module_task(AUDIT, **args)]).task("t")
    assert "MC-CI-003" not in {c["id"] for c in out["checks"]}
    assert [s["reason"] for s in out["not_applicable"] if s["id"] == "MC-CI-003"] == [
        "give ci_region (the Cloud Integrated account's region) to check the SPF include"]
    # a gateway-only account (no Cloud Integrated): not applicable, no finding
    sandbox.add_fault(method="GET", path="/email/cloud-integrated/v1/policies/default-policy", status=404)
    out = play([module_task(AUDIT, ci_region="uk", **args)]).task("t")
    assert "MC-CI-003" not in {c["id"] for c in out["checks"]}
    assert "MC-CI-003" in [s["id"] for s in out["not_applicable"]]
    assert sandbox.writes("demo") == []
