# -*- coding: utf-8 -*-
"""mimecast_audit: every pitfall seeded once is reported with its severity and object; a clean
tenant has none; nothing is ever written."""

from __future__ import annotations

import json
import re

import pytest

from conftest import module_task
from sandbox.dns_server import DnsServer, mimecast_netblock_zone

AUDIT = "mailsec.mimecast.mimecast_audit"
EVERYONE = {"type": "everyone"}


def policy(description, option, **extra):
    return dict({"description": description, "option": option, "from": EVERYONE, "to": EVERYONE}, **extra)


@pytest.fixture
def dns():
    server = DnsServer(mimecast_netblock_zone())
    server.start_address = server.start()
    zone = {
        ("partner-o365.example", "TXT"): ["v=spf1 include:spf.protection.outlook.com -all"],
        ("spf.protection.outlook.com", "TXT"): ["v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 -all"],
        ("plusall.example", "TXT"): ["v=spf1 ip4:198.51.100.7 +all"],
        ("longspf.example", "TXT"): ["v=spf1 " + " ".join("ip4:203.0.113.%d" % i for i in range(12)) + " -all"],
        ("corp.example", "MX"): ["10 us-smtp-inbound-1.mimecast.com.", "30 aspmx.l.google.com."],
        ("corp.example", "TXT"): ["v=spf1 include:_spf.google.com -all"],
        ("_dmarc.corp.example", "TXT"): ["v=DMARC1; p=none"],
        ("corp-mail.example", "MX"): ["10 us-smtp-inbound-1.mimecast.com."],
        ("corp-mail.example", "TXT"): ["v=spf1 include:us._netblocks.mimecast.com -all"],
        ("_dmarc.corp-mail.example", "TXT"): ["v=DMARC1; p=reject"],
        ("acme.example", "MX"): ["10 us-smtp-inbound-1.mimecast.com.", "20 us-smtp-inbound-2.mimecast.com."],
        ("acme.example", "TXT"): ["v=spf1 include:us._netblocks.mimecast.com -all"],
        ("_dmarc.acme.example", "TXT"): ["v=DMARC1; p=quarantine"],
    }
    for (name, rtype), values in zone.items():
        server.set(name, rtype, values)
    yield server
    server.stop()


def seed_pitfalls(sandbox):
    t = "demo"
    sandbox.seed(t, "anti-spoofing-bypass", [
        policy("Partner on Office 365", "enable_bypass", spfDomains=["partner-o365.example"],
               fromEternal=False, toEternal=False, fromDateTime="2026-01-01T00:00:00+0000",
               toDateTime="2026-12-31T23:59:59+0000"),
        policy("Plus-all partner", "enable_bypass", spfDomains=["plusall.example"], toEternal=False,
               fromEternal=False, fromDateTime="2026-01-01T00:00:00+0000", toDateTime="2026-12-31T23:59:59+0000"),
        policy("Long SPF partner", "enable_bypass", spfDomains=["longspf.example"], toEternal=False,
               fromEternal=False, fromDateTime="2026-01-01T00:00:00+0000", toDateTime="2026-12-31T23:59:59+0000"),
    ])
    missing_group = "eNo1" + "A" * 240
    empty_group = sandbox.seed(t, "groups", [{"description": "Old VIPs"}])[0]
    sandbox.seed(t, "anti-spoofing", [
        policy("Enforce corp.example", "apply", **{"from": {"type": "email_domain", "domain": "corp.example"}}),
        policy("Office 365 range", "no_action", sourceIPs=["40.107.0.0/24"]),
        policy("Q4 phishing simulation", "no_action", sourceIPs=["52.201.210.35"]),
        policy("VIP bypass", "no_action", sourceIPs=["52.201.210.36"],
               to={"type": "profile_group", "groupId": missing_group}),
        policy("Stale VIPs bypass", "no_action", sourceIPs=["52.201.210.37"],
               to={"type": "profile_group", "groupId": empty_group}),
    ])
    sandbox.seed(t, "greylisting", [policy("Wide partner", "no_action", sourceIPs=["52.0.0.0/16"])])
    sandbox.seed(t, "blocked-senders", [policy("Lab relay", "no_action", sourceIPs=["10.1.0.0/24"])])
    sandbox.seed(t, "group_members", [{"group": "Permitted Senders", "domain": d}
                                      for d in ("corp.example", "gmail.com", "partner.example")])
    sandbox.seed(t, "managed_urls", [{"url": "docs-sim.example", "action": "permit", "matchType": "domain",
                                      "disableRewrite": True}])


