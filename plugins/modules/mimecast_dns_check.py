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
  - B(ci_spf) - the SPF record includes the Mimecast Email Security Cloud Integrated outbound
    delivery include of O(ci_region) (C(include:spf.<region>-1.a.mimecastprotect.com), from Mimecast's
    Cloud Integrated "Getting Started" article) and has no C(+all). Use
    P(mailsec.mimecast.spf_record#filter) to merge a missing include into the record.
  - B(spf_lookups) - the SPF record's DNS lookups, counted with its includes and redirect followed
    (RV(domains.spf_lookups)); more than 10 is a problem (RFC 7208 section 4.6.4, receivers then fail SPF
    for every message). Costs one TXT query per include.
  - B(dmarc) - exactly one DMARC record exists with C(p=quarantine) or C(p=reject); tags are
    read per RFC 7489 (C(p = reject) with spaces, any case). Mimecast's Cloud Integrated guide asks for a
    published DMARC record before Monitor or Protect mode; C(p=none) is reported as a problem too.
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
    choices: [mx, spf, ci_spf, spf_lookups, dmarc]
    default: [mx]
  region:
    description: The Mimecast region whose netblock the SPF record should include (see M(mailsec.mimecast.mimecast_ip_range)).
    type: str
    default: us
    choices: [all, au, ca, de, eu, us, usb, uspcom, za]
  ci_region:
    description:
      - The Cloud Integrated region whose outbound delivery include the C(ci_spf) check looks for
        (C(spf.us-1.a.mimecastprotect.com) for V(us), and so on).
      - Required when O(checks) contains C(ci_spf).
    type: str
    choices: [au, ca, de, uk, us, za]
    version_added: 0.3.0
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

- name: Ready for Cloud Integrated Monitor or Protect mode (outbound SPF include, DMARC)
  mailsec.mimecast.mimecast_dns_check:
    domains: [corp.example]
    checks: [ci_spf, spf_lookups, dmarc]
    ci_region: uk
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
      spf_lookups: 1
      dmarc: v=DMARC1; p=reject
      dmarc_policy: reject
      problems: []
  contains:
    spf:
      description: The SPF record (with O(checks) C(spf), C(ci_spf) or C(spf_lookups)); V(null) without exactly one.
      type: str
    spf_lookups:
      description:
        - The DNS lookups an SPF check of the domain costs, includes followed (with O(checks)
          C(spf_lookups)); V(null) when they could not be counted.
      type: int
      version_added: 0.3.0
    dmarc_policy:
      description: The DMARC C(p=) value (with O(checks) C(dmarc)); an empty string when there is no valid record.
      type: str
      version_added: 0.3.0
    problems:
      description: One sentence per problem found.
      type: list
      elements: str
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
    resolver_or_fail,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import REGION_RECORDS
from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import (
    CI_SPF_INCLUDES,
    MAX_LOOKUPS,
    is_spf,
    spf_all_qualifier,
    spf_includes,
)

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


def read_spf(resolver, domain):
    """(the domain's one SPF record or None, problems)."""
    records = [t for t in resolver.txt(domain) if is_spf(t)]
    if len(records) != 1:
        return None, ["%d SPF records (exactly one is valid)" % len(records)]
    return records[0], []


def spf_problems(record, include, label):
    # Exact, case-insensitive mechanism parsing: include:us._netblocks.mimecast.com.evil.example is
    # another domain, and +ALL is +all (RFC 7208 section 4.6.1).
    problems = []
    if not spf_includes(record, include):
        problems.append("SPF does not include %s (%s)" % (include, label))
    if spf_all_qualifier(record) == "+":
        problems.append("SPF has +all, which lets any host send as the domain")
    return problems


def count_lookups(resolver, domain, record):
    """(DNS lookups of the SPF check or None, problems)."""
    try:
        lookups = resolver.spf_lookups(domain, record=record)
    except DnsLookupError:
        raise
    except DnsError as exc:
        return None, ["SPF lookups could not be counted: %s (receivers fail SPF on it too)" % exc]
    if lookups > MAX_LOOKUPS:
        return lookups, ["SPF needs %d DNS lookups; receivers fail SPF beyond %d (RFC 7208 section 4.6.4)"
                         % (lookups, MAX_LOOKUPS)]
    return lookups, []


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
    if policy == "none":
        return records[0], ["DMARC policy is p=none (monitoring only); use quarantine or reject before "
                            "Cloud Integrated Monitor or Protect mode and for a gateway set-up alike"]
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
            checks=dict(type="list", elements="str", default=["mx"], choices=["mx", "spf", "ci_spf", "spf_lookups", "dmarc"]),
            region=dict(type="str", default="us", choices=sorted(REGION_RECORDS)),
            ci_region=dict(type="str", choices=sorted(CI_SPF_INCLUDES)),
            fail_on_problem=dict(type="bool", default=False),
            **DNS_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
        required_if=[("checks", "ci_spf", ("ci_region",))],
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
                elif check in ("spf", "ci_spf", "spf_lookups"):
                    if "spf" not in entry:
                        entry["spf"], problems = read_spf(resolver, domain)
                        entry["problems"].extend(problems)
                    if entry["spf"] is None:
                        continue
                    if check == "spf_lookups":
                        entry["spf_lookups"], problems = count_lookups(resolver, domain, entry["spf"])
                    elif check == "spf":
                        problems = spf_problems(entry["spf"], REGION_RECORDS[p["region"]], "Mimecast gateway")
                    else:
                        problems = spf_problems(entry["spf"], CI_SPF_INCLUDES[p["ci_region"]],
                                                "Mimecast Cloud Integrated outbound delivery")
                    problems = [x for x in problems if x not in entry["problems"]]
                else:
                    entry["dmarc"], problems = check_dmarc(resolver, domain)
                    entry["dmarc_policy"] = dmarc_policy(entry["dmarc"]) if isinstance(entry["dmarc"], str) else ""
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
