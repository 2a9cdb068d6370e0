# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Guardrails from Mimecast's pitfalls guide, as code.

Every check collects all problems of its input and raises one GuardrailError that names
each offending value and what to do instead. Callers run them before any write.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._cloud_ranges import (
    CLOUD_MAIL_DOMAINS,
    CLOUD_RANGES,
    FREEMAIL_DOMAINS,
    SHARED_ESP_RANGES,
)

# The narrowest prefix a bypass may have without allow_broad_ranges.
MAX_IPV4_PREFIX = 24
MAX_IPV6_PREFIX = 48

_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")


@functools.lru_cache(maxsize=None)
def _networks(table):
    """(owner, ip_network) of the shared cloud / ESP ranges, parsed on first use only: most tasks never
    check an address, and parsing the tables cost every module start-up."""
    if table == "cloud":
        return tuple((provider, ipaddress.ip_network(cidr)) for provider, info in CLOUD_RANGES.items()
                     for cidr in info["ranges"])
    return tuple((platform, ipaddress.ip_network(cidr)) for platform, cidrs in SHARED_ESP_RANGES.items()
                 for cidr in cidrs)


class GuardrailError(Exception):
    """A refused input. ``problems`` is a list of one-line reasons."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def parse_network(value):
    """Return an ip_network for an address or CIDR, or raise ValueError with a hint."""
    text = str(value).strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError("%r is not an IP address or CIDR range" % text)
        raise ValueError("%r has host bits set; did you mean %s?" % (text, loose))


def check_source_ips(values, allow_broad_ranges=False, field="source_ips"):
    """Validate bypass source ranges; return them as normalised CIDR strings.

    Refused: malformed values; private, loopback, link-local, multicast, reserved and
    unspecified ranges; any overlap with Microsoft 365 or Google sending ranges; IPv4
    prefixes broader than /24 (IPv6 /48) unless ``allow_broad_ranges``.
    """
    problems = []
    result = []
    for value in values or []:
        try:
            net = parse_network(value)
        except ValueError as exc:
            problems.append("%s: %s; give a public address such as 52.201.210.35 or a range "
                            "such as 52.201.210.0/28" % (field, exc))
            continue
        cidr = str(net)
        if net.prefixlen == 0 or net.network_address.is_unspecified:
            problems.append("%s: %s matches every address; list the sender's own public "
                            "addresses instead" % (field, cidr))
            continue
        if not net.is_global or net.is_multicast:
            problems.append("%s: %s is a private, loopback, link-local, multicast or reserved "
                            "range, which Mimecast never sees as a source of inbound mail; use "
                            "the sender's public addresses" % (field, cidr))
            continue
        clouds = sorted({p for p, cloud in _networks("cloud")
                         if cloud.version == net.version and cloud.overlaps(net)})
        if clouds:
            problems.append("%s: %s overlaps %s sending ranges: a bypass for it would let any "
                            "tenant of that platform through. Use the sender's dedicated IPs, "
                            "never shared cloud-mail ranges" % (field, cidr, " and ".join(clouds)))
            continue
        esp = sorted({p for p, shared in _networks("esp") if shared.version == net.version and shared.overlaps(net)})
        if esp and net.num_addresses > 1:
            problems.append("%s: %s lies in %s: a range there covers other customers of the platform. List "
                            "the sender's own addresses one by one (/32)" % (field, cidr, " and ".join(esp)))
            continue
        limit = MAX_IPV4_PREFIX if net.version == 4 else MAX_IPV6_PREFIX
        if net.prefixlen < limit and not allow_broad_ranges:
            problems.append("%s: %s is broader than /%d; list the narrower ranges the sender "
                            "really uses, or set allow_broad_ranges: true if the whole range is "
                            "the sender's own" % (field, cidr, limit))
            continue
        if cidr not in result:
            result.append(cidr)
    if problems:
        raise GuardrailError(problems)
    return result


def normalise_domain(value):
    return str(value).strip().lower().rstrip(".")


def ascii_domain(value, field):
    """normalise_domain, with a unicode (IDN) name converted to punycode (xn--); GuardrailError if it cannot be."""
    domain = normalise_domain(value)
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise GuardrailError(["%s: %r cannot be converted to punycode (IDNA); give its xn-- form" % (field, value)])


def shared_mail_domain(domain):
    """Return ('freemail'|'cloud-mail', matched) when domain is or is under one, else None."""
    for kind, names in (("freemail", FREEMAIL_DOMAINS), ("cloud-mail", CLOUD_MAIL_DOMAINS)):
        for name in names:
            if domain == name or domain.endswith("." + name):
                return kind, name
    return None


def check_sender_domains(values, field="spf_domains"):
    """Validate domains that would be trusted for a bypass; return them normalised."""
    problems = []
    result = []
    for value in values or []:
        try:
            domain = ascii_domain(value, field)
        except GuardrailError as exc:
            problems.extend(exc.problems)
            continue
        if not _DOMAIN_RE.match(domain):
            problems.append("%s: %r is not a domain name" % (field, value))
            continue
        shared = shared_mail_domain(domain)
        if shared:
            problems.append("%s: %s is a %s domain (%s): anyone can send as it, so trusting it "
                            "bypasses checks for everyone. Use the sender's own domain or its "
                            "dedicated IPs" % (field, domain, shared[0], shared[1]))
            continue
        if domain not in result:
            result.append(domain)
    if problems:
        raise GuardrailError(problems)
    return result


# A profile group is a permitted-sender group when its name says so: the built-in "Permitted
# Senders" group, the groups mimecast_permitted_sender manages (their names must say so) and the
# phish_sim_allowlist role's "<campaign> - permitted senders". mimecast_audit uses the same rule.
PERMITTED_GROUP = re.compile(r"permitted[ _-]?senders?", re.I)


def is_permitted_sender_group(name):
    return bool(PERMITTED_GROUP.search(name or ""))


def sender_check(internal_domains, allow_domain, field="senders"):
    """A member check for groups a Permitted Senders policy uses (raises GuardrailError).

    Refused: addresses and domains in the tenant's internal domains (permits for them let anyone
    spoof your users past spam checks), free-mail and cloud-mail domains, and whole domains
    unless ``allow_domain``.
    """
    def check(member):
        domain = member.split("@")[-1]
        own = [d for d in internal_domains if domain == d or domain.endswith("." + d)]
        if own:
            raise GuardrailError([
                "%s: %s is in the tenant's own internal domain %s; permitting it lets anyone "
                "spoof your own users past spam checks. Internal mail needs no permit" % (field, member, own[0])])
        if "@" in member:
            return
        shared = shared_mail_domain(domain)
        if shared:
            raise GuardrailError([
                "%s: %s is a %s domain (%s); anyone can send as it. List the exact sender "
                "addresses instead" % (field, member, shared[0], shared[1])])
        if not allow_domain:
            raise GuardrailError([
                "%s: %s is a whole domain; list the exact sender addresses, or set "
                "allow_domain: true if every sender of that domain is trusted" % (field, member)])
    return check
