# -*- coding: utf-8 -*-
"""The audit's Cloud Integrated checks, run directly against the sandbox (fast, no Ansible)."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._audit import Audit
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402

TARGETS = {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "addressMatch": "BOTH"}


@pytest.fixture(scope="module")
def server():
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sb(server):
    server.reset()
    yield server
    server.reset()


def run(sb, ci_policy_ids=()):
    client = MimecastClient(base_url=sb.url, client_id="mc-demo-client", client_secret="mc-demo-secret",
                            allow_custom_url=True)
    return Audit(client, None, check_dns=False, ci_policy_ids=ci_policy_ids).run()


def status(result, check_id):
    return next(c for c in result["checks"] if c["id"] == check_id)


def default_to_protect(sb):
    data = sb.tenant_data("demo")["cloud_integrated"]
    data["policies"][data["default"]]["protectionMode"] = "ACTIVE"


def test_monitor_default_passes_both(sb):
    result = run(sb)
    assert status(result, "MC-CI-001")["status"] == status(result, "MC-CI-002")["status"] == "pass"


def test_protect_only_through_default(sb):
    default_to_protect(sb)
    # Without ids nothing says whether a targeted policy protects: not checked, never a finding.
    unknown = status(run(sb), "MC-CI-002")
    assert unknown["status"] == "not_checked" and "ci_policy_ids" in unknown["not_checked"][0]
    [monitor, protect] = sb.seed("demo", "cloud_integrated", [
        {"name": "Pilot", "protectionMode": "MONITOR_ONLY", "targets": TARGETS},
        {"name": "VIPs", "protectionMode": "ACTIVE", "targets": TARGETS}])
    failed = status(run(sb, [monitor]), "MC-CI-002")
    assert failed["status"] == "fail" and failed["objects"][0]["targeted_policies_read"] == 1
    assert status(run(sb, [monitor, protect]), "MC-CI-002")["status"] == "pass"


def test_disabled_default_and_unknown_values_reported(sb):
    data = sb.tenant_data("demo")["cloud_integrated"]
    data["policies"][data["default"]]["protectionMode"] = "OFF"
    found = status(run(sb), "MC-CI-001")
    assert found["status"] == "fail" and found["objects"][0]["default"] is True
    assert found["objects"][0]["protection_mode"] == "OFF"