EXPECTED = {
    "MC-ASB-001": ("critical", {"domain": "partner-o365.example"}),
    "MC-ASB-002": ("critical", {"domain": "plusall.example"}),
    "MC-ASB-003": ("medium", {"domain": "longspf.example"}),
    "MC-IP-001": ("critical", {"range": "40.107.0.0/24"}),
    "MC-IP-002": ("high", {"range": "52.0.0.0/16"}),
    "MC-IP-003": ("medium", {"range": "10.1.0.0/24", "type": "blocked-senders"}),
    "MC-PS-001": ("critical", {"member": "corp.example"}),
    "MC-PS-002": ("high", {"member": "gmail.com"}),
    "MC-PS-003": ("medium", {"member": "partner.example"}),
    "MC-ASP-001": ("high", {"domain": "corp-mail.example"}),
    "MC-URL-001": ("medium", {"url": "docs-sim.example"}),
    "MC-POL-001": ("medium", {"policy": "Q4 phishing simulation"}),
    "MC-POL-002": ("high", {"policy": "VIP bypass"}),
    "MC-POL-003": ("low", {"policy": "Stale VIPs bypass"}),
    "MC-DNS-001": ("high", {"domain": "corp.example"}),
    "MC-DNS-002": ("medium", {"domain": "corp.example"}),
    "MC-DNS-003": ("medium", {"domain": "corp.example"}),
}


def audit(play, dns, tenant, **extra):
    host, port = dns.start_address
    result = play([module_task(AUDIT, tenant_name=tenant, nameservers=[host], dns_port=port, dns_timeout=1, **extra)],
                  tenant=tenant)
    return result, result.task("t")


def test_every_pitfall_reported_once_with_severity_and_object(sandbox, play, dns, tmp_path):
    seed_pitfalls(sandbox)
    result, out = audit(play, dns, "demo")
    assert result.rc == 0, out
    found = {f["id"]: f for f in out["findings"]}
    assert set(found) == set(EXPECTED), sorted(set(found) ^ set(EXPECTED))
    for check_id, (severity, obj) in EXPECTED.items():
        assert found[check_id]["severity"] == severity, check_id
        assert any(obj.items() <= o.items() for o in found[check_id]["objects"]), (check_id, found[check_id]["objects"])
    assert out["errors"] == []
    assert [m["id"] for m in out["manual_checks"]] == ["MC-MAN-001", "MC-MAN-002", "MC-MAN-003", "MC-MAN-004"]
    assert out["score"] < 50
    assert sandbox.writes("demo") == [] and out["api_calls"]["write"] == 0
    assert "<style>" in out["report_html"] and "<script" not in out["report_html"] and "http" not in out["report_html"]
    assert "MC-ASB-001" in out["report_markdown"]
    (tmp_path / "demo.html").write_text(out["report_html"])


def test_clean_tenant_has_no_findings(sandbox, play, dns):
    sandbox.seed("acme", "anti-spoofing", [policy("Enforce acme.example", "apply",
                                                  **{"from": {"type": "email_domain", "domain": "acme.example"}})])
    result, out = audit(play, dns, "acme")
    assert result.rc == 0, out
    assert out["findings"] == [] and out["score"] == 100.0 and out["errors"] == []
    assert sandbox.writes("acme") == []


def test_fail_on_severity_for_ci(sandbox, play, dns):
    seed_pitfalls(sandbox)
    result, out = audit(play, dns, "demo", fail_on_severity="critical")
    assert result.rc != 0 and "MC-ASB-001" in out["msg"]
    assert sandbox.writes("demo") == []


def test_audit_playbook_reports_summary_and_ci_threshold(sandbox, play, dns, tmp_path):
    from conftest import ROOT

    seed_pitfalls(sandbox)
    sandbox.seed("acme", "anti-spoofing", [policy("Enforce acme.example", "apply",
                                                  **{"from": {"type": "email_domain", "domain": "acme.example"}})])
    host, port = dns.start_address
    inventory = tmp_path / "tenants.yml"
    lines = ["mimecast_tenants:", "  hosts:"]
    for tenant in ("demo", "acme"):
        lines += ["    %s:" % tenant, "      mimecast_base_url: %s" % sandbox.url,
                  "      mimecast_client_id: mc-%s-client" % tenant, "      mimecast_client_secret: mc-%s-secret" % tenant]
    inventory.write_text("\n".join(lines) + "\n")
    reports = tmp_path / "reports"
    args = ("-i", str(inventory), "-e", json.dumps({"audit_report_dir": str(reports), "audit_nameservers": [host],
                                                    "audit_dns_port": port}))
    result = play([], playbook=ROOT / "playbooks" / "audit.yml", extra_args=args)
    assert result.rc == 0, result.stdout[-3000:]
    for tenant in ("demo", "acme"):
        for ext in ("json", "md", "html"):
            assert (reports / ("%s.%s" % (tenant, ext))).is_file()
    summary = (reports / "summary.md").read_text()
    assert "| acme | 100.0 |" in summary and "| demo |" in summary
    assert len(list((reports / "history").glob("*.json"))) == 2
    assert sandbox.writes() == []
    failing = play([], playbook=ROOT / "playbooks" / "audit.yml", extra_args=args + ("-e", "audit_fail_on_severity=high"))
    assert failing.rc != 0 and "demo: MC-ASB-001" in failing.stdout


