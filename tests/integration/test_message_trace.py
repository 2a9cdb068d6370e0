# -*- coding: utf-8 -*-
"""mimecast_message_trace: a delivered test message, its policies and link rewriting."""

from __future__ import annotations

from conftest import module_task

TRACE = "mailsec.mimecast.mimecast_message_trace"
HTML = '<p>Click <a href="https://training.vendor.example/l/abc">here</a></p>'


def test_held_then_bypassed_and_unrewritten(sandbox, play):
    # before allowlisting: spoofing an internal domain is held and links are rewritten
    sandbox.deliver("demo", "it@corp.example", ["alice@corp.example"], "Test 1", "52.201.210.35", HTML)
    held = play([module_task(TRACE, sender="it@corp.example", subject="Test 1")]).task("t")
    assert held["found"] and held["messages"][0]["status"] == "held"
    assert held["messages"][0]["info"] == "Anti-Spoofing"
    # nothing was delivered: no delivered copy, so no applied policies and no link verdict
    assert held["messages"][0]["delivered_to"] == [] and held["messages"][0]["policies"] == []
    assert held["messages"][0]["links_rewritten"] is None

    setup = [
        {"name": "bypass", "mailsec.mimecast.mimecast_antispoof_bypass": {"config": [
            {"description": "Vendor", "source_ips": ["52.201.210.35"]}]}},
        {"name": "urls", "mailsec.mimecast.mimecast_url_bypass": {"config": [
            {"url": "training.vendor.example", "match_type": "domain", "disable_rewrite": True}]}},
    ]
    assert play(setup).rc == 0
    sandbox.deliver("demo", "it@corp.example", ["alice@corp.example"], "Test 2", "52.201.210.35", HTML)
    sandbox.clear_requests()
    result = play([module_task(TRACE, sender="it@corp.example", subject="Test 2", decode_links=True)], check=True)
    out = result.task("t")
    message = out["messages"][0]
    assert message["status"] == "delivered" and message["links_rewritten"] is False
    assert message["links"] == ["https://training.vendor.example/l/abc"]
    assert message["policies"] == [{"type": "Anti-Spoofing", "name": "Vendor [ansible]", "inherited": False,
                                    "recipients": ["alice@corp.example"]}]
    assert sandbox.writes("demo") == [] and out["api_calls"]["write"] == 0
    assert out["api_calls"]["read"] == 2  # one search, one detail


def test_not_found_and_old_start_reported(sandbox, play):
    none = play([module_task(TRACE, sender="nobody@vendor.example")]).task("t")
    assert none["found"] is False and none["messages"] == []
    old = play([module_task(TRACE, sender="x@vendor.example", since="2020-01-01")])
    assert old.rc != 0 and "err_track_and_trace_invalid_start_date" in old.task("t")["msg"]


def test_bad_window_and_sender_ip_refused_cleanly(sandbox, play):
    for args, reason in ((dict(sender="a@x.example", since="0001-01-01T00:00:00+01:00"), "out of range"),
                         (dict(sender="a@x.example", since="2026-03-02", until="2026-03-01"), "is not before until"),
                         (dict(sender_ip="1.2.3.4/99"), "not an IP address")):
        result = play([module_task(TRACE, **args)])
        out = result.task("t")
        assert result.rc != 0 and reason in out["msg"], out
        assert "module_stderr" not in out
    assert [r["path"] for r in sandbox.requests("demo") if "message-finder" in r["path"]] == []


def test_rewritten_links_seen_in_the_delivered_copy_for_every_recipient(sandbox, play):
    """Without a URL bypass the delivered copies carry rewritten links (the as-received one never does)."""
    sandbox.seed("demo", "anti-spoofing", [{"description": "Sim relay", "option": "no_action",
                                            "sourceIPs": ["52.201.210.0/24"]}])
    sandbox.deliver("demo", "it@corp.example", ["bob@corp.example", "alice@corp.example"], "Test 3",
                    "52.201.210.35", HTML)
    message = play([module_task(TRACE, sender="it@corp.example", subject="Test 3")]).task("t")["messages"][0]
    assert message["status"] == "delivered" and message["links_rewritten"] is True
    assert message["delivered_to"] == ["alice@corp.example", "bob@corp.example"]
    assert message["policies"] == [{"type": "Anti-Spoofing", "name": "Sim relay", "inherited": False,
                                    "recipients": ["alice@corp.example", "bob@corp.example"]}]
    assert all(link.startswith("https://protect-us.mimecast.com/s/") for link in message["links"])


def test_message_shaped_like_the_recorded_real_response(sandbox, play):
    """A seeded message in the shape of the public recorded response (short, written here): the
    policies come from deliveredMessage.<recipient>.policyInfo, see tests/unit/plugins/test_message_trace_unit.py."""
    sandbox.seed_message("demo", {
        "status": "archived", "info": "Indexed and archived", "fromEnv": {"emailAddress": "sim@vendor.example"},
        "to": [{"displayableName": "", "emailAddress": "test@corp.example"}], "subject": "Real shape",
        "htmlBody": "<p>no links</p>",
        "policyInfo": [{"policyType": "Auto Allow", "policyName": "Apply Auto Allow", "inherited": False},
                       {"policyType": "Anti-Spoofing", "policyName": "Vendor relay", "inherited": False}]})
    message = play([module_task(TRACE, subject="Real shape")]).task("t")["messages"][0]
    assert [(p["type"], p["name"]) for p in message["policies"]] == [
        ("Auto Allow", "Apply Auto Allow"), ("Anti-Spoofing", "Vendor relay")]
    assert message["links_rewritten"] is False and message["status"] == "archived"
