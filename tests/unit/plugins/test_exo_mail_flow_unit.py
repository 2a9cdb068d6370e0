# -*- coding: utf-8 -*-
"""Planning for the Exchange Online Cloud Integrated follow-through: transport rule priority moves under
Exchange's renumbering (Microsoft's Set-TransportRule reference, -Priority), trusted ARC sealer lists
(Set-ArcConfig replaces the whole list), the list-changed-meanwhile retry, and the Exchange-side checks."""

from __future__ import annotations

import inspect
import itertools

import pytest
import yaml

from ansible_collections.mailsec.mimecast.plugins.doc_fragments.exo import ModuleDocFragment
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import HttpClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC, ExoClient
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_checks import check_rule_order, check_stale_sealer
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_mail_flow import (
    match_names,
    parse_sealers,
    plan_rule_order,
    plan_sealers,
    rule_order,
    set_priority,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.modules import exo_arc_config, exo_transport_rule_order


def test_set_priority_renumbers_the_rules_between_old_and_new_place():
    order = ["CI1", "CI2", "Disclaimer", "A", "B"]
    assert set_priority(order, "Disclaimer", 0) == ["Disclaimer", "CI1", "CI2", "A", "B"]
    assert set_priority(order, "CI1", 3) == ["CI2", "Disclaimer", "A", "CI1", "B"]
    assert set_priority(order, "A", 3) == order
    with pytest.raises(ValueError):
        set_priority(order, "A", 5)


def test_plan_puts_a_pushed_down_rule_back_with_one_call():
    calls, after = plan_rule_order(["CI1", "CI2", "Disclaimer", "A", "B"], ["Disclaimer"])
    assert calls == [("Disclaimer", 0)]
    assert after == ["Disclaimer", "CI1", "CI2", "A", "B"]


def test_plan_sends_nothing_for_rules_already_in_place():
    assert plan_rule_order(["D", "S", "CI1", "A"], ["D", "S"]) == ([], ["D", "S", "CI1", "A"])
    calls, after = plan_rule_order(["D", "CI1", "S", "A"], ["D", "S"])
    assert calls == [("S", 1)] and after == ["D", "S", "CI1", "A"]


@pytest.mark.parametrize("count", [3, 5])
def test_plan_is_correct_for_every_order_and_keeps_others_relative_order(count):
    rules = ["r%d" % i for i in range(count)]
    for perm in itertools.permutations(rules):
        for top in (["r0"], ["r2", "r0"], ["r1", "r0", "r2"]):
            calls, after = plan_rule_order(list(perm), top)
            assert after[:len(top)] == top
            assert [n for n in after if n not in top] == [n for n in perm if n not in top]
            # One call at most per named rule, none for a rule already in its final place from the start.
            assert len(calls) <= len(top)
            replay = list(perm)
            for name, priority in calls:
                replay = set_priority(replay, name, priority)
            assert replay == after
            if list(perm[:len(top)]) == top:
                assert calls == []


def test_rule_order_and_name_matching():
    rules = [{"Name": "B", "Priority": 1}, {"Name": "a", "Priority": 0}, {"Name": "C", "Priority": 2}]
    assert rule_order(rules) == ["a", "B", "C"]
    assert match_names(["A", "x", "c"], rules, "rules") == (["a", "C"], ["x"])
    with pytest.raises(GuardrailError, match="named twice"):
        match_names(["a", "A"], rules, "rules")
    with pytest.raises(MimecastError, match="2 transport rules"):
        match_names(["dup"], [{"Name": "dup"}, {"Name": "Dup"}], "rules")


def test_sealers_parse_and_plan_keep_the_others():
    assert parse_sealers("a.example,b.example") == ["a.example", "b.example"]
    assert parse_sealers(["a.example", "B.example, c.example"]) == ["a.example", "B.example", "c.example"]
    assert parse_sealers(None) == [] and parse_sealers("") == []
    current = ["a.example", "m.example", "b.example"]
    assert plan_sealers(current, ["M.example"], "present") == current
    assert plan_sealers(current, ["n.example"], "present") == current + ["n.example"]
    assert plan_sealers(current, ["M.EXAMPLE"], "absent") == ["a.example", "b.example"]
    assert plan_sealers(current, ["x.example"], "absent") == current
    assert plan_sealers(["m.example"], ["m.example"], "absent") == []


class FakeModule:
    def __init__(self, check_mode=False, **params):
        self.params = dict({"state": "present"}, **params)
        self.check_mode, self._diff, self.warnings = check_mode, True, []

    def warn(self, text):
        self.warnings.append(text)


class FakeClient:
    """Answers Get-ArcConfig from a script of lists (one per read); records Set-ArcConfig."""

    def __init__(self, *reads):
        self.reads, self.sent = list(reads), []

    def invoke(self, cmdlet, parameters=None, write=False):
        if cmdlet == "Get-ArcConfig":
            value = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
            return [{"Identity": "Default", "ArcTrustedSealers": ",".join(value)}]
        assert cmdlet == "Set-ArcConfig" and write
        self.sent.append(parameters)
        self.reads = [parameters["ArcTrustedSealers"]]
        return []


def test_arc_write_replans_once_when_the_list_changed_meanwhile():
    client = FakeClient(["a.example"], ["a.example", "new.example"])
    module = FakeModule(sealers=["m.example"])
    result = exo_arc_config.run(module, client)
    assert client.sent == [{"Identity": "Default", "ArcTrustedSealers": ["a.example", "new.example", "m.example"]}]
    assert result["retried"] is True and module.warnings and result["after"][-1] == "m.example"


def test_arc_write_refuses_when_the_list_keeps_changing():
    client = FakeClient(["a.example"], ["b.example"], ["c.example"])
    with pytest.raises(MimecastError, match="changed twice"):
        exo_arc_config.run(FakeModule(sealers=["m.example"]), client)
    assert client.sent == []


def test_arc_check_mode_reads_once_and_writes_nothing():
    client = FakeClient(["a.example", "m.example"])
    result = exo_arc_config.run(FakeModule(check_mode=True, sealers=["m.example"], state="absent"), client)
    assert result["changed"] is True and client.sent == [] and result["after"] == ["a.example"]


def test_arc_refuses_a_bad_sealer_before_any_call():
    client = FakeClient(["a.example"])
    with pytest.raises(GuardrailError, match="'m example, x'"):
        exo_arc_config.run(FakeModule(sealers=["m example, x"]), client)


def rules(*names):
    return [{"name": n, "priority": i} for i, n in enumerate(names)]


def test_check_rule_order_against_ci_rules_and_without():
    found = check_rule_order(rules("CI1", "D", "A"), ["D"], ["CI1"])
    assert found["status"] == "fail" and found["objects"][0]["rule"] == "D" and found["weight"] == 5
    assert check_rule_order(rules("D", "CI1", "A"), ["D"], ["CI1"])["status"] == "pass"
    assert check_rule_order(rules("A", "D"), ["D"])["status"] == "fail"
    missing = check_rule_order(rules("D"), ["D", "gone"])["objects"]
    assert missing == [{"rule": "gone", "detail": "not found in Exchange Online"}]
    assert check_rule_order(None, ["D"])["status"] == "not_checked"


def test_check_stale_sealer():
    conns = [{"name": "CI send"}]
    assert check_stale_sealer(["m.example"], ["m.example"], rules("A"), [], ["CI1"], ["CI send"])["status"] == "fail"
    assert check_stale_sealer(["m.example"], ["m.example"], rules("A"), conns, ["CI1"], ["CI send"])["status"] == "pass"
    assert check_stale_sealer(["x.example"], ["m.example"], rules("A"), [], ["CI1"], [])["status"] == "pass"
    assert check_stale_sealer(["m.example"], ["m.example"], rules("A"))["status"] == "not_checked"
    assert check_stale_sealer(["m.example"], [], rules("A"), ci_rules=["CI1"])["status"] == "not_checked"


class RuleClient:
    """Get-TransportRule from a list of orders (one per read); records Set-TransportRule."""

    def __init__(self, *orders):
        self.orders, self.sent = list(orders), []

    def invoke(self, cmdlet, parameters=None, write=False):
        if cmdlet == "Get-TransportRule":
            names = self.orders.pop(0) if len(self.orders) > 1 else self.orders[0]
            return [{"Name": n, "Priority": i} for i, n in enumerate(names)]
        assert cmdlet == "Set-TransportRule" and write and set(parameters) == {"Identity", "Priority"}
        self.sent.append(parameters)
        return []


def test_rule_order_fails_loudly_when_the_read_back_differs():
    client = RuleClient(["CI", "D", "A"], ["CI", "D", "A"])        # the Set did not take
    with pytest.raises(MimecastError, match="differently than predicted"):
        exo_transport_rule_order.run(FakeModule(rules=["D"], ci_rules=[], missing_rules="fail"), client)
    assert client.sent == [{"Identity": "D", "Priority": 0}]


def test_rule_order_refusals_before_any_write():
    client = RuleClient(["CI", "D"])
    with pytest.raises(GuardrailError, match="both rules and ci_rules"):
        exo_transport_rule_order.run(FakeModule(rules=["D"], ci_rules=["d"], missing_rules="fail"), client)
    with pytest.raises(GuardrailError, match="'X'"):
        exo_transport_rule_order.run(FakeModule(rules=["D", "X"], ci_rules=[], missing_rules="fail"), client)
    assert client.sent == []
    done = exo_transport_rule_order.run(FakeModule(rules=["D", "X"], ci_rules=["CI"], missing_rules="ignore"),
                                        RuleClient(["CI", "D"], ["D", "CI"]))
    assert done["missing"] == ["X"] and done["ci_rules"] == [{"name": "CI", "priority": 1}]


def test_exo_doc_fragment_and_client_take_every_connection_option():
    """The three modules document the connection options through the mailsec.mimecast.exo doc fragment and
    pass every EXO_ARGUMENT_SPEC option to ExoClient by name: an option added to the spec must be added to
    both (this fails otherwise, instead of a validate-modules error or a TypeError at run time)."""
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(documented) == set(EXO_ARGUMENT_SPEC)
    for name, spec in EXO_ARGUMENT_SPEC.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
    accepted = set(inspect.signature(ExoClient.__init__).parameters)
    accepted |= set(inspect.signature(HttpClient.__init__).parameters)
    assert set(EXO_ARGUMENT_SPEC) <= accepted
