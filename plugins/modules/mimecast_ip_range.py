#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_ip_range
short_description: Mimecast's current delivery ranges for a region, from DNS, with a dated fallback
version_added: 0.1.0
description:
  - Read-only. Resolves the ranges Mimecast delivers from for a region live from its SPF
    netblock records (C(<region>._netblocks.mimecast.com) TXT), following C(include:)
    recursively, and collapses them.
  - A dated snapshot ships with the collection as the fallback and for offline runs. The
    module reports what differs between the live answer and the snapshot.
  - B(Fails closed.) When DNS fails, or when the live answer covers fewer addresses than the
    snapshot by more than O(shrink_threshold) percent, it keeps the snapshot and warns;
    Mimecast runs old and new ranges side by side during migrations, and a truncated answer
    must never lock its mail out.
  - B(Never widens without vetting.) A live range the snapshot does not cover is an addition.
    The task fails, naming the additions, unless each is listed in O(accept_additions) after review
    or all of them together stay within O(max_growth) percent of the snapshot's addresses (then
    it warns). Nothing is returned, so a firewall built from the result stays as it is.
  - Ranges that are private, loopback, link-local, multicast, reserved or otherwise not public,
    and ranges broader than /20 (IPv4) or /32 (IPv6), are refused wherever they come from (DNS,
    O(extra_cidrs), O(accept_additions)) unless O(unsafe_allow_any_range) is set.
  - Returns CIDR lists (IPv4, IPv6), the Exchange Online form (IPv4 only, every prefix split
    to /24 or narrower, because Exchange refuses broader masks) and nftables set elements.
  - Needs no Mimecast credentials; it is not in the C(mailsec.mimecast.mimecast) action group.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.dns
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
options:
  region:
    description:
      - The Mimecast region of the account (account code prefix CUSA = V(us), CUSB = V(usb),
        CUK = V(eu), CDE = V(de), CCA = V(ca), CSA = V(za), CAU = V(au)), V(uspcom) for US public
        sector, or V(all) for C(_netblocks.mimecast.com), which covers eu, us, za, de, au and ca
        but not usb or uspcom.
      - Several regions may be given; their ranges are merged.
    type: list
    elements: str
    required: true
  source:
    description:
      - V(auto) resolves live and falls back to the snapshot (fail closed, see above).
      - V(dns) resolves live and fails the task if that is not possible or not trustworthy.
      - V(snapshot) uses the shipped snapshot only (offline).
    type: str
    choices: [auto, dns, snapshot]
    default: auto
  shrink_threshold:
    description:
      - Percent of the snapshot's addresses the live answer may lack before it is distrusted.
      - More than 0 and less than 100 (100 would disable the fail-closed check).
    type: float
    default: 20
  extra_cidrs:
    description:
      - Ranges to add, for example ranges from Mimecast's "Data Centers and URLs" page that the
        SPF records do not list.
      - Vetted like DNS answers (see O(unsafe_allow_any_range)).
    type: list
    elements: str
    default: []
  accept_additions:
    description:
      - Reviewed ranges that the live answer may add to the snapshot. They permit, they do not add
        (use O(extra_cidrs) to add). A live range counts as reviewed when these ranges cover it.
      - The failure message of an unreviewed addition lists what to review and put here.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  max_growth:
    description:
      - Percent of the snapshot's addresses that unreviewed additions may add together; they are
        then used and reported in a warning. V(0) (the default) accepts no unreviewed addition.
      - From 0 to 100. It does not apply to regions without a snapshot (usb, uspcom), whose live
        ranges all need O(accept_additions).
    type: float
    default: 0
    version_added: 0.2.0
  unsafe_allow_any_range:
    description:
      - B(Unsafe.) Lets private, loopback, link-local, multicast, reserved and other non-public ranges,
        and ranges broader than /20 (IPv4) or /32 (IPv6), through from DNS, O(extra_cidrs) and
        O(accept_additions). Without it they are always refused. Only for labs.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - The snapshot is dated 2025-04-23 (see RV(snapshot_date)). The contents of the usb and
    uspcom records were not found in any source, so their snapshot is empty; a DNS failure
    for them fails the task, and every range their records list is an addition that must be
    reviewed and listed in O(accept_additions) before it is used.
  - The Exchange form is refused when it would have more than 1,000 entries.
  - O(dns_port) must be 1-65535 and O(dns_timeout) more than 0 and at most 60 seconds.
  - The SPF records list the hosts Mimecast sends from. Mimecast's "Data Centers and URLs" page
    may list broader /24s; add them with O(extra_cidrs) if your Mimecast contact says so.
'''

EXAMPLES = r'''
- name: Mimecast's current US ranges
  mailsec.mimecast.mimecast_ip_range:
    region: us
  register: mimecast_ranges

