# -*- coding: utf-8 -*-
"""The declarative engine through the anti-spoofing spec, over an in-memory client."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import AntiSpoofBypassSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Engine, WriteFailed

IP_PATH = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
SPF_PATH = "/policy-management/cloud-gateway/v1/anti-spoofing-bypass/policies"


class FakeClient:
    """Stores bodies as Mimecast would read them back (eternal dates as 1900/2100)."""

    def __init__(self, **collections):
        self.data = {IP_PATH: [], SPF_PATH: []}
        for path, items in collections.items():
            self.data[path] = items
        self.log = []
        self.counter = 0

    def rest_list(self, path):
        self.log.append(("GET", path))
        return copy.deepcopy(self.data[path])

    def rest_create(self, path, body):
        self.log.append(("POST", path))
        self.counter += 1
        item = dict(body, id="id-%d" % self.counter)
        if item.get("fromEternal"):
            item["fromDateTime"] = "1900-01-01T00:00:00+0000"
        if item.get("toEternal"):
            item["toDateTime"] = "2100-01-01T23:59:59+0000"
        self.data[path].append(item)
        return item["id"], {"id": item["id"]}

    def _find(self, path):
        base, object_id = path.rsplit("/", 1)
        for item in self.data[base]:
            if item["id"] == object_id:
                return base, item
        raise AssertionError("no such object " + path)

    def rest_update(self, path, body):
        self.log.append(("PATCH", path, body))
        dummy, item = self._find(path)
        item.update(body)

    def rest_delete(self, path):
        self.log.append(("DELETE", path))
        base, item = self._find(path)
        self.data[base].remove(item)

    def writes(self):
        return [entry for entry in self.log if entry[0] != "GET"]


def run(client, state, config, check=False, **kwargs):
    engine = Engine(client, AntiSpoofBypassSpec(), check_mode=check, **kwargs)
    return engine.run(state, copy.deepcopy(config))


VENDOR = {"description": "Vendor sim", "source_ips": ["52.201.210.35"], "override": True,
          "valid_to": "2026-12-31"}


def test_create_then_idempotent_and_check_mode_predicts_exactly():
    client = FakeClient()
    predicted = run(client, "merged", [VENDOR], check=True)
    assert client.writes() == []
    real = run(client, "merged", [VENDOR])
    assert predicted["actions"][0]["action"] == real["actions"][0]["action"] == "create"
    assert [dict(a, id=None) for a in predicted["actions"]] == [dict(a, id=None) for a in real["actions"]]
    assert predicted["after"]["Vendor sim"] == dict(real["after"]["Vendor sim"], id=None)
    stored = client.data[IP_PATH][0]
    assert stored["description"] == "Vendor sim [ansible]"
    assert stored["option"] == "no_action" and stored["sourceIPs"] == ["52.201.210.35/32"]
    assert stored["toDateTime"] == "2026-12-31T23:59:59+0000" and stored["fromEternal"] is True
    client.log.clear()
    again = run(client, "merged", [VENDOR])
    assert again["changed"] is False and client.writes() == []


def test_merged_changes_only_given_fields_and_patches_only_differences():
    client = FakeClient()
    run(client, "merged", [VENDOR])
    result = run(client, "merged", [{"description": "Vendor sim", "source_ips": ["52.201.210.36"]}])
    assert result["actions"][0]["fields"] == ["source_ips"]
    assert client.log[-1] == ("PATCH", IP_PATH + "/id-1", {"sourceIPs": ["52.201.210.36/32"]})
    assert client.data[IP_PATH][0]["override"] is True  # merged keeps what was not given


def test_replaced_resets_omitted_fields_to_defaults():
    client = FakeClient()
    run(client, "merged", [VENDOR])
    result = run(client, "replaced", [{"description": "Vendor sim", "source_ips": ["52.201.210.35"]}])
    assert sorted(result["actions"][0]["fields"]) == ["override", "valid_to"]
    stored = client.data[IP_PATH][0]
    assert stored["override"] is False and stored["toEternal"] is True


def test_overridden_and_delete_all_touch_only_owned_objects():
    console = {"id": "console-1", "description": "Vendor sim", "option": "no_action",
               "sourceIPs": ["52.201.210.35"], "fromEternal": True, "toEternal": True}
    similar = dict(console, id="console-2", description="Vendor sim (console)")
    client = FakeClient(**{IP_PATH: [copy.deepcopy(similar)]})
    run(client, "merged", [VENDOR, dict(VENDOR, description="Other sim")])
    result = run(client, "overridden", [VENDOR])
    assert [(a["action"], a["description"]) for a in result["actions"]] == [("delete", "Other sim")]
    result = run(client, "deleted", [])
    assert [(a["action"], a["description"]) for a in result["actions"]] == [("delete", "Vendor sim")]
    assert [i["id"] for i in client.data[IP_PATH]] == ["console-2"]
    # an untagged object with the very same narrative is refused, not taken over
    client.data[IP_PATH].append(console)
    client.log.clear()
    with pytest.raises(MimecastError, match="was not written by this collection"):
        run(client, "merged", [VENDOR])
    assert client.writes() == []
    adopted = run(client, "merged", [VENDOR], adopt=True)
    assert adopted["actions"][0]["action"] == "update"
    assert "description (owner tag)" in adopted["actions"][0]["fields"]
    assert client.data[IP_PATH][1]["description"] == "Vendor sim [ansible]"


def test_duplicate_owned_narratives_are_an_error_listing_ids():
    item = {"description": "Vendor sim [ansible]", "option": "no_action", "sourceIPs": ["52.201.210.35"]}
    client = FakeClient(**{IP_PATH: [dict(item, id="a1"), dict(item, id="b2")]})
    with pytest.raises(MimecastError, match="ids a1, b2"):
        run(client, "merged", [VENDOR])
    assert client.writes() == []


def test_switching_ip_to_spf_creates_the_new_policy_before_deleting_the_old():
    client = FakeClient()
    run(client, "merged", [VENDOR])
    result = run(client, "merged", [{"description": "Vendor sim", "spf_domains": ["mail.vendor.example"]}])
    # Both may exist at once, so the bypass never lapses: create first, then delete (issue 8 item 3).
    assert [(a["action"], a["collection"]) for a in result["actions"]] == [
        ("create", "anti-spoofing-bypass"), ("delete", "anti-spoofing")]
    assert client.data[IP_PATH] == [] and client.data[SPF_PATH][0]["option"] == "enable_bypass"


def test_gathered_splits_owned_and_unmanaged_and_never_writes():
    console = {"id": "c1", "description": "Console bypass", "option": "enable_bypass",
               "spfDomains": ["partner.example"], "fromEternal": True, "toEternal": True}
    client = FakeClient(**{SPF_PATH: [console]})
    run(client, "merged", [VENDOR])
    client.log.clear()
    result = run(client, "gathered", [])
    assert [e["description"] for e in result["gathered"]] == ["Vendor sim"]
    assert [e["description"] for e in result["unmanaged"]] == ["Console bypass"]
    assert client.writes() == [] and len(client.log) == 2


def test_duplicate_config_entries_refused_before_any_call():
    client = FakeClient()
    with pytest.raises(MimecastError, match="Two config entries"):
        run(client, "merged", [VENDOR, VENDOR])
    assert client.log == []


# ------------------------------------------------------------------ issue 8: faults and limits
class FailingClient(FakeClient):
    """Fails the n-th create (1-based); ``executed`` = the create happens before the failure."""

    def __init__(self, fail_create=None, executed=False, error=None, **collections):
        super().__init__(**collections)
        self.fail_create, self.executed, self.creates = fail_create, executed, 0
        self.error = error or MimecastError("Mimecast answered HTTP 500.", status=500, ambiguous=True)
        self.warnings = []
        self._warn = self.warnings.append

    def rest_create(self, path, body):
        self.creates += 1
        if self.creates == self.fail_create:
            if self.executed:
                super().rest_create(path, body)
            else:
                self.log.append(("POST", path))
            raise self.error
        return super().rest_create(path, body)


def sims(count):
    return [dict(VENDOR, description="Sim %02d" % n) for n in range(1, count + 1)]


def test_failure_in_the_middle_lists_every_write_done_and_not_done():
    client = FailingClient(fail_create=5, error=MimecastError("Mimecast answered HTTP 400.", status=400))
    with pytest.raises(WriteFailed) as caught:
        run(client, "merged", sims(10))
    result = caught.value.result()
    assert result["changed"] is True
    assert [d["description"] for d in result["done"]] == ["Sim 01", "Sim 02", "Sim 03", "Sim 04"]
    assert all(d["id"] for d in result["done"])
    assert [d["description"] for d in result["not_done"]] == ["Sim %02d" % n for n in range(5, 11)]
    assert "4 write(s), which stay done" in str(caught.value) and "6 planned write(s) were not done" in str(
        caught.value)
    client.fail_create = None
    again = run(client, "merged", sims(10))
    assert [a["description"] for a in again["actions"]] == ["Sim %02d" % n for n in range(5, 11)]
    assert len(client.data[IP_PATH]) == 10


def test_failure_on_first_write_says_nothing_was_written():
    client = FailingClient(fail_create=1, error=MimecastError("HTTP 400.", status=400))
    with pytest.raises(WriteFailed, match="Nothing was written") as caught:
        run(client, "merged", sims(2))
    assert caught.value.result()["changed"] is False


def test_ambiguous_create_that_happened_counts_as_done_with_a_warning():
    client = FailingClient(fail_create=2, executed=True)
    result = run(client, "merged", sims(3))
    assert [a["id"] for a in result["actions"]] == ["id-1", "id-2", "id-3"]
    assert len(client.data[IP_PATH]) == 3
    assert any("re-read shows it was created (id id-2)" in w for w in client.warnings)
    again = run(client, "merged", sims(3))
    assert again["changed"] is False


def test_ambiguous_create_that_did_not_happen_fails_truthfully_without_resending():
    client = FailingClient(fail_create=2, executed=False)
    with pytest.raises(WriteFailed, match="not sent again") as caught:
        run(client, "merged", sims(3))
    posts = [w for w in client.writes() if w[0] == "POST"]
    assert len(posts) == 2
    assert [d["description"] for d in caught.value.result()["done"]] == ["Sim 01"]


def test_on_duplicate_keep_newest_deletes_only_older_owned_copies():
    item = {"description": "Vendor sim [ansible]", "option": "no_action", "sourceIPs": ["52.201.210.35/32"],
            "fromEternal": True, "toEternal": True}
    console = dict(item, id="c9", description="Vendor sim", createTime="2026-12-01T00:00:00Z")
    client = FakeClient(**{IP_PATH: [dict(item, id="a1", createTime="2026-11-01T00:00:00Z"),
                                     dict(item, id="b2", createTime="2026-11-02T00:00:00Z"), console]})
    with pytest.raises(MimecastError, match="on_duplicate: keep_newest to keep id b2") as caught:
        run(client, "merged", [dict(VENDOR, valid_to=None)])
    assert "a1" in str(caught.value) and client.writes() == []
    result = run(client, "merged", [dict(VENDOR, valid_to=None)], on_duplicate="keep_newest")
    assert [(a["action"], a["id"]) for a in result["actions"]] == [("update", "b2"), ("delete", "a1")]
    assert "duplicate of id b2" in result["actions"][1]["reason"]
    assert sorted(i["id"] for i in client.data[IP_PATH]) == ["b2", "c9"]


def test_on_duplicate_rejects_unknown_values():
    with pytest.raises(MimecastError, match="on_duplicate"):
        run(FakeClient(), "merged", [VENDOR], on_duplicate="keep_all")


@pytest.mark.parametrize("length, ok", [(190, True), (191, False)])
def test_narrative_length_checked_before_any_call(length, ok):
    client = FakeClient()
    config = [VENDOR, dict(VENDOR, description="x" * length)]
    if ok:
        run(client, "merged", config)
        assert len(client.data[IP_PATH]) == 2
    else:
        with pytest.raises(MimecastError, match="at most 200") as caught:
            run(client, "merged", config)
        assert "at most 190 characters" in str(caught.value) and client.log == []


def test_group_create_failure_lists_the_member_adds_not_done():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import GroupSpec, sync_groups

    class Classic:
        def __init__(self):
            self.log = []

        def classic(self, path, data=None, write=False, paginate=False, page_size=100, tolerate=()):
            self.log.append(path)
            if path.endswith("find-groups"):
                return [{"folders": []}]
            raise MimecastError("Mimecast answered %s with HTTP 400." % path, status=400)

    client = Classic()
    with pytest.raises(WriteFailed) as caught:
        sync_groups(client, GroupSpec(), "merged", [{"description": "Sims", "members": ["a@vendor.example"]}])
    result = caught.value.result()
    assert result["changed"] is False and result["done"] == []
    assert [(d["action"], d["description"]) for d in result["not_done"]] == [("create", "Sims"),
                                                                             ("add_members", "Sims")]
    assert "2 planned write(s) were not done" in str(caught.value)
    assert not any(p.endswith("add-group-member") for p in client.log)
