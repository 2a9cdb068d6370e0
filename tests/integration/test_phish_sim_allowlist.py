# -*- coding: utf-8 -*-
"""Role phish_sim_allowlist end to end against the sandbox tenant."""

from __future__ import annotations

import datetime
import re

import pytest

ROLE = "mailsec.mimecast.phish_sim_allowlist"
# The role's whole API part is this one mimecast_allowlist task (one module run, one token per tenant).
APPLY_TASK = "Allowlist the vendor in one transaction"
TYPES = ("permitted_senders", "antispoof_bypass", "greylisting_bypass", "managed_urls")


# The campaign window is relative to today: the role refuses end dates in the past.
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
VALID_FROM = (TODAY - datetime.timedelta(days=1)).isoformat()
VALID_TO = (TODAY + datetime.timedelta(days=30)).isoformat()


def role(runbook_dir, **extra):
    variables = {"phish_sim_allowlist_vendor": "dune_security",
                 "phish_sim_allowlist_valid_from": VALID_FROM,
                 "phish_sim_allowlist_valid_to": VALID_TO,
                 "phish_sim_allowlist_link_domains": ["training.dune-sim.example"],
                 "phish_sim_allowlist_sender_addresses": ["simulations@dune-sim.example"],
                 "phish_sim_allowlist_tenant": "demo",
                 "phish_sim_allowlist_runbook_dir": str(runbook_dir)}
    variables.update(extra)
    return [{"name": "role", "ansible.builtin.include_role": {"name": ROLE}, "vars": variables}]


@pytest.fixture
def page_size(sandbox):
    """Put the sandbox's page size back after a test that changes it (reset() keeps it)."""
    old = sandbox.page_size
    yield sandbox.set_page_size
    sandbox.set_page_size(old)


def objects(sandbox, tenant="demo"):
    state = sandbox.state(tenant)
    return {
        "anti-spoofing": [p["description"] for p in state["anti-spoofing"]],
        "greylisting": [p["description"] for p in state["greylisting"]],
        "managed_urls": [(u["domain"], u["matchType"], u["disableRewrite"]) for u in state["managed_urls"]],
        "groups": {g["description"]: [m["emailAddress"] for m in g["members"]] for g in state["groups"]},
    }


def without_volatile(state):
    """The sandbox state minus what changes on every read (managed URL ids are per-read)."""
    return {k: v for k, v in state.items() if k != "messages"}


EXPECTED = {
    "anti-spoofing": ["Dune Security phishing simulation - anti-spoofing bypass [phish-sim:dune_security]"],
    "greylisting": ["Dune Security phishing simulation - greylisting bypass [phish-sim:dune_security]"],
    "managed_urls": [("training.dune-sim.example", "domain", True)],
    "groups": {"Dune Security phishing simulation - permitted senders [phish-sim:dune_security]":
               ["simulations@dune-sim.example"]},
}


def seed_console_objects(sandbox):
    """Console-made objects with similar narratives, which the role must never touch."""
    sandbox.seed("demo", "anti-spoofing", [{
        "description": "Dune Security phishing simulation - anti-spoofing bypass (manual)", "option": "no_action",
        "sourceIPs": ["52.201.210.35/32"], "from": {"type": "everyone"}, "to": {"type": "everyone"}}])
    sandbox.seed("demo", "greylisting", [{
        "description": "Dune Security phishing simulation - greylisting bypass (console)", "option": "no_action",
        "sourceIPs": ["52.201.210.35/32"], "from": {"type": "everyone"}, "to": {"type": "everyone"}}])
    sandbox.seed("demo", "managed_urls", [{"url": "https://intranet.corp.example/", "action": "permit"}])
    sandbox.seed("demo", "groups", [{"description": "Dune Security phishing simulation - permitted senders (old)"}])


