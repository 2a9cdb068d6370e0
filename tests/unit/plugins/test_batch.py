# -*- coding: utf-8 -*-
"""Batched creates and deletes in the engine (managed URLs), over an in-memory classic client."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Engine, WriteFailed
from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import ManagedUrlSpec

LIST = "/api/ttp/url/get-all-managed-urls"
CREATE = "/api/ttp/url/create-managed-url"
DELETE = "/api/ttp/url/delete-managed-url"


class FakeUrls:
    """Managed URLs as Mimecast keeps them (decomposed); several items per call processed one by one."""

    def __init__(self, refuse=(), echo=True, unclear=None):
        self.items = []
        self.calls = []
        self.refuse = set(refuse)          # URLs a create refuses with a per-item fail
        self.echo = echo                   # fail entries carry the item in "key"
        self.unclear = unclear             # None, "applied" or "lost": the next batch gets no clear answer
        self.counter = 0

    def classic(self, path, data=None, write=False, paginate=False, page_size=100, tolerate=()):
        if path == LIST:
            self.calls.append((path, 0))
            return copy.deepcopy(self.items)
        out, fails = self.classic_batch(path, data)
        if fails:
            raise MimecastError("refused", code=fails[0]["errors"][0]["code"])
        return out

    def classic_batch(self, path, data):
        self.calls.append((path, len(data)))
        unclear, self.unclear = self.unclear, None
        if unclear == "lost":
            raise MimecastError("timed out", ambiguous=True)
        out, fails = [], []
        for body in data:
            if path == CREATE and body["url"] in self.refuse:
                fail = {"errors": [{"code": "err_managed_url_invalid", "message": "The URL is invalid"}]}
                if self.echo:
                    fail["key"] = body
                fails.append(fail)
            elif path == CREATE:
                self.counter += 1
                item = dict(ManagedUrlSpec.decompose(body), id="mu-%d" % self.counter, action=body["action"],
                            matchType=body["matchType"], comment=body.get("comment", ""))
                self.items.append(item)
                out.append(copy.deepcopy(item))
            else:
                before = len(self.items)
                self.items = [i for i in self.items if i["id"] != body["id"]]
                if len(self.items) == before:
                    fails.append({"key": body, "errors": [{"code": "err_managed_url_not_found"}]})
        if unclear == "applied":
            raise MimecastError("HTTP 504", status=504, ambiguous=True)
        return out, fails

    def writes(self):
        return [c for c in self.calls if c[0] != LIST]


def urls(count, prefix="u"):
    return [{"url": "https://%s%d.sim.example/landing" % (prefix, i), "comment": "sim %d" % i} for i in range(count)]


def run(client, state, config, check=False):
    warnings = []
    engine = Engine(client, ManagedUrlSpec(), check_mode=check, warn=warnings.append)
    result = engine.run(state, copy.deepcopy(config))
    return result, warnings


def test_creates_and_deletes_go_twenty_per_call_and_converge():
    client = FakeUrls()
    predicted, dummy = run(client, "merged", urls(45), check=True)
    assert client.writes() == []
    result, dummy = run(client, "merged", urls(45))
    assert client.writes() == [(CREATE, 20), (CREATE, 20), (CREATE, 5)]
    assert len(result["actions"]) == 45 and all(a["id"] for a in result["actions"])
    assert [dict(a, id=None) for a in predicted["actions"]] == [dict(a, id=None) for a in result["actions"]]
    assert len({a["id"] for a in result["actions"]}) == 45
    client.calls = []
    again, dummy = run(client, "merged", urls(45))
    assert again["changed"] is False and client.writes() == []
    removed, dummy = run(client, "overridden", urls(3))
    assert client.writes() == [(DELETE, 20), (DELETE, 20), (DELETE, 2)]
    assert len(removed["actions"]) == 42 and len(client.items) == 3


@pytest.mark.parametrize("echo", [True, False])
def test_per_item_refusal_reports_each_item_and_keeps_done_exact(echo):
    client = FakeUrls(refuse={"https://u1.sim.example/landing"}, echo=echo)
    with pytest.raises(WriteFailed) as info:
        run(client, "merged", urls(3))
    exc = info.value
    assert client.writes() == [(CREATE, 3)]           # one call, not re-sent
    assert [d["url"] for d in exc.done] == ["https://u0.sim.example/landing", "https://u2.sim.example/landing"]
    assert all(d["id"] for d in exc.done)
    assert [d["url"] for d in exc.not_done] == ["https://u1.sim.example/landing"]
    assert exc.not_done[0]["error"] == "err_managed_url_invalid (The URL is invalid)"
    assert "https://u1.sim.example/landing" in exc.msg and "err_managed_url_invalid" in exc.msg
    assert exc.result()["changed"] is True
    # a re-run creates only the one still missing
    client.refuse = set()
    client.calls = []
    result, dummy = run(client, "merged", urls(3))
    assert [a["url"] for a in result["actions"]] == ["https://u1.sim.example/landing"]


def test_refusal_in_a_batch_lists_later_writes_as_not_done():
    client = FakeUrls(refuse={"https://u25.sim.example/landing"})
    with pytest.raises(WriteFailed) as info:
        run(client, "merged", urls(30))
    assert client.writes() == [(CREATE, 20), (CREATE, 10)]
    assert len(info.value.done) == 29
    assert [d["url"] for d in info.value.not_done] == ["https://u25.sim.example/landing"]


def test_refusal_in_the_first_batch_stops_before_the_next():
    client = FakeUrls(refuse={"https://u3.sim.example/landing"})
    with pytest.raises(WriteFailed) as info:
        run(client, "merged", urls(25))
    assert client.writes() == [(CREATE, 20)]
    assert len(info.value.done) == 19 and len(info.value.not_done) == 6
    assert info.value.not_done[0]["error"].startswith("err_managed_url_invalid")
    assert "error" not in info.value.not_done[1]


def test_unclear_answer_that_was_applied_is_reconciled_not_resent():
    client = FakeUrls(unclear="applied")
    result, warnings = run(client, "merged", urls(5))
    assert client.writes() == [(CREATE, 5)]
    assert len(result["actions"]) == 5 and all(a["id"] for a in result["actions"])
    assert len(warnings) == 1 and "not sent again" in warnings[0]


def test_unclear_answer_that_was_lost_fails_without_resending():
    client = FakeUrls(unclear="lost")
    with pytest.raises(WriteFailed) as info:
        run(client, "merged", urls(5))
    assert client.writes() == [(CREATE, 5)]
    assert info.value.done == [] and len(info.value.not_done) == 5
    assert "not sent again" in info.value.msg and info.value.result()["changed"] is False


def test_unclear_delete_batch_counts_what_is_gone():
    client = FakeUrls()
    run(client, "merged", urls(4))
    client.unclear = "applied"
    client.calls = []
    result, warnings = run(client, "deleted", urls(4))
    assert client.writes() == [(DELETE, 4)] and len(result["actions"]) == 4 and client.items == []
    assert warnings


def test_replacements_keep_one_call_each():
    client = FakeUrls()
    run(client, "merged", urls(3))
    client.calls = []
    changed = [dict(u, action="block") for u in urls(3)]
    result, dummy = run(client, "merged", changed)
    assert client.writes() == [(DELETE, 1), (CREATE, 1)] * 3
    assert [a["action"] for a in result["actions"]] == ["delete", "create"] * 3


def test_group_members_go_at_most_100_per_call():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import GroupSpec, sync_groups

    class Classic:
        def __init__(self):
            self.log = []

        def classic(self, path, data=None, write=False, paginate=False, page_size=100, tolerate=()):
            self.log.append((path, len(data or [])))
            if path.endswith("find-groups"):
                return [{"folders": []}]
            if path.endswith("create-group"):
                return [{"id": "g-1", "description": data[0]["description"]}]
            return []

    client = Classic()
    members = ["user%d@vendor.example" % i for i in range(250)]
    result = sync_groups(client, GroupSpec(), "merged", [{"description": "Sims", "members": members}])
    adds = [n for path, n in client.log if path.endswith("add-group-member")]
    assert adds == [100, 100, 50]
    assert [len(a["members"]) for a in result["actions"] if a["action"] == "add_members"] == [100, 100, 50]
    assert sorted(result["after"]["Sims"]["members"]) == sorted(members)
