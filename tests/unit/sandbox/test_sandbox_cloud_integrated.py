# -*- coding: utf-8 -*-
"""The sandbox's Cloud Integrated policies: only the documented operations, validated."""

from __future__ import annotations

import os
import sys

import httpx
import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402

CI = "/email/cloud-integrated/v1/policies"
BODY = {"name": "Pilot", "description": "Pilot", "protectionMode": "MONITOR_ONLY",
        "targets": {"senders": {"route": "ALL"}, "recipients": {"route": "INTERNAL", "groups": [{"id": "g1"}]},
                    "addressMatch": "BOTH"}}


@pytest.fixture(scope="module")
def http():
    with Sandbox() as sb, httpx.Client(base_url=sb.url, timeout=10) as client:
        resp = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "client_id": "mc-demo-client", "client_secret": "mc-demo-secret"})
        client.headers["Authorization"] = "Bearer " + resp.json()["access_token"]
        client.sb = sb
        yield client


def test_lifecycle_and_default_policy(http):
    default = http.get(CI + "/default-policy").json()
    assert default["name"] == "Default Policy" and default["protectionMode"] == "MONITOR_ONLY"
    assert http.get(CI).status_code == 405                      # no list call in any source
    created = http.post(CI, json=BODY)
    assert created.status_code == 200 and set(created.json()) == {"policyId"}
    pid = created.json()["policyId"]
    assert http.get(CI + "/" + pid).json()["targets"]["recipients"]["groups"] == [{"id": "g1"}]
    assert http.patch(CI + "/" + pid, json=dict(BODY, protectionMode="ACTIVE")).status_code == 204
    assert http.get(CI + "/" + pid).json()["protectionMode"] == "ACTIVE"
    assert http.delete(CI + "/" + default["policyId"]).status_code == 400
    assert http.patch(CI + "/" + default["policyId"], json=BODY).status_code == 400
    assert http.delete(CI + "/" + pid).status_code == 204
    assert http.get(CI + "/" + pid).status_code == 404


@pytest.mark.parametrize("body, field", [
    (dict(BODY, protectionMode="PROTECT"), "protectionMode"),
    (dict(BODY, name=""), "name"),
    (dict(BODY, policyId="x"), "policyId"),
    (dict(BODY, targets={"senders": {"route": "SOME"}}), "targets.senders.route"),
    (dict(BODY, targets={"addressMatch": "FROM"}), "targets.addressMatch"),
    (dict(BODY, targets={"recipients": {"route": "ALL", "emails": ["nobody"]}}), "targets.recipients.emails"),
])
def test_validation_errors_store_nothing(http, body, field):
    before = http.sb.state("demo")["cloud_integrated"]
    resp = http.post(CI, json=body)
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == field
    assert http.sb.state("demo")["cloud_integrated"] == before