def test_check_apply_reapply_absent(sandbox, play, tmp_path, page_size):
    page_size(100)  # one page per list, as the measurement (--page-size 100)
    seed_console_objects(sandbox)
    console = objects(sandbox)
    before = without_volatile(sandbox.state("demo"))

    checked = play(role(tmp_path), check=True)
    assert checked.rc == 0, checked.stdout[-3000:]
    assert sandbox.writes("demo") == []
    assert without_volatile(sandbox.state("demo")) == before
    predicted = checked.task(APPLY_TASK)["actions"]
    assert tuple(predicted) == TYPES and all(predicted.values())
    assert checked.task(APPLY_TASK)["api_calls"] == {"read": 6, "write": 0, "auth": 1, "total": 7}
    assert not (tmp_path / "demo-dune_security.md").exists()  # check mode writes no file either

    applied = play(role(tmp_path))
    assert applied.rc == 0, applied.stdout[-3000:]
    real = applied.task(APPLY_TASK)["actions"]
    assert {k: [dict(a, id=None) for a in v] for k, v in predicted.items()} == {
        k: [dict(a, id=None) for a in v] for k, v in real.items()}
    after = objects(sandbox)
    for kind, made in EXPECTED.items():
        if kind == "groups":
            assert {k: v for k, v in after[kind].items() if k not in console[kind]} == made
        else:
            assert [x for x in after[kind] if x not in console[kind]] == made
    # one write per object: group create + member add, antispoof, greylisting, managed URL
    assert len(sandbox.writes("demo")) == 5

    sandbox.clear_requests()
    again = play(role(tmp_path))
    assert again.rc == 0 and again.changed_count == 0, again.stdout[-3000:]
    assert sandbox.writes("demo") == []
    # No-op re-run: one module run, 1 token, one read per list (internal domains for the guardrail,
    # groups, the group's members, anti-spoofing IP and SPF lists, greylisting, managed URLs), 0 writes.
    log = sandbox.requests()
    tokens = [r for r in log if r["path"].endswith("/oauth/token")]
    reads = [r["path"] for r in log if not r["write"] and r not in tokens]
    # (at most one token: the apply run's token is still valid in the token cache, so usually none)
    assert len(tokens) <= 1 and len(reads) == len(set(reads)) == 7, [r["path"] for r in log]
    calls = again.task(APPLY_TASK)["api_calls"]
    assert (calls["read"], calls["write"], calls["total"]) == (7, 0, 7 + calls["auth"]) and calls["auth"] == len(tokens)
    assert len([r for r in again.records if r["task"].endswith(APPLY_TASK) and r["status"] != "skipped"]) == 1

    absent = play(role(tmp_path, phish_sim_allowlist_state="absent"))
    assert absent.rc == 0, absent.stdout[-3000:]
    assert without_volatile(sandbox.state("demo")) == before  # the tenant as it was, console objects intact
    removal = (tmp_path / "demo-dune_security.md").read_text()
    assert "Dune Security phishing simulation - URL Protection bypass" in removal
    sandbox.clear_requests()
    absent_again = play(role(tmp_path, phish_sim_allowlist_state="absent"))
    assert absent_again.changed_count == 0 and sandbox.writes("demo") == []


def test_a_refusal_in_the_last_type_writes_nothing_in_any_type(sandbox, play, tmp_path):
    """A console-made managed URL for the vendor's link domain is refused when the module plans the last type,
    after reading every list: the group, its members and both bypasses, all planned, are not written."""
    sandbox.seed("demo", "managed_urls", [{"url": "training.dune-sim.example", "matchType": "domain",
                                           "action": "permit", "comment": "made in the console"}])
    before = without_volatile(sandbox.state("demo"))
    result = play(role(tmp_path))
    assert "already exists" in failure(result)["msg"] and "adopt: true" in failure(result)["msg"]
    assert failure(result)["api_calls"]["read"] == 6 and failure(result)["api_calls"]["write"] == 0
    assert sandbox.writes("demo") == [] and without_volatile(sandbox.state("demo")) == before


