# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Mimecast's delivery ranges: the SPF netblock tree in DNS, and a dated snapshot of it.

Mimecast publishes its ranges as SPF records (``<region>._netblocks.mimecast.com``) and says
they change without notice, so they are resolved live; the snapshot below is the fallback
(offline runs, DNS failures, suspicious shrinkage). Snapshot: the resolution of
``_netblocks.mimecast.com`` published 2025-04-23 (research/lockdown.md 4.3). The contents of
``usb`` and ``uspcom`` were not found in any source: their snapshot is empty, so for those
regions a DNS failure fails the task instead of guessing.
"""

from __future__ import annotations

import ipaddress

SNAPSHOT_DATE = "2025-04-23"
SNAPSHOT_SOURCE = "apiverve/spfvalidator.Python-API README (DNS resolution published 2025-04-23)"

REGION_RECORDS = {
    "us": "us._netblocks.mimecast.com",
    "usb": "usb._netblocks.mimecast.com",
    "eu": "eu._netblocks.mimecast.com",
    "de": "de._netblocks.mimecast.com",
    "ca": "ca._netblocks.mimecast.com",
    "za": "za._netblocks.mimecast.com",
    "au": "au._netblocks.mimecast.com",
    "uspcom": "uspcom._netblocks.mimecast-pscom-us.com",
    "all": "_netblocks.mimecast.com",
}

SNAPSHOT = {
    "us": ["207.211.31.0/25", "205.139.110.0/24", "216.205.24.0/24", "170.10.129.0/24", "63.128.21.0/24",
           "170.10.133.0/24", "185.58.84.93/32", "207.211.41.113/32", "207.211.30.64/26", "207.211.30.128/25",
           "216.145.221.0/24", "170.10.128.0/24", "170.10.132.56/29", "170.10.132.64/29"],
    "eu": ["195.130.217.0/24", "91.220.42.0/24", "146.101.78.0/24", "207.82.80.0/24", "213.167.81.0/25",
           "193.7.207.0/25", "213.167.75.0/25", "185.58.85.0/24", "185.58.86.0/24", "193.7.206.0/25",
           "147.28.36.0/24"],
    "de": ["51.163.158.0/24", "194.104.109.0/24", "194.104.111.0/24", "194.104.110.21/32", "194.104.110.240/28",
           "62.140.10.21/32", "62.140.7.0/24", "194.104.108.240/29", "194.104.108.21/32"],
    "za": ["41.74.192.0/22", "41.74.200.0/23", "41.74.196.0/22", "41.74.204.0/23", "41.74.206.0/24"],
    "au": ["103.13.69.0/24", "124.47.150.0/24", "124.47.189.0/24", "103.96.23.0/24", "103.96.21.0/24",
           "180.189.28.0/24", "216.145.217.0/24", "103.96.22.96/28", "103.96.22.22/32", "103.96.20.22/32",
           "103.96.20.96/28"],
    "ca": ["170.10.145.0/24", "170.10.147.0/24", "170.10.144.126/32", "170.10.146.126/32", "170.10.144.240/29",
           "170.10.146.240/29", "216.145.216.0/24"],
    "usb": [],
    "uspcom": [],
}
SNAPSHOT["all"] = [c for region in ("eu", "us", "za", "de", "au", "ca") for c in SNAPSHOT[region]]


def collapse(cidrs):
    """Sorted, collapsed networks; IPv4 first."""
    nets = [ipaddress.ip_network(c, strict=False) for c in cidrs]
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return [str(n) for n in v4], [str(n) for n in v6]


def subtract(cidrs, others):
    """The address space of cidrs not covered by others, collapsed (a set difference of addresses)."""
    minus = [ipaddress.ip_network(c) for c in others]
    out = []
    for net in (ipaddress.ip_network(c) for c in cidrs):
        pieces = [net]
        for other in minus:
            kept = []
            for piece in pieces:
                if piece.version != other.version or not piece.overlaps(other):
                    kept.append(piece)
                elif not piece.subnet_of(other):
                    kept.extend(piece.address_exclude(other))
            pieces = kept
        out.extend(str(p) for p in pieces)
    v4, v6 = collapse(out)
    return v4 + v6


def exchange_form(v4):
    """Exchange Online accepts IPv4 /24 through /32 only: split broader prefixes into /24s."""
    out = []
    for cidr in v4:
        net = ipaddress.ip_network(cidr)
        out.extend(str(n) for n in (net.subnets(new_prefix=24) if net.prefixlen < 24 else [net]))
    return out


def address_count(cidrs):
    return sum(ipaddress.ip_network(c).num_addresses for c in cidrs)


def parse_spf(text):
    """(ip4/ip6 CIDRs, include names) of one SPF record."""
    cidrs, includes = [], []
    for term in text.split()[1:]:
        term = term.lstrip("+")
        low = term.lower()
        if low.startswith(("ip4:", "ip6:")):
            cidrs.append(term[4:])
        elif low.startswith("include:"):
            includes.append(term[8:].rstrip("."))
    return cidrs, includes
