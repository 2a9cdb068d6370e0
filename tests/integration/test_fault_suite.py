# -*- coding: utf-8 -*-
"""Fault suite (issue 8): every scenario ends with a truthful result, and a re-run converges
with zero duplicates and no block entry missing.

Faults come from the sandbox (``Sandbox.add_fault``): 429 storms, 5xx on reads and writes,
answers lost to a client timeout after the write happened (``late``), tokens expiring in the
middle of a run, the n-th create failing (``skip``), and two runs on one tenant at once.
Timeouts are small but several times any normal answer time; nothing here sleeps to wait for
the server: state is polled.
"""

from __future__ import annotations

import socket
import time

import pytest
import yaml

from conftest import module_task

POLICY = "mailsec.mimecast.mimecast_antispoof_bypass"
URL = "mailsec.mimecast.mimecast_url_bypass"
GROUP = "mailsec.mimecast.mimecast_profile_group"
ROUTE = "mailsec.mimecast.mimecast_delivery_route"
IP_PATH = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
URL_CREATE = "/api/ttp/url/create-managed-url"
SIM = {"description": "Vendor sim", "source_ips": ["52.201.210.35"]}
BLOCKS = [{"url": "https://bad%d.example/login" % n, "action": "block"} for n in (1, 2, 3)]


def sims(count):
    return [dict(SIM, description="Sim %02d" % n) for n in range(1, count + 1)]


def descriptions(sandbox, collection="anti-spoofing"):
    return sorted(p["description"] for p in sandbox.state("demo")[collection])


def assert_converges(play, sandbox, module, expected=None, **args):
    """A re-run succeeds (writing only what is still needed), a third run writes nothing."""
    first = play([module_task(module, **args)])
    assert first.rc == 0, first.task("t")
    sandbox.clear_requests()
    again = play([module_task(module, **args)])
    out = again.task("t")
    assert again.rc == 0 and out["changed"] is False and sandbox.writes("demo") == [], out
    if expected is not None:
        assert descriptions(sandbox) == expected
    return first.task("t")


