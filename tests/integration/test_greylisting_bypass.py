# -*- coding: utf-8 -*-
"""mimecast_greylisting_bypass against the sandbox."""

from __future__ import annotations

from conftest import assert_declarative_cycle, module_task

MODULE = "mailsec.mimecast.mimecast_greylisting_bypass"
CONFIG = [{"description": "Dune Security phishing simulation", "source_ips": ["52.201.210.35"],
           "valid_from": "2026-12-01", "valid_to": "2099-12-31"}]


def test_cycle_and_greylisting_date_fields(sandbox, play):
    real = assert_declarative_cycle(play, sandbox, MODULE, CONFIG)
    # no token call: the check-mode play of the cycle already cached the tenant's token
    assert real["api_calls"] == {"read": 1, "write": 1, "auth": 0, "total": 2}
    stored = sandbox.state("demo")["greylisting"][0]
    assert stored["option"] == "no_action" and stored["sourceIPs"] == ["52.201.210.35/32"]
    assert stored["fromDate"] == "2026-12-01T00:00:00+0000" and stored["toDate"] == "2099-12-31T23:59:59+0000"
    assert "fromDateTime" not in stored


def test_same_range_guardrails_as_antispoofing(sandbox, play):
    for value in ("52.20.0.0/16", "104.47.10.0/24", "192.168.0.0/24"):
        result = play([module_task(MODULE, config=[{"description": "x", "source_ips": [value]}])])
        assert result.rc != 0 and "Refused by a guardrail" in result.task("t")["msg"]
    assert sandbox.requests("demo") == []


def test_deleted(sandbox, play):
    assert play([module_task(MODULE, config=CONFIG)]).rc == 0
    gone = play([module_task(MODULE, state="deleted", config=[{"description": CONFIG[0]["description"]}])])
    assert gone.task("t")["actions"][0]["action"] == "delete"
    assert sandbox.state("demo")["greylisting"] == []


def test_bad_windows_and_shared_ranges_refused_before_any_write(sandbox, play):
    cases = [
        (dict(CONFIG[0], valid_to="2020-01-31"), "is in the past"),
        (dict(CONFIG[0], valid_from="2099-12-31", valid_to="2099-01-01"), "is not before valid_to"),
        (dict(CONFIG[0], valid_to="9999-12-31T23:59:59-01:00"), "out of range"),
        (dict(CONFIG[0], valid_to="2026-02-30"), "not a date"),
        (dict(CONFIG[0], source_ips=["168.245.74.0/24"]), "bulk-mail platform"),
    ]
    for entry, reason in cases:
        result = play([module_task(MODULE, config=[entry])])
        out = result.task("t")
        assert result.rc != 0 and reason in out["msg"], (entry, out.get("msg"))
        assert "module_stderr" not in out and "Traceback" not in result.stdout + result.stderr
    assert sandbox.requests("demo") == []
