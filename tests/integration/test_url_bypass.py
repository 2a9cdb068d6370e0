# -*- coding: utf-8 -*-
"""mimecast_url_bypass against the sandbox: decomposed read-backs, no update call, duplicates."""

from __future__ import annotations

from conftest import assert_declarative_cycle, module_task

MODULE = "mailsec.mimecast.mimecast_url_bypass"
CONFIG = [
    {"url": "training.vendor.example", "match_type": "domain", "disable_rewrite": True,
     "disable_user_awareness": True, "comment": "Q4 simulation"},
    {"url": "https://Landing.Vendor.Example:443/start?c=1", "disable_rewrite": True},
]


def urls(sandbox, tenant="demo"):
    return sandbox.state(tenant)["managed_urls"]


def test_cycle(sandbox, play):
    real = assert_declarative_cycle(play, sandbox, MODULE, CONFIG)
    assert real["api_calls"]["write"] == 1  # both URLs in one create-managed-url call
    stored = sorted(urls(sandbox), key=lambda u: u["domain"])
    assert stored[0]["domain"] == "landing.vendor.example" and stored[0]["matchType"] == "explicit"
    assert stored[1]["domain"] == "training.vendor.example" and stored[1]["disableRewrite"] is True
    assert stored[1]["comment"] == "Q4 simulation [ansible]"
    assert stored[0]["comment"] == "[ansible]"


def test_change_is_delete_plus_create_and_said_so(sandbox, play):
    assert play([module_task(MODULE, config=CONFIG[:1])]).rc == 0
    changed = [dict(CONFIG[0], disable_user_awareness=False)]
    result = play([module_task(MODULE, config=changed)], diff=True)
    out = result.task("t")
    assert [a["action"] for a in out["actions"]] == ["delete", "create"]
    assert all("no update call" in a["reason"] for a in out["actions"])
    assert out["diff"]["after"]["training.vendor.example"]["disable_user_awareness"] is False
    assert "delete + create" in out["diff"]["after"]["training.vendor.example"]["change"]
    assert len(urls(sandbox)) == 1 and urls(sandbox)[0]["disableUserAwareness"] is False
    assert all("update" not in r["path"] for r in sandbox.requests("demo"))


def test_duplicate_create_error_is_not_a_failure(sandbox, play):
    # Mimecast's duplicate error must never fail an idempotent run: make the first list read
    # miss the entry (a filtered/stale read), so the module tries to create it again.
    assert play([module_task(MODULE, config=CONFIG[:1])]).rc == 0
    sandbox.add_fault(method="POST", path="/api/ttp/url/get-all-managed-urls", status=200,
                      body={"meta": {"status": 200, "pagination": {}}, "data": [], "fail": []})
    result = play([module_task(MODULE, config=CONFIG[:1])])
    out = result.task("t")
    assert result.rc == 0, out
    assert len(urls(sandbox)) == 1


def test_unowned_entry_untouched_and_deleted_state(sandbox, play):
    sandbox.seed("demo", "managed_urls", [{"url": "https://console.example/", "action": "block"}])
    assert play([module_task(MODULE, config=CONFIG)]).rc == 0
    gone = play([module_task(MODULE, state="deleted", config=[])]).task("t")
    assert sorted(a["url"] for a in gone["actions"]) == ["https://landing.vendor.example/start?c=1",
                                                         "training.vendor.example"]
    assert [u["domain"] for u in urls(sandbox)] == ["console.example"]


def test_shared_domain_refused(sandbox, play):
    config = [{"url": "docs.google.com", "match_type": "domain", "disable_rewrite": True}]
    result = play([module_task(MODULE, config=config)])
    assert result.rc != 0 and "shared platform" in result.task("t")["msg"]
    assert sandbox.requests("demo") == []


def test_bad_urls_refused_before_any_write(sandbox, play):
    # Issue 8 items 7 (tracebacks) and 13 (credentials, public suffixes, shared storage).
    cases = [
        ({"url": "javascript:alert(1)"}, "only http and https"),
        ({"url": "data:text/html,hi"}, "only http and https"),
        ({"url": "https://a.example:99999/"}, "port from 1 to 65535"),
        ({"url": "https://trusted.example@evil.example/"}, "credentials"),
        ({"url": "co.uk", "match_type": "domain", "disable_rewrite": True}, "public suffix"),
        ({"url": "storage.googleapis.com", "match_type": "domain", "disable_rewrite": True}, "shared platform"),
        ({"url": "http://[::1]/"}, "IPv6"),
    ]
    for entry, reason in cases:
        result = play([module_task(MODULE, config=[entry])])
        out = result.task("t")
        assert result.rc != 0 and reason in out["msg"], (entry, out.get("msg"))
        assert "module_stderr" not in out and "Traceback" not in result.stdout + result.stderr
    assert sandbox.writes("demo") == []
    idn = play([module_task(MODULE, config=[{"url": "https://bücher.example/kurs"}])]).task("t")
    assert idn["actions"][0]["url"] == "https://xn--bcher-kva.example/kurs"
