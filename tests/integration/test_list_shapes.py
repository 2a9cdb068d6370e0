# -*- coding: utf-8 -*-
"""The modules against the sandbox answering REST lists in the alternative shapes (issue 9 items 2, 3)."""

from __future__ import annotations

import httpx
import pytest

from conftest import assert_declarative_cycle, module_task

ANTISPOOF = "mailsec.mimecast.mimecast_antispoof_bypass"
GREYLISTING = "mailsec.mimecast.mimecast_greylisting_bypass"
DATED = {"valid_from": "2026-12-01", "valid_to": "2099-12-31"}


@pytest.mark.parametrize("module, collection, written", [
    (ANTISPOOF, "anti-spoofing", "toDateTime"),
    (GREYLISTING, "greylisting", "toDate"),
])
def test_dated_policy_read_back_under_the_other_date_names_is_not_repatched(sandbox, play, module, collection,
                                                                            written):
    sandbox.set_shapes(["other_dates"])
    config = [dict(DATED, description="Vendor sim", source_ips=["52.201.210.35"])]
    first = play([module_task(module, config=config)])
    assert first.rc == 0 and first.task("t")["api_calls"]["write"] == 1
    assert sandbox.state("demo")[collection][0][written] == "2099-12-31T23:59:59+0000"
    sandbox.clear_requests()
    again = play([module_task(module, config=config)])
    result = again.task("t")
    assert again.rc == 0 and result["changed"] is False and result["actions"] == [], result
    assert sandbox.writes("demo") == []


def test_declarative_cycle_with_every_alternative_shape_over_several_pages(sandbox, play):
    """Wrapped items, a top-level nextToken, an empty first page, an empty second list key and the
    other date names at once, over more objects than one page holds: no duplicate, no re-patch."""
    sandbox.set_shapes(["alternative"])
    config = [dict(DATED, description="Sim %d" % n, source_ips=["52.201.210.%d" % (30 + n)]) for n in range(5)]
    assert_declarative_cycle(play, sandbox, ANTISPOOF, config)
    assert len(sandbox.state("demo")["anti-spoofing"]) == 5
    gathered = play([module_task(ANTISPOOF, state="gathered")]).task("t")
    assert sorted(g["description"] for g in gathered["gathered"]) == ["Sim %d" % n for n in range(5)]
    assert all(g["valid_to"] == "2099-12-31T23:59:59+0000" for g in gathered["gathered"])


def test_shapes_switch_over_the_control_api(sandbox):
    url = sandbox.base_url + "/_sandbox/shapes"
    assert httpx.post(url, json={"shapes": ["top_token", "omit_empty"]}, timeout=30).json() == {
        "shapes": ["omit_empty", "top_token"]}
    assert httpx.get(url, timeout=30).json()["shapes"] == ["omit_empty", "top_token"]
    assert httpx.post(url, json={"shapes": ["nope"]}, timeout=30).status_code == 400
    sandbox.reset()
    assert sandbox.shapes == frozenset()
