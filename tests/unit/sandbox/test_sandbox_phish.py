"""Sandbox: profile groups, managed URLs, message tracking and the delivery simulation."""

import datetime
import os
import sys

import httpx
import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402

CG = "/policy-management/cloud-gateway/v1"
AS = CG + "/anti-spoofing/policies"
GREY = CG + "/greylisting/policies"
D = "/api/directory/"
URL = "/api/ttp/url/"
MF = "/api/message-finder/"
FORBIDDEN = ("err_xdk_operation_forbidden_for_address",
             "0003 Forbidden To Perform Operation For Address")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    sandbox.reset()
    sandbox.set_page_size(3)
    yield sandbox
    sandbox.reset()


@pytest.fixture
def http(sb):
    with httpx.Client(base_url=sb.url, timeout=10) as client:
        yield client


@pytest.fixture
def api(http, sb):
    """api(path, data=None, meta=None, tenant="demo") -> httpx response (classic envelope)."""
    headers = {t: {"Authorization": "Bearer " + sb.issue_token(t)} for t in ("demo", "acme")}

    def call(path, data=None, meta=None, tenant="demo"):
        body = {"data": data if data is not None else []}
        if meta:
            body["meta"] = meta
        return http.post(path, json=body, headers=headers[tenant])
    call.headers = headers
    return call


def ok(resp):
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["fail"] == [], body["fail"]
    return body["data"]


def fail(resp, index=0):
    assert resp.status_code == 200, resp.text
    return resp.json()["fail"][index]["errors"][0]


def code(resp, index=0):
    return fail(resp, index)["code"]


def all_pages(api, path, data, key=None, page_size=50):
    """Follow meta.pagination.next; returns (items, number of pages)."""
    items, token, pages = [], None, 0
    while True:
        pagination = {"pageSize": page_size}
        if token:
            pagination["pageToken"] = token
        meta = {"pagination": pagination}
        resp = api(path, data, meta)
        body = resp.json()
        assert resp.status_code == 200 and body["fail"] == [], resp.text
        pages += 1
        chunk = body["data"][0][key] if key else body["data"]
        assert len(chunk) <= 3
        items.extend(chunk)
        token = body["meta"]["pagination"].get("next")
        if not token:
            return items, pages


def groups_by_name(api):
    folders, dummy = all_pages(api, D + "find-groups", [], key="folders")
    return {f["description"]: f for f in folders}


def make_group(api, description, **kw):
    return ok(api(D + "create-group", [dict({"description": description}, **kw)]))[0]


