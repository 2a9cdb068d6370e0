# -*- coding: utf-8 -*-
"""The response-shape layer (_shapes.read_page) and validity dates under both names.

Fixtures are short payloads composed from public facts, not copied files:
* REST list keys ``definitions`` / ``policies`` and the ``meta`` tokens: the Mimecast Terraform
  provider (github.com/Scriptception/terraform-provider-mimecast, internal/client/resources.go
  ListPolicies and internal/client/types.go PageMeta).
* ``data`` items and a top-level ``nextToken``: the Akonis Mimecast automation library
  (github.com/Akonis-cybersecurity/Mimecast-Akonis-automation-library,
  mimecast_modules/actions/action_get_blocked_sender_policies.py).
* Items wrapped as ``{"id", "option", "policy": {...}}`` with ``fromDate``/``toDate`` and the
  1900/2100 eternal dates: the classic get-policy shape (Mimecast endpoint reference
  policies/antispoofing-spf-bypass/get-policy) and demisto/content
  Packs/Mimecast/Integrations/MimecastV2/test_data/create_antispoofing_bypass_policy_response.json.
"""

from __future__ import annotations

import copy
import json
import random

import httpx
import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils import _policy
from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import AntiSpoofBypassSpec, GreylistingBypassSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Engine, EngineError
from ansible_collections.mailsec.mimecast.plugins.module_utils._shapes import (
    CLASSIC,
    REST,
    ShapeError,
    read_page,
)

BASE = "https://api.services.mimecast.com"
IP_PATH = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
SPF_PATH = "/policy-management/cloud-gateway/v1/anti-spoofing-bypass/policies"
SECRET = "VALUE-THAT-MUST-NOT-LEAK"


def policy(n, **extra):
    """A REST anti-spoofing (no_action) policy as read back, owned by the collection."""
    item = {"id": "id-%d" % n, "description": "Obj %d [ansible]" % n, "option": "no_action",
            "fromPart": "envelope_from", "from": {"type": "everyone"}, "to": {"type": "everyone"},
            "enabled": True, "override": False, "bidirectional": False, "fromEternal": True,
            "toEternal": True, "sourceIPs": ["52.201.210.%d/32" % (30 + n)]}
    item.update(extra)
    return item


def wrapped(item):
    """The classic get-policy shape: id and option outside, the rest under ``policy``."""
    inner = {k: v for k, v in item.items() if k not in ("id", "option")}
    return {"id": item["id"], "option": item["option"], "policy": inner}


# ---------------------------------------------------------------------------------- read_page
def test_wrapped_items_are_unwrapped_with_their_description():
    classic_like = {"id": "eNo1", "option": "enable_bypass",
                    "policy": {"description": "Vendor [ansible]", "fromDate": "1900-01-01T00:00:00+0000",
                               "toDate": "2100-01-01T23:59:59+0000", "fromEternal": True, "toEternal": True}}
    items, token = read_page({"meta": {}, "definitions": [classic_like]})
    assert items == [{"id": "eNo1", "option": "enable_bypass", "description": "Vendor [ansible]",
                      "fromDate": "1900-01-01T00:00:00+0000", "toDate": "2100-01-01T23:59:59+0000",
                      "fromEternal": True, "toEternal": True}]
    assert token is None


def test_wrapped_item_with_conflicting_inside_and_outside_values_fails():
    item = {"id": "a", "description": SECRET, "policy": {"description": "other"}}
    with pytest.raises(ShapeError, match="'description' both inside and outside 'policy'") as err:
        read_page({"definitions": [item]})
    assert SECRET not in str(err.value) + err.value.keys


def test_top_level_next_token_is_followed():
    assert read_page({"policies": [{"id": "a"}], "nextToken": "t2"}) == ([{"id": "a"}], "t2")
    assert read_page({"data": [{"id": "a"}], "next_token": "t2"}) == ([{"id": "a"}], "t2")


def test_empty_known_key_next_to_filled_known_key_reads_the_filled_one():
    assert read_page({"definitions": [], "policies": [{"id": "p"}]})[0] == [{"id": "p"}]
    assert read_page({"policies": [], "definitions": [{"id": "d"}]})[0] == [{"id": "d"}]


def test_two_filled_known_keys_fail_naming_both():
    with pytest.raises(ShapeError, match="'definitions' and 'policies' all hold items") as err:
        read_page({"definitions": [{"id": SECRET}], "policies": [{"id": "b"}]})
    assert "definitions (list of 1)" in err.value.keys and SECRET not in err.value.keys