def wait_for(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def block_urls(sandbox):
    return sorted("https://%s%s" % (u["domain"], u["path"]) for u in sandbox.state("demo")["managed_urls"]
                  if u["action"] == "block")


# ------------------------------------------------------------------ rate limits, reads, auth
def test_429_storm_past_the_wait_bound_writes_nothing(sandbox, play):
    sandbox.add_fault(method="GET", path=IP_PATH, status=429, times=100, headers={"X-RateLimit-Reset": "100"})
    result = play([module_task(POLICY, config=[SIM], rate_limit_max_wait=0.3)])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is False
    assert "beyond the wait bound of 0.3s" in out["msg"] and "rate_limit_max_wait" in out["msg"]
    assert "Traceback" not in result.stdout + result.stderr and sandbox.writes("demo") == []
    sandbox.clear_faults()
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


def test_5xx_on_reads_is_retried_with_a_warning(sandbox, play):
    sandbox.add_fault(method="GET", path=IP_PATH, status=503, times=2)
    result = play([module_task(POLICY, config=[SIM])])
    out = result.task("t")
    assert result.rc == 0 and out["changed"] is True, out
    assert sum("HTTP 503; retry" in w for w in out["warnings"]) == 2
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


def test_token_expiry_mid_run_is_refreshed_once(sandbox, play):
    sandbox.add_fault(method="GET", path=IP_PATH, expire_tokens=True)
    result = play([module_task(POLICY, config=[SIM])])
    out = result.task("t")
    assert result.rc == 0 and out["changed"] is True, out
    assert out["api_calls"]["auth"] == 2
    # the call after the expiry answered 401 (its tenant is unknown then), then the token was refreshed
    assert [r["status"] for r in sandbox.requests()].count(401) == 1
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


def test_401_on_a_write_refreshes_once_and_writes_once(sandbox, play):
    sandbox.add_fault(method="POST", path=IP_PATH, status=401)
    result = play([module_task(POLICY, config=[SIM])])
    out = result.task("t")
    assert result.rc == 0 and out["changed"] is True, out
    assert out["api_calls"]["auth"] == 2 and descriptions(sandbox) == ["Vendor sim [ansible]"]
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


def test_connection_refused_is_a_clean_error(sandbox, play):
    # The port stays bound (so no other process can take it and answer) but never listens: a
    # connect is refused. Closing the socket first would free the port for anyone (a start-up race).
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = play([module_task(POLICY, config=[SIM], base_url="http://127.0.0.1:%d" % port, max_retries=1)])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is False
    assert "ConnectError" in out["msg"] and "module_stderr" not in out and "Traceback" not in out["msg"]
    assert sandbox.requests("demo") == []
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


# ------------------------------------------------------------------ ambiguous writes
def test_5xx_on_a_write_is_not_retried_and_reported_truthfully(sandbox, play):
    sandbox.add_fault(method="POST", path=IP_PATH, status=500, skip=1)
    result = play([module_task(POLICY, config=sims(3))])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert [d["description"] for d in out["done"]] == ["Sim 01"]
    assert [d["description"] for d in out["not_done"]] == ["Sim 02", "Sim 03"]
    assert "not sent again" in out["msg"] and "1 write(s), which stay done" in out["msg"]
    assert len([w for w in sandbox.writes("demo") if w["path"] == IP_PATH]) == 2  # never a blind retry
    assert_converges(play, sandbox, POLICY, ["Sim 01 [ansible]", "Sim 02 [ansible]", "Sim 03 [ansible]"],
                     config=sims(3))


def test_timeout_after_the_write_happened_counts_it_done(sandbox, play):
    sandbox.add_fault(method="POST", path=IP_PATH, delay=6, late=True)
    result = play([module_task(POLICY, config=sims(2), timeout=1.5)])
    out = result.task("t")
    assert result.rc == 0 and out["changed"] is True, out
    assert any("re-read shows it was created" in w for w in out["warnings"])
    assert [a["description"] for a in out["actions"]] == ["Sim 01", "Sim 02"] and all(a["id"] for a in out["actions"])
    assert descriptions(sandbox) == ["Sim 01 [ansible]", "Sim 02 [ansible]"]
    assert_converges(play, sandbox, POLICY, ["Sim 01 [ansible]", "Sim 02 [ansible]"], config=sims(2))


def test_timeout_before_the_write_happened_fails_and_never_duplicates(sandbox, play):
    # The slow call executes only after the client gave up and re-read: the create is then
    # reported as not done and not re-sent, which would have made a duplicate.
    sandbox.add_fault(method="POST", path=IP_PATH, delay=4)
    result = play([module_task(POLICY, config=[SIM], timeout=1.5)])
    out = result.task("t")
    assert result.rc != 0 and "not sent again" in out["msg"], out
    assert [d["description"] for d in out["not_done"]] == ["Vendor sim"]
    assert wait_for(lambda: descriptions(sandbox) == ["Vendor sim [ansible]"])
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])


# ------------------------------------------------------------------ partial failures
def test_fifth_of_ten_creates_fails(sandbox, play):
    sandbox.add_fault(method="POST", path=IP_PATH, status=400, skip=4)
    result = play([module_task(POLICY, config=sims(10))])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert [d["description"] for d in out["done"]] == ["Sim 01", "Sim 02", "Sim 03", "Sim 04"]
    assert len(out["not_done"]) == 6 and out["not_done"][0]["description"] == "Sim 05"
    assert "4 write(s), which stay done" in out["msg"] and "6 planned write(s) were not done" in out["msg"]
    assert len(descriptions(sandbox)) == 4
    sandbox.clear_requests()
    rerun = assert_converges(play, sandbox, POLICY, ["Sim %02d [ansible]" % n for n in range(1, 11)],
                             config=sims(10))
    assert [a["description"] for a in rerun["actions"]] == ["Sim %02d" % n for n in range(5, 11)]


