# -*- coding: utf-8 -*-
"""The declarative engine through the anti-spoofing spec, over an in-memory client."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Engine
from ansible_collections.mailsec.mimecast.plugins.modules.mimecast_antispoof_bypass import AntiSpoofBypassSpec

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


def test_switching_ip_to_spf_is_delete_plus_create():
    client = FakeClient()
    run(client, "merged", [VENDOR])
    result = run(client, "merged", [{"description": "Vendor sim", "spf_domains": ["mail.vendor.example"]}])
    assert [(a["action"], a["collection"]) for a in result["actions"]] == [
        ("delete", "anti-spoofing"), ("create", "anti-spoofing-bypass")]
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