@pytest.mark.parametrize("payload", [{}, {"meta": {"status": 200}}, {"meta": {"pageSize": 100}, "total": 0}])
def test_missing_list_key_on_an_empty_answer_reads_as_empty(payload):
    assert read_page(payload) == ([], None)


@pytest.mark.parametrize("payload", [
    {"meta": {}, "items": [{"id": SECRET}]},
    {"meta": {}, "items": []},
    {"meta": {}, "result": {"policies": [{"id": SECRET}]}},
])
def test_missing_list_key_with_a_list_elsewhere_fails_naming_keys_not_values(payload):
    with pytest.raises(ShapeError, match="none of the list keys") as err:
        read_page(payload)
    assert SECRET not in str(err.value) + err.value.keys
    assert "items" in err.value.keys or "result" in err.value.keys


def test_objects_under_an_unknown_key_next_to_a_known_key_fail():
    with pytest.raises(ShapeError, match="objects sit under extra"):
        read_page({"definitions": [], "extra": [{"id": "x"}]})
    # scalars or an empty list next to the list are harmless extra keys
    assert read_page({"definitions": [{"id": "a"}], "warnings": [], "tags": ["x"], "total": 1})[0] == [{"id": "a"}]


@pytest.mark.parametrize("meta", [{"cursor": SECRET}, {"nextToken": SECRET}, {"pagination": {"nextCursor": SECRET}},
                                  {"hasNext": True}])
def test_unknown_paging_key_with_a_value_fails(meta):
    with pytest.raises(ShapeError, match="paging keys the collection does not know") as err:
        read_page({"meta": meta, "definitions": []})
    assert SECRET not in str(err.value) + err.value.keys


def test_paging_keys_without_a_next_page_are_harmless():
    payload = {"meta": {"pagination": {"pageToken": "current", "previous": "p0", "next": ""}, "hasNext": False},
               "definitions": [{"id": "a"}]}
    assert read_page(payload) == ([{"id": "a"}], None)


def test_disagreeing_tokens_fail():
    with pytest.raises(ShapeError, match="disagree"):
        read_page({"meta": {"nextPageToken": "a"}, "nextToken": "b", "definitions": []})


@pytest.mark.parametrize("payload, problem", [
    ([], "not an object"),
    ({"definitions": {"id": "a"}}, "not a list"),
    ({"definitions": ["a"]}, "item 1 of 'definitions' is string"),
    ({"definitions": [], "meta": {"nextPageToken": {"x": 1}}}, "not a string"),
])
def test_malformed_pages_fail(payload, problem):
    with pytest.raises(ShapeError, match=problem):
        read_page(payload)


def test_classic_shape_reads_data_and_pagination_next_only():
    assert read_page({"meta": {"status": 200, "pagination": {"next": "n"}}, "data": [{"d": 1}], "fail": []},
                     CLASSIC) == ([{"d": 1}], "n")
    assert read_page({"meta": {"status": 200}, "fail": []}, CLASSIC) == ([], None)
    with pytest.raises(ShapeError, match="paging keys"):
        read_page({"meta": {"status": 200}, "data": [], "nextToken": "x"}, CLASSIC)
    # classic items are not unwrapped (find-groups pages hold folders, get-policy items are native)
    assert read_page({"data": [{"id": "a", "policy": {"x": 1}}]}, CLASSIC)[0] == [{"id": "a", "policy": {"x": 1}}]


# ---------------------------------------------------------------------------------- fuzz
KNOWN_TOKENS = [("meta", "nextPageToken"), ("meta", "nextPage"), ("meta", "pagination", "next"),
                ("meta", "pagination", "nextPage"), ("meta", "pagination", "nextPageToken"), ("nextToken",),
                ("next_token",)]
UNKNOWN_TOKENS = [("meta", "cursor"), ("meta", "nextToken"), ("pagination", "next"), ("links", "next")]


def _put(payload, chain, value):
    node = payload
    for key in chain[:-1]:
        node = node.setdefault(key, {})
    node[chain[-1]] = value


