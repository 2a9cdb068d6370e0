#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_dns_check
short_description: Check a domain's MX, SPF and DMARC records against a Mimecast set-up
version_added: 0.1.0
description:
  - Read-only. For each domain, checks in DNS that
  - B(mx) - every MX record points at Mimecast, and no Google (C(aspmx.l.google.com),
    C(alt*.aspmx.l.google.com)) or other MX is left, which would let senders go around
    Mimecast;
  - B(spf) - the SPF record includes the region's Mimecast netblock
    (C(include:<region>._netblocks.mimecast.com), the exact domain) and has no C(+all);
    mechanism names and qualifiers are read case-insensitively (C(+ALL) is C(+all)), per RFC 7208;
  - B(dmarc) - exactly one DMARC record exists with C(p=quarantine) or C(p=reject); tags are
    read per RFC 7489 (C(p = reject) with spaces, any case).
  - Returns the records and one C(problems) list per domain; with O(fail_on_problem=true) the
    task fails when any check finds a problem.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.dns
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
options:
  domains:
    description: The domains to check.
    type: list
    elements: str
    required: true
  checks:
    description: Which checks to run.
    type: list
    elements: str
    choices: [mx, spf, dmarc]
    default: [mx]
  region:
    description: The Mimecast region whose netblock the SPF record should include (see M(mailsec.mimecast.mimecast_ip_range)).
    type: str
    default: us
    choices: [all, au, ca, de, eu, us, usb, uspcom, za]
  fail_on_problem:
    description: Fail the task when a check finds a problem.
    type: bool
    default: false
notes:
  - A DNS look-up that fails (SERVFAIL, timeout) is reported as a problem of that check, never as a pass.
  - Unicode domain names are checked in their punycode (C(xn--)) form; other malformed names are refused.
  - Mimecast MX hosts are recognised by their domains (C(mimecast.com), C(mimecast.co.za),
    C(mimecast-offshore.com), C(mimecast-pscom-us.com)).
'''

EXAMPLES = r'''
- name: No MX may bypass Mimecast
  mailsec.mimecast.mimecast_dns_check:
    domains: [corp.example]
    checks: [mx, spf, dmarc]
    region: us
    fail_on_problem: true
'''

RETURN = r'''
domains:
  description: Per domain, the records found and the problems.
  returned: always
  type: dict
  sample:
    corp.example:
      mx: [[10, us-smtp-inbound-1.mimecast.com]]
      spf: v=spf1 include:us._netblocks.mimecast.com -all
      dmarc: v=DMARC1; p=reject
      problems: []
ok:
  description: Whether every check passed for every domain.
  returned: always
  type: bool
dns_queries:
  description: How many DNS queries the task made.
  returned: always
  type: int
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._dns import (
    DNS_ARGUMENT_SPEC,
    DnsError,
    DnsLookupError,
    dmarc_policy,
    is_dmarc,
    is_spf,
    resolver_or_fail,
    spf_all_qualifier,
    spf_includes,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import REGION_RECORDS

MIMECAST_MX_DOMAINS = ("mimecast.com", "mimecast.co.za", "mimecast-offshore.com", "mimecast-pscom-us.com")
DOMAIN = re.compile(r"^(?=.{1,253}$)((?!-)[a-z0-9_-]{1,63}(?<!-)\.)+[a-z0-9-]{2,63}$")
GOOGLE_MX = re.compile(r"(^|\.)(aspmx\.l\.google\.com|googlemail\.com|google\.com)$")


def under(host, domains):
    return any(host == d or host.endswith("." + d) for d in domains)


def check_mx(resolver, domain):
    records = resolver.mx(domain)
    problems = []
    if not records:
        problems.append("no MX record")
    for pref, host in records:
        if GOOGLE_MX.search(host):
            problems.append("MX %s (preference %d) is Google's: mail can reach Google Workspace without "
                            "Mimecast; remove it" % (host, pref))
        elif not under(host, MIMECAST_MX_DOMAINS):
            problems.append("MX %s (preference %d) is not Mimecast; remove it" % (host, pref))
    return [list(r) for r in records], problems


def check_spf(resolver, domain, region):
    records = [t for t in resolver.txt(domain) if is_spf(t)]
    if len(records) != 1:
        return None, ["%d SPF records (exactly one is valid)" % len(records)]
    record, problems = records[0], []
    # Exact, case-insensitive mechanism parsing: include:us._netblocks.mimecast.com.evil.example is
    # another domain, and +ALL is +all (RFC 7208 section 4.6.1).
    if not spf_includes(record, REGION_RECORDS[region]):
        problems.append("SPF does not include %s" % REGION_RECORDS[region])
    if spf_all_qualifier(record) == "+":
        problems.append("SPF has +all, which lets any host send as the domain")
    return record, problems


def check_dmarc(resolver, domain):
    try:
        records = [t for t in resolver.txt("_dmarc." + domain) if is_dmarc(t)]
    except DnsLookupError:
        raise
    except DnsError:
        records = []
    if not records:
        return None, ["no DMARC record at _dmarc.%s" % domain]
    if len(records) > 1:
        return records, ["%d DMARC records at _dmarc.%s (receivers ignore all of them); keep one"
                         % (len(records), domain)]
    policy = dmarc_policy(records[0])
    if policy not in ("quarantine", "reject"):
        return records[0], ["DMARC policy is p=%s; use quarantine or reject" % (policy or "(missing)")]
    return records[0], []


def normalise_domain(value):
    """The domain to check, lower case without trailing dot; unicode names as punycode."""
    domain = str(value if value is not None else "").strip().lower().rstrip(".")
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError("domains: %r cannot be converted to punycode (IDNA); give its xn-- form" % value)
    if not DOMAIN.match(domain):
        raise ValueError("domains: %r is not a domain name; give names such as corp.example" % value)
    return domain


def main():
    module = AnsibleModule(
        argument_spec=dict(
            domains=dict(type="list", elements="str", required=True),
            checks=dict(type="list", elements="str", default=["mx"], choices=["mx", "spf", "dmarc"]),
            region=dict(type="str", default="us", choices=sorted(REGION_RECORDS)),
            fail_on_problem=dict(type="bool", default=False),
            **DNS_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    p = module.params
    domains, problems = [], []
    for value in p["domains"]:
        try:
            domain = normalise_domain(value)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if domain not in domains:
            domains.append(domain)
    if problems or not domains:
        module.fail_json(msg="; ".join(problems) or "domains is empty; give the domains to check")
    resolver = resolver_or_fail(module)
    results = {}
    for domain in domains:
        entry = {"problems": []}
        for check in p["checks"]:
            try:
                if check == "mx":
                    entry["mx"], problems = check_mx(resolver, domain)
                elif check == "spf":
                    entry["spf"], problems = check_spf(resolver, domain, p["region"])
                else:
                    entry["dmarc"], problems = check_dmarc(resolver, domain)
            except DnsError as exc:
                problems = ["%s: %s" % (check, exc)]
            entry["problems"].extend(problems)
        results[domain] = entry
    ok = not any(e["problems"] for e in results.values())
    result = {"changed": False, "domains": results, "ok": ok, "dns_queries": resolver.queries}
    if p["fail_on_problem"] and not ok:
        lines = ["%s: %s" % (d, "; ".join(e["problems"])) for d, e in results.items() if e["problems"]]
        module.fail_json(msg="DNS checks found problems: " + " | ".join(lines), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
