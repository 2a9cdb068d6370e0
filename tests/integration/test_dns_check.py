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
