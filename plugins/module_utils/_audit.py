# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""An ORCA-style configuration audit of a Mimecast tenant, read-only.

One check per pitfall of Mimecast's own pitfalls guide, each with an id, a severity, a
weight, why it matters and the fix; per-object findings; a weighted score. Checks that
need data the API does not expose are listed as manual checks with their console path,
never guessed. Everything is read once: each list one time (all pages), each referenced
group's members one time, each DNS name one time.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._cloud_integrated import (
    MODE_NAMES,
    NO_CI_STATUSES,
    CloudIntegratedCollection,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._cloud_ranges import CLOUD_RANGES
from ansible_collections.mailsec.mimecast.plugins.module_utils._dns import (
    DnsError,
    DnsLookupError,
    dmarc_policy,
    is_dmarc,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    is_permitted_sender_group,
    shared_mail_domain,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import (
    MANAGED_URL,
    ManagedUrlSpec,
    shared_hosting_domain,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import REGION_RECORDS, parse_spf
from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import ETERNAL, date_from_api
from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import GroupCollection, read_members
from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import CI_SPF_INCLUDES, spf_all_qualifier, spf_includes

SEVERITIES = ("info", "low", "medium", "high", "critical")
WEIGHTS = {"low": 1, "medium": 3, "high": 5, "critical": 10}
REST = "/policy-management/cloud-gateway/v1/"
CLOUD_INCLUDES = ("spf.protection.outlook.com", "_spf.google.com", "_netblocks.google.com")
CAMPAIGN_WORDS = re.compile(r"\b(campaign|simulation|phish\w*|pilot|trial|temp\w*|test\w*|poc|q[1-4]|20\d\d)\b", re.I)
MIMECAST_MX_DOMAINS = ("mimecast.com", "mimecast.co.za", "mimecast-offshore.com", "mimecast-pscom-us.com")
DNS_CHECKS = ("MC-DNS-001", "MC-DNS-002", "MC-DNS-003", "MC-CI-003")
SPF_BYPASS_CHECKS = ("MC-ASB-001", "MC-ASB-002", "MC-ASB-003")
CI_CHECKS = ("MC-CI-001", "MC-CI-002", "MC-CI-003")
_CLOUD = [(p, ipaddress.ip_network(c)) for p, info in CLOUD_RANGES.items() for c in info["ranges"]]

# id: (title, severity, why it matters, the fix)
CHECKS = {
    "MC-ASB-001": ("SPF-based anti-spoofing bypass trusts a domain whose SPF includes Microsoft 365 or Google", "critical",
                   "Anyone with a Microsoft 365 or Google Workspace tenant passes SPF for that domain, so mail spoofing "
                   "your own domains from those platforms skips anti-spoofing.",
                   "Replace the SPF-based bypass with an IP-based one (anti-spoofing policy 'Take No Action' scoped to "
                   "the sender's dedicated IPs), e.g. with mailsec.mimecast.mimecast_antispoof_bypass."),
    "MC-ASB-002": ("SPF-based anti-spoofing bypass trusts a domain whose SPF ends in +all", "critical",
                   "+all makes every host on the internet pass SPF for that domain: the bypass applies to everyone.",
                   "Remove the domain from the bypass; Mimecast says never to use +all domains there."),
    "MC-ASB-003": ("SPF-based anti-spoofing bypass trusts a domain with more than 10 SPF terms", "medium",
                   "Mimecast evaluates only the first 10 terms; senders listed after them fail and legitimate mail is held.",
                   "Use an IP-based bypass for that sender instead."),
    "MC-IP-001": ("IP-scoped bypass overlaps Microsoft 365 or Google sending ranges", "critical",
                  "Every tenant of that cloud platform sends from those ranges, so the bypass lets their mail through.",
                  "Scope the policy to the sender's dedicated IPs only."),
    "MC-IP-002": ("IP-scoped bypass is broader than /24", "high",
                  "A broad range covers many unrelated senders; a bypass should name the few addresses a sender uses.",
                  "Replace the range with the sender's documented addresses (IPv4 /24 or narrower)."),
    "MC-IP-003": ("IP-scoped bypass lists private, loopback or reserved ranges", "medium",
                  "Mimecast never receives internet mail from such addresses: the entry is a mistake, or hides one.",
                  "Remove the entry, or replace it with the sender's public addresses."),
    "MC-PS-001": ("Permitted senders include the tenant's own domains", "critical",
                  "Attackers spoof internal addresses; a permit for them skips spam checks for exactly that mail.",
                  "Remove internal domains and addresses from the permitted senders; internal mail needs no permit."),
    "MC-PS-002": ("Permitted senders include a free-mail or cloud-mail provider domain", "high",
                  "Anyone can send as gmail.com, outlook.com or an onmicrosoft.com tenant.",
                  "List the exact addresses of the few senders you trust instead."),
    "MC-PS-003": ("Permitted senders include whole domains", "medium",
                  "A whole-domain permit trusts every address of that domain, including spoofed ones.",
                  "Prefer exact addresses and the sender's IPs in the policy."),
    "MC-ASP-001": ("Internal domain without an anti-spoofing policy", "high",
                   "External mail claiming to come from that domain is not held: the classic spoofing attack.",
                   "Create an anti-spoofing policy (Take Action) for the domain, and tick 'Automatically create "
                   "anti-spoofing policy' when registering domains."),
    "MC-URL-001": ("Managed URL permits a whole domain with link rewriting disabled", "medium",
                   "Links to any page on that domain reach users unrewritten and unscanned; on shared platforms "
                   "that includes attackers' pages.",
                   "Permit exact URLs (match type explicit), keep rewriting on, or remove the entry after the campaign."),
    "MC-POL-001": ("Campaign or test bypass never expires", "medium",
                   "Its narrative marks it as temporary, but its validity is eternal: it will outlive the campaign.",
                   "Set an end date (mailsec.mimecast modules take valid_to), or delete it now."),
    "MC-POL-002": ("Policy references a profile group that does not exist", "high",
                   "The policy matches nobody, or (for bypasses) the intended scope silently vanished.",
                   "Point the policy at an existing group, or delete it."),
    "MC-POL-003": ("Policy references an empty profile group", "low",
                   "An empty group makes the policy match nobody: stale VIP lists and permitted-sender groups look like this.",
                   "Fill the group (mailsec.mimecast.mimecast_profile_group) or delete the policy."),
    "MC-DNS-001": ("MX records do not point only at Mimecast", "high",
                   "Senders can deliver to another MX and go around Mimecast's scanning.",
                   "Remove every MX record that is not Mimecast's, then lock the mail platform down to Mimecast "
                   "(role mailsec.mimecast.firewall_lockdown)."),
    "MC-DNS-002": ("SPF does not include the region's Mimecast netblock", "medium",
                   "Outbound mail through Mimecast fails SPF at recipients.",
                   "Add include:<region>._netblocks.mimecast.com to the domain's SPF record."),
    "MC-DNS-003": ("DMARC missing or not enforcing", "medium",
                   "Without p=quarantine or p=reject, receivers deliver mail spoofing the domain.",
                   "Publish _dmarc.<domain> with p=quarantine, then p=reject."),
    # Cloud Integrated (Mimecast "Getting Started" for Email Security Cloud Integrated,
    # https://mimecastsupport.zendesk.com/hc/en-us/articles/34000408361491-Getting-Started): modes
    # Protect, Monitor, Disabled; the Default policy cannot be targeted; user-made policies override it.
    "MC-CI-001": ("Cloud Integrated policy left Disabled (neither Monitor nor Protect)", "medium",
                  "A policy that is neither in Monitor nor in Protect does not act on the mail it targets. Its "
                  "protection mode reads back as a value other than MONITOR_ONLY or ACTIVE; no public source names "
                  "the Disabled value, so every other value is reported (with the value).",
                  "Set the policy to Monitor or Protect (mailsec.mimecast.mimecast_ci_policy, or the console: "
                  "Policies | Email | Mode), or delete it if it is no longer wanted."),
    "MC-CI-002": ("Protect only through the Cloud Integrated Default policy", "low",
                  "The Default policy is in Protect and no targeted policy is: the whole tenant was switched at "
                  "once, and the Default policy cannot be targeted, so no pilot group or exception can be staged "
                  "on it (user-made policies override it).",
                  "Make a targeted policy in Protect (mailsec.mimecast.mimecast_ci_policy) for the users who "
                  "need it, and keep the Default policy as the fallback."),
    "MC-CI-003": ("SPF does not include the Cloud Integrated outbound delivery include", "medium",
                  "Cloud Integrated delivers the domain's outbound mail from Mimecast's ranges; without the region's "
                  "include (spf.<region>-1.a.mimecastprotect.com, from the guide's table) recipients fail SPF.",
                  "Add include:spf.<region>-1.a.mimecastprotect.com before the record's all mechanism (the "
                  "mailsec.mimecast.spf_record filter merges it and keeps the rest)."),
}

MANUAL_CHECKS = [
    {"id": "MC-MAN-001", "title": "Spam scanning auto-allow action is Hold or Reject, not Do Nothing",
     "console_path": "Administration > Gateway > Policies > Definitions > Anti-Spam > (definition) > Auto Allow",
     "why": "With 'Do Nothing', spam from auto-allowed senders is delivered unchecked.",
     "api": "No API exposes spam-scanning definitions."},
    {"id": "MC-MAN-002", "title": "Threat remediation runs automatically",
     "console_path": "Administration > Threat Remediation > Incidents / Settings",
     "why": "Manual-only remediation leaves malicious mail in mailboxes for longer.",
     "api": "No API exposes the remediation mode."},
    {"id": "MC-MAN-003", "title": "Impersonation Protect VIP lists are current",
     "console_path": "Administration > Gateway > Policies > Definitions > Impersonation Protection",
     "why": "VIP lists inside impersonation definitions go stale as people change roles.",
     "api": "VIP lists inside definitions are not readable by API (profile groups used as VIP lists are checked above)."},
    {"id": "MC-MAN-004", "title": "DNS authentication (inbound) acts on SPF, DKIM and DMARC failures",
     "console_path": "Administration > Gateway > Policies > Definitions > DNS Authentication - Inbound",
     "why": "The defaults may not act on authentication failures.",
     "api": "No API exposes inbound DNS authentication definitions."},
]


def overlaps_cloud(net):
    return sorted({p for p, cloud in _CLOUD if cloud.version == net.version and cloud.overlaps(net)})


class Audit:
    def __init__(self, client, dns=None, region="us", permitted_sender_groups=None, check_dns=True,
                 ci_policy_ids=None, ci_region=None):
        self.client = client
        self.ci_region = ci_region
        self.ci_policy_ids = list(ci_policy_ids or [])
        # Cloud Integrated policies read (the Default policy first), or None; why CI checks were skipped.
        self.ci = None
        self.ci_skipped = None
        self.dns = dns
        self.region = region
        self.permitted_sender_groups = [g.lower() for g in permitted_sender_groups or []]
        self.want_dns = check_dns
        self.check_dns = check_dns and dns is not None
        self.findings = {}
        self.errors = []
        # check id -> reasons it could not run (fully): such a check is never reported as passed.
        self.unchecked = {}
        self._spf_cache = {}
        self._spf_failed_includes = {}
        self._members = {}

    def add(self, check_id, obj):
        self.findings.setdefault(check_id, []).append(obj)

    def not_checked(self, check_ids, reason):
        """Record that check_ids could not run for an object; the reason goes to ``errors`` too."""
        if reason not in self.errors:
            self.errors.append(reason)
        for cid in check_ids:
            self.unchecked.setdefault(cid, [])
            if reason not in self.unchecked[cid]:
                self.unchecked[cid].append(reason)

    # ------------------------------------------------------------------ collection
    def collect(self):
        c = self.client
        self.internal = sorted({(d.get("domain") or "").lower()
                                for d in c.classic("/api/domain/get-internal-domain", paginate=True)} - {""})
        self.policies = {
            "anti-spoofing": c.rest_list(REST + "anti-spoofing/policies"),
            "anti-spoofing-bypass": c.rest_list(REST + "anti-spoofing-bypass/policies"),
            "greylisting": c.rest_list(REST + "greylisting/policies"),
            "blocked-senders": c.rest_list(REST + "blocked-senders/policies"),
        }
        self.urls = c.classic("/api/ttp/url/get-all-managed-urls", paginate=True)
        self.groups = {g["id"]: g for g in GroupCollection().list(c)}
        self.collect_cloud_integrated()

    def collect_cloud_integrated(self):
        """The Default policy and the given ids (Mimecast documents no call that lists CI policies)."""
        collection = CloudIntegratedCollection(self.ci_policy_ids)
        try:
            self.ci = collection.list(self.client)
        except MimecastError as exc:
            if exc.status in NO_CI_STATUSES and collection.default_id is None:
                # No Cloud Integrated on this account (or no permission for it): skipped, never a finding.
                self.ci_skipped = ("Mimecast answered HTTP %s for the Cloud Integrated Default policy: no Cloud "
                                   "Integrated on this account, or the API application may not read it" % exc.status)
            else:
                self.not_checked(CI_CHECKS, "Cloud Integrated policies: %s" % str(exc).rstrip("."))
            return
        for policy_id in collection.missing:
            self.errors.append("Cloud Integrated policy id %s (ci_policy_ids) does not exist (HTTP 404)" % policy_id)

    # ------------------------------------------------------------------ checks
    def run(self):
        self.collect()
        self.check_spf_bypasses()
        self.check_ip_bypasses()
        self.check_permitted_senders()
        self.check_internal_domains()
        self.check_managed_urls()
        self.check_policy_hygiene()
        self.check_cloud_integrated()
        if self.check_dns:
            self.check_domain_dns()
        elif self.want_dns:
            self.not_checked(DNS_CHECKS, "DNS checks of the internal domains: no DNS resolver")
        return self.result()

    def check_spf_bypasses(self):
        for policy in self.policies["anti-spoofing-bypass"]:
            if policy.get("option") != "enable_bypass" or policy.get("enabled") is False:
                continue
            for domain in policy.get("spfDomains") or []:
                obj = {"policy": policy.get("description"), "id": policy.get("id"), "domain": domain}
                if self.dns is None:
                    self.not_checked(SPF_BYPASS_CHECKS, "SPF of %s (bypass %r): no DNS resolver"
                                     % (domain, policy.get("description")))
                    continue
                try:
                    record, cidrs, includes = self.spf(domain)
                except DnsError as exc:
                    # SERVFAIL, timeout or no SPF record: nothing is known, so none of the checks passed.
                    self.not_checked(SPF_BYPASS_CHECKS, "SPF of %s (bypass %r): %s"
                                     % (domain, policy.get("description"), exc))
                    continue
                for failed in self._spf_failed_includes.get(domain, []):
                    # The include that could not be read may hold Microsoft 365 or Google ranges.
                    self.not_checked(("MC-ASB-001",), failed)
                clouds = sorted({p for cidr in cidrs for p in overlaps_cloud(ipaddress.ip_network(cidr, strict=False))}
                                | {"Microsoft 365" if "outlook" in i else "Google" for i in includes if i in CLOUD_INCLUDES})
                if clouds:
                    self.add("MC-ASB-001", dict(obj, detail="SPF includes %s ranges" % " and ".join(clouds)))
                if spf_all_qualifier(record) == "+":
                    self.add("MC-ASB-002", dict(obj, detail=record))
                terms = len(record.split()) - 1
                if terms > 10:
                    self.add("MC-ASB-003", dict(obj, detail="%d terms" % terms))

    def spf(self, domain):
        if domain not in self._spf_cache:
            record = self.dns.spf(domain)
            cidrs, includes = parse_spf(record)
            names = list(includes)
            for include in includes:
                if include in CLOUD_INCLUDES:
                    continue
                try:
                    more, seen = self.dns.spf_tree(include)
                    cidrs.extend(more)
                    names.extend(seen)
                except DnsError as exc:
                    self._spf_failed_includes.setdefault(domain, []).append(
                        "SPF include %s of %s: %s" % (include, domain, exc))
            self._spf_cache[domain] = (record, cidrs, [n.lower() for n in names])
        return self._spf_cache[domain]

    def check_ip_bypasses(self):
        scoped = [("anti-spoofing", ("no_action",)), ("greylisting", ("no_action",)),
                  ("blocked-senders", ("no_action",)), ("anti-spoofing-bypass", ("enable_bypass",))]
        for collection, options in scoped:
            for policy in self.policies[collection]:
                if policy.get("option") not in options:
                    continue
                for value in policy.get("sourceIPs") or (policy.get("conditions") or {}).get("sourceIPs") or []:
                    try:
                        net = ipaddress.ip_network(value, strict=False)
                    except ValueError:
                        continue
                    obj = {"policy": policy.get("description"), "id": policy.get("id"), "type": collection,
                           "range": str(net)}
                    clouds = overlaps_cloud(net)
                    if clouds:
                        self.add("MC-IP-001", dict(obj, detail="overlaps %s" % " and ".join(clouds)))
                    elif not net.is_global:
                        self.add("MC-IP-003", obj)
                    if net.prefixlen < (24 if net.version == 4 else 48):
                        self.add("MC-IP-002", obj)

    def is_permitted_group(self, group):
        name = (group.get("description") or "").lower()
        return is_permitted_sender_group(name) or name in self.permitted_sender_groups

    def members(self, group_id):
        if group_id not in self._members:
            self._members[group_id] = read_members(self.client, group_id)
        return self._members[group_id]

    def check_permitted_senders(self):
        for group in self.groups.values():
            if not self.is_permitted_group(group):
                continue
            for member in self.members(group["id"]):
                domain = member.split("@")[-1]
                obj = {"group": group.get("description"), "id": group["id"], "member": member}
                if any(domain == d or domain.endswith("." + d) for d in self.internal):
                    self.add("MC-PS-001", obj)
                    continue
                if "@" in member:
                    continue
                shared = shared_mail_domain(domain)
                if shared:
                    self.add("MC-PS-002", dict(obj, detail="%s domain" % shared[0]))
                else:
                    self.add("MC-PS-003", obj)

    def check_internal_domains(self):
        enforcing = [p for p in self.policies["anti-spoofing"]
                     if p.get("option") in ("apply", "apply_non_mimecast") and p.get("enabled", True)]
        for domain in self.internal:
            covered = False
            for policy in enforcing:
                target = policy.get("from") or {}
                kind = target.get("type") or policy.get("fromType")
                value = (target.get("domain") or target.get("emailDomain") or policy.get("fromValue") or "").lower()
                if kind in ("everyone", "internal_addresses") or (kind == "email_domain" and (
                        domain == value or domain.endswith("." + value))):
                    covered = True
                    break
            if not covered:
                self.add("MC-ASP-001", {"domain": domain})

    def check_managed_urls(self):
        spec = ManagedUrlSpec()
        for item in self.urls:
            entry = spec.from_api(MANAGED_URL, item)
            if entry["action"] == "permit" and entry["match_type"] == "domain" and entry["disable_rewrite"]:
                obj = {"url": entry["url"], "id": item.get("id"), "comment": entry["comment"]}
                shared = shared_hosting_domain(entry["url"])
                if shared:
                    obj["detail"] = "shared platform %s" % shared
                self.add("MC-URL-001", obj)

    def check_policy_hygiene(self):
        bypasses = [("anti-spoofing", "no_action"), ("greylisting", "no_action"), ("blocked-senders", "no_action"),
                    ("anti-spoofing-bypass", "enable_bypass")]
        for collection, option in bypasses:
            for policy in self.policies[collection]:
                eternal = date_from_api(policy, "to", "toDate" if collection == "greylisting" else "toDateTime")
                if policy.get("option") == option and eternal == ETERNAL and \
                        CAMPAIGN_WORDS.search(policy.get("description") or ""):
                    self.add("MC-POL-001", {"policy": policy.get("description"), "id": policy.get("id"),
                                            "type": collection})
        for collection, policies in self.policies.items():
            for policy in policies:
                for side in ("from", "to"):
                    target = policy.get(side) or {}
                    kind = target.get("type") or policy.get(side + "Type")
                    if kind != "profile_group":
                        continue
                    group_id = target.get("groupId") or (target.get("group") or {}).get("id") or policy.get(side + "Value")
                    obj = {"policy": policy.get("description"), "id": policy.get("id"), "type": collection,
                           "side": side, "group_id": group_id}
                    if group_id not in self.groups:
                        self.add("MC-POL-002", obj)
                    elif not self.members(group_id):
                        self.add("MC-POL-003", dict(obj, group=self.groups[group_id].get("description")))

    def check_domain_dns(self):
        for domain in self.internal:
            try:
                mx = self.dns.mx(domain)
                stray = [h for dummy, h in mx if not any(h == d or h.endswith("." + d) for d in MIMECAST_MX_DOMAINS)]
                if not mx or stray:
                    self.add("MC-DNS-001", {"domain": domain, "detail": ", ".join(stray) or "no MX record"})
            except DnsError as exc:
                self.not_checked(("MC-DNS-001",), "MX of %s: %s" % (domain, exc))
            spf_checks = ("MC-DNS-002", "MC-CI-003") if self.ci is not None else ("MC-DNS-002",)
            try:
                record = self.dns.spf(domain)
                if not spf_includes(record, REGION_RECORDS[self.region]):
                    self.add("MC-DNS-002", {"domain": domain, "detail": record})
                self.check_ci_spf(domain, record)
            except DnsLookupError as exc:
                self.not_checked(spf_checks, "SPF of %s: %s" % (domain, exc))
            except DnsError as exc:
                for cid in spf_checks:
                    self.add(cid, {"domain": domain, "detail": str(exc)})
            try:
                dmarc = [t for t in self.dns.txt("_dmarc." + domain) if is_dmarc(t)]
            except DnsLookupError as exc:
                self.not_checked(("MC-DNS-003",), "DMARC of %s: %s" % (domain, exc))
                continue
            except DnsError:
                dmarc = []
            policy = dmarc_policy(dmarc[0]) if dmarc else ""
            if policy not in ("quarantine", "reject"):
                self.add("MC-DNS-003", {"domain": domain, "detail": dmarc[0] if dmarc else "no DMARC record"})

    def check_ci_spf(self, domain, record):
        """MC-CI-003, on accounts with Cloud Integrated only (a gateway-only account is never judged on it)."""
        if self.ci is None:
            return
        if not self.ci_region:
            return  # not applicable without the region (see result())
        include = CI_SPF_INCLUDES[self.ci_region]
        if not spf_includes(record, include):
            self.add("MC-CI-003", {"domain": domain, "detail": record, "include": include})

    def check_cloud_integrated(self):
        if self.ci is None:
            return
        default, targeted = self.ci[0], self.ci[1:]
        for policy in self.ci:
            mode = policy.get("protectionMode")
            if mode not in MODE_NAMES:
                self.add("MC-CI-001", {"policy": policy.get("description"), "id": policy.get("id"),
                                       "default": policy is default, "protection_mode": mode})
        if MODE_NAMES.get(default.get("protectionMode")) != "protect":
            return
        if any(MODE_NAMES.get(p.get("protectionMode")) == "protect" for p in targeted):
            return
        if not self.ci_policy_ids:
            self.not_checked(("MC-CI-002",), "The Cloud Integrated Default policy is in Protect; whether a targeted "
                             "policy is too cannot be read, because Mimecast documents no call that lists the "
                             "policies: give their ids in ci_policy_ids")
            return
        self.add("MC-CI-002", {"policy": default.get("description"), "id": default.get("id"),
                               "targeted_policies_read": len(targeted)})

    # ------------------------------------------------------------------ result
    def result(self):
        checks = [cid for cid in CHECKS if (self.want_dns or cid not in DNS_CHECKS)
                  and not (self.ci_skipped and cid in CI_CHECKS) and not (cid == "MC-CI-003" and not self.ci_region)]
        findings = []
        for cid in checks:
            title, severity, why, fix = CHECKS[cid]
            objects = self.findings.get(cid, [])
            # A check with findings failed; one that could not run (fully) is "not checked", never passed.
            status = "fail" if objects else ("not_checked" if cid in self.unchecked else "pass")
            findings.append({"id": cid, "title": title, "severity": severity, "weight": WEIGHTS[severity],
                             "passed": status == "pass", "status": status, "why": why, "fix": fix,
                             "objects": objects, "not_checked": self.unchecked.get(cid, [])})
        total = sum(f["weight"] for f in findings)
        passed = sum(f["weight"] for f in findings if f["passed"])
        ran = sum(f["weight"] for f in findings if f["status"] != "not_checked")
        failed = [f for f in findings if f["status"] == "fail"]
        counts = {s: sum(1 for f in failed if f["severity"] == s) for s in SEVERITIES[1:]}
        return {
            # Checks that could not run count as not passed: a failed look-up never raises the score.
            "score": round(100.0 * passed / total, 1) if total else 100.0,
            "score_checked": round(100.0 * passed / ran, 1) if ran else None,
            "incomplete": any(f["status"] == "not_checked" for f in findings),
            "not_checked": [{"id": f["id"], "title": f["title"], "severity": f["severity"],
                             "reasons": f["not_checked"]} for f in findings if f["status"] == "not_checked"],
            "findings": failed, "checks": findings, "counts": counts, "manual_checks": MANUAL_CHECKS,
            "internal_domains": self.internal, "errors": self.errors,
            "not_applicable": self.not_applicable()}

    def not_applicable(self):
        """Checks left out of the score, with the reason: Cloud Integrated checks on an account without it, and
        the Cloud Integrated SPF include without ci_region (the include depends on the account's region)."""
        out = [{"id": cid, "title": CHECKS[cid][0], "reason": self.ci_skipped}
               for cid in CI_CHECKS if self.ci_skipped and (self.want_dns or cid not in DNS_CHECKS)]
        if not self.ci_skipped and not self.ci_region and self.want_dns:
            out.append({"id": "MC-CI-003", "title": CHECKS["MC-CI-003"][0],
                        "reason": "give ci_region (the Cloud Integrated account's region) to check the SPF include"})
        return out