- name: South Africa, in the form Exchange Online accepts (/24 or narrower)
  mailsec.mimecast.mimecast_ip_range:
    region: za
  register: za

- name: Use it for an Exchange connector
  ansible.builtin.debug:
    var: za.exchange
'''

RETURN = r'''
ipv4:
  description: The collapsed IPv4 ranges.
  returned: always
  type: list
  elements: str
  sample: [41.74.192.0/21, 41.74.200.0/22]
ipv6:
  description: The collapsed IPv6 ranges.
  returned: always
  type: list
  elements: str
exchange:
  description: The IPv4 ranges with every prefix broader than /24 split into /24s (Exchange Online's form).
  returned: always
  type: list
  elements: str
nft_elements_v4:
  description: The IPv4 ranges as an nftables set element list.
  returned: always
  type: str
  sample: "41.74.192.0/21, 41.74.200.0/22"
nft_elements_v6:
  description: The IPv6 ranges as an nftables set element list (empty string when none).
  returned: always
  type: str
source_used:
  description: V(dns) or V(snapshot), per region.
  returned: always
  type: dict
  sample: {za: dns}
records:
  description: The DNS names visited, per region (empty when the snapshot was used).
  returned: always
  type: dict
difference:
  description: Per region, the ranges the live answer adds to and lacks from the snapshot.
  returned: always
  type: dict
  sample: {us: {added: [], removed: []}}
snapshot_date:
  description: The date of the shipped snapshot.
  returned: always
  type: str
dns_queries:
  description: How many DNS queries the task made.
  returned: always
  type: int
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._dns import (
    DNS_ARGUMENT_SPEC,
    DnsError,
    resolver_or_fail,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import (
    REGION_RECORDS,
    SNAPSHOT,
    SNAPSHOT_DATE,
    address_count,
    collapse,
    exchange_form,
    parse,
    subtract,
    unsafe_ranges,
)

UNSAFE_FIX = ("set unsafe_allow_any_range: true (role: firewall_lockdown_unsafe_allow_any_range) only if you really "
              "mean to accept mail from it")


def refuse_unsafe(module, what, cidrs):
    """Fail the task when any of cidrs is non-public or huge (unless the unsafe opt-in is set)."""
    if module.params["unsafe_allow_any_range"]:
        return
    problems = unsafe_ranges(cidrs)
    if problems:
        module.fail_json(msg="%s: %s. Such a range is never one of Mimecast's; remove it, or %s."
                             % (what, "; ".join(problems[:10]), UNSAFE_FIX))


def resolve_region(module, resolver, region):
    """(cidrs, source, names, difference) for one region, failing closed."""
    p = module.params
    snapshot = SNAPSHOT[region]
    if p["source"] == "snapshot":
        return snapshot, "snapshot", [], {"added": [], "removed": []}
    try:
        live, names = resolver.spf_tree(REGION_RECORDS[region])
        live_v4, live_v6 = collapse(live)
        if not live_v4 and not live_v6:
            raise DnsError("%s lists no ranges" % REGION_RECORDS[region])
    except (DnsError, ValueError) as exc:
        problem = "DNS for region %s failed: %s" % (region, exc)
        return fallback(module, region, problem)
    # A spoofed or broken answer must not open the port to everyone: vetted before anything else.
    refuse_unsafe(module, "The live DNS answer for region %s lists a range that is not public or is huge" % region,
                  live_v4 + live_v6)
    snap_v4, snap_v6 = collapse(snapshot)
    difference = {"added": subtract(live_v4 + live_v6, snap_v4 + snap_v6),
                  "removed": subtract(snap_v4 + snap_v6, live_v4 + live_v6)}
    if snapshot:
        kept = address_count(live_v4) / float(address_count(snap_v4) or 1)
        if kept < 1 - p["shrink_threshold"] / 100.0:
            problem = ("the live answer for region %s covers %.0f%% of the snapshot's addresses "
                       "(threshold %g%%); a truncated or migrating answer must not lock Mimecast out"
                       % (region, kept * 100, p["shrink_threshold"]))
            cidrs, source, dummy, dummy2 = fallback(module, region, problem)
            return cidrs, source, names, difference
    check_additions(module, region, difference["added"], snap_v4 + snap_v6)
    return live, "dns", names, difference


def check_additions(module, region, added, snapshot):
    """Fail unless every range the live answer adds is reviewed or within max_growth; warn for the latter."""
    p = module.params
    unreviewed = subtract(added, p["accept_additions"]) if added else []
    if not unreviewed:
        return
    growth = 100.0 * address_count(unreviewed) / address_count(snapshot) if snapshot else None
    if growth is not None and growth <= p["max_growth"]:
        module.warn("The live answer for region %s adds %s (%.1f%% of the snapshot's addresses, within max_growth "
                    "%g%%); they are used. Review them and add them to accept_additions."
                    % (region, ", ".join(unreviewed), growth, p["max_growth"]))
        return
    size = ("%.1f%% of the snapshot's addresses, more than max_growth %g%%" % (growth, p["max_growth"])
            if growth is not None else "region %s has no snapshot to compare with" % region)
    module.fail_json(
        msg="The live answer for region %s adds range(s) the snapshot of %s does not cover and nobody reviewed: "
            "%s (%s). A DNS answer must not widen the allowlist unvetted, so nothing is returned. Check them "
            "against Mimecast's published ranges; if they are Mimecast's, list them in accept_additions "
            "(role: firewall_lockdown_accept_additions), or raise max_growth."
            % (region, SNAPSHOT_DATE, ", ".join(unreviewed[:20]) + (" ..." if len(unreviewed) > 20 else ""), size),
        difference={"added": added})


def fallback(module, region, problem):
    if module.params["source"] == "dns" or not SNAPSHOT[region]:
        why = "source is dns" if module.params["source"] == "dns" else "no snapshot exists for this region"
        module.fail_json(msg="%s; %s, so nothing can be trusted. Fix the DNS problem, set nameservers, or "
                             "use source: snapshot for another region." % (problem, why))
    module.warn("%s; using the snapshot of %s instead." % (problem, SNAPSHOT_DATE))
    return SNAPSHOT[region], "snapshot", [], {"added": [], "removed": []}


def check_numbers(module):
    """Range checks of the numeric options, before anything is asked."""
    p = module.params
    problems = []
    if not 0 < p["shrink_threshold"] < 100:
        problems.append("shrink_threshold %g must be more than 0 and less than 100 (100 or more would accept an "
                        "empty answer)" % p["shrink_threshold"])
    if not 0 <= p["max_growth"] <= 100:
        problems.append("max_growth %g must be from 0 to 100" % p["max_growth"])
    if not 1 <= p["dns_port"] <= 65535:
        problems.append("dns_port %d must be from 1 to 65535" % p["dns_port"])
    if not 0 < p["dns_timeout"] <= 60:
        problems.append("dns_timeout %g must be more than 0 and at most 60 seconds" % p["dns_timeout"])
    if problems:
        module.fail_json(msg="; ".join(problems) + ".")


def check_cidr_lists(module):
    """extra_cidrs and accept_additions: parseable, and vetted like a DNS answer."""
    p = module.params
    for option in ("extra_cidrs", "accept_additions"):
        try:
            nets = [parse(c) for c in p[option]]
        except ValueError as exc:
            module.fail_json(msg="%s: %s; give ranges such as 205.139.110.0/24." % (option, exc))
        refuse_unsafe(module, option, [str(n) for n in nets])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            region=dict(type="list", elements="str", required=True),
            source=dict(type="str", default="auto", choices=["auto", "dns", "snapshot"]),
            shrink_threshold=dict(type="float", default=20.0),
            extra_cidrs=dict(type="list", elements="str", default=[]),
            accept_additions=dict(type="list", elements="str", default=[]),
            max_growth=dict(type="float", default=0.0),
            unsafe_allow_any_range=dict(type="bool", default=False),
            **DNS_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    p = module.params
    regions = [r.strip().lower() for r in p["region"]]
    unknown = [r for r in regions if r not in REGION_RECORDS]
    if unknown:
        module.fail_json(msg="Unknown region(s) %s; use one of %s."
                             % (", ".join(unknown), ", ".join(sorted(REGION_RECORDS))))
    check_numbers(module)
    check_cidr_lists(module)
    p["accept_additions"] = [str(parse(c)) for c in p["accept_additions"]]
    resolver = resolver_or_fail(module) if p["source"] != "snapshot" else None
    cidrs = []
    result = {"changed": False, "source_used": {}, "records": {}, "difference": {}, "snapshot_date": SNAPSHOT_DATE}
    for region in regions:
        found, source, names, difference = resolve_region(module, resolver, region)
        cidrs.extend(found)
        result["source_used"][region] = source
        result["records"][region] = names
        result["difference"][region] = difference
    v4, v6 = collapse(cidrs + [str(parse(c)) for c in p["extra_cidrs"]])
    try:
        exchange = exchange_form(v4)
    except ValueError as exc:
        module.fail_json(msg="%s; Exchange refuses masks broader than /24, so narrow the ranges (extra_cidrs)." % exc)
    result.update(ipv4=v4, ipv6=v6, exchange=exchange, nft_elements_v4=", ".join(v4),
                  nft_elements_v6=", ".join(v6), dns_queries=resolver.queries if resolver else 0)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