def clean_acme(sandbox):
    sandbox.seed("acme", "anti-spoofing", [policy("Enforce acme.example", "apply",
                                                  **{"from": {"type": "email_domain", "domain": "acme.example"}})])


def test_spf_lookup_failure_is_not_a_pass(sandbox, play, dns):
    # Issue 8 item 9: a SERVFAIL for the bypass domain's SPF used to pass MC-ASB-001 and raise the score.
    clean_acme(sandbox)
    sandbox.seed("acme", "anti-spoofing-bypass", [
        policy("Partner bypass", "enable_bypass", spfDomains=["partner-o365.example"])])
    dns.fail("partner-o365.example", "servfail")
    result, out = audit(play, dns, "acme")
    assert result.rc == 0, out
    checks = {c["id"]: c for c in out["checks"]}
    for cid in ("MC-ASB-001", "MC-ASB-002", "MC-ASB-003"):
        assert checks[cid]["passed"] is False and checks[cid]["status"] == "not_checked", checks[cid]
        assert "partner-o365.example" in checks[cid]["not_checked"][0]
    assert out["incomplete"] is True and out["score"] < 100.0
    assert out["score_checked"] == 100.0 and out["findings"] == []
    assert [n["id"] for n in out["not_checked"]] == ["MC-ASB-001", "MC-ASB-002", "MC-ASB-003"]
    assert "| not checked |" in out["report_markdown"] and "**Incomplete:**" in out["report_markdown"]
    assert "not checked" in out["report_html"] and "Incomplete:" in out["report_html"]
    # The same domain answering: the check runs, fails, and the score is lower still than "passed".
    dns.fail("partner-o365.example", None)
    answered = audit(play, dns, "acme")[1]
    assert answered["incomplete"] is False and [f["id"] for f in answered["findings"]] == ["MC-ASB-001"]


def test_servfail_on_own_domain_dns_is_not_checked_not_passed(sandbox, play, dns):
    clean_acme(sandbox)
    dns.fail("_dmarc.acme.example", "servfail")
    out = audit(play, dns, "acme")[1]
    checks = {c["id"]: c for c in out["checks"]}
    assert checks["MC-DNS-003"]["status"] == "not_checked" and checks["MC-DNS-001"]["status"] == "pass"
    assert out["incomplete"] is True and out["score"] < 100.0


def test_bad_name_server_fails_cleanly(sandbox, play):
    # Issue 8 item 7: 'MimecastModule' object has no attribute 'warn'
    result = play([module_task(AUDIT, nameservers=["not-an-ip"])])
    out = result.task("t")
    assert result.rc != 0 and "nameservers not-an-ip" in out["msg"], out
    assert "module_stderr" not in out and "Traceback" not in result.stdout + result.stderr
    port = play([module_task(AUDIT, nameservers=["127.0.0.1"], dns_port=99999)]).task("t")
    assert "dns_port 99999" in port["msg"]


HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "x | y\n| MC-FAKE | info | pass | 0 |",
           "[click](https://evil.example) ![i](https://evil.example/i.png) `code` **b**"]


def test_hostile_tenant_names_escaped_in_markdown_and_html(sandbox, play, dns):
    # Issue 8 item 10: tenant-controlled names landed raw in the Markdown report.
    sandbox.seed("demo", "anti-spoofing", [
        policy(name + " campaign", "no_action", sourceIPs=["10.0.0.0/8"]) for name in HOSTILE])
    group_id = sandbox.seed("demo", "groups", [{"description": HOSTILE[1] + " permitted senders"}])[0]
    sandbox.seed("demo", "group_members", [{"id": group_id, "domain": "gmail.com"}])
    out = audit(play, dns, "demo")[1]
    report = out["report_markdown"]
    assert "MC-IP-003" in report and "MC-PS-002" in report
    for raw in ("<script", "<img", "](https://evil", "`code`", "**b**"):
        assert raw not in report, raw
    assert re.search(r"(?<!\\)\| MC-FAKE", report) is None
    assert "&lt;script&gt;" in report and "\\[click\\]\\(https://evil.example\\)" in report
    assert not any(line.startswith("| MC-FAKE") for line in report.splitlines())
    html = out["report_html"]
    assert "<script" not in html and "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