def test_a_write_failure_in_the_second_type_reports_what_was_done_in_every_type(sandbox, play, tmp_path):
    sandbox.add_fault(method="POST", path="/policy-management/cloud-gateway/v1/anti-spoofing/policies", status=400)
    failed = failure(play(role(tmp_path)))
    assert failed["changed"] is True
    done = [(d["type"], d["action"]) for d in failed["done"]]
    assert done == [("permitted_senders", "create"), ("permitted_senders", "add_members")]
    assert [(d["type"], d["action"]) for d in failed["not_done"]] == [
        ("antispoof_bypass", "create"), ("greylisting_bypass", "create"), ("managed_urls", "create")]
    assert "which stay done" in failed["msg"] and "3 planned write(s) were not done" in failed["msg"]
    state = sandbox.state("demo")
    assert not state["anti-spoofing"] and not state["greylisting"] and not state["managed_urls"]
    # a re-run makes only the writes still needed
    again = play(role(tmp_path))
    assert again.rc == 0, again.stdout[-3000:]
    assert [a["action"] for a in again.task(APPLY_TASK)["actions"]["permitted_senders"]] == []
    assert objects(sandbox) == EXPECTED


def test_identical_console_narrative_is_refused_loudly(sandbox, play, tmp_path):
    sandbox.seed("demo", "groups", [{"description": "Dune Security phishing simulation - permitted senders"}])
    result = play(role(tmp_path))
    failed = [r for r in result.records if r["status"] == "failed"]
    assert result.rc != 0 and "adopt: true" in failed[0]["result"]["msg"]
    assert sandbox.writes("demo") == []


def test_runbook_for_dune_lists_only_what_has_no_api(sandbox, play, tmp_path):
    result = play(role(tmp_path, phish_sim_allowlist_link_domains=[], phish_sim_allowlist_sender_addresses=[]))
    assert result.rc == 0, result.stdout[-3000:]
    runbook = (tmp_path / "demo-dune_security.md").read_text()
    steps = [line for line in runbook.splitlines() if line.startswith("## Step")]
    assert steps == ["## Step 1: Permitted Senders policy", "## Step 2: URL Protection Bypass policy",
                     "## Step 3: Attachment Protection Bypass policy",
                     "## Step 4: Impersonation Protection Bypass policy"]
    assert runbook.count("| Source IP Ranges | 52.201.210.35/32 |") == 4
    assert runbook.count("| Policy Override | Checked |") == 4
    assert "| Validity | Enable; from %s to %s |" % (VALID_FROM, VALID_TO) in runbook
    for done_by_api in ("Anti-Spoofing >", "Greylisting >", "Managed URL", "Permitted URLs"):
        assert done_by_api not in runbook
    assert "Internal domains of this tenant: corp-mail.example, corp.example." in runbook


def test_threatcop_runbook_explains_what_is_not_applied(sandbox, play, tmp_path):
    result = play(role(tmp_path, phish_sim_allowlist_vendor="threatcop"))
    assert result.rc == 0, result.stdout[-3000:]
    runbook = (tmp_path / "demo-threatcop.md").read_text()
    assert "Header-keyed bypass on `X-Threatcop`" in runbook
    assert "anyone can add it" in runbook
    assert '"Treat as internal"' in runbook
    assert sandbox.state("demo")["anti-spoofing"][0]["sourceIPs"] == ["168.245.74.19/32"]


@pytest.mark.parametrize("extra, reason", [
    ({"phish_sim_allowlist_sender_addresses": ["ceo@corp.example"]}, "own internal domain"),
    ({"phish_sim_allowlist_sender_addresses": ["gmail.com"]}, "freemail"),
    ({"phish_sim_allowlist_vendor": "custom",
      "phish_sim_allowlist_custom_profile": {"id": "wide", "name": "Wide vendor",
                                             "source_ips": [{"value": "52.20.0.0/16", "source": "t", "seen": "x"}]}},
     "broader than /24"),
])
def test_guardrails_stop_the_role_with_nothing_written(sandbox, play, tmp_path, extra, reason):
    result = play(role(tmp_path, **extra))
    assert result.rc != 0
    failed = [r for r in result.records if r["status"] == "failed"]
    assert failed and reason in failed[0]["result"]["msg"]
    assert sandbox.writes("demo") == []