@pytest.mark.parametrize("failures, restored", [(1, True), (2, False)])
def test_managed_url_change_with_a_failing_create_keeps_block_entries(sandbox, play, failures, restored):
    assert play([module_task(URL, config=BLOCKS)]).rc == 0
    changed = [dict(b, disable_log_click=True) for b in BLOCKS]
    sandbox.add_fault(method="POST", path=URL_CREATE, status=500, times=failures)
    result = play([module_task(URL, config=changed)])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert out["done"][0]["action"] == "delete"
    if restored:
        # never "all deletes first": one entry was replaced at a time and it was put back
        assert [d["action"] for d in out["done"]] == ["delete", "restore"]
        assert "was restored" in out["msg"] and out["restored"]["id"]
        assert block_urls(sandbox) == [b["url"] for b in BLOCKS]
    else:
        assert "could NOT be restored" in out["msg"] and "re-run the task at once" in out["msg"]
        assert len(block_urls(sandbox)) == 2  # only the one entry being replaced is missing
    assert len(out["not_done"]) == 5
    assert_converges(play, sandbox, URL, config=changed)
    stored = sandbox.state("demo")["managed_urls"]
    assert block_urls(sandbox) == [b["url"] for b in BLOCKS] and all(u["disableLogClick"] for u in stored)


def test_group_member_add_failure_lists_the_group_create(sandbox, play):
    config = [{"description": "Sim senders", "members": ["a@vendor.example", "b@vendor.example"]}]
    sandbox.add_fault(method="POST", path="/api/directory/add-group-member", status=400)
    result = play([module_task(GROUP, config=config)])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert [d["action"] for d in out["done"]] == ["create"] and out["done"][0]["id"]
    assert [(d["action"], d["members"]) for d in out["not_done"]] == [
        ("add_members", ["a@vendor.example", "b@vendor.example"])]
    assert_converges(play, sandbox, GROUP, config=config)
    groups = sandbox.state("demo")["groups"]
    assert len(groups) == 1 and sorted(m["emailAddress"] for m in groups[0]["members"]) == [
        "a@vendor.example", "b@vendor.example"]


def test_delivery_route_failure_midway_lists_definitions_written(sandbox, play):
    args = dict(description="Google", hostname="aspmx.l.google.com", alternate_hostname="alt1.aspmx.l.google.com",
                domains=["corp.example"])
    sandbox.add_fault(method="POST", path="/policy-management/cloud-gateway/v1/delivery-route/policies",
                      status=400)
    result = play([{"name": "t", ROUTE: args, "register": "out"}])
    out = result.task("t")
    assert result.rc != 0 and out["changed"] is True
    assert [(d["action"], d["collection"]) for d in out["done"]] == [("create", "definitions")] * 2
    assert [(d["action"], d["collection"]) for d in out["not_done"]] == [("create", "policies")]
    first = play([{"name": "t", ROUTE: args, "register": "out"}])
    assert first.rc == 0 and [a["collection"] for a in first.task("t")["actions"]] == ["policies"]
    state = sandbox.state("demo")
    assert len(state["delivery-route-definitions"]) == 2 and len(state["delivery-route-policies"]) == 1


# ------------------------------------------------------------------ concurrency
def test_two_runs_at_once_then_keep_newest_clears_the_duplicate(sandbox, play, tmp_path):
    # Both runs read the (empty) list at the same moment (the sandbox holds each read until both
    # have arrived, however loaded the machine is), so both decide to create: a duplicate.
    sandbox.add_fault(method="GET", path=IP_PATH, rendezvous=2, times=2)
    playbook = tmp_path / "two.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "two at once", "hosts": "r1:r2", "gather_facts": False, "connection": "local",
        "tasks": [module_task(POLICY, config=[SIM])]}], sort_keys=False))
    both = play(None, playbook=playbook, extra_args=("-i", "r1,r2,", "-f", "2"))
    assert both.rc == 0, both.stdout
    assert descriptions(sandbox) == ["Vendor sim [ansible]"] * 2
    sandbox.clear_requests()
    stuck = play([module_task(POLICY, config=[SIM])])
    out = stuck.task("t")
    ids = sorted(p["id"] for p in sandbox.state("demo")["anti-spoofing"])
    assert stuck.rc != 0 and "on_duplicate: keep_newest" in out["msg"] and all(i in out["msg"] for i in ids)
    assert sandbox.writes("demo") == []
    fixed = play([module_task(POLICY, config=[SIM], on_duplicate="keep_newest")]).task("t")
    assert [a["action"] for a in fixed["actions"]] == ["delete"] and "keep_newest" in fixed["actions"][0]["reason"]
    assert_converges(play, sandbox, POLICY, ["Vendor sim [ansible]"], config=[SIM])