def fuzz_case(rng):
    """(pages, expected ids or None when the layer must refuse)."""
    objects = [policy(n) for n in range(rng.randint(0, 5))]
    cuts = sorted(rng.randint(0, len(objects)) for dummy in range(rng.randint(0, 3)))
    chunks = [objects[a:b] for a, b in zip([0] + cuts, cuts + [len(objects)])]
    if rng.random() < 0.3:                                  # an empty page in the middle
        chunks.insert(rng.randint(0, len(chunks)), [])
    must_fail = False
    pages = []
    for index, chunk in enumerate(chunks):
        items = [wrapped(i) if rng.random() < 0.4 else copy.deepcopy(i) for i in chunk]
        key = rng.choice(REST.list_keys)
        page = {"meta": {"status": 200}} if rng.random() < 0.7 else {}
        roll = rng.random()
        if chunk and roll < 0.1:                            # objects under a key nobody knows
            page["items"] = items
            must_fail = True
        elif chunk and roll < 0.2:                          # two known keys both filled
            other = rng.choice([k for k in REST.list_keys if k != key])
            page[key], page[other] = items, [copy.deepcopy(items[0])]
            must_fail = True
        elif not chunk and roll < 0.4:                      # empty page without its list key
            pass
        else:
            page[key] = items
            if rng.random() < 0.3:                          # an empty known key next to it
                page[rng.choice([k for k in REST.list_keys if k != key])] = []
        if rng.random() < 0.3:                              # harmless extra keys
            page["total"] = len(objects)
            page["meta"] = dict(page.get("meta", {}), pageSize=100)
        if index < len(chunks) - 1:
            if rng.random() < 0.12:
                _put(page, rng.choice(UNKNOWN_TOKENS), "t%d" % (index + 1))
                must_fail = True
            else:
                _put(page, rng.choice(KNOWN_TOKENS), "t%d" % (index + 1))
        pages.append(page)
    return pages, None if must_fail else [o["id"] for o in objects]


def pages_transport(pages_by_path, writes):
    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 1800})
        if request.method != "GET":
            writes.append((request.method, request.url.path))
            return httpx.Response(500, json={})
        pages = pages_by_path.get(request.url.path, [{"meta": {}, "definitions": []}])
        token = request.url.params.get("pageToken")
        return httpx.Response(200, json=pages[int(token[1:]) if token else 0])
    return httpx.MockTransport(handler)


def client_for(pages_by_path, writes):
    return MimecastClient(BASE, client_id="cid", client_secret="sec", transport=pages_transport(pages_by_path, writes),
                          sleep=lambda s: None)


def test_fuzz_the_layer_never_loses_objects():
    rng = random.Random(9)
    outcomes = {"read": 0, "refused": 0, "objects_read": 0, "wrapped_pages": 0}
    for dummy in range(600):
        pages, expected = fuzz_case(rng)
        client = client_for({IP_PATH: pages}, [])
        try:
            items = client.rest_list(IP_PATH)
        except MimecastError as exc:
            assert expected is None, "refused a readable shape: %s\n%s" % (exc, json.dumps(pages))
            assert "Nothing was changed" in str(exc)
            outcomes["refused"] += 1
            continue
        assert expected is not None, "read a shape that must be refused: %s" % json.dumps(pages)
        assert [i["id"] for i in items] == expected, json.dumps(pages)
        assert all(i["description"].startswith("Obj ") for i in items)
        outcomes["read"] += 1
        outcomes["objects_read"] += len(items)
        outcomes["wrapped_pages"] += any("policy" in json.dumps(p) for p in pages)
    # the fuzz exercised both sides of the rule
    assert outcomes["read"] > 200 and outcomes["refused"] > 100 and outcomes["objects_read"] > 500
    assert outcomes["wrapped_pages"] > 100


def test_fuzz_the_engine_plans_no_create_when_the_object_exists():
    """Whatever the shape, a run for an object that exists either refuses before planning or
    plans no create; it never writes in check mode."""
    rng = random.Random(8)
    refused = planned = 0
    for dummy in range(200):
        pages, expected = fuzz_case(rng)
        ids = [i.get("id") for p in pages for k in REST.list_keys + ("items",) for i in p.get(k, [])]
        if "id-0" not in ids:
            continue
        writes = []
        engine = Engine(client_for({IP_PATH: pages}, writes), AntiSpoofBypassSpec(), check_mode=True)
        try:
            result = engine.run("merged", [{"description": "Obj 0", "source_ips": ["52.201.210.30"]}])
        except MimecastError:
            refused += 1
        else:
            assert expected is not None
            assert [a["action"] for a in result["actions"]] == [], json.dumps(pages)
            planned += 1
        assert writes == []
    assert refused > 10 and planned > 30