def test_api_calls_do_not_grow_with_entries(sandbox, play, tmp_path, page_size):
    def calls(result):
        return result.task(APPLY_TASK)["api_calls"]

    page_size(100)  # one page per list
    first = play(role(tmp_path))
    one = calls(first)
    # first run: 1 token, 6 reads (no members to read yet), 5 writes; nothing else talks to Mimecast
    assert one == {"read": 6, "write": 5, "auth": 1, "total": 12}
    assert len(sandbox.requests()) == 12
    sandbox.reset()
    page_size(100)
    many = play(role(tmp_path,
                     phish_sim_allowlist_link_domains=["l%d.dune-sim.example" % i for i in range(10)],
                     phish_sim_allowlist_sender_addresses=["s%d@dune-sim.example" % i for i in range(10)]))
    assert many.rc == 0
    many = calls(many)
    # the ten managed URLs go in one batched call, the members in one call; the token comes from the cache
    # (the first run's, still valid): one run per tenant needs at most one token
    assert many["read"] == one["read"] and many["write"] == one["write"] and many["auth"] <= 1
    print("API calls for one Dune run (apply pass):", one, "with 10 links/senders:", many)


def test_verification_with_a_test_message(sandbox, play, tmp_path):
    assert play(role(tmp_path)).rc == 0
    group = "Dune Security phishing simulation - permitted senders [phish-sim:dune_security]"
    sandbox.settings("demo", permitted_sender_groups=[group])  # the console step, done
    sandbox.deliver("demo", "simulations@dune-sim.example", ["alice@corp.example"], "Quarterly bonus",
                    "52.201.210.35", '<a href="https://training.dune-sim.example/x">claim</a>')
    verified = play(role(tmp_path, phish_sim_allowlist_verify=True,
                         phish_sim_allowlist_verify_sender="simulations@dune-sim.example",
                         phish_sim_allowlist_verify_subject="Quarterly bonus"))
    assert verified.rc == 0, verified.stdout[-3000:]
    trace = verified.task("Find the test message in Mimecast tracking")
    assert trace["messages"][0]["permitted_sender"] is True
    assert trace["messages"][0]["links_rewritten"] is False
    # the bypass policies are read from the delivered copy (deliveredMessage.<recipient>.policyInfo)
    bypass = "Dune Security phishing simulation - anti-spoofing bypass [phish-sim:dune_security]"
    assert {"type": "Anti-Spoofing", "name": bypass, "inherited": False,
            "recipients": ["alice@corp.example"]} in trace["messages"][0]["policies"]
    assert "Anti-Spoofing: " + bypass in verified.task("Check the test message went through untouched")["msg"]
    # a link outside the allowlisted domains is rewritten in the delivered copy: verification fails
    sandbox.deliver("demo", "simulations@dune-sim.example", ["alice@corp.example"], "Second bonus",
                    "52.201.210.35", '<a href="https://other.example/x">claim</a>')
    rewritten = play(role(tmp_path, phish_sim_allowlist_verify=True,
                          phish_sim_allowlist_verify_sender="simulations@dune-sim.example",
                          phish_sim_allowlist_verify_subject="Second bonus"))
    msg = failure(rewritten)["msg"]
    assert "delivered, links rewritten" in msg and "Anti-Spoofing: " + bypass in msg


def failure(result):
    failed = [r for r in result.records if r["status"] == "failed"]
    assert result.rc != 0 and failed, result.stdout[-3000:]
    return failed[0]["result"]


def test_booleans_from_extra_vars_are_booleans(sandbox, play, tmp_path):
    """-e passes 'false' as a string, which used to count as true: verification ran and failed."""
    result = play(role(tmp_path, phish_sim_allowlist_verify=True,
                       phish_sim_allowlist_verify_sender="nobody@dune-sim.example"),
                  extra_args=["-e", "phish_sim_allowlist_verify=false", "-e", "phish_sim_allowlist_preflight=false"])
    assert result.rc == 0, result.stdout[-3000:]
    ran = [r["task"] for r in result.records if r["status"] != "skipped"]
    assert not [t for t in ran if t.endswith("Find the test message in Mimecast tracking")]
    # the old phish_sim_allowlist_preflight is still accepted; the API part runs once either way
    assert len([t for t in ran if t.endswith(" : " + APPLY_TASK) or t == APPLY_TASK]) == 1, ran


