# -*- coding: utf-8 -*-
"""mimecast_antispoof_bypass end to end: real ansible-playbook against the sandbox tenant.

The sequence every module follows: check mode -> independent read showing nothing
changed -> apply -> re-apply (changed=0, zero writes) -> diff.
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import BIN, ROOT, module_task

MODULE = "mailsec.mimecast.mimecast_antispoof_bypass"
IP = "anti-spoofing"
SPF = "anti-spoofing-bypass"

CONFIG = [
    {"description": "Dune Security phishing simulation", "source_ips": ["52.201.210.35"], "override": True,
     "valid_from": "2026-12-01", "valid_to": "2099-12-31"},
    {"description": "Partner SPF bypass", "spf_domains": ["billing.partner.example"],
     "emails_to": {"type": "email_domain", "value": "corp.example"}},
]


def strip(actions):
    return [dict(a, id=None) for a in actions]


def task(name, config, **args):
    return {"name": name, MODULE: dict(config=config, **args), "register": "out"}


def policies(sandbox, collection, tenant="demo"):
    return sandbox.state(tenant)[collection]


def test_check_apply_reapply_diff(sandbox, play):
    before_state = sandbox.state("demo")
    checked = play([task("bypass", CONFIG)], check=True)
    assert checked.rc == 0, checked.stdout
    predicted = checked.task("bypass")
    assert predicted["changed"] is True
    assert sandbox.writes("demo") == []
    assert sandbox.state("demo") == before_state  # independent read: nothing changed
    assert predicted["api_calls"]["write"] == 0

    applied = play([task("bypass", CONFIG)])
    assert applied.rc == 0, applied.stdout
    real = applied.task("bypass")
    assert strip(predicted["actions"]) == strip(real["actions"])
    assert {a["action"] for a in real["actions"]} == {"create"}
    assert len(sandbox.writes("demo")) == 2 == real["api_calls"]["write"]
    # no token call: the check-mode play of this test already cached the tenant's token
    assert real["api_calls"] == {"read": 2, "write": 2, "auth": 0, "total": 4}
    for key, value in predicted["after"].items():
        assert dict(value, id=None) == dict(real["after"][key], id=None)

    ip = policies(sandbox, IP)
    assert len(ip) == 1
    assert ip[0]["description"] == "Dune Security phishing simulation [ansible]"
    assert ip[0]["option"] == "no_action" and ip[0]["override"] is True
    assert ip[0]["sourceIPs"] == ["52.201.210.35/32"]
    assert ip[0]["toDateTime"] == "2099-12-31T23:59:59+0000"
    spf = policies(sandbox, SPF)
    assert spf[0]["spfDomains"] == ["billing.partner.example"] and spf[0]["to"]["domain"] == "corp.example"

    sandbox.clear_requests()
    again = play([task("bypass", CONFIG)], diff=True)
    assert again.rc == 0
    result = again.task("bypass")
    assert result["changed"] is False and result["actions"] == []
    assert sandbox.writes("demo") == [] and result["api_calls"]["write"] == 0

    changed = [dict(CONFIG[0], source_ips=["52.201.210.35", "52.201.210.36"]), CONFIG[1]]
    diffed = play([task("bypass", changed)], diff=True)
    result = diffed.task("bypass")
    assert result["changed"] is True
    assert result["actions"][0]["fields"] == ["source_ips"]
    diff = result["diff"]
    key = "Dune Security phishing simulation"
    assert diff["before"][key]["source_ips"] == ["52.201.210.35/32"]
    assert diff["after"][key]["source_ips"] == ["52.201.210.35/32", "52.201.210.36/32"]
    assert "52.201.210.36/32" in diffed.stdout  # the diff is shown to the user
    assert len(sandbox.writes("demo")) == 1  # one PATCH, no delete/create


def test_three_pages_read_no_duplicate(sandbox, play):
    bodies = [{"description": "Console policy %d" % i, "option": "no_action", "sourceIPs": ["52.10.%d.1" % i],
               "from": {"type": "everyone"}, "to": {"type": "everyone"}} for i in range(7)]
    bodies.append(dict(bodies[0], description="Dune Security phishing simulation [ansible]",
                       sourceIPs=["52.201.210.35/32"], override=True, fromEternal=False, toEternal=False,
                       fromDateTime="2026-12-01T00:00:00+0000", toDateTime="2099-12-31T23:59:59+0000"))
    sandbox.seed("demo", IP, bodies)
    result = play([task("bypass", CONFIG[:1])])
    out = result.task("bypass")
    assert out["changed"] is False, out
    gets = [r for r in sandbox.requests("demo") if r["method"] == "GET" and r["path"].endswith("anti-spoofing/policies")]
    assert len(gets) == 3  # 8 policies, server page size 3
    assert len(policies(sandbox, IP)) == 8 and sandbox.writes("demo") == []


def test_rate_limit_burst_ridden_out_and_bound_enforced(sandbox, play):
    path = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
    sandbox.add_fault(method="GET", path=path, status=429, times=3, headers={"X-RateLimit-Reset": "200"})
    ok = play([task("bypass", CONFIG[:1])])
    out = ok.task("bypass")
    assert ok.rc == 0 and out["changed"] is True
    assert any("429" in w for w in out.get("warnings", []))
    assert out["api_calls"]["read"] == 5  # 3 refused + 1 page of each list

    sandbox.add_fault(method="GET", path=path, status=429, times=10, headers={"X-RateLimit-Reset": "3000"})
    sandbox.clear_requests()
    failed = play([task("bypass", CONFIG[:1], rate_limit_max_wait=5)])
    out = failed.task("bypass")
    assert failed.rc != 0
    assert "beyond the wait bound of 5s" in out["msg"] and "rate_limit_max_wait" in out["msg"]
    assert sandbox.writes("demo") == []


def test_200_with_fail_reported_with_code(sandbox, play):
    sandbox.add_fault(method="GET", path="/policy-management/cloud-gateway/v1/anti-spoofing/policies",
                      fail_code="err_xdk_operation_forbidden_for_address")
    result = play([task("bypass", CONFIG[:1])])
    out = result.task("bypass")
    assert result.rc != 0
    assert "err_xdk_operation_forbidden_for_address" in out["msg"]
    assert out["error"]["code"] == "err_xdk_operation_forbidden_for_address"
    assert sandbox.writes("demo") == []


def test_wrong_secret_clear_error_without_the_secret(sandbox, play):
    secret = "wrong-Secret-4f9a2c"
    result = play([task("bypass", CONFIG[:1])], secret=secret, extra_args=("-vvv",))
    out = result.task("bypass")
    assert result.rc != 0
    assert "refused the client credentials" in out["msg"]
    assert secret not in result.stdout + result.stderr + repr(result.records)
    assert sandbox.writes("demo") == []


@pytest.mark.parametrize("value", ["0.0.0.0/0", "10.0.0.0/8", "52.20.0.0/16", "40.107.0.0/24", "not-an-ip"])
def test_guardrails_refuse_and_nothing_is_written(sandbox, play, value):
    result = play([task("bypass", [{"description": "Bad", "source_ips": [value]}])])
    out = result.task("bypass")
    assert result.rc != 0
    assert out["msg"].startswith("Refused by a guardrail, nothing was written")
    assert value.split("/")[0] in out["msg"]
    assert sandbox.requests("demo") == []  # not even a read
    assert out["api_calls"]["total"] == 0


def test_spf_freemail_refused(sandbox, play):
    result = play([task("bypass", [{"description": "Bad", "spf_domains": ["gmail.com"]}])])
    assert result.rc != 0 and "freemail" in result.task("bypass")["msg"]
    assert sandbox.writes("demo") == []


def test_deleted_overridden_gathered_and_tenants_isolated(sandbox, play):
    sandbox.seed("demo", IP, [{"description": "Dune Security phishing simulation", "option": "no_action",
                               "sourceIPs": ["52.201.210.99"], "from": {"type": "everyone"},
                               "to": {"type": "everyone"}}])
    # a console policy with the very same narrative is refused, not touched
    refused = play([task("bypass", CONFIG[:1])])
    assert refused.rc != 0 and "adopt: true" in refused.task("bypass")["msg"]
    assert sandbox.writes("demo") == []
    renamed = [dict(CONFIG[0], description="Dune Security campaign Q4"), CONFIG[1]]
    assert play([task("bypass", renamed)]).rc == 0
    gathered = play([task("bypass", [], state="gathered")]).task("bypass")
    assert sorted(e["description"] for e in gathered["gathered"]) == [
        "Dune Security campaign Q4", "Partner SPF bypass"]
    assert [e["description"] for e in gathered["unmanaged"]] == ["Dune Security phishing simulation"]
    over = play([task("bypass", renamed[:1], state="overridden")]).task("bypass")
    assert [(a["action"], a["description"]) for a in over["actions"]] == [("delete", "Partner SPF bypass")]
    gone = play([task("bypass", [], state="deleted")]).task("bypass")
    assert [(a["action"], a["description"]) for a in gone["actions"]] == [("delete", "Dune Security campaign Q4")]
    state = sandbox.state("demo")
    assert [p["description"] for p in state[IP]] == ["Dune Security phishing simulation"]
    assert state[SPF] == []
    assert sandbox.requests("acme") == []


def test_ansible_doc_renders():
    import os

    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"))
    proc = subprocess.run([str(BIN / "ansible-doc"), MODULE], env=env, capture_output=True, text=True,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "source_ips" in proc.stdout and "action_group" in proc.stdout


def test_campaign_window_back_to_eternal_and_disable(sandbox, play):
    assert play([task("bypass", CONFIG[:1])]).rc == 0
    eternal = [dict(CONFIG[0], valid_from="eternal", valid_to="eternal", enabled=False)]
    result = play([task("bypass", eternal)])
    out = result.task("bypass")
    assert result.rc == 0, out
    assert sorted(out["actions"][0]["fields"]) == ["enabled", "valid_from", "valid_to"]
    stored = policies(sandbox, IP)[0]
    assert stored["fromEternal"] is True and stored["toEternal"] is True and stored["enabled"] is False
    assert stored["toDateTime"].startswith("2100-01-01")
    again = play([task("bypass", eternal)]).task("bypass")
    assert again["changed"] is False


def test_out_of_range_and_past_dates_refused_cleanly(sandbox, play):
    # Issue 8 items 7 and 13: 0001-01-01T00:00+01:00 crashed (OverflowError); past end dates were accepted.
    for valid_to, reason in (("0001-01-01T00:00:00+01:00", "out of range"), ("2021-06-30", "is in the past")):
        entry = {"description": "Vendor", "source_ips": ["52.201.210.35"], "valid_to": valid_to}
        result = play([module_task(MODULE, config=[entry])])
        out = result.task("t")
        assert result.rc != 0 and reason in out["msg"], out
        assert "module_stderr" not in out
    assert sandbox.requests("demo") == []
