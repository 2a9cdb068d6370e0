# -*- coding: utf-8 -*-
"""Issue 12: Exchange Online follow-through for Cloud Integrated (transport rule order, trusted ARC sealers,
the read-only mail flow view and its checks) against the sandbox's Microsoft stand-in."""

from __future__ import annotations

from conftest import module_task

ORDER = "mailsec.mimecast.exo_transport_rule_order"
ARC = "mailsec.mimecast.exo_arc_config"
INFO = "mailsec.mimecast.exo_mail_flow_info"
CI_RULES = ["Mimecast CI inbound", "Mimecast CI outbound"]


def exo(sandbox, **extra):
    cfg = sandbox.tenants["demo"]
    args = {"tenant": cfg["entra_tenant_id"], "app_id": cfg["entra_client_id"],
            "client_secret": cfg["entra_client_secret"], "exo_url": sandbox.url, "authority": sandbox.url}
    args.update(extra)
    return args


def ci_install(sandbox):
    """Tenant rules, then a Cloud Integrated install that puts its two rules at the top (the disclaimer,
    which must stay on top, goes from 0 to 2)."""
    sandbox.seed("demo", "exo_transport_rules", [
        {"Name": "must stay on top", "Comments": "disclaimer <tool> & co"}, {"Name": "Route legal"},
        {"Name": "Block exe", "State": "Disabled"}, {"Name": "Tag external", "Mode": "Audit"}])
    sandbox.seed("demo", "exo_transport_rules", [{"Name": CI_RULES[0], "Priority": 0},
                                                 {"Name": CI_RULES[1], "Priority": 1}])


def names(sandbox):
    return [r["Name"] for r in sandbox.state("demo")["exo_transport_rules"]]


def test_rule_pushed_down_by_ci_goes_back_to_top_check_apply_rerun(sandbox, play):
    ci_install(sandbox)
    assert names(sandbox)[2] == "must stay on top"
    before = sandbox.state("demo")["exo_transport_rules"]
    sandbox.clear_requests()
    task = module_task(ORDER, **exo(sandbox, rules=["must stay on top"], ci_rules=CI_RULES))

    checked = play([task], check=True, diff=True)
    predicted = checked.task("t")
    assert checked.rc == 0, predicted
    assert predicted["changed"] is True and predicted["api_calls"]["write"] == 0
    assert sandbox.writes("demo") == [] and sandbox.state("demo")["exo_transport_rules"] == before
    assert predicted["actions"] == [{"cmdlet": "Set-TransportRule",
                                     "parameters": {"Identity": "must stay on top", "Priority": 0}}]
    expected = ["must stay on top"] + CI_RULES + ["Route legal", "Block exe", "Tag external"]
    assert [r["name"] for r in predicted["after"]] == expected
    assert predicted["ci_rules"] == [{"name": CI_RULES[0], "priority": 1}, {"name": CI_RULES[1], "priority": 2}]
    assert "0 must stay on top" in predicted["diff"]["after"]

    applied = play([task]).task("t")
    assert applied["changed"] is True and applied["actions"] == predicted["actions"]
    assert applied["api_calls"]["write"] == 1
    assert names(sandbox) == expected                     # the others keep their relative order
    after = {r["Name"]: r for r in sandbox.state("demo")["exo_transport_rules"]}
    for rule in before:                                   # conditions, state, mode, comments untouched
        for key in ("State", "Mode", "Comments", "Description", "Guid"):
            assert after[rule["Name"]][key] == rule[key]
    writes = sandbox.writes("demo")
    assert len(writes) == 1

    sandbox.clear_requests()
    again = play([task]).task("t")
    assert again["changed"] is False and again["actions"] == [] and sandbox.writes("demo") == []


def test_several_rules_in_order_minimal_calls_and_unknown_rule_refused(sandbox, play):
    ci_install(sandbox)          # CI in, CI out, must stay on top, Route legal, Block exe, Tag external
    sandbox.clear_requests()
    out = play([module_task(ORDER, **exo(sandbox, rules=["Tag external", "must stay on top"]))]).task("t")
    assert [a["parameters"] for a in out["actions"]] == [{"Identity": "Tag external", "Priority": 0},
                                                         {"Identity": "must stay on top", "Priority": 1}]
    assert names(sandbox) == ["Tag external", "must stay on top"] + CI_RULES + ["Route legal", "Block exe"]

    sandbox.clear_requests()
    refused = play([module_task(ORDER, **exo(sandbox, rules=["must stay on top", "Nope <b>"]))])
    result = refused.task("t")
    assert refused.rc != 0, result
    assert "'Nope <b>'" in result["msg"] and "missing_rules: ignore" in result["msg"]
    assert sandbox.writes("demo") == [] and "Traceback" not in refused.stdout + refused.stderr

    ignored = play([module_task(ORDER, **exo(sandbox, rules=["Block exe", "Nope"], missing_rules="ignore"))])
    assert ignored.task("t")["missing"] == ["Nope"] and names(sandbox)[0] == "Block exe"


