# -*- coding: utf-8 -*-
"""mimecast_ci_policy (Cloud Integrated policies) against the sandbox.

Mimecast documents no call that lists Cloud Integrated policies, so each run gets the ids the
previous run returned (``policy_ids``); the declarative cycle below is conftest's
assert_declarative_cycle with that one addition.
"""

from __future__ import annotations

from conftest import module_task

MODULE = "mailsec.mimecast.mimecast_ci_policy"
PILOT = [{"description": "CI pilot", "mode": "monitor",
          "recipients": {"route": "internal", "group_ids": ["grp-pilot"]}}]


def run(play, check=False, diff=False, **args):
    result = play([module_task(MODULE, **args)], check=check, diff=diff)
    return result, result.task("t")


def ci_policies(sandbox, tenant="demo"):
    return sandbox.state(tenant)["cloud_integrated"]


def cycle(play, sandbox, config, policy_ids):
    """check mode (exact, no write) -> apply -> re-run with the returned ids (no write, diff equal)."""
    before = sandbox.state("demo")
    checked, predicted = run(play, check=True, config=config, policy_ids=policy_ids)
    assert checked.rc == 0, predicted
    assert predicted["changed"] is True and predicted["api_calls"]["write"] == 0
    assert sandbox.writes("demo") == [] and sandbox.state("demo") == before
    applied, real = run(play, config=config, policy_ids=policy_ids)
    assert applied.rc == 0, real
    assert [dict(a, id=None) for a in predicted["actions"]] == [dict(a, id=None) for a in real["actions"]]
    assert {k: dict(v, id=None) for k, v in predicted["after"].items()} == {
        k: dict(v, id=None) for k, v in real["after"].items()}
    assert len(sandbox.writes("demo")) == real["api_calls"]["write"] > 0
    sandbox.clear_requests()
    again, result = run(play, diff=True, config=config, policy_ids=real["policy_ids"])
    assert again.rc == 0 and result["changed"] is False and result["actions"] == []
    assert sandbox.writes("demo") == [] and result["api_calls"]["write"] == 0
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["policy_ids"] == real["policy_ids"]
    return real


def test_monitor_pilot_then_protect_everyone_then_deleted(sandbox, play):
    real = cycle(play, sandbox, PILOT, [])
    assert real["actions"][0]["action"] == "create" and len(real["policy_ids"]) == 1
    # One read of the Default policy, no list call (none is documented), one create.
    # (the token of the check-mode run before comes from the token cache: at most one token per tenant)
    calls = real["api_calls"]
    assert (calls["read"], calls["write"]) == (1, 1) and calls["auth"] <= 1 and calls["total"] == 2 + calls["auth"]
    [stored] = ci_policies(sandbox)
    assert stored["policyId"] == real["policy_ids"][0]
    assert stored["name"] == stored["description"] == "CI pilot [ansible]"
    assert stored["protectionMode"] == "MONITOR_ONLY"
    assert stored["targets"] == {"senders": {"route": "ALL"}, "addressMatch": "BOTH", "exceptions": {},
                                 "recipients": {"route": "INTERNAL", "groups": [{"id": "grp-pilot"}]}}
    sandbox.clear_requests()

    everyone = [{"description": "CI pilot", "mode": "protect"}]
    protect = cycle(play, sandbox, everyone, real["policy_ids"])
    assert protect["actions"] == [{"action": "update", "description": "CI pilot", "collection": "cloud-integrated",
                                   "id": real["policy_ids"][0], "fields": ["mode"]}]
    [stored] = ci_policies(sandbox)
    assert stored["protectionMode"] == "ACTIVE"
    sandbox.clear_requests()

    replaced = cycle(play, sandbox, [dict(everyone[0], recipients={"route": "all"})], real["policy_ids"])
    assert replaced["actions"][0]["fields"] == ["recipients"]
    assert ci_policies(sandbox)[0]["targets"]["recipients"] == {"route": "ALL"}
    sandbox.clear_requests()

    checked, predicted = run(play, check=True, state="deleted", policy_ids=real["policy_ids"])
    assert checked.rc == 0 and [a["action"] for a in predicted["actions"]] == ["delete"]
    assert sandbox.writes("demo") == [] and predicted["policy_ids"] == []
    gone, out = run(play, state="deleted", policy_ids=real["policy_ids"])
    assert gone.rc == 0 and out["policy_ids"] == [] and ci_policies(sandbox) == []
    assert len(sandbox.writes("demo")) == 1
    # The Default policy is still there.
    assert [p["default"] for p in sandbox.state("demo", builtin=True)["cloud_integrated"]] == [True]