def when(days=0, hours=0):
    moment = datetime.datetime.now(datetime.timezone.utc)
    moment += datetime.timedelta(days=days, hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


# ------------------------------------------------------------------ profile groups

def test_builtin_groups_and_find(api):
    groups = groups_by_name(api)
    assert set(groups) == {"Permitted Senders", "Blocked Senders"}
    for folder in groups.values():
        assert set(folder) == {"id", "description", "source", "parentId", "folderCount",
                               "userCount"}
        assert folder["source"] == "cloud" and folder["userCount"] == folder["folderCount"] == 0
        assert len(folder["id"]) >= 200 and len(folder["parentId"]) >= 200
    assert groups["Permitted Senders"]["parentId"] == groups["Blocked Senders"]["parentId"]


def test_create_group_and_query(api):
    vip = make_group(api, "VIPs")
    assert set(vip) == {"id", "description", "source", "parentId", "folderCount", "userCount"}
    assert vip["description"] == "VIPs" and vip["userCount"] == 0 and len(vip["id"]) >= 200
    root = groups_by_name(api)["Permitted Senders"]["parentId"]
    assert vip["parentId"] == root
    child = make_group(api, "Finance vips", parentId=vip["id"])
    assert child["parentId"] == vip["id"]
    again = make_group(api, "VIPs")                        # duplicates allowed
    assert again["id"] != vip["id"]
    found = ok(api(D + "find-groups", [{"query": "vip"}]))[0]["folders"]
    assert sorted(f["description"] for f in found) == ["Finance vips", "VIPs", "VIPs"]
    assert [f["folderCount"] for f in found if f["id"] == vip["id"]] == [1]
    assert ok(api(D + "find-groups", [{"query": "VIPs", "source": "ldap"}]))[0]["folders"] == []
    assert len(ok(api(D + "find-groups", [{"source": "cloud"}]))[0]["folders"]) == 3  # paged
    resp = api(D + "create-group", [{"description": "ok"}, {}, {"description": "  "}])
    assert [g["description"] for g in resp.json()["data"]] == ["ok"]
    assert [f["errors"][0]["code"] for f in resp.json()["fail"]] == [
        "err_validation_null", "err_validation_blank"]
    assert resp.json()["fail"][0]["key"] == {}


def test_find_groups_paging(api):
    for i in range(7):
        make_group(api, "Group %d" % i)
    folders, pages = all_pages(api, D + "find-groups", [{}], key="folders")
    assert pages == 3 and len(folders) == 9 and len({f["id"] for f in folders}) == 9
    first = api(D + "find-groups", [], {"pagination": {"pageSize": 2}}).json()
    assert first["meta"]["pagination"]["pageSize"] == 2
    assert "previous" not in first["meta"]["pagination"]
    second = api(D + "find-groups", [], {"pagination": {
        "pageToken": first["meta"]["pagination"]["next"]}}).json()
    assert "previous" in second["meta"]["pagination"]
    assert api(D + "find-groups", [], {"pagination": {"pageToken": "junk"}}).status_code == 400


def test_update_and_delete_group(api, sb):
    parent, other = make_group(api, "Parent"), make_group(api, "Other")
    moved = ok(api(D + "update-group", [
        {"id": other["id"], "description": "Renamed", "parentId": parent["id"]}]))[0]
    assert moved["description"] == "Renamed" and moved["parentId"] == parent["id"]
    assert groups_by_name(api)["Parent"]["folderCount"] == 1
    assert code(api(D + "update-group", [{"id": parent["id"], "parentId": other["id"]}])) \
        == "err_validation_invalid_value"                         # no cycles
    assert ok(api(D + "delete-group", [{"id": parent["id"]}])) == []
    assert set(groups_by_name(api)) == {"Permitted Senders", "Blocked Senders"}  # child too
    assert code(api(D + "delete-group", [{"id": parent["id"]}])) == "err_folder_not_found"
    assert [g["description"] for g in sb.state("demo")["groups"]] == []


def test_group_id_quirks(api):
    group = make_group(api, "VIPs")
    truncated = group["id"][:120]
    for path, item in (("get-group-members", {"id": truncated}),
                       ("add-group-member", {"id": truncated, "emailAddress": "a@b.example"}),
                       ("remove-group-member", {"id": truncated, "emailAddress": "a@b.example"}),
                       ("update-group", {"id": truncated, "description": "x"}),
                       ("delete-group", {"id": truncated}),
                       ("create-group", {"description": "x", "parentId": truncated})):
        resp = api(D + path, [item])
        assert resp.status_code == 400 and resp.content == b"", path
    tampered = group["id"][:-4] + ("AAAA" if not group["id"].endswith("AAAA") else "BBBB")
    assert api(D + "get-group-members", [{"id": tampered}]).status_code == 400
    # the 400 aborts the whole call: the well-formed item before it is not processed either
    resp = api(D + "add-group-member", [{"id": group["id"], "emailAddress": "x@y.example"},
                                        {"id": truncated, "emailAddress": "x@y.example"}])
    assert resp.status_code == 400
    assert ok(api(D + "get-group-members", [{"id": group["id"]}]))[0]["groupMembers"] == []
    # well formed but unknown here (another tenant's id, or a deleted group): 200 + fail
    acme = ok(api(D + "create-group", [{"description": "A"}], tenant="acme"))[0]
    for path in ("get-group-members", "delete-group", "update-group"):
        resp = api(D + path, [{"id": acme["id"], "description": "x"}])
        assert code(resp) == "err_folder_not_found" and resp.json()["data"] == []
    resp = api(D + "add-group-member", [{"id": acme["id"], "emailAddress": "a@b.example"}])
    assert code(resp) == "err_folder_not_found"
    assert code(api(D + "create-group", [{"description": "x", "parentId": acme["id"]}])) \
        == "err_folder_not_found"


def test_builtin_groups_forbidden_writes(api, sb):
    groups = groups_by_name(api)
    for name in ("Permitted Senders", "Blocked Senders"):
        gid = groups[name]["id"]
        for path, item in (("add-group-member", {"id": gid, "emailAddress": "a@ext.example"}),
                           ("add-group-member", {"id": gid, "domain": "ext.example"}),
                           ("remove-group-member", {"id": gid, "emailAddress": "a@ext.example"}),
                           ("update-group", {"id": gid, "description": "mine"}),
                           ("delete-group", {"id": gid})):
            error = fail(api(D + path, [item]))
            assert (error["code"], error["message"]) == FORBIDDEN, (name, path)
    # reads work; members can only come from seeding (the console)
    sb.seed("demo", "group_members",
            [{"group": "Permitted Senders", "emailAddress": "p@ext.example"}])
    members = ok(api(D + "get-group-members", [{"id": groups["Permitted Senders"]["id"]}]))
    assert [m["emailAddress"] for m in members[0]["groupMembers"]] == ["p@ext.example"]
    assert groups_by_name(api)["Permitted Senders"]["userCount"] == 1
    assert [g["description"] for g in sb.state("demo", builtin=True)["groups"]] == [
        "Permitted Senders", "Blocked Senders"]
    assert sb.state("demo", builtin=True)["groups"][0]["builtin"] is True


def test_group_members(api, sb):
    gid = make_group(api, "VIPs")["id"]
    added = ok(api(D + "add-group-member", [
        {"id": gid, "emailAddress": "Boss@Corp.example", "notes": "the boss"},
        {"id": gid, "emailAddress": "vendor@ext.example"},
        {"id": gid, "domain": "partner.example"},
        {"id": gid, "domain": "corp-mail.example"}]))
    assert set(added[0]) == {"id", "folderId", "emailAddress", "internal"}
    assert added[0]["folderId"] == gid and added[0]["internal"] is True
    assert added[0]["emailAddress"] == "boss@corp.example"
    assert added[1]["internal"] is False
    assert set(added[2]) == {"id", "folderId", "domain", "internal"}
    assert added[2]["domain"] == "partner.example" and added[3]["internal"] is True
    members = ok(api(D + "get-group-members", [{"id": gid}], {"pagination": {"pageSize": 500}}))
    first = members[0]["groupMembers"]
    assert first[0] == {"emailAddress": "boss@corp.example", "domain": "corp.example", "name": "",
                        "internal": True, "type": "created_manually", "notes": "the boss"}
    assert first[2] == {"emailAddress": "", "domain": "partner.example", "name": "",
                        "internal": False, "type": "created_manually", "notes": ""}
    assert groups_by_name(api)["VIPs"]["userCount"] == 4
    # duplicates (case-insensitive), invalid address, several items independent
    resp = api(D + "add-group-member", [{"id": gid, "emailAddress": "BOSS@corp.example"},
                                        {"id": gid, "emailAddress": "not-an-address"},
                                        {"id": gid, "domain": "partner.example"},
                                        {"id": gid, "emailAddress": "new@corp.example"}])
    body = resp.json()
    assert [f["errors"][0]["code"] for f in body["fail"]] == [
        "err_folder_group_member_already_exists", "err_validation_invalid_email_address",
        "err_folder_group_member_already_exists"]
    assert body["fail"][0]["key"] == {"id": gid, "emailAddress": "BOSS@corp.example"}
    assert [m["emailAddress"] for m in body["data"]] == ["new@corp.example"]
    # remove
    removed = ok(api(D + "remove-group-member",
                     [{"id": gid, "emailAddress": "vendor@ext.example"}]))
    assert removed[0]["id"] == added[1]["id"] and removed[0]["folderId"] == gid
    assert removed[0]["emailAddress"] == "vendor@ext.example" and removed[0]["internal"] is False
    assert ok(api(D + "remove-group-member", [{"id": gid, "domain": "partner.example"}]))[0][
        "domain"] == "partner.example"
    for item in ({"emailAddress": "vendor@ext.example"}, {"domain": "corp.example"},
                 {"emailAddress": "nobody@corp.example"}):
        assert code(api(D + "remove-group-member", [dict(item, id=gid)])) \
            == "err_folder_email_address_not_found"
    assert groups_by_name(api)["VIPs"]["userCount"] == 3
    assert [m["emailAddress"] for m in sb.state("demo")["groups"][0]["members"]] == [
        "boss@corp.example", "", "new@corp.example"]


def test_group_members_paging(api):
    gid = make_group(api, "Big")["id"]
    ok(api(D + "add-group-member", [{"id": gid, "emailAddress": "u%d@ext.example" % i}
                                    for i in range(8)]))
    members, pages = all_pages(api, D + "get-group-members", [{"id": gid}], "groupMembers", 500)
    assert pages == 3 and [m["emailAddress"] for m in members] == [
        "u%d@ext.example" % i for i in range(8)]
    assert api(D + "get-group-members", [{"id": gid}],
               {"pagination": {"pageSize": 501}}).status_code == 400


def test_group_writes_are_logged_as_writes(api, sb):
    sb.clear_requests()
    gid = make_group(api, "VIPs")["id"]
    api(D + "update-group", [{"id": gid, "description": "V"}])
    api(D + "add-group-member", [{"id": gid, "emailAddress": "a@ext.example"}])
    api(D + "get-group-members", [{"id": gid}])
    api(D + "find-groups", [])
    api(D + "remove-group-member", [{"id": gid, "emailAddress": "a@ext.example"}])
    api(D + "delete-group", [{"id": gid}])
    assert [r["path"].rsplit("/", 1)[1] for r in sb.writes("demo")] == [
        "create-group", "update-group", "add-group-member", "remove-group-member", "delete-group"]
    assert len(sb.requests("demo")) == 7


# ------------------------------------------------------------------ managed URLs

def test_create_managed_url_decomposed(api):
    made = ok(api(URL + "create-managed-url", [
        {"url": "https://www.Example.com/path/x?a=1&b=2", "action": "block",
         "disableRewrite": True, "disableUserAwareness": True, "disableLogClick": True,
         "comment": "phish"},
        {"url": "http://files.example.net:8080", "action": "permit", "matchType": "domain",
         "disableRewrite": True}]))
    assert made[0] == {"id": made[0]["id"], "scheme": "https", "domain": "www.example.com",
                       "port": -1, "path": "/path/x", "queryString": "a=1&b=2",
                       "matchType": "explicit", "action": "block", "comment": "phish",
                       "disableUserAwareness": False, "disableRewrite": False,
                       "disableLogClick": True}                 # rewrite flags forced off
    assert "url" not in made[0] and len(made[0]["id"]) >= 60
    assert (made[1]["port"], made[1]["path"], made[1]["matchType"], made[1]["disableRewrite"]) \
        == (8080, "", "domain", True)


def test_create_managed_url_errors(api):
    base = {"url": "https://phish.example/", "action": "block"}
    ok(api(URL + "create-managed-url", [base]))
    cases = [({"url": "https://x.example/"}, "err_validation_null", "action"),
             ({"url": "https://x.example/#frag", "action": "block"}, "err_validation_invalid_url",
              "url"),
             ({"url": "https://x.example/", "action": "allow"}, "err_validation_invalid_value",
              "action"),
             ({"action": "permit"}, "err_validation_null", "url"),
             (dict(base), "err_managed_url_exists_code", None),
             (dict(base, action="permit"), "err_managed_url_exists_code", None)]
    resp = api(URL + "create-managed-url", [c[0] for c in cases])
    body = resp.json()
    assert body["data"] == []
    assert [(f["errors"][0]["code"], f["errors"][0].get("field")) for f in body["fail"]] == [
        (c[1], c[2]) for c in cases]
    assert body["fail"][4]["key"] == base
    # same URL with another matchType, or path "" vs "/", is a different entry
    ok(api(URL + "create-managed-url", [dict(base, matchType="domain"),
                                        {"url": "https://phish.example", "action": "block"}]))


def test_managed_url_ids_differ_per_read_yet_delete(api, sb):
    ok(api(URL + "create-managed-url", [{"url": "https://a.example/x", "action": "block"},
                                        {"url": "https://b.example/", "action": "permit"}]))
    first, second = ok(api(URL + "get-all-managed-urls")), ok(api(URL + "get-all-managed-urls"))
    assert [u["domain"] for u in first] == ["a.example", "b.example"]
    assert [u["domain"] for u in second] == ["a.example", "b.example"]
    assert first[0]["id"] != second[0]["id"] and first[1]["id"] != second[1]["id"]
    entry_ids = [u["entryId"] for u in sb.state("demo")["managed_urls"]]
    assert ok(api(URL + "delete-managed-url", [{"id": first[0]["id"]}])) == []
    assert [u["entryId"] for u in sb.state("demo")["managed_urls"]] == entry_ids[1:]
    # the other read's id of the same (now deleted) entry no longer resolves
    assert code(api(URL + "delete-managed-url", [{"id": second[0]["id"]}])) \
        == "err_managed_url_not_found"
    assert ok(api(URL + "delete-managed-url", [{"id": second[1]["id"]}])) == []
    assert ok(api(URL + "get-all-managed-urls")) == []
    for garbled in ("nope", first[1]["id"][:-3], first[1]["id"][:-2] + "zz", "", None):
        assert code(api(URL + "delete-managed-url", [{"id": garbled}])) \
            == "err_managed_url_not_found"


def test_managed_urls_filter_and_paging(api):
    ok(api(URL + "create-managed-url", [{"url": "https://site%d.example/p" % i, "action": "block"}
                                        for i in range(8)]))
    items, pages = all_pages(api, URL + "get-all-managed-urls", [])
    assert pages == 3 and [u["domain"] for u in items] == ["site%d.example" % i for i in range(8)]
    assert all("url" not in u for u in items)
    hits = ok(api(URL + "get-all-managed-urls", [{"domainOrUrl": "site3", "exactMatch": False}]))
    assert [u["domain"] for u in hits] == ["site3.example"]
    assert ok(api(URL + "get-all-managed-urls",
                  [{"domainOrUrl": "site3", "exactMatch": True}])) == []
    exact = ok(api(URL + "get-all-managed-urls", [{"domainOrUrl": "https://site4.example/p",
                                                   "exactMatch": True}]))
    assert [u["domain"] for u in exact] == ["site4.example"]
    assert ok(api(URL + "get-all-managed-urls", [], tenant="acme")) == []


def test_nonexistent_paths_forbidden(api):
    for path in ("/api/policy/permitted-senders/create-policy", URL + "update-managed-url",
                 "/api/ttp/impersonation/create-policy"):
        resp = api(path, [{"id": "x"}])
        assert resp.status_code == 403, path
        assert resp.json()["fail"][0]["errors"][0]["code"] == "app_forbidden"


# ------------------------------------------------------------------ delivery + tracking

HTML = ('<p>Hi <a href="https://docs.partner.example/a?x=1">docs</a> '
        '<a href="https://evil.example/login">login</a> '
        '<a href="http://partner.example/">home</a></p>')


def test_deliver_rewrites_links_and_decode(api, sb):
    ok(api(URL + "create-managed-url", [
        {"url": "https://partner.example", "action": "permit", "matchType": "domain",
         "disableRewrite": True},
        {"url": "https://evil.example/login", "action": "permit"}]))     # rewrite still on
    mid = sb.deliver("demo", "alice@ext.example", ["bob@corp.example"], "Docs", "198.51.100.7",
                     HTML)
    info = ok(api(MF + "get-message-info", [{"id": mid}]))[0]
    assert info["recipientInfo"]["messageInfo"]["htmlBody"] == HTML     # as received: untouched
    body = info["deliveredMessage"]["bob@corp.example"]["messageInfo"]["htmlBody"]
    assert "https://docs.partner.example/a?x=1" in body and "http://partner.example/" in body
    assert "https://evil.example/login" not in body
    rewritten = [part.split('"')[0] for part in body.split('href="')[1:]][1]
    assert rewritten.startswith("https://protect-us.mimecast.com/s/")
    assert rewritten.endswith("?domain=evil.example")
    assert ok(api(URL + "decode-url", [{"url": rewritten}])) == [
        {"url": "https://evil.example/login", "success": True}]
    assert code(api(URL + "decode-url", [{"url": "https://evil.example/login"}])) \
        == "err_url_decode_failed"
    assert code(api(URL + "decode-url", [{"url": rewritten}], tenant="acme")) \
        == "err_url_decode_failed"
    assert code(api(URL + "decode-url", [{}])) == "err_validation_null"
    # explicit permit + disableRewrite exempts that exact URL only
    ok(api(URL + "create-managed-url", [{"url": "https://evil.example/login", "action": "permit",
                                         "matchType": "domain", "disableRewrite": False},
                                        {"url": "https://evil.example/other", "action": "permit",
                                         "disableRewrite": True}]))
    mid = sb.deliver("demo", "alice@ext.example", "bob@corp.example", "Again", "198.51.100.7",
                     '<a href="https://evil.example/other">a</a> <a href="https://evil.example/'
                     'other2">b</a>')
    body = sb.state("demo")["messages"][-1]["htmlBody"]
    assert 'href="https://evil.example/other"' in body and "evil.example/other2" not in body
    assert sb.state("demo")["messages"][-1]["id"] == mid


def test_anti_spoofing_hold_and_bypass(api, sb):
    spoof = ("ceo@corp.example", ["bob@corp.example"], "Wire", "203.0.113.9", "<p>pay</p>")
    held = ok(api(MF + "get-message-info", [{"id": sb.deliver("demo", *spoof)}]))[0]
    assert held["status"] == "held" and held["deliveredMessage"] == {}
    assert "policyInfo" not in held                  # the real API has no top-level policyInfo
    assert sb.state("demo")["messages"][-1]["policyInfo"] == [{
        "policyType": "Anti-Spoofing", "policyName": "Default Anti-Spoofing Policy",
        "inherited": False}]
    # a no_action policy whose sourceIPs cover the sender IP and whose window covers now
    sb.seed("demo", "anti-spoofing", [
        {"description": "Vendor relay", "option": "no_action", "sourceIPs": ["203.0.113.0/24"]},
        {"description": "Expired", "option": "no_action", "sourceIPs": ["192.0.2.0/24"],
         "toDateTime": when(days=-1)},
        {"description": "Disabled", "option": "no_action", "sourceIPs": ["198.51.100.0/24"],
         "enabled": False}])
    ok_ = ok(api(MF + "get-message-info", [{"id": sb.deliver("demo", *spoof)}]))[0]
    assert ok_["status"] == "delivered" and "policyInfo" not in ok_
    assert list(ok_["deliveredMessage"]) == ["bob@corp.example"]
    assert ok_["deliveredMessage"]["bob@corp.example"]["policyInfo"] == [{
        "policyType": "Anti-Spoofing", "policyName": "Vendor relay", "inherited": False}]
    for ip in ("192.0.2.5", "198.51.100.5", "203.0.114.1"):        # expired, disabled, outside
        mid = sb.deliver("demo", spoof[0], spoof[1], "x", ip, "")
        assert ok(api(MF + "get-message-info", [{"id": mid}]))[0]["status"] == "held", ip
    # a future window does not cover a message received now
    sb.seed("demo", "anti-spoofing", [{"description": "Later", "option": "no_action",
                                       "sourceIPs": ["192.0.2.0/24"],
                                       "fromDateTime": when(days=1)}])
    mid = sb.deliver("demo", spoof[0], spoof[1], "x", "192.0.2.5", "")
    assert ok(api(MF + "get-message-info", [{"id": mid}]))[0]["status"] == "held"
    mid = sb.deliver("demo", spoof[0], spoof[1], "x", "192.0.2.5", "", received=when(days=2))
    assert ok(api(MF + "get-message-info", [{"id": mid}]))[0]["status"] == "delivered"
    # external senders are not anti-spoofing candidates
    mid = sb.deliver("demo", "x@ext.example", ["bob@corp.example"], "hi", "192.0.2.99", "")
    info = ok(api(MF + "get-message-info", [{"id": mid}]))[0]
    assert info["status"] == "delivered"
    assert info["deliveredMessage"]["bob@corp.example"]["policyInfo"] == []


def test_anti_spoofing_via_rest_api_and_targets(api, sb, http):
    headers = api.headers["demo"]
    resp = http.post(AS, json={"description": "Only to bob", "option": "no_action",
                               "sourceIPs": ["203.0.113.9"],
                               "to": {"type": "individual_email_address",
                                      "emailAddress": "bob@corp.example"}}, headers=headers)
    assert resp.status_code == 200
    assert sb.deliver("demo", "ceo@corp.example", ["bob@corp.example"], "s", "203.0.113.9", "")
    assert sb.deliver("demo", "ceo@corp.example", ["eve@corp.example"], "s", "203.0.113.9", "")
    assert [m["status"] for m in sb.state("demo")["messages"]] == ["delivered", "held"]


def test_greylisting(api, sb):
    args = ("x@ext.example", ["bob@corp.example"], "s", "192.0.2.10", "<p>hi</p>")
    assert sb.state("demo", builtin=True)["settings"]["greylisting"] is False
    first = sb.deliver("demo", *args)
    assert ok(api(MF + "get-message-info", [{"id": first}]))[0]["status"] == "delivered"
    assert sb.settings("demo", greylisting=True)["greylisting"] is True
    deferred = ok(api(MF + "get-message-info", [{"id": sb.deliver("demo", *args)}]))[0]
    assert deferred["status"] == "deferred" and deferred["deliveredMessage"] == {}
    assert deferred["recipientInfo"]["messageInfo"]["htmlBody"] == ""
    assert sb.state("demo")["messages"][-1]["policyInfo"][0]["policyType"] == "Greylisting"
    retry = ok(api(MF + "get-message-info", [{"id": sb.deliver("demo", *args)}]))[0]
    assert retry["status"] == "delivered"                  # the retry passes
    sb.seed("demo", "greylisting", [{"description": "Trusted relay", "option": "no_action",
                                     "sourceIPs": ["198.51.100.0/24"]}])
    skipped = sb.deliver("demo", "y@ext.example", ["bob@corp.example"], "s", "198.51.100.1", "")
    info = ok(api(MF + "get-message-info", [{"id": skipped}]))[0]
    assert info["status"] == "delivered"
    assert info["deliveredMessage"]["bob@corp.example"]["policyInfo"] == [{
        "policyType": "Greylisting", "policyName": "Trusted relay", "inherited": False}]
    statuses = [m["status"] for m in sb.state("acme")["messages"]]
    assert statuses == []                                   # per tenant


def test_permitted_senders_group(api, sb):
    sb.seed("demo", "group_members", [{"group": "Permitted Senders", "domain": "friend.example"}])
    mid = sb.deliver("demo", "a@friend.example", ["bob@corp.example"], "s", "192.0.2.1", "")
    info = ok(api(MF + "get-message-info", [{"id": mid}]))[0]
    assert info["spamInfo"]["spamProcessingDetail"]["permittedSender"] == {
        "allow": True, "info": "Permitted Senders"}
    assert info["deliveredMessage"]["bob@corp.example"]["policyInfo"] == [{
        "policyType": "Permitted Senders", "policyName": "Permitted Senders", "inherited": False}]
    # a custom group counts once the (console-made) policy is said to reference it
    gid = make_group(api, "Partners")["id"]
    ok(api(D + "add-group-member", [{"id": gid, "emailAddress": "p@partner.example"}]))
    sender = ("p@partner.example", ["bob@corp.example"], "s", "192.0.2.1", "")
    assert sb.state("demo")["messages"][-1]["permittedSender"] is True
    sb.deliver("demo", *sender)
    assert sb.state("demo")["messages"][-1]["permittedSender"] is False
    sb.settings("demo", permitted_sender_groups=["Permitted Senders", "Partners"])
    sb.deliver("demo", *sender)
    assert sb.state("demo")["messages"][-1]["permittedSender"] is True


def test_search_filters(api, sb):
    sb.deliver("demo", "Alice@Ext.example", ["bob@corp.example", "carol@corp.example"],
               "Quarterly Report", "192.0.2.1", "")
    sb.deliver("demo", "dave@ext.example", ["bob@corp.example"], "Lunch", "192.0.2.2", "",
               received=when(days=-3))
    sb.seed_message("demo", {"id": "seeded-1", "status": "archived", "info": "Indexed and archived",
                             "fromEnv": {"emailAddress": "out@corp.example"},
                             "to": [{"displayableName": "X", "emailAddress": "x@ext.example"}],
                             "subject": "Outbound report", "senderIP": "10.0.0.1",
                             "route": "outbound", "received": when(hours=-1)})
    start = when(days=-7)

    def search(**opts):
        item = {"start": start, "end": when(hours=1)}
        if opts:
            item["advancedTrackAndTraceOptions"] = opts
        emails = ok(api(MF + "search", [item]))[0]["trackedEmails"]
        return sorted(e["subject"] for e in emails)
    assert search() == ["Lunch", "Outbound report", "Quarterly Report"]
    assert search(**{"from": "alice@ext.example"}) == ["Quarterly Report"]
    assert search(to="CAROL@corp.example") == ["Quarterly Report"]
    assert search(to="bob@corp.example") == ["Lunch", "Quarterly Report"]
    assert search(subject="report") == ["Outbound report", "Quarterly Report"]
    assert search(senderIP="192.0.2.2") == ["Lunch"]
    assert search(route="outbound") == ["Outbound report"]
    recent = ok(api(MF + "search", [{"start": when(days=-1), "end": when(hours=1)}]))
    assert sorted(e["subject"] for e in recent[0]["trackedEmails"]) == [
        "Outbound report", "Quarterly Report"]
    item = ok(api(MF + "search", [{"start": start, "advancedTrackAndTraceOptions": {
        "subject": "Quarterly"}}]))[0]["trackedEmails"][0]
    assert set(item) == {"id", "status", "info", "fromEnv", "fromHdr", "to", "subject",
                         "received", "sent", "senderIP", "attachments", "route", "spamScore",
                         "detectionLevel"}
    assert item["fromEnv"] == {"emailAddress": "Alice@Ext.example"}
    assert item["to"][1] == {"displayableName": "", "emailAddress": "carol@corp.example"}
    assert item["status"] == "delivered" and item["route"] == "inbound"
    seeded = ok(api(MF + "search", [{"advancedTrackAndTraceOptions": {"route": "outbound"}}]))
    assert seeded[0]["trackedEmails"][0]["id"] == "seeded-1"
    assert seeded[0]["trackedEmails"][0]["info"] == "Indexed and archived"
    assert ok(api(MF + "search", [{"start": start}], tenant="acme"))[0]["trackedEmails"] == []


def test_search_quirks(api, sb):
    resp = api(MF + "search", [{"start": when(days=-31), "end": when()}])
    assert resp.status_code == 200 and resp.json()["meta"]["status"] == 200
    assert code(resp) == "err_track_and_trace_invalid_start_date"
    resp = api(MF + "search", [{"start": when(days=-1), "messageId": "<x@y>",
                                "advancedTrackAndTraceOptions": {"from": "a@b.example"}}])
    assert code(resp) == "err_validation_invalid_combination"
    assert code(api(MF + "search", [{"start": "yesterday"}])) == "err_validation_invalid_date"
    assert code(api(MF + "search", [{"start": when(days=-1), "end": when(days=-2)}])) \
        == "err_validation_invalid_date_range"
    # several items processed independently
    resp = api(MF + "search", [{"start": when(days=-40)}, {"start": when(days=-1)}])
    assert len(resp.json()["data"]) == 1 and len(resp.json()["fail"]) == 1
    mid = sb.deliver("demo", "a@ext.example", ["bob@corp.example"], "s", "192.0.2.1", "")
    message_id = sb.state("demo")["messages"][0]["messageId"]
    found = ok(api(MF + "search", [{"start": when(days=-1), "messageId": message_id}]))
    assert [e["id"] for e in found[0]["trackedEmails"]] == [mid]


def test_get_message_info_shape_and_unknown(api, sb):
    mid = sb.deliver("demo", "a@ext.example", ["bob@corp.example"], "Hello", "192.0.2.1",
                     "<p>see https://x.example/</p>")
    info = ok(api(MF + "get-message-info", [{"id": mid}]))[0]
    assert info["id"] == mid and info["status"] == "delivered"
    msg = info["recipientInfo"]["messageInfo"]
    assert {"fromEnvelope", "fromHeader", "to", "cc", "subject", "sent", "processed", "htmlBody",
            "textBody", "attachments", "transmissionInfo"} <= set(msg)
    assert (msg["fromEnvelope"], msg["to"], msg["subject"]) == ("a@ext.example",
                                                                ["bob@corp.example"], "Hello")
    assert msg["textBody"] == "see https://x.example/"                  # as received
    copy = info["deliveredMessage"]["bob@corp.example"]
    assert set(copy) == {"messageInfo", "policyInfo", "deliveryMetaInfo"}
    assert "protect-us.mimecast.com/s/" in copy["messageInfo"]["textBody"]  # as delivered
    meta = info["recipientInfo"]["recipientMetaInfo"]
    assert {"receiptEvent", "spamEvent", "remoteIp", "remoteHost", "encryptionInfo",
            "processingServer"} <= set(meta) and meta["remoteIp"] == "192.0.2.1"
    assert info["deliveredMessage"]["bob@corp.example"]["messageInfo"]["route"] == "inbound"
    assert info["spamInfo"]["spamProcessingDetail"]["permittedSender"]["info"] == "none"
    assert set(info) == {"id", "status", "recipientInfo", "deliveredMessage", "retentionInfo",
                         "spamInfo"}                      # no top-level policyInfo
    assert copy["policyInfo"] == []
    # seed_message: policyInfo goes into each delivered copy; the received body defaults to it
    seeded = sb.seed_message("demo", {"to": [{"displayableName": "", "emailAddress": "c@corp.example"},
                                             {"displayableName": "", "emailAddress": "d@corp.example"}],
                                      "htmlBody": "<a href='https://y.example/'>y</a>",
                                      "policyInfo": [{"policyType": "Auto Allow",
                                                      "policyName": "Apply Auto Allow",
                                                      "inherited": False}]})
    info = ok(api(MF + "get-message-info", [{"id": seeded}]))[0]
    assert sorted(info["deliveredMessage"]) == ["c@corp.example", "d@corp.example"]
    assert info["deliveredMessage"]["d@corp.example"]["policyInfo"][0]["policyName"] == "Apply Auto Allow"
    assert info["recipientInfo"]["messageInfo"]["htmlBody"] == "<a href='https://y.example/'>y</a>"
    resp = api(MF + "get-message-info", [{"id": "eNpNnope"}, {}, {"id": mid}])
    assert [f["errors"][0]["code"] for f in resp.json()["fail"]] == [
        "err_message_not_found", "err_validation_null"]
    assert len(resp.json()["data"]) == 1
    assert code(api(MF + "get-message-info", [{"id": mid}], tenant="acme")) \
        == "err_message_not_found"
    with pytest.raises(ValueError):
        sb.deliver("demo", "not-an-address", ["bob@corp.example"], "s", "192.0.2.1", "")
    with pytest.raises(ValueError):
        sb.deliver("demo", "a@ext.example", ["bob@corp.example"], "s", "999.1.1.1", "")


def test_reads_are_not_writes(api, sb):
    sb.clear_requests()
    api(URL + "create-managed-url", [{"url": "https://a.example/", "action": "block"}])
    ids = [u["id"] for u in ok(api(URL + "get-all-managed-urls"))]
    api(URL + "decode-url", [{"url": "https://a.example/"}])
    api(MF + "search", [{}])
    api(MF + "get-message-info", [{"id": "x"}])
    api(URL + "delete-managed-url", [{"id": ids[0]}])
    assert [r["path"] for r in sb.writes("demo")] == [URL + "create-managed-url",
                                                      URL + "delete-managed-url"]


def test_seed_new_collections_all_or_nothing(sb, api):
    gids = sb.seed("demo", "groups", [{"description": "Seeded"}])
    assert len(gids[0]) >= 200
    sb.seed("demo", "group_members", [{"id": gids[0], "emailAddress": "a@ext.example"}])
    uids = sb.seed("demo", "managed_urls", [{"url": "https://s.example/", "action": "block"}])
    assert sb.requests() == []
    with pytest.raises(ValueError):
        sb.seed("demo", "managed_urls", [{"url": "https://t.example/", "action": "block"},
                                         {"url": "https://s.example/", "action": "block"}])
    assert [u["domain"] for u in sb.state("demo")["managed_urls"]] == ["s.example"]
    assert ok(api(URL + "delete-managed-url", [{"id": uids[0]}])) == []
    state = sb.state("demo")
    assert [(g["description"], g["userCount"]) for g in state["groups"]] == [("Seeded", 1)]
    with pytest.raises(ValueError):
        sb.seed("demo", "group_members", [{"id": gids[0][:50], "emailAddress": "b@ext.example"}])


def test_http_control_additions(http, sb, api):
    resp = http.post("/_sandbox/deliver", json={
        "tenant": "demo", "sender": "a@ext.example", "recipients": ["bob@corp.example"],
        "subject": "via http", "sender_ip": "192.0.2.1",
        "html": "<a href='https://z.example/'>z</a>"})
    assert resp.status_code == 200, resp.text
    mid = resp.json()["id"]
    assert ok(api(MF + "get-message-info", [{"id": mid}]))[0]["recipientInfo"]["messageInfo"][
        "subject"] == "via http"
    assert http.post("/_sandbox/deliver", json={"tenant": "demo", "sender": "bad",
                                                "recipients": ["b@corp.example"],
                                                "sender_ip": "192.0.2.1"}).status_code == 400
    resp = http.post("/_sandbox/seed-message", json={"tenant": "demo", "message": {
        "subject": "seeded", "fromEnv": {"emailAddress": "s@ext.example"}}})
    assert resp.status_code == 200 and resp.json()["id"]
    assert http.post("/_sandbox/settings", json={"tenant": "demo", "greylisting": True}).json()[
        "greylisting"] is True
    assert http.get("/_sandbox/settings?tenant=demo").json()["greylisting"] is True
    assert http.post("/_sandbox/settings", json={"tenant": "demo", "nope": 1}).status_code == 400
    state = http.get("/_sandbox/state?tenant=demo&builtin=1").json()
    assert [m["subject"] for m in state["messages"]] == ["via http", "seeded"]
    assert len(state["groups"]) == 2 and state["settings"]["greylisting"] is True
    assert http.get("/_sandbox/state?tenant=demo").json()["groups"] == []
    endpoints = http.get("/_sandbox/").json()["endpoints"]
    assert {"POST /_sandbox/deliver", "POST /_sandbox/seed-message",
            "POST /_sandbox/settings"} <= set(endpoints)
    sb.reset()
    assert sb.settings("demo")["greylisting"] is False and sb.state("demo")["messages"] == []


def test_tenants_file_settings():
    with Sandbox({"solo": {"settings": {"greylisting": True}}}) as sb:
        assert sb.settings("solo") == {"greylisting": True,
                                       "permitted_sender_groups": ["Permitted Senders"]}
        sb.deliver("solo", "a@ext.example", ["b@solo.example"], "s", "192.0.2.1", "")
        assert sb.state("solo")["messages"][0]["status"] == "deferred"
