# -*- coding: utf-8 -*-
"""mimecast_profile_group and mimecast_permitted_sender against the sandbox."""

from __future__ import annotations

import pytest

from conftest import assert_declarative_cycle, module_task

GROUP = "mailsec.mimecast.mimecast_profile_group"
SENDER = "mailsec.mimecast.mimecast_permitted_sender"


def groups(sandbox, tenant="demo"):
    return {g["description"]: sorted(m.get("emailAddress") or m.get("domain") for m in g["members"])
            for g in sandbox.state(tenant)["groups"]}


def test_profile_group_cycle_members_and_states(sandbox, play):
    config = [{"description": "Executives (VIP)", "members": ["CEO@corp.example", "cfo@corp.example"]}]
    real = assert_declarative_cycle(play, sandbox, GROUP, config)
    assert [a["action"] for a in real["actions"]] == ["create", "add_members"]
    assert real["api_calls"]["write"] == 2  # one create, one add call for both members
    assert groups(sandbox) == {"Executives (VIP) [ansible]": ["ceo@corp.example", "cfo@corp.example"]}

    merged = play([module_task(GROUP, config=[{"description": "Executives (VIP)", "members": ["coo@corp.example"]}])])
    assert merged.task("t")["actions"] == [{"action": "add_members", "description": "Executives (VIP)",
                                            "members": ["coo@corp.example"], "id": merged.task("t")["actions"][0]["id"]}]
    replaced = play([module_task(GROUP, state="replaced", config=config)]).task("t")
    assert [(a["action"], a.get("members")) for a in replaced["actions"]] == [("remove_members", ["coo@corp.example"])]
    assert groups(sandbox)["Executives (VIP) [ansible]"] == ["ceo@corp.example", "cfo@corp.example"]
    gathered = play([module_task(GROUP, state="gathered")]).task("t")
    assert gathered["gathered"][0]["members"] == ["ceo@corp.example", "cfo@corp.example"]
    deleted = play([module_task(GROUP, state="deleted", config=[{"description": "Executives (VIP)"}])]).task("t")
    assert [a["action"] for a in deleted["actions"]] == ["delete"]
    assert groups(sandbox) == {}


def test_three_pages_of_members_and_groups(sandbox, play):
    members = ["user%d@partner.example" % i for i in range(8)]
    sandbox.seed("demo", "groups", [{"description": "Other group %d" % i} for i in range(7)])
    assert play([module_task(GROUP, config=[{"description": "Partners", "members": members}])]).rc == 0
    sandbox.clear_requests()
    again = play([module_task(GROUP, config=[{"description": "Partners", "members": members}])]).task("t")
    assert again["changed"] is False
    paths = [r["path"] for r in sandbox.requests("demo")]
    assert paths.count("/api/directory/find-groups") == 4  # 8 groups + 2 built-in, page size 3
    assert paths.count("/api/directory/get-group-members") == 3  # 8 members, page size 3


def test_wildcards_refused(sandbox, play):
    result = play([module_task(GROUP, config=[{"description": "x", "members": ["*@vendor.example"]}])])
    assert result.rc != 0 and "exact addresses" in result.task("t")["msg"]
    assert sandbox.requests("demo") == []


def test_permitted_sender_group_and_console_step(sandbox, play):
    config = [{"group": "Dune Security permitted senders", "senders": ["sims@dune-mail.example"]}]
    result = play([module_task(SENDER, config=config)])
    out = result.task("t")
    assert result.rc == 0, out
    assert out["policy_confirmed"] is False
    assert "Profile Group 'Dune Security permitted senders [ansible]'" in out["console_steps"][0]
    assert out["internal_domains"] == ["corp-mail.example", "corp.example"]
    assert groups(sandbox) == {"Dune Security permitted senders [ansible]": ["sims@dune-mail.example"]}
    sandbox.clear_requests()
    again = play([module_task(SENDER, config=config)]).task("t")
    assert again["changed"] is False and sandbox.writes("demo") == []