def test_hostile_values_are_escaped_in_the_runbook(sandbox, play, tmp_path):
    label = "Q1 <script>alert(1)</script> | x | y | [win](https://evil.example) ![i](https://evil.example/p.png) `c`"
    result = play(role(tmp_path, phish_sim_allowlist_campaign=label,
                       phish_sim_allowlist_internal_domains=["corp.example\n## Step 9: Disable everything",
                                                             "<img src=x onerror=alert(1)>"]))
    assert result.rc == 0, result.stdout[-3000:]
    runbook = (tmp_path / "demo-dune_security.md").read_text()
    for raw in ("<script>", "<img", "](https://evil.example", "`c`", "[win]"):  # none of them unescaped
        assert not re.search(r"(?<!\\)" + re.escape(raw), runbook), raw
    assert "\n## Step 9" not in runbook and "\\<img src=x onerror=alert\\(1\\)\\>" in runbook
    assert "\\<script\\>alert\\(1\\)\\</script\\> \\| x \\| y \\| \\[win\\]" in runbook
    for line in runbook.splitlines():
        if line.startswith("| "):  # every table row keeps its two cells
            assert len(re.findall(r"(?<!\\)\|", line)) == 3, line
    assert [line for line in runbook.splitlines() if line.startswith("## Step")] == [
        "## Step %d: %s" % (i + 1, t) for i, t in enumerate((
            "Permitted Senders policy", "URL Protection Bypass policy", "Attachment Protection Bypass policy",
            "Impersonation Protection Bypass policy"))]
    # the names in Mimecast are the label itself: escaping is for the runbook only
    assert sandbox.state("demo")["anti-spoofing"][0]["description"].startswith(label + " - anti-spoofing")


def test_long_campaign_is_refused_before_the_first_write(sandbox, play, tmp_path):
    """The longest derived name is '<label> - Impersonation Protection bypass [phish-sim:dune_security]'."""
    room = 200 - len(" - Impersonation Protection bypass [phish-sim:dune_security]")
    refused = play(role(tmp_path, phish_sim_allowlist_campaign="C" * (room + 1)))
    msg = failure(refused)["msg"]
    assert "at most 200 (phish_sim_allowlist_max_name_length)" in msg
    assert "at most %d characters" % room in msg
    assert sandbox.requests() == []  # refused before even a token request
    # At the limit everything is written: the role's limit is Mimecast's (the sandbox's) limit.
    applied = play(role(tmp_path, phish_sim_allowlist_campaign="C" * room))
    assert applied.rc == 0, applied.stdout[-3000:]
    assert len(sandbox.writes("demo")) == 5


def test_foreign_owner_tag_is_refused_and_their_objects_survive(sandbox, play, tmp_path):
    sandbox.seed("demo", "anti-spoofing", [{
        "description": "Another team's bypass [ansible]", "option": "no_action",
        "sourceIPs": ["198.51.100.7/32"], "from": {"type": "everyone"}, "to": {"type": "everyone"}}])
    before = without_volatile(sandbox.state("demo"))
    result = play(role(tmp_path, phish_sim_allowlist_state="absent", phish_sim_allowlist_owner_tag="[ansible]"))
    assert "not specific to this role" in failure(result)["msg"]
    assert sandbox.requests() == [] and without_volatile(sandbox.state("demo")) == before


def test_tenant_name_never_leaves_the_runbook_dir(sandbox, play, tmp_path):
    runbooks = tmp_path / "runbooks"
    result = play(role(runbooks, phish_sim_allowlist_tenant="../escaped"))
    assert "must not be a path" in failure(result)["msg"]
    assert not list(tmp_path.rglob("escaped*")) and sandbox.writes("demo") == []


def test_no_end_date_needs_the_opt_in(sandbox, play, tmp_path):
    refused = play(role(tmp_path, phish_sim_allowlist_valid_from="", phish_sim_allowlist_valid_to=""))
    assert "phish_sim_allowlist_allow_no_expiry: true" in failure(refused)["msg"]
    assert sandbox.writes("demo") == []
    allowed = play(role(tmp_path, phish_sim_allowlist_valid_from="", phish_sim_allowlist_valid_to=""),
                   extra_args=["-e", "phish_sim_allowlist_allow_no_expiry=true"])
    assert allowed.rc == 0, allowed.stdout[-3000:]
    assert "no end date" in (tmp_path / "demo-dune_security.md").read_text()
