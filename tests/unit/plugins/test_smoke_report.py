# -*- coding: utf-8 -*-
"""The read-only client mode and the smoke run's redacted shape report.

Fixtures are short and written here from public facts: the classic envelope (``meta.pagination.next``,
``data``, ``fail``) and get-message-info's ``deliveredMessage.<recipient>.policyInfo[]`` as in the recorded
responses of the Cortex XSOAR Mimecast integration (demisto/content, Packs/Mimecast/Integrations/MimecastV2/
test_data); REST lists under ``policies`` or ``definitions`` with ``meta.nextPageToken`` as the Mimecast
Terraform provider reads them (github.com/Scriptception/terraform-provider-mimecast, internal/client).
"""

from __future__ import annotations

import json

import httpx
import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._smoke import (
    ENDPOINTS, GATEWAY_FIELDS, Recorder, as_json, check, markdown, shape, smoke)
from http_mock import TOKEN, Call, ExpectedCalls

BASE = "https://api.services.mimecast.com"
AS = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
GW = GATEWAY_FIELDS

MESSAGE_INFO = {"meta": {"status": 200}, "fail": [], "data": [{
    "status": "held-3b9e",
    "deliveredMessage": {"vip.person@corp.example": {
        "policyInfo": [{"policyType": "Anti-Spoofing", "policyName": "Sim relay 7f3a", "inherited": False}],
        "messageInfo": {"subject": "Smoke subject 4e2b"}}}}]}


def make(calls, **kwargs):
    return MimecastClient(base_url=BASE, client_id="cid", client_secret="s3cr3t", transport=calls.transport,
                          sleep=lambda s: None, **kwargs)


def test_read_only_refuses_every_write_before_anything_is_sent():
    calls = ExpectedCalls()                      # no call at all, not even the token
    client = make(calls, read_only=True)
    for attempt in (lambda: client.rest_create(AS, {"description": "x"}),
                    lambda: client.rest_update(AS + "/id1", {"enabled": False}),
                    lambda: client.rest_delete(AS + "/id1"),
                    lambda: client.classic("/api/directory/create-group", [{"description": "x"}], write=True)):
        with pytest.raises(MimecastError) as info:
            attempt()
        assert info.value.code == "read_only" and "nothing was sent" in str(info.value)
        assert "MIMECAST_READ_ONLY" in str(info.value)
    assert calls.seen == [] and client.api_calls["write"] == 0


def test_read_only_still_reads():
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body={"policies": [], "meta": {}}))
    assert make(calls, read_only=True).rest_list(AS) == []
    calls.assert_done()


def test_observe_sees_every_answer_but_the_token():
    seen = []
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body={"policies": [{"id": "a"}], "meta": {}}))
    make(calls, observe=lambda m, p, k, r: seen.append((m, p, k, r.status_code))).rest_list(AS)
    assert seen == [("POST", "/oauth/token", "auth", 200), ("GET", AS, "read", 200)]


def test_shape_keeps_key_names_and_types_never_values():
    found = shape(MESSAGE_INFO)
    text = json.dumps(found)
    for value in ("vip.person@corp.example", "Sim relay 7f3a", "Smoke subject 4e2b", "Anti-Spoofing", "held-3b9e"):
        assert value not in text
    delivered = found["keys"]["data"]["items"]["keys"]["deliveredMessage"]
    assert list(delivered["keys"]) == ["<key>"]          # the recipient address used as a key is hidden
    policy = delivered["keys"]["<key>"]["keys"]["policyInfo"]
    assert policy["length"] == 1 and policy["items"]["keys"]["inherited"] == {"type": "boolean"}


def test_shape_merges_items_and_types():
    merged = shape([{"a": 1}, {"a": None, "b": "x"}])
    assert merged["length"] == 2
    assert merged["items"]["keys"] == {"a": {"type": "null|number"}, "b": {"type": "string"}}


