# -*- coding: utf-8 -*-
"""Issue 12: the cloud_integrated role, readiness -> monitor (one group) -> protect (everyone) -> offboard on one
sandbox tenant, Mimecast and Exchange Online sides, each write phase predicted in check mode with 0 writes."""

from __future__ import annotations

ROLE = "mailsec.mimecast.cloud_integrated"
CI_RULES = ["Mimecast CI inbound", "Mimecast CI outbound"]
SEALER = "arc.mimecast.example"
TAG = "[mailsec:cloud-integrated]"


def exo_env(sandbox):
    cfg = sandbox.tenants["demo"]
    return {"EXO_TENANT": cfg["entra_tenant_id"], "EXO_APP_ID": cfg["entra_client_id"],
            "EXO_CLIENT_SECRET": cfg["entra_client_secret"], "EXO_URL": sandbox.url, "EXO_AUTHORITY": sandbox.url}


def role(tmp_path, dns, phase, **extra):
    host, port = dns.address
    variables = {"cloud_integrated_phase": phase, "cloud_integrated_tenant": "demo",
                 "cloud_integrated_region": "uk", "cloud_integrated_domains": ["corp.example"],
                 "cloud_integrated_dns_nameservers": [host], "cloud_integrated_dns_port": port,
                 "cloud_integrated_exchange": True, "cloud_integrated_top_rules": ["Disclaimer tool"],
                 "cloud_integrated_ci_rules": CI_RULES, "cloud_integrated_arc_sealers": [SEALER],
                 "cloud_integrated_output_dir": str(tmp_path / "out")}
    variables.update(extra)
    return [{"name": "role", "ansible.builtin.include_role": {"name": ROLE}, "vars": variables}]