def test_gathered_shows_the_default_policy(sandbox, play):
    created, out = run(play, config=PILOT)
    result, gathered = run(play, state="gathered", policy_ids=out["policy_ids"])
    assert result.rc == 0 and gathered["changed"] is False
    assert [g["description"] for g in gathered["gathered"]] == ["CI pilot"]
    [default] = gathered["unmanaged"]
    assert default["default"] is True and default["mode"] == "monitor" and default["description"] == "Default Policy"
    assert gathered["policy_ids"] == out["policy_ids"]


def test_default_policy_is_never_changed(sandbox, play):
    cases = [
        ({"config": [{"description": "Default Policy", "recipients": {"route": "internal"}}]}, "make a new policy"),
        ({"config": [{"description": "Default Policy", "mode": "protect"}]}, "leaves the tenant-wide Default policy"),
        ({"state": "deleted", "config": [{"description": "Default Policy"}]}, "cannot be deleted"),
        ({"state": "overridden", "owner_tag": "", "config": []}, "never changes or deletes it"),
    ]
    for args, reason in cases:
        result, out = run(play, **args)
        assert result.rc != 0 and reason in out["msg"], (args, out.get("msg"))
        assert "Refused by a guardrail, nothing was written" in out["msg"]
        assert "Traceback" not in result.stdout + result.stderr
    assert sandbox.writes("demo") == []
    # Naming the Default policy without a change is a no-op, not an error.
    result, out = run(play, config=[{"description": "Default Policy", "mode": "monitor"}])
    assert result.rc == 0 and out["changed"] is False and sandbox.writes("demo") == []


def test_unknown_mode_read_back_is_refused_by_name(sandbox, play):
    [policy_id] = sandbox.seed("demo", "cloud_integrated", [{
        "name": "Legacy [ansible]", "description": "Legacy [ansible]", "protectionMode": "DISABLED",
        "targets": {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "addressMatch": "BOTH"}}])
    result, out = run(play, config=[{"description": "Legacy", "mode": "protect"}], policy_ids=[policy_id])
    assert result.rc != 0 and "'DISABLED'" in out["msg"] and policy_id in out["msg"]
    assert sandbox.writes("demo") == []
    result, gathered = run(play, state="gathered", policy_ids=[policy_id])
    assert gathered["gathered"][0]["mode"] is None and gathered["gathered"][0]["api_protection_mode"] == "DISABLED"
    result, out = run(play, state="deleted", config=[{"description": "Legacy"}], policy_ids=[policy_id])
    assert result.rc == 0 and ci_policies(sandbox) == []


def test_disabled_mode_and_bad_targets_refused_before_any_call(sandbox, play):
    cases = [
        ({"description": "x", "mode": "disabled"}, "no public source gives the API value"),
        ({"description": "x", "recipients": {"emails": ["not-an-address"]}}, "is not an email address"),
        ({"description": "x", "senders": {"domains": ["bad domain"]}}, "is not a domain"),
    ]
    for entry, reason in cases:
        result, out = run(play, config=[entry])
        assert result.rc != 0 and reason in out["msg"], (entry, out.get("msg"))
        assert out["api_calls"]["total"] == 0
    assert sandbox.requests("demo") == []


def test_missing_ids_and_account_without_cloud_integrated(sandbox, play):
    result, out = run(play, state="gathered", policy_ids=["ci-gone"])
    assert result.rc == 0 and out["missing_policy_ids"] == ["ci-gone"] and out["policy_ids"] == []
    sandbox.add_fault(method="GET", path="/email/cloud-integrated/v1/policies/default-policy", status=404)
    result, out = run(play, config=PILOT)
    assert result.rc != 0 and "HTTP 404" in out["msg"] and "Nothing was changed" in out["msg"]
    assert sandbox.writes("demo") == []
