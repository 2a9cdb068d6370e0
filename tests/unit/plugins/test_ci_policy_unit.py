# -*- coding: utf-8 -*-
"""mimecast_ci_policy's spec and engine over mocked HTTP.

Fixtures are composed from the shapes the Mimecast Terraform provider's client test answers with
(github.com/Scriptception/terraform-provider-mimecast, internal/client/legacy_resources_test.go:
``{"policyId", "accountId", "name", "description", "protectionMode", "targets": {...}}``; create
answers ``{"policyId"}``; PATCH and DELETE answer 204).
"""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._cloud_integrated import (
    DEFAULT_POLICY,
    POLICIES,
    CloudIntegratedEngine,
    CloudIntegratedSpec,
    policy_from_api,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from http_mock import TOKEN, Call, ExpectedCalls

BASE = "https://api.services.mimecast.com"


def policy(policy_id, description, mode="MONITOR_ONLY", recipients=None):
    return {"policyId": policy_id, "accountId": "account-1", "name": description, "description": description,
            "protectionMode": mode,
            "targets": {"senders": {"route": "ALL"}, "recipients": recipients or {"route": "ALL"},
                        "addressMatch": "BOTH"}}


DEFAULT = policy("default-1", "Default Policy")


def engine(calls, policy_ids=(), check_mode=False, owner_tag="[ansible]"):
    client = MimecastClient(base_url=BASE, client_id="cid", client_secret="s3cr3t", transport=calls.transport)
    return CloudIntegratedEngine(client, CloudIntegratedSpec(policy_ids), owner_tag=owner_tag, check_mode=check_mode)


def test_mode_mapping_both_ways():
    spec = CloudIntegratedSpec()
    assert policy_from_api(policy("p", "x", "ACTIVE"))["mode"] == "protect"
    assert policy_from_api(policy("p", "x", "MONITOR_ONLY"))["mode"] == "monitor"
    entry = spec.prepare({"description": "x", "mode": "protect", "senders": None, "recipients": None,
                          "exceptions": None}, "merged")
    desired = dict(spec.defaults("cloud-integrated"), **{k: v for k, v in entry.items() if v is not None})
    body = spec.to_api("cloud-integrated", dict(desired, description="x [ansible]"))
    assert body == {"name": "x [ansible]", "description": "x [ansible]", "protectionMode": "ACTIVE",
                    "targets": {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "exceptions": {},
                                "addressMatch": "BOTH"}}


def test_targets_read_back_as_sets():
    read = policy_from_api(policy("p", "x", recipients={
        "route": "INTERNAL", "emails": ["Z@Example.test", "a@example.test"],
        "groups": [{"id": "group-z"}, {"id": "group-a"}], "domains": ["b.example.test."]}))
    assert read["recipients"] == {"route": "internal", "emails": ["a@example.test", "z@example.test"],
                                  "domains": ["b.example.test"], "group_ids": ["group-a", "group-z"]}
    assert read["exceptions"] == {"emails": [], "domains": [], "group_ids": []}


def test_disabled_mode_refused_in_prepare():
    with pytest.raises(GuardrailError, match="no public source gives the API value of the Disabled mode"):
        CloudIntegratedSpec().prepare({"description": "x", "mode": "disabled"}, "merged")


def test_create_then_update_sends_the_whole_body():
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", DEFAULT_POLICY, json_body=DEFAULT),
        Call("GET", POLICIES + "/ci-1", json_body=policy("ci-1", "Pilot [ansible]")),
        Call("PATCH", POLICIES + "/ci-1", status=204, body={
            "name": "Pilot [ansible]", "description": "Pilot [ansible]", "protectionMode": "ACTIVE",
            "targets": {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "exceptions": {},
                        "addressMatch": "BOTH"}}),
        Call("POST", POLICIES, json_body={"policyId": "ci-2"}),
    )
    result = engine(calls, ["ci-1"]).run("merged", [{"description": "Pilot", "mode": "protect"},
                                                    {"description": "New", "mode": "monitor"}])
    calls.assert_done()
    assert [a["action"] for a in result["actions"]] == ["update", "create"]
    assert result["policy_ids"] == ["ci-1", "ci-2"]


def test_default_policy_targets_refused_before_any_write():
    calls = ExpectedCalls(TOKEN, Call("GET", DEFAULT_POLICY, json_body=DEFAULT))
    with pytest.raises(GuardrailError) as info:
        engine(calls).run("merged", [{"description": "Default Policy", "recipients": {"route": "internal"}}])
    calls.assert_done()
    assert "make a new policy" in info.value.problems[0] and "recipients" in info.value.problems[0]


def test_default_policy_delete_refused():
    calls = ExpectedCalls(TOKEN, Call("GET", DEFAULT_POLICY, json_body=DEFAULT))
    with pytest.raises(GuardrailError, match="cannot be deleted"):
        engine(calls).run("deleted", [{"description": "Default Policy"}])
    calls.assert_done()


def test_unknown_mode_read_back_is_refused_naming_it():
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", DEFAULT_POLICY, json_body=DEFAULT),
        Call("GET", POLICIES + "/ci-1", json_body=policy("ci-1", "Pilot [ansible]", mode="PAUSED")),
    )
    with pytest.raises(GuardrailError) as info:
        engine(calls, ["ci-1"]).run("merged", [{"description": "Pilot", "mode": "protect"}])
    calls.assert_done()
    assert "'PAUSED'" in info.value.problems[0] and "ci-1" in info.value.problems[0]


def test_missing_id_is_skipped_and_an_odd_answer_fails_loudly():
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", DEFAULT_POLICY, json_body=DEFAULT),
        Call("GET", POLICIES + "/ci-gone", status=404, json_body={"errors": [{"code": "not_found", "message": "x"}]}),
    )
    result = engine(calls, ["ci-gone"]).run("gathered", [])
    assert result["missing_policy_ids"] == ["ci-gone"] and result["policy_ids"] == []
    assert result["unmanaged"][0]["default"] is True
    calls = ExpectedCalls(TOKEN, Call("GET", DEFAULT_POLICY, json_body={"data": [DEFAULT]}))
    with pytest.raises(MimecastError, match="does not understand"):
        engine(calls).run("gathered", [])
    calls = ExpectedCalls(TOKEN, Call("GET", DEFAULT_POLICY, status=403,
                                      json_body={"errors": [{"code": "forbidden", "message": "x"}]}))
    with pytest.raises(MimecastError, match="HTTP 403 for the Cloud Integrated Default policy"):
        engine(calls).run("gathered", [])


def test_check_mode_writes_nothing():
    calls = ExpectedCalls(TOKEN, Call("GET", DEFAULT_POLICY, json_body=DEFAULT))
    result = engine(calls, check_mode=True).run("merged", [{"description": "Pilot"}])
    calls.assert_done()
    assert result["changed"] is True and result["actions"][0]["id"] is None and result["policy_ids"] == []
    assert result["after"]["Pilot"]["mode"] == "monitor"