def test_arc_add_and_remove_keep_other_sealers_absent_idempotent(sandbox, play):
    sandbox.seed("demo", "exo_arc_sealers", ["partner.example", "forwarder.example"])
    sandbox.clear_requests()
    add = module_task(ARC, **exo(sandbox, sealers=["arc.mimecast.example"]))

    checked = play([add], check=True, diff=True).task("t")
    assert checked["changed"] is True and checked["api_calls"]["write"] == 0 and sandbox.writes("demo") == []
    assert checked["after"] == ["partner.example", "forwarder.example", "arc.mimecast.example"]
    assert sandbox.state("demo")["exo_arc_sealers"] == ["partner.example", "forwarder.example"]

    applied = play([add]).task("t")
    assert applied["actions"] == checked["actions"] and applied["retried"] is False
    assert sandbox.state("demo")["exo_arc_sealers"] == checked["after"]
    sandbox.clear_requests()
    assert play([add]).task("t")["changed"] is False and sandbox.writes("demo") == []

    remove = module_task(ARC, **exo(sandbox, sealers=["ARC.Mimecast.example"], state="absent"))
    predicted = play([remove], check=True).task("t")
    assert predicted["after"] == ["partner.example", "forwarder.example"] and sandbox.writes("demo") == []
    removed = play([remove]).task("t")
    assert removed["changed"] is True and removed["actions"] == predicted["actions"]
    assert sandbox.state("demo")["exo_arc_sealers"] == ["partner.example", "forwarder.example"]
    sandbox.clear_requests()
    again = play([remove]).task("t")
    assert again["changed"] is False and sandbox.writes("demo") == []

    bad = play([module_task(ARC, **exo(sandbox, sealers=["not a domain"]))])
    assert bad.rc != 0 and "'not a domain'" in bad.task("t")["msg"] and sandbox.writes("demo") == []


def test_mail_flow_info_and_checks(sandbox, play):
    ci_install(sandbox)
    sandbox.seed("demo", "exo_arc_sealers", ["partner.example", "arc.mimecast.example"])
    sandbox.seed("demo", "exo_outbound_connectors", [
        {"Name": "Mimecast CI send", "SmartHosts": ["smtp.ci.example"], "UseMXRecord": False,
         "RecipientDomains": ["*"], "IsTransportRuleScoped": True}])
    sandbox.clear_requests()
    args = exo(sandbox, top_rules=["must stay on top"], ci_rules=CI_RULES, ci_connectors=["Mimecast CI send"],
               mimecast_sealers=["arc.mimecast.example"])
    info = play([module_task(INFO, **args)], check=True)
    out = info.task("t")
    assert info.rc == 0, out
    assert out["changed"] is False and out["api_calls"]["write"] == 0 and sandbox.writes("demo") == []
    assert [(r["name"], r["priority"]) for r in out["transport_rules"]][:3] == [
        (CI_RULES[0], 0), (CI_RULES[1], 1), ("must stay on top", 2)]
    assert out["arc_sealers"] == ["partner.example", "arc.mimecast.example"]
    assert out["outbound_connectors"][0]["smart_hosts"] == ["smtp.ci.example"]
    assert out["inbound_connectors"] == []
    checks = {c["id"]: c for c in out["checks"]}
    assert checks["MC-EXO-001"]["status"] == "fail"
    assert checks["MC-EXO-001"]["objects"][0]["rule"] == "must stay on top"
    assert checks["MC-EXO-002"]["status"] == "pass"         # CI still installed

    play([module_task(ORDER, **exo(sandbox, rules=["must stay on top"]))])
    # Offboarded: CI's rules and connector gone (simulated by a fresh tenant without them), sealer left.
    sandbox.reset()
    sandbox.seed("demo", "exo_transport_rules", [{"Name": "must stay on top"}])
    sandbox.seed("demo", "exo_arc_sealers", ["arc.mimecast.example"])
    out = play([module_task(INFO, **args)]).task("t")
    checks = {c["id"]: c for c in out["checks"]}
    assert checks["MC-EXO-001"]["status"] == "pass"
    assert checks["MC-EXO-002"]["status"] == "fail" and out["findings"][0]["id"] == "MC-EXO-002"

    only = play([module_task(INFO, **exo(sandbox, gather=["arc_sealers"]))]).task("t")
    assert set(only) >= {"arc_sealers", "checks"} and "transport_rules" not in only
    assert {c["status"] for c in only["checks"]} == {"not_checked"}
