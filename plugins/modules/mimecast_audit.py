#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_audit
short_description: Audit a Mimecast tenant for the classic misconfigurations, read-only
version_added: 0.1.0
description:
  - An ORCA-style audit of a Mimecast tenant with what Mimecast's API can read - one check per
    pitfall of Mimecast's own pitfalls guide, each with an id, a severity, why it matters, the
    objects found and the fix, and a score weighted by severity.
  - Checks - SPF-based anti-spoofing bypasses whose domains' SPF includes Microsoft 365 or Google
    ranges, ends in C(+all) or has more than 10 terms (resolved in DNS); IP-scoped bypasses
    (anti-spoofing, greylisting, blocked senders C(no_action), SPF bypass source IPs) overlapping
    cloud-mail ranges, broader than /24 or private; permitted-sender group entries that are the
    tenant's own domains, free-mail or cloud-mail domains, or whole domains; internal domains
    without an anti-spoofing policy; managed URLs that permit whole domains unrewritten; eternal
    bypasses whose narrative marks them as campaign-bound; policies that reference missing or
    empty profile groups; and for every internal domain, MX only at Mimecast, SPF including the
    region's Mimecast netblock, and DMARC at quarantine or reject.
  - Settings the API does not expose (spam auto-allow action, threat remediation mode,
    impersonation VIP lists inside definitions, inbound DNS authentication actions) are listed as
    manual checks with their console path, never guessed.
  - Cloud Integrated checks (the Default policy and the policies of O(ci_policy_ids)) - policies
    neither in Monitor nor in Protect (Disabled), and Protect only through the Default policy. An
    account whose Default policy read answers HTTP 403 or 404 (no Cloud Integrated) has these checks
    skipped (RV(not_applicable)), never reported as findings.
  - B(Never writes.) It reads each list once (all pages), the members of each relevant group once
    and each DNS name once.
  - Returns the findings, the score and, as strings, a Markdown report and a self-contained HTML
    report, ready for M(ansible.builtin.copy).
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.dns
  - mailsec.mimecast.connection
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  tenant_name:
    description: The tenant's name in the reports.
    type: str
    default: Mimecast tenant
  region:
    description: The Mimecast region whose netblock the domains' SPF records should include.
    type: str
    default: us
    choices: [us, usb, eu, de, ca, za, au, uspcom, all]
  permitted_sender_groups:
    description:
      - Names of profile groups that console Permitted Senders policies point at. Groups whose name
        contains "permitted sender" (such as the built-in one) are always included.
    type: list
    elements: str
    default: []
  ci_policy_ids:
    description:
      - Ids of the account's Cloud Integrated policies (for example the C(policy_ids) that
        M(mailsec.mimecast.mimecast_ci_policy) returns).
        Mimecast documents no call that lists them, so the audit reads the Default policy and these ids only.
      - Without ids, the check "Protect only through the Default policy" is reported as not checked when
        the Default policy is in Protect; with ids, it judges by the policies given, so give all of them.
    type: list
    elements: str
    default: []
    version_added: 0.3.0
  ci_region:
    description:
      - The region of a Cloud Integrated account, for the check that each internal domain's SPF includes
        C(spf.<region>-1.a.mimecastprotect.com) (Mimecast's Cloud Integrated guide). Only judged on accounts
        with Cloud Integrated; without it that check is left out and listed in RV(not_applicable).
    type: str
    choices: [au, ca, de, uk, us, za]
    version_added: 0.3.0
  dns_checks:
    description: Run the DNS checks (SPF of bypass domains needs DNS regardless).
    type: bool
    default: true
  fail_on_severity:
    description:
      - Fail the task when a finding has this severity or a higher one (for CI). V(none) never fails.
      - A check of this severity or higher that could not run (for example its DNS look-up failed) fails
        the task too.
    type: str
    choices: [none, low, medium, high, critical]
    default: none
  generated:
    description: A timestamp text for the reports (the module adds none itself, so reports of an unchanged tenant are identical).
    type: str
    default: ""
notes:
  - Needs the role permissions Gateway | Policies | Read, Directories | Groups | Read, Directories |
    Internal | Read and Services | URL Protection | Read.
'''

EXAMPLES = r'''
- name: Audit the tenant
  mailsec.mimecast.mimecast_audit:
    tenant_name: "{{ inventory_hostname }}"
    region: eu
    fail_on_severity: critical
  register: audit

- name: Keep the HTML report
  ansible.builtin.copy:
    content: "{{ audit.report_html }}"
    dest: "reports/{{ inventory_hostname }}.html"
    mode: "0644"
  delegate_to: localhost
'''

RETURN = r'''
score:
  description:
    - Weighted score, 100 when every check passes (weights critical 10, high 5, medium 3, low 1).
    - A check that could not run (for example a DNS look-up that failed) counts as not passed, so a
      failure never raises the score; see RV(incomplete) and RV(score_checked).
  returned: always
  type: float
score_checked:
  description: The weighted score over the checks that ran; null when none ran.
  returned: always
  type: float
  version_added: 0.2.0
incomplete:
  description: Whether any check could not run (fully); such checks have C(status=not_checked) and are never passed.
  returned: always
  type: bool
  version_added: 0.2.0
not_checked:
  description: The checks that could not run (C(id), C(title), C(severity), C(reasons)).
  returned: always
  type: list
  elements: dict
  version_added: 0.2.0
findings:
  description: The failed checks (C(id), C(title), C(severity), C(weight), C(why), C(fix), C(objects)).
  returned: always
  type: list
  elements: dict
checks:
  description:
    - Every automated check with C(passed) and C(status) (V(pass), V(fail) or V(not_checked), with the
      reasons in C(not_checked)).
  returned: always
  type: list
  elements: dict
counts:
  description: Number of failed checks per severity.
  returned: always
  type: dict
manual_checks:
  description: Checks to do in the console (C(id), C(title), C(console_path), C(why), C(api)).
  returned: always
  type: list
  elements: dict
internal_domains:
  description: The tenant's internal domains.
  returned: always
  type: list
  elements: str
not_applicable:
  description:
    - Checks that do not apply to this account (C(id), C(title), C(reason)), such as the Cloud
      Integrated checks on an account without Cloud Integrated. They are not scored.
  returned: always
  type: list
  elements: dict
  version_added: 0.3.0
errors:
  description: What could not be checked (for example a DNS failure), so a pass is never assumed.
  returned: always
  type: list
  elements: str
report_markdown:
  description: The report in Markdown.
  returned: always
  type: str
report_html:
  description: The report as one self-contained HTML file.
  returned: always
  type: str
api_calls:
  description: How many Mimecast API calls the task made; C(write) is always 0.
  returned: always
  type: dict
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._audit import SEVERITIES, Audit
from ansible_collections.mailsec.mimecast.plugins.module_utils._dns import (
    DNS_ARGUMENT_SPEC,
    DNSPYTHON_IMPORT_ERROR,
    Dns,
    DnsError,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._report import html, markdown


def work(module, client):
    p = module.params
    resolver = None
    if DNSPYTHON_IMPORT_ERROR:
        module.module.warn("dnspython is missing: the DNS checks and SPF look-ups are reported as not checked.")
    else:
        try:
            resolver = Dns(p["nameservers"], p["dns_port"], p["dns_timeout"])
        except DnsError as exc:
            if p["nameservers"] or p["dns_port"] != 53 or p["dns_timeout"] != 5.0:
                # A bad option of this task: refuse it rather than audit half the checks.
                module.module.fail_json(msg="%s; fix the DNS options of the task (nameservers must be IP "
                                            "addresses)." % exc, api_calls=module.api_calls())
            module.module.warn("No DNS resolver (%s): the DNS checks and SPF look-ups are reported as not "
                               "checked." % exc)
    audit = Audit(client, resolver, region=p["region"], permitted_sender_groups=p["permitted_sender_groups"],
                  check_dns=p["dns_checks"], ci_policy_ids=p["ci_policy_ids"],
                  ci_region=p["ci_region"])
    result = audit.run()
    result["changed"] = False
    result["report_markdown"] = markdown(p["tenant_name"], result, p["generated"])
    result["report_html"] = html(p["tenant_name"], result, p["generated"])
    result["dns_queries"] = resolver.queries if resolver else 0
    if result["incomplete"]:
        module.module.warn("Audit of %s is incomplete: %s could not be checked (see errors); they count as not "
                           "passed." % (p["tenant_name"], ", ".join(n["id"] for n in result["not_checked"])))
    threshold = p["fail_on_severity"]
    if threshold != "none":
        level = SEVERITIES.index(threshold)
        worst = [f for f in result["findings"] if SEVERITIES.index(f["severity"]) >= level]
        # A check at the threshold that could not run fails the gate too: CI must not pass on a DNS outage.
        unknown = [n for n in result["not_checked"] if SEVERITIES.index(n["severity"]) >= level]
        messages = []
        if worst:
            messages.append("%d finding(s) at %s or above: %s" % (
                len(worst), threshold, ", ".join("%s %s" % (f["id"], f["title"]) for f in worst)))
        if unknown:
            messages.append("%d check(s) at %s or above could not be checked: %s" % (
                len(unknown), threshold, "; ".join("%s (%s)" % (n["id"], "; ".join(n["reasons"])) for n in unknown)))
        if messages:
            result["failed"] = True
            result["msg"] = "Audit of %s: %s." % (p["tenant_name"], "; ".join(messages))
    return result


def main():
    module = MimecastModule(
        dict(
            tenant_name=dict(type="str", default="Mimecast tenant"),
            region=dict(type="str", default="us", choices=["us", "usb", "eu", "de", "ca", "za", "au", "uspcom", "all"]),
            permitted_sender_groups=dict(type="list", elements="str", default=[]),
            ci_policy_ids=dict(type="list", elements="str", default=[]),
            ci_region=dict(type="str", choices=["au", "ca", "de", "uk", "us", "za"]),
            dns_checks=dict(type="bool", default=True),
            fail_on_severity=dict(type="str", default="none", choices=["none", "low", "medium", "high", "critical"]),
            generated=dict(type="str", default=""),
            **DNS_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    module.run(lambda client: work(module, client))


if __name__ == "__main__":
    main()