@pytest.mark.parametrize("sender, reason", [
    ("corp.example", "own internal domain"),
    ("ceo@corp.example", "own internal domain"),
    ("mail.corp-mail.example", "own internal domain"),
    ("gmail.com", "freemail"),
    ("partner.example", "whole domain"),
    ("*@partner.example", "wildcard"),
])
def test_permitted_sender_guardrails(sandbox, play, sender, reason):
    result = play([module_task(SENDER, config=[{"group": "Vendor - permitted senders", "senders": [sender]}])])
    out = result.task("t")
    assert result.rc != 0 and reason in out["msg"], out["msg"]
    assert sandbox.writes("demo") == []


def test_permitted_sender_domain_needs_allow_domain_and_builtin_refused(sandbox, play):
    ok = play([module_task(SENDER, allow_domain=True,
                           config=[{"group": "Vendor permitted senders", "senders": ["partner.example"]}])])
    assert ok.rc == 0
    builtin = play([module_task(SENDER, config=[{"group": "Permitted Senders", "senders": ["a@partner.example"]}])])
    assert builtin.rc != 0 and "built-in group" in builtin.task("t")["msg"]
    still_gmail = play([module_task(SENDER, allow_domain=True,
                                    config=[{"group": "V permitted senders", "senders": ["gmail.com"]}])])
    assert still_gmail.rc != 0


def test_builtin_group_write_refusal_is_reported_with_code(sandbox, play):
    # the profile-group module has no name guardrail: Mimecast itself refuses, loudly
    result = play([module_task(GROUP, owner_tag="", adopt=True,
                               config=[{"description": "Permitted Senders", "members": ["a@partner.example"]}])])
    out = result.task("t")
    assert result.rc != 0 and "err_xdk_operation_forbidden_for_address" in out["msg"]


def test_permitted_sender_group_name_must_say_so(sandbox, play):
    result = play([module_task(SENDER, config=[{"group": "Vendor senders", "senders": ["a@partner.example"]}])])
    out = result.task("t")
    assert result.rc != 0 and "'Vendor senders - permitted senders'" in out["msg"], out["msg"]
    assert sandbox.requests("demo") == []


@pytest.mark.parametrize("member, reason", [
    ("gmail.com", "freemail"),
    ("corp.example", "own internal domain"),
    ("ceo@corp.example", "own internal domain"),
    ("partner.example", "whole domain"),
])
def test_profile_group_applies_sender_guardrails_to_permitted_sender_groups(sandbox, play, member, reason):
    # Issue 8 item 6: the same group (same name and owner tag) written through mimecast_profile_group.
    config = [{"group": "Vendor - permitted senders", "senders": ["a@partner.example"]}]
    made = play([module_task(SENDER, config=config)])
    assert made.rc == 0
    sandbox.clear_requests()
    result = play([module_task(GROUP, config=[{"description": "Vendor - permitted senders", "members": [member]}])])
    out = result.task("t")
    assert result.rc != 0 and reason in out["msg"] and member in out["msg"], out["msg"]
    assert "Traceback" not in result.stdout + result.stderr
    assert sandbox.writes("demo") == []
    assert groups(sandbox) == {"Vendor - permitted senders [ansible]": ["a@partner.example"]}


def test_profile_group_named_permitted_groups_and_vip_lists(sandbox, play):
    # A console-named group listed in permitted_sender_groups is guarded too, with or without its tag.
    for name in ("Console allow list", "Console allow list [ansible]"):
        refused = play([module_task(GROUP, permitted_sender_groups=[name],
                                    config=[{"description": "Console allow list", "members": ["outlook.com"]}])])
        assert refused.rc != 0 and "freemail" in refused.task("t")["msg"]
    assert sandbox.writes("demo") == []
    # allow_domain lets a partner domain in, never an internal one
    ok = play([module_task(GROUP, allow_domain=True, config=[{"description": "Partner permitted senders",
                                                             "members": ["partner.example"]}])])
    assert ok.rc == 0, ok.task("t")
    # Generic groups stay unrestricted: a VIP list holds internal addresses, and reads no internal domains.
    sandbox.clear_requests()
    vip = play([module_task(GROUP, config=[{"description": "Executives (VIP)",
                                            "members": ["ceo@corp.example", "gmail.com"]}])])
    assert vip.rc == 0, vip.task("t")
    assert "/api/domain/get-internal-domain" not in [r["path"] for r in sandbox.requests("demo")]
