# -*- coding: utf-8 -*-
"""mimecast_dns_check against the local DNS server: SPF and DMARC read exactly (issue 8 item 11)."""

from __future__ import annotations

import pytest

from conftest import module_task

DNSCHECK = "mailsec.mimecast.mimecast_dns_check"
MX = ["10 us-smtp-inbound-1.mimecast.com."]


def check(play, dns, domains, **args):
    host, port = dns.address
    result = play([module_task(DNSCHECK, domains=domains, checks=["mx", "spf", "dmarc"], nameservers=[host],
                               dns_port=port, dns_timeout=2, **args)])
    return result, result.task("t")


@pytest.mark.parametrize("spf, dmarc, problem", [
    ("v=spf1 include:us._netblocks.mimecast.com +ALL", "v=DMARC1; p=reject", "+all"),
    ("v=spf1 include:us._netblocks.mimecast.com ALL", "v=DMARC1; p=reject", "+all"),
    ("v=spf1 include:us._netblocks.mimecast.com.evil.example -all", "v=DMARC1; p=reject",
     "does not include us._netblocks.mimecast.com"),
    ("v=spf1 include:evil.example/us._netblocks.mimecast.com -all", "v=DMARC1; p=reject",
     "does not include us._netblocks.mimecast.com"),
    ("v=spf1 include:us._netblocks.mimecast.com -all", "v=DMARC1; p = none; sp=reject", "p=none"),
    ("v=spf1 include:us._netblocks.mimecast.com -all", "p=reject; v=DMARC1", "no DMARC record"),
])
def test_misleading_records_are_problems(play, dns, spf, dmarc, problem):
    dns.set("corp.example", "MX", MX)
    dns.set("corp.example", "TXT", [spf])
    dns.set("_dmarc.corp.example", "TXT", [dmarc])
    result, out = check(play, dns, ["corp.example"])
    assert result.rc == 0, out
    problems = out["domains"]["corp.example"]["problems"]
    assert out["ok"] is False and any(problem in p for p in problems), problems


def test_exact_records_in_any_case_and_spacing_pass(play, dns):
    dns.set("corp.example", "MX", MX)
    dns.set("corp.example", "TXT", ["V=SPF1 Include:US._netblocks.Mimecast.com. -ALL"])
    dns.set("_dmarc.corp.example", "TXT", ["v=DMARC1 ; p = reject ; rua=mailto:dmarc@corp.example"])
    result, out = check(play, dns, ["Corp.Example."])
    assert result.rc == 0 and out["ok"] is True, out["domains"]


def test_servfail_is_a_problem_and_bad_names_refused(play, dns):
    dns.set("corp.example", "MX", MX)
    dns.fail("corp.example", "servfail")
    result, out = check(play, dns, ["corp.example"])
    assert out["ok"] is False and len(out["domains"]["corp.example"]["problems"]) >= 2
    bad, out = check(play, dns, ["corp..example", "-x.example"])
    assert bad.rc != 0 and "'corp..example' is not a domain name" in out["msg"] and "-x.example" in out["msg"]
    assert "Traceback" not in bad.stdout + bad.stderr
    port = play([module_task(DNSCHECK, domains=["corp.example"], nameservers=["127.0.0.1"], dns_port=0)])
    assert port.rc != 0 and "dns_port 0" in port.task("t")["msg"]


def test_cloud_integrated_include_lookups_and_dmarc_policy(play, dns):
    """Cloud Integrated readiness (issue 12): the region's include, the lookup count, p=none named."""
    host, port = dns.address
    dns.set("corp.example", "TXT", ["v=spf1 include:spf.protection.outlook.com mx -all"])
    dns.set("spf.protection.outlook.com", "TXT", ["v=spf1 ip4:40.92.0.0/15 include:spfd.protection.outlook.com -all"])
    dns.set("spfd.protection.outlook.com", "TXT", ["v=spf1 ip4:52.100.0.0/14 -all"])
    dns.set("_dmarc.corp.example", "TXT", ["v=DMARC1; p=none; rua=mailto:d@corp.example"])
    dns.set("ready.example", "TXT", ["v=spf1 include:SPF.UK-1.A.MIMECASTPROTECT.COM ~all"])
    dns.set("spf.uk-1.a.mimecastprotect.com", "TXT", ["v=spf1 ip4:198.51.100.0/24 -all"])
    dns.set("_dmarc.ready.example", "TXT", ["v=DMARC1; p=quarantine"])
    args = dict(domains=["corp.example", "ready.example"], checks=["ci_spf", "spf_lookups", "dmarc"],
                ci_region="uk", nameservers=[host], dns_port=port, dns_timeout=2)
    result = play([module_task(DNSCHECK, **args)])
    out = result.task("t")
    assert result.rc == 0, out
    corp, ready = out["domains"]["corp.example"], out["domains"]["ready.example"]
    assert corp["spf_lookups"] == 3 and corp["dmarc_policy"] == "none"
    assert any("does not include spf.uk-1.a.mimecastprotect.com" in p for p in corp["problems"]), corp
    assert any("p=none" in p for p in corp["problems"]), corp
    assert ready["problems"] == [] and ready["spf_lookups"] == 1 and ready["dmarc_policy"] == "quarantine"
    # the filter takes the count and merges the include, keeping -all
    merge = play([{"name": "t", "ansible.builtin.set_fact": {
        "merged": "{{ %r | mailsec.mimecast.spf_record(region='uk', lookups=%d) }}" % (corp["spf"], corp["spf_lookups"])}}])
    assert merge.rc == 0
    assert merge.task("t")["ansible_facts"]["merged"] == \
        "v=spf1 include:spf.protection.outlook.com mx include:spf.uk-1.a.mimecastprotect.com -all"
    # ci_spf needs the region
    missing = play([module_task(DNSCHECK, **dict(args, ci_region=None))])
    assert missing.rc != 0 and "ci_region" in missing.task("t")["msg"]


def test_spf_lookup_limit_is_a_problem(play, dns):
    host, port = dns.address
    includes = ["s%d.example" % i for i in range(11)]
    dns.set("corp.example", "TXT", ["v=spf1 " + " ".join("include:" + i for i in includes) + " -all"])
    for name in includes:
        dns.set(name, "TXT", ["v=spf1 ip4:192.0.2.1 -all"])
    result = play([module_task(DNSCHECK, domains=["corp.example"], checks=["spf_lookups"], nameservers=[host],
                               dns_port=port, dns_timeout=2)])
    entry = result.task("t")["domains"]["corp.example"]
    assert entry["spf_lookups"] == 11 and any("11 DNS lookups" in p for p in entry["problems"]), entry
