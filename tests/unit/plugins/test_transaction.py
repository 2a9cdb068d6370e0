# -*- coding: utf-8 -*-
"""The multi-type transaction (mimecast_allowlist) over an in-memory Mimecast: all refusals before the
first write in any type, one read per list, and done / not_done across types on a write failure."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import AntiSpoofBypassSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import EngineError, WriteFailed
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._transaction import (
    EnginePart,
    Transaction,
    run_allowlist,
)

POLICIES = "/policy-management/cloud-gateway/v1/"
IP_PATH = POLICIES + "anti-spoofing/policies"
SPF_PATH = POLICIES + "anti-spoofing-bypass/policies"
GREY_PATH = POLICIES + "greylisting/policies"
TAG = "[phish-sim:t]"


class FakeMimecast:
    """REST policy lists and the classic group / managed-URL / internal-domain functions, in memory.

    ``fail`` names a write path that answers HTTP 400; ``log`` holds (kind, path) of every call."""

    def __init__(self, fail=None):
        self.rest = {IP_PATH: [], SPF_PATH: [], GREY_PATH: []}
        self.groups, self.members, self.urls = [], {}, []
        self.domains = [{"domain": "corp.example"}]
        self.fail = fail
        self.log = []
        self.counter = 0
        self._warn = None

    def _new_id(self):
        self.counter += 1
        return "id-%d" % self.counter

    def _write(self, path):
        self.log.append(("write", path))
        if self.fail and path.endswith(self.fail):
            raise MimecastError("Mimecast answered %s with HTTP 400." % path, status=400)

    def writes(self):
        return [path for kind, path in self.log if kind == "write"]

    def reads(self):
        return [path for kind, path in self.log if kind == "read"]

    # REST
    def rest_list(self, path):
        self.log.append(("read", path))
        return copy.deepcopy(self.rest[path])

    def rest_create(self, path, body):
        self._write(path)
        item = dict(body, id=self._new_id())
        self.rest[path].append(item)
        return item["id"], {"id": item["id"]}

    def rest_update(self, path, body):
        self._write(path)
        base, object_id = path.rsplit("/", 1)
        next(i for i in self.rest[base] if i["id"] == object_id).update(body)

    def rest_delete(self, path):
        self._write(path)
        base, object_id = path.rsplit("/", 1)
        self.rest[base] = [i for i in self.rest[base] if i["id"] != object_id]

    # classic
    def classic(self, path, data=None, write=False, paginate=False, page_size=100, tolerate=()):
        if not write:
            self.log.append(("read", path))
            if path.endswith("get-internal-domain"):
                return copy.deepcopy(self.domains)
            if path.endswith("find-groups"):
                return [{"folders": copy.deepcopy(self.groups)}]
            if path.endswith("get-group-members"):
                return [{"groupMembers": [{"emailAddress": m} for m in self.members.get(data[0]["id"], [])]}]
            if path.endswith("get-all-managed-urls"):
                return copy.deepcopy(self.urls)
            raise AssertionError("unexpected read " + path)
        self._write(path)
        if path.endswith("create-group"):
            group = dict(data[0], id=self._new_id(), userCount=0)
            self.groups.append(group)
            return [group]
        if path.endswith("add-group-member"):
            for body in data:
                self.members.setdefault(body["id"], []).append(body.get("emailAddress") or body.get("domain"))
            return data
        if path.endswith("create-managed-url"):
            item = dict(data[0], id=self._new_id())
            scheme, dummy, rest = item.pop("url").partition("://")
            item.update(scheme="https", domain=rest or scheme, port=-1, path="", queryString="")
            self.urls.append(item)
            return [item]
        if path.endswith("delete-group"):
            self.groups = [g for g in self.groups if g["id"] != data[0]["id"]]
            return data
        if path.endswith("delete-managed-url"):
            self.urls = [u for u in self.urls if u["id"] != data[0]["id"]]
            return data
        raise AssertionError("unexpected write " + path)


def params(**overrides):
    out = dict(
        state="overridden", owner_tag=TAG, adopt=False, on_duplicate="fail", allow_domain=False,
        allow_broad_ranges=False, allow_shared_domains=False,
        permitted_senders=[{"group": "Vendor - permitted senders", "senders": ["sims@vendor.example"]}],
        antispoof_bypass=[{"description": "Vendor - anti-spoofing bypass", "source_ips": ["52.201.210.35"],
                           "override": True}],
        greylisting_bypass=[{"description": "Vendor - greylisting bypass", "source_ips": ["52.201.210.35"],
                             "override": True}],
        managed_urls=[{"url": "links.vendor.example", "match_type": "domain", "action": "permit",
                       "disable_rewrite": True, "comment": "Vendor"}],
    )
    out.update(overrides)
    return out


def test_first_run_writes_every_type_then_a_rerun_reads_each_list_once_and_writes_nothing():
    client = FakeMimecast()
    first = run_allowlist(client, params())
    assert first["changed"] is True
    assert first["types"] == ["permitted_senders", "antispoof_bypass", "greylisting_bypass", "managed_urls"]
    assert [a["action"] for a in first["actions"]["permitted_senders"]] == ["create", "add_members"]
    assert [len(first["actions"][t]) for t in first["types"][1:]] == [1, 1, 1]
    assert first["console_steps"] and first["internal_domains"] == ["corp.example"]
    assert first["policy_confirmed"] is False
    client.log = []
    again = run_allowlist(client, params())
    assert again["changed"] is False and client.writes() == []
    assert all(actions == [] for actions in again["actions"].values())
    # one read per list: internal domains, groups, the group's members, the two anti-spoofing lists,
    # greylisting, managed URLs
    reads = client.reads()
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 7


def test_a_refusal_in_the_last_type_writes_nothing_in_any_type():
    client = FakeMimecast()
    bad = params(managed_urls=[{"url": "co.uk", "match_type": "domain"}])
    with pytest.raises(GuardrailError, match="public suffix"):
        run_allowlist(client, bad)
    assert client.writes() == []


def test_refusals_in_several_types_are_reported_together_with_their_type():
    client = FakeMimecast()
    bad = params(permitted_senders=[{"group": "Vendor - permitted senders", "senders": ["ceo@corp.example"]}],
                 greylisting_bypass=[{"description": "Wide", "source_ips": ["52.20.0.0/16"]}])
    with pytest.raises(GuardrailError) as caught:
        run_allowlist(client, bad)
    problems = caught.value.problems
    assert len(problems) == 2 and problems[0].startswith("permitted_senders: ")
    assert problems[1].startswith("greylisting_bypass: ") and "/24" in problems[1]
    assert client.writes() == []


def test_an_unowned_object_in_the_last_type_refuses_after_reading_and_writes_nothing():
    client = FakeMimecast()
    client.urls.append({"id": "console-1", "scheme": "https", "domain": "links.vendor.example", "port": -1,
                        "path": "", "queryString": "", "matchType": "domain", "action": "permit",
                        "comment": "made in the console"})
    with pytest.raises(EngineError, match="already exists") as caught:
        run_allowlist(client, params())
    assert client.writes() == [] and "Nothing was changed" in str(caught.value)
    assert any(path.endswith("get-all-managed-urls") for path in client.reads())


def test_a_write_failure_in_the_second_type_reports_the_first_done_and_the_rest_not_done():
    client = FakeMimecast(fail="anti-spoofing/policies")
    with pytest.raises(WriteFailed) as caught:
        run_allowlist(client, params())
    result = caught.value.result()
    assert result["changed"] is True
    done = [(d["type"], d["action"]) for d in result["done"]]
    assert done == [("permitted_senders", "create"), ("permitted_senders", "add_members")]
    not_done = [(d["type"], d["action"]) for d in result["not_done"]]
    assert not_done == [("antispoof_bypass", "create"), ("greylisting_bypass", "create"), ("managed_urls", "create")]
    message = str(caught.value)
    assert "2 write(s), which stay done" in message and "3 planned write(s) were not done" in message
    # nothing after the failed write was attempted
    assert not any(path.endswith(("greylisting/policies", "create-managed-url")) for path in client.writes())


def test_check_mode_predicts_the_real_run_exactly_and_writes_nothing():
    client = FakeMimecast()
    predicted = run_allowlist(client, params(), check_mode=True)
    assert client.writes() == [] and predicted["changed"] is True
    real = run_allowlist(client, params())

    def shape(result):
        return {t: [(a["action"], a.get("description") or a.get("url")) for a in acts]
                for t, acts in result["actions"].items()}
    assert shape(predicted) == shape(real)
    assert len(client.writes()) == 5


def test_two_parts_on_the_same_list_share_one_read():
    client = FakeMimecast()
    parts = [("a", EnginePart(client, AntiSpoofBypassSpec(), "merged",
                              [{"description": "A", "source_ips": ["52.201.210.35"]}], owner_tag=TAG)),
             ("b", EnginePart(client, AntiSpoofBypassSpec(), "merged",
                              [{"description": "B", "source_ips": ["52.201.210.36"]}], owner_tag=TAG))]
    Transaction(client, "merged", parts).run()
    assert client.reads() == [IP_PATH, SPF_PATH]
    assert client.writes() == [IP_PATH, IP_PATH]


def test_an_omitted_type_is_neither_read_nor_changed_and_gathered_reads_all():
    client = FakeMimecast()
    result = run_allowlist(client, params(permitted_senders=None, greylisting_bypass=None, managed_urls=None))
    assert result["types"] == ["antispoof_bypass"] and client.reads() == [IP_PATH, SPF_PATH]
    client.log = []
    gathered = run_allowlist(client, params(state="gathered"))
    assert client.writes() == []
    assert [g["description"] for g in gathered["gathered"]["antispoof_bypass"]] == ["Vendor - anti-spoofing bypass"]
    assert set(gathered["gathered"]) == {"permitted_senders", "antispoof_bypass", "greylisting_bypass",
                                         "managed_urls"}


def test_deleted_with_empty_lists_removes_every_owned_object_of_every_type():
    client = FakeMimecast()
    run_allowlist(client, params())
    result = run_allowlist(client, params(state="deleted", permitted_senders=[], antispoof_bypass=[],
                                          greylisting_bypass=[], managed_urls=[]))
    assert result["changed"] is True
    assert client.groups == [] and client.urls == [] and all(v == [] for v in client.rest.values())
