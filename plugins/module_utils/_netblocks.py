# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Mimecast's delivery ranges: the SPF netblock tree in DNS, and a dated snapshot of it.

Mimecast publishes its ranges as SPF records (``<region>._netblocks.mimecast.com``) and says
they change without notice, so they are resolved live; the snapshot below is the fallback
(offline runs, DNS failures, suspicious shrinkage). Snapshot: the resolution of
``_netblocks.mimecast.com`` published 2025-04-23 (a recorded SPF resolution in the README.md of the
public project apiverve/spfvalidator.Python-API; region names from Mimecast's SPF article
https://mimecastsupport.zendesk.com/hc/en-us/articles/34000792642963). The contents of
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

# The broadest range in the snapshot is 41.74.192.0/21 (za, collapsed); a Mimecast range broader than
# /20 (IPv4) would be new in kind, not in size. Mimecast publishes no IPv6 ranges in these records;
# an IPv6 /32 is a whole provider allocation (RIPE-738, https://www.ripe.net/publications/docs/ripe-738/).
MIN_PREFIX = {4: 20, 6: 32}

# Address space that is never a sender on the Internet (IANA special-purpose registries:
# https://www.iana.org/assignments/iana-ipv4-special-registry/ and
# https://www.iana.org/assignments/iana-ipv6-special-registry/). The documentation prefixes
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are not listed: they are not routed
# either, and tests use them; an unknown range is refused as an addition anyway.
NON_PUBLIC = [(ipaddress.ip_network(net), why) for net, why in (
    ("0.0.0.0/8", "'this network' (RFC 791)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared carrier-grade NAT space (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/127", "unspecified or loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("100::/64", "discard-only (RFC 6666)"),
    ("fc00::/7", "unique local (private, RFC 4193)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)]

# Exchange Online accepts /24 to /32 in SenderIPAddresses (Microsoft's New-InboundConnector
# reference, https://learn.microsoft.com/powershell/module/exchange/new-inboundconnector). Microsoft
# documents no maximum count; this bound keeps a broad range from being split into tens of thousands
# of entries (an /8 is 65,536 /24s) and a connector Exchange would not take.
EXCHANGE_MAX_ENTRIES = 1000


def parse(cidr):
    """One network from a CIDR or address string; ValueError names the value."""
    try:
        return ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        raise ValueError("%r is not an IPv4 or IPv6 address or CIDR" % (cidr,))


def unsafe_reason(cidr):
    """Why cidr may never be a Mimecast range (non-public or huge), or None."""
    net = parse(cidr)
    overlapping = [(other, why) for other, why in NON_PUBLIC if net.version == other.version and net.overlaps(other)]
    for other, why in overlapping:
        if net.subnet_of(other):
            return "%s is in %s, %s address space" % (net, other, why)
    if net.prefixlen < MIN_PREFIX[net.version]:
        return ("%s is broader than /%d (%s addresses; Mimecast's broadest range is a /21)"
                % (net, MIN_PREFIX[net.version], "{:,}".format(net.num_addresses)))
    for other, why in overlapping:
        return "%s overlaps %s, %s address space" % (net, other, why)
    return None


def unsafe_ranges(cidrs):
    """[reason] for every CIDR of cidrs that is non-public or huge (parse errors raise ValueError)."""
    return [reason for reason in (unsafe_reason(c) for c in cidrs) if reason]


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


def exchange_count(v4):
    """How many entries exchange_form(v4) makes, without making them."""
    return sum(2 ** (24 - n.prefixlen) if n.prefixlen < 24 else 1 for n in (ipaddress.ip_network(c) for c in v4))


def exchange_form(v4, limit=EXCHANGE_MAX_ENTRIES):
    """Exchange Online accepts IPv4 /24 through /32 only: split broader prefixes into /24s.

    ValueError (before anything is expanded) when that makes more than limit entries."""
    count = exchange_count(v4)
    if count > limit:
        raise ValueError("the IPv4 ranges split into %s /24s or narrower, more than the %d entries an Exchange "
                         "Online connector is given" % ("{:,}".format(count), limit))
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