def ready_dns(dns):
    dns.set("corp.example", "TXT", ["v=spf1 include:spf.protection.outlook.com include:spf.uk-1.a.mimecastprotect.com -all"])
    dns.set("spf.protection.outlook.com", "TXT", ["v=spf1 ip4:40.92.0.0/15 -all"])
    dns.set("spf.uk-1.a.mimecastprotect.com", "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    dns.set("_dmarc.corp.example", "TXT", ["v=DMARC1; p=quarantine"])


def ci_install(sandbox):
    """The tenant's rules, then Cloud Integrated's install putting its two rules on top (the disclaimer rule
    goes from 0 to 2), and its trusted ARC sealer next to a partner's."""
    sandbox.seed("demo", "exo_transport_rules", [{"Name": "Disclaimer tool"}, {"Name": "Route legal"},
                                                 {"Name": "Tag external", "Mode": "Audit"}])
    sandbox.seed("demo", "exo_transport_rules", [{"Name": CI_RULES[0], "Priority": 0},
                                                 {"Name": CI_RULES[1], "Priority": 1}])
    sandbox.seed("demo", "exo_arc_sealers", ["partner.example", SEALER])


def rules(sandbox):
    return [r["Name"] for r in sandbox.state("demo")["exo_transport_rules"]]


def mine(sandbox):
    return [p for p in sandbox.state("demo")["cloud_integrated"] if TAG in (p.get("description") or "")]


def run_phase(play, sandbox, tmp_path, dns, phase, **extra):
    """Check mode (0 writes, the same actions as the real run), the real run, then a no-write re-run."""
    env = exo_env(sandbox)
    before = sandbox.state("demo")
    sandbox.clear_requests()
    checked = play(role(tmp_path, dns, phase, **extra), check=True, diff=True, extra_env=env)
    assert checked.rc == 0, checked.stdout + checked.stderr
    assert sandbox.writes("demo") == [] and sandbox.state("demo") == before
    applied = play(role(tmp_path, dns, phase, **extra), extra_env=env)
    assert applied.rc == 0, applied.stdout + applied.stderr
    writes = sandbox.writes("demo")
    assert writes, "the %s phase wrote nothing" % phase
    for name in ("Mimecast - the role's policy in the phase's mode", "Exchange Online - the named transport rules back on top",
                 "Mimecast - remove the role's Cloud Integrated policies",
                 "Exchange Online - remove the trusted ARC sealer Cloud Integrated added"):
        predicted = [r for r in checked.records if r["task"].endswith(name) and r["status"] != "skipped"]
        done = [r for r in applied.records if r["task"].endswith(name) and r["status"] != "skipped"]
        assert len(predicted) == len(done)
        for p, d in zip(predicted, done):
            assert [a.get("action", a.get("cmdlet")) for a in p["result"].get("actions", [])] == \
                [a.get("action", a.get("cmdlet")) for a in d["result"].get("actions", [])], name
    sandbox.clear_requests()
    again = play(role(tmp_path, dns, phase, **extra), extra_env=env)
    assert again.rc == 0, again.stdout + again.stderr
    assert sandbox.writes("demo") == [], "a second %s run wrote %s" % (phase, sandbox.writes("demo"))
    return applied


def test_readiness_monitor_protect_offboard(play, sandbox, tmp_path, dns):
    ready_dns(dns)
    ci_install(sandbox)
    assert rules(sandbox)[2] == "Disclaimer tool"
    env = exo_env(sandbox)

    sandbox.clear_requests()
    ready = play(role(tmp_path, dns, "readiness"), extra_env=env)
    assert ready.rc == 0, ready.stdout + ready.stderr
    assert sandbox.writes("demo") == []
    assert ready.task("Work out what blocks Monitor and Protect")["ansible_facts"]["cloud_integrated_readiness"]["blocking"] == []
    runbook = (tmp_path / "out" / "demo-readiness.md").read_text()
    assert "Threat Scan Only" in runbook and "trial" in runbook and "`Disclaimer tool` (keep on top)" in runbook

    # monitor, targeted to one group: the disclaimer rule goes back to 0, the others keep their order
    run_phase(play, sandbox, tmp_path, dns, "monitor", cloud_integrated_recipients={"group_ids": ["grp-pilot-0001"]})
    assert rules(sandbox) == ["Disclaimer tool"] + CI_RULES + ["Route legal", "Tag external"]
    policy, = mine(sandbox)
    assert policy["protectionMode"] == "MONITOR_ONLY", policy
    assert "grp-pilot-0001" in str(policy), policy
    assert (tmp_path / "out" / "demo.policy-ids.json").exists()

    # protect, everyone: the same policy (no second one), group target gone
    run_phase(play, sandbox, tmp_path, dns, "protect")
    policy, = mine(sandbox)
    assert policy["protectionMode"] == "ACTIVE" and "grp-pilot-0001" not in str(policy), policy

    # offboard: no collection-owned policy, no Mimecast sealer; the partner's sealer and every rule stay
    before_rules = sandbox.state("demo")["exo_transport_rules"]
    run_phase(play, sandbox, tmp_path, dns, "offboard")
    assert mine(sandbox) == []
    assert sandbox.state("demo")["exo_arc_sealers"] == ["partner.example"]
    assert sandbox.state("demo")["exo_transport_rules"] == before_rules
    assert "End the Cloud Integrated service" in (tmp_path / "out" / "demo-offboard.md").read_text()


def test_readiness_blocks_on_p_none_and_missing_include(play, sandbox, tmp_path, dns):
    dns.set("corp.example", "TXT", ["v=spf1 include:spf.protection.outlook.com -all"])
    dns.set("spf.protection.outlook.com", "TXT", ["v=spf1 ip4:40.92.0.0/15 -all"])
    dns.set("_dmarc.corp.example", "TXT", ["v=DMARC1; p=none"])
    sandbox.clear_requests()
    ready = play(role(tmp_path, dns, "readiness", cloud_integrated_exchange=False))
    assert ready.rc == 0, ready.stdout + ready.stderr
    blocking = ready.task("Work out what blocks Monitor and Protect")["ansible_facts"]["cloud_integrated_readiness"]["blocking"]
    texts = " | ".join(b["text"] for b in blocking)
    assert "does not include spf.uk-1.a.mimecastprotect.com" in texts and "include:spf.uk-1.a.mimecastprotect.com" in texts
    assert "p=none" in texts and "p=quarantine or p=reject" in texts
    assert sandbox.writes("demo") == []
    runbook = (tmp_path / "out" / "demo-readiness.md").read_text()
    assert "**Blocking** Monitor and Protect (2)" in runbook

    # monitor refuses before the first write, naming both
    monitor = play(role(tmp_path, dns, "monitor", cloud_integrated_exchange=False))
    assert monitor.rc != 0
    assert "not ready for monitor mode, nothing was written" in monitor.stdout and "p=none" in monitor.stdout
    assert sandbox.writes("demo") == [] and mine(sandbox) == []


def test_bad_input_refused_before_any_call(play, sandbox, tmp_path, dns):
    sandbox.clear_requests()
    region = play(role(tmp_path, dns, "protect", cloud_integrated_region="eu", cloud_integrated_exchange=False))
    assert region.rc != 0 and "cloud_integrated_region" in region.stdout      # the role's argument spec
    bad = play(role(tmp_path, dns, "protect", cloud_integrated_tenant="../etc", cloud_integrated_exchange=False,
                    cloud_integrated_owner_tag="none", cloud_integrated_top_rules="Disclaimer tool"))
    assert bad.rc != 0 and "cloud_integrated refused the input" in bad.stdout, bad.stdout
    for words in ("cloud_integrated_tenant", "cloud_integrated_owner_tag", "cloud_integrated_top_rules must be a list"):
        assert words in bad.stdout, words
    assert sandbox.requests("demo") == []
    off = play(role(tmp_path, dns, "offboard", cloud_integrated_arc_sealers=[]))
    assert off.rc != 0 and "cloud_integrated_arc_sealers is empty" in off.stdout
    assert sandbox.writes("demo") == []
