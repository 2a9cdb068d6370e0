# -*- coding: utf-8 -*-
"""Batched creates and deletes (managed URLs, groups) against the sandbox."""

from __future__ import annotations

from conftest import assert_declarative_cycle, module_task

URLS = "mailsec.mimecast.mimecast_url_bypass"
GROUP = "mailsec.mimecast.mimecast_profile_group"
CREATE = "/api/ttp/url/create-managed-url"
DELETE = "/api/ttp/url/delete-managed-url"


def urls(count):
    return [{"url": "https://u%d.sim.example/landing" % i, "comment": "Sim %d" % i} for i in range(count)]


def paths(sandbox, tenant="demo"):
    return [r["path"] for r in sandbox.writes(tenant)]


def test_25_urls_are_created_and_deleted_in_two_calls_each(sandbox, play):
    real = assert_declarative_cycle(play, sandbox, URLS, urls(25))
    assert real["api_calls"]["write"] == 2 and len(real["actions"]) == 25
    assert all(a["id"] for a in real["actions"])
    assert len(sandbox.state("demo")["managed_urls"]) == 25
    sandbox.clear_requests()
    removed = play([module_task(URLS, state="overridden", config=urls(2))]).task("t")
    assert removed["api_calls"]["write"] == 2 and len(removed["actions"]) == 23
    assert paths(sandbox) == [DELETE, DELETE]
    assert sorted(u["domain"] for u in sandbox.state("demo")["managed_urls"]) == ["u0.sim.example",
                                                                                  "u1.sim.example"]


def test_per_item_refusal_reaches_the_user_and_done_is_exact(sandbox, play):
    sandbox.add_fault(method="POST", path=CREATE, refuse_item={"url": "https://u1.sim.example/landing"})
    result = play([module_task(URLS, config=urls(3))])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert [d["url"] for d in out["done"]] == ["https://u0.sim.example/landing", "https://u2.sim.example/landing"]
    assert [(d["url"], d["error"]) for d in out["not_done"]] == [
        ("https://u1.sim.example/landing", "err_injected_item (Injected item refusal (sandbox fault))")]
    assert "err_injected_item" in out["msg"] and "Traceback" not in result.stdout + result.stderr
    assert paths(sandbox) == [CREATE]  # the refused item was not sent again
    assert len(sandbox.state("demo")["managed_urls"]) == 2
    sandbox.clear_requests()
    again = play([module_task(URLS, config=urls(3))]).task("t")
    assert [a["url"] for a in again["actions"]] == ["https://u1.sim.example/landing"]


def test_batch_with_a_lost_answer_is_reread_not_resent(sandbox, play):
    # The call is executed, but its answer comes after the client's timeout (3 s): outcome unknown.
    sandbox.add_fault(method="POST", path=CREATE, delay=10, late=True)
    result = play([module_task(URLS, config=urls(4), timeout=3)])
    out = result.task("t")
    assert result.rc == 0, out
    assert any("re-read shows every one was made" in w for w in out["warnings"])
    assert paths(sandbox) == [CREATE]
    assert len(sandbox.state("demo")["managed_urls"]) == 4 and all(a["id"] for a in out["actions"])


def test_batch_refused_as_a_whole_writes_nothing(sandbox, play):
    sandbox.add_fault(method="POST", path=CREATE, status=403)
    result = play([module_task(URLS, config=urls(3))])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is False and out["done"] == [] and len(out["not_done"]) == 3
    assert sandbox.state("demo")["managed_urls"] == []


def test_groups_are_created_in_one_call(sandbox, play):
    config = [{"description": "Sim group %d" % i, "members": ["s%d@sim.example" % i]} for i in range(3)]
    result = play([module_task(GROUP, config=config)])
    out = result.task("t")
    assert result.rc == 0, out
    assert paths(sandbox).count("/api/directory/create-group") == 1
    assert paths(sandbox).count("/api/directory/add-group-member") == 3
    assert out["api_calls"]["write"] == 4
    members = {g["description"]: [m.get("emailAddress") for m in g["members"]] for g in sandbox.state("demo")["groups"]}
    assert members == {"Sim group %d [ansible]" % i: ["s%d@sim.example" % i] for i in range(3)}