def test_engine_refuses_to_plan_on_an_item_without_an_id():
    writes = []
    pages = [{"meta": {}, "definitions": [dict(policy(0), id=None, secret=SECRET)]}]
    engine = Engine(client_for({IP_PATH: pages}, writes), AntiSpoofBypassSpec())
    with pytest.raises(EngineError, match="does not understand .no id.") as err:
        engine.run("merged", [{"description": "Obj 0", "source_ips": ["52.201.210.30"]}])
    assert SECRET not in str(err.value) and "secret (string)" in str(err.value)
    assert writes == []


def test_wrapped_classic_item_is_not_recreated_by_the_engine():
    """Without unwrapping, the wrapped object reads without a description and would be created again."""
    writes = []
    pages = [{"meta": {}, "definitions": [wrapped(policy(0))]}]
    result = Engine(client_for({IP_PATH: pages}, writes), AntiSpoofBypassSpec()).run(
        "merged", [{"description": "Obj 0", "source_ips": ["52.201.210.30"]}])
    assert result["changed"] is False and writes == []


def test_empty_body_on_a_list_read_fails():
    def handler(request):
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 1800})
        return httpx.Response(200)
    client = MimecastClient(BASE, client_id="cid", client_secret="sec", transport=httpx.MockTransport(handler))
    with pytest.raises(MimecastError, match="the body is empty"):
        client.rest_list(IP_PATH)


# ---------------------------------------------------------------------------------- dates
DATED = {"from": "2026-12-01T00:00:00+0000", "to": "2099-12-31T23:59:59+0000"}
SPECS = [
    ("anti-spoofing", AntiSpoofBypassSpec(), "fromDateTime", "fromDate"),
    ("anti-spoofing-bypass", AntiSpoofBypassSpec(), "fromDateTime", "fromDate"),
    ("greylisting", GreylistingBypassSpec(), "fromDate", "fromDateTime"),
]


@pytest.mark.parametrize("collection, spec, own, other", SPECS, ids=[s[0] for s in SPECS])
@pytest.mark.parametrize("naming", ["own", "other"])
def test_dates_read_under_either_name_for_every_policy_type(collection, spec, own, other, naming):
    name = own if naming == "own" else other
    item = dict(policy(1), fromEternal=False, toEternal=False, spfDomains=["partner.example"])
    item[name] = DATED["from"]
    item[name.replace("from", "to")] = DATED["to"]
    entry = spec.from_api(collection, item)
    assert entry["valid_from"] == DATED["from"] and entry["valid_to"] == DATED["to"]


@pytest.mark.parametrize("field", ["toDateTime", "toDate"])
@pytest.mark.parametrize("read_as", ["toDateTime", "toDate"])
def test_audit_reads_expiry_under_either_name(field, read_as):
    # blocked-senders and every other type the audit reads share date_from_api
    item = {"toEternal": False, field: DATED["to"]}
    assert _policy.date_from_api(item, "to", read_as) == DATED["to"]
    assert _policy.date_from_api({"toEternal": False, field: "2100-01-01T23:59:59+0000"}, "to", read_as) == "eternal"


def test_dated_policy_read_back_under_the_other_name_is_not_repatched():
    item = dict(policy(0), fromEternal=False, toEternal=False, fromDate=DATED["from"], toDate=DATED["to"])
    writes = []
    result = Engine(client_for({IP_PATH: [{"definitions": [item]}]}, writes), AntiSpoofBypassSpec()).run(
        "merged", [{"description": "Obj 0", "source_ips": ["52.201.210.30"], "valid_from": DATED["from"],
                    "valid_to": "2099-12-31"}])
    assert result["changed"] is False and writes == []


def test_engine_refuses_to_plan_on_a_policy_without_a_description():
    """A policy read without its description would be unowned and the entry created again."""
    writes = []
    item = {k: v for k, v in policy(0).items() if k != "description"}
    engine = Engine(client_for({IP_PATH: [{"definitions": [item]}]}, writes), AntiSpoofBypassSpec())
    with pytest.raises(EngineError, match=r"no description.*Nothing was changed"):
        engine.run("merged", [{"description": "Obj 0", "source_ips": ["52.201.210.30"]}])
    assert writes == []
