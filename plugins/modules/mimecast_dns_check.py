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
    (C(include:<region>._netblocks.mimecast.com)) and does not end in C(+all);
  - B(dmarc) - a DMARC record exists with C(p=quarantine) or C(p=reject).
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
    resolver_or_fail,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import REGION_RECORDS

MIMECAST_MX_DOMAINS = ("mimecast.com", "mimecast.co.za", "mimecast-offshore.com", "mimecast-pscom-us.com")
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
    records = [t for t in resolver.txt(domain) if t.lower().startswith("v=spf1")]
    if len(records) != 1:
        return None, ["%d SPF records (exactly one is valid)" % len(records)]
    record, problems = records[0], []
    include = "include:" + REGION_RECORDS[region]
    if include not in record.lower():
        problems.append("SPF does not include %s" % REGION_RECORDS[region])
    if record.split()[-1] in ("+all", "all"):
        problems.append("SPF ends in +all, which lets any host send as the domain")
    return record, problems


def check_dmarc(resolver, domain):
    try:
        records = [t for t in resolver.txt("_dmarc." + domain) if t.lower().startswith("v=dmarc1")]
    except DnsError:
        records = []
    if not records:
        return None, ["no DMARC record at _dmarc.%s" % domain]
    tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part)
    policy = tags.get("p", "").strip().lower()
    if policy not in ("quarantine", "reject"):
        return records[0], ["DMARC policy is p=%s; use quarantine or reject" % (policy or "(missing)")]
    return records[0], []


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
    resolver = resolver_or_fail(module)
    results = {}
    for domain in p["domains"]:
        domain = domain.strip().lower().rstrip(".")
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