def test_the_expected_shapes_have_no_mismatch():
    rest = shape({"policies": [{"id": "1", "description": "d", "fromDate": "x", "toDate": "y"}],
                  "meta": {"nextPageToken": "t"}})
    assert check(True, "<list>[]", GW, rest)[0] == []
    classic = shape({"meta": {"pagination": {"pageSize": 100, "next": "n"}}, "fail": [],
                     "data": [{"id": "1", "domain": "corp.example", "action": "permit", "matchType": "domain"}]})
    assert check(False, "data[]", ENDPOINTS[9][5], classic)[0] == []


@pytest.mark.parametrize("payload, expected", [
    ({"policies": [], "meta": {"cursor": "t"}}, "a paging key the collection does not read: meta.cursor"),
    ({"meta": {}}, "none of the list keys the collection reads (definitions, policies, data); top-level keys: meta"),
    ({"items": []}, "an unexpected top-level key: items"),
    ({"policies": [{"id": "1"}]}, "items lack the field description"),
    ({"policies": [{"wrap": {"id": "1", "description": "d"}}]},
     "the items are wrapped in one key (wrap) instead of carrying their fields"),
])
def test_each_alternative_rest_shape_is_a_mismatch(payload, expected):
    assert expected in check(True, "<list>[]", GW, shape(payload))[0]


@pytest.mark.parametrize("payload, expected", [
    ({"policies": [{"policy": {"id": "1", "description": "d"}}]},
     "the items are wrapped in policy, which the collection unwraps"),
    ({"policies": [{"id": "1", "description": "d"}], "nextToken": "t"},
     "the next-page token is at the top level (nextToken), which the collection reads"),
    ({"definitions": [], "policies": [{"id": "1", "description": "d"}]},
     "more than one list key (definitions, policies): the collection reads the one that holds items"),
])
def test_shapes_the_reader_accepts_are_notes_not_mismatches(payload, expected):
    problems, notes = check(True, "<list>[]", GW, shape(payload))
    assert problems == [] and any(n.startswith(expected) for n in notes), (problems, notes)


def test_classic_mismatches_and_empty_lists():
    problems, notes = check(False, "data[]", dict(required=("id",), optional=()),
                            shape({"data": [], "meta": {"pagination": {"nextToken": "t"}}, "extra": 1}))
    assert problems == ["an unexpected top-level key: extra",
                        "a paging key the collection does not read: meta.pagination.nextToken"]
    assert notes == ["no items at data[]: the item fields could not be checked"]


class FakeClient:
    """Answers each path with a canned payload through the observe hook, like the real client."""

    def __init__(self, answers, recorder):
        self.answers = answers
        self.recorder = recorder
        self.api_calls = {"read": 0, "write": 0, "auth": 0, "total": 0}

    def _answer(self, method, path):
        status, body = self.answers.get(path, (200, {"data": [], "policies": []}))
        self.recorder(method, path, "read", httpx.Response(status, json=body))
        if status >= 400:
            raise MimecastError("Mimecast refused %s for Sim relay 7f3a" % path, code="err_x", status=status)
        return body

    def rest_list(self, path):
        return self._answer("GET", path).get("policies", [])

    def classic(self, path, data, paginate=False):
        return self._answer("POST", path).get("data", [])


def test_smoke_report_records_errors_without_their_text_and_skips_what_it_cannot_read():
    recorder = Recorder()
    answers = {AS: (403, {"fail": [{"errors": [{"code": "err_x", "message": "Sim relay 7f3a"}]}]})}
    client = FakeClient(answers, recorder)
    report = smoke(client, recorder)
    entry = report["endpoints"]["anti-spoofing policies"]
    assert entry["error"] == {"code": "err_x", "status": 403} and entry["statuses"] == [403]
    assert report["endpoints"]["profile group members"] == {"skipped": "no profile group to read the members of"}
    assert report["endpoints"]["message info"] == {"skipped": "the search window held no message"}
    assert report["error_count"] == 1
    text = as_json(report) + markdown(report)
    assert "Sim relay 7f3a" not in text and set(entry["error"]) == {"code", "status"}


def test_markdown_escapes_key_names():
    recorder = Recorder()
    client = FakeClient({AS: (200, {"policies": [{"id": "1", "description": "d", "a_b*": 1, "x_y": 2}]})},
                        recorder)
    text = markdown(smoke(client, recorder))
    assert "x\\_y" in text and "a_b*" not in text
