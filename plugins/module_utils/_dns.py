# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""DNS look-ups with dnspython: TXT, SPF trees (following include:), MX.

One resolver per task, configured from the module's options (``nameservers``, ``dns_port``,
``dns_timeout``). Failures raise DnsError with the name and the reason.
"""

from __future__ import annotations

import math
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    import dns.exception
    import dns.resolver
except ImportError:  # pragma: no cover - exercised by the sanity import test
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()
else:
    DNSPYTHON_IMPORT_ERROR = None

from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import parse_spf
from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import is_spf, spf_lookup_targets, spf_lookup_terms

MAX_INCLUDE_DEPTH = 10

DNS_ARGUMENT_SPEC = dict(
    nameservers=dict(type="list", elements="str"),
    dns_port=dict(type="int", default=53),
    dns_timeout=dict(type="float", default=5.0),
)


class DnsError(Exception):
    """A DNS answer that is not what the caller needs (NXDOMAIN, no or several records)."""


class DnsLookupError(DnsError):
    """The lookup itself failed (SERVFAIL, REFUSED, timeout): nothing is known about the name."""


class Dns:
    def __init__(self, nameservers=None, port=53, timeout=5.0):
        if not 1 <= int(port) <= 65535:
            raise DnsError("dns_port %s is not a port; give 1 to 65535 (53 is the DNS port)" % port)
        timeout = float(timeout)
        if math.isnan(timeout) or timeout <= 0:
            raise DnsError("dns_timeout %s is not a positive number of seconds; give for example 5" % timeout)
        if nameservers:
            self.resolver = dns.resolver.Resolver(configure=False)
            try:
                self.resolver.nameservers = list(nameservers)
            except ValueError:
                raise DnsError("nameservers %s: give IP addresses of DNS servers, such as 192.0.2.53"
                               % ", ".join(str(n) for n in nameservers))
        else:
            try:
                self.resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration as exc:
                raise DnsError("no DNS resolver is configured on this host (%s); set nameservers" % exc)
        self.resolver.port = int(port)
        self.resolver.timeout = float(timeout)
        self.resolver.lifetime = float(timeout) * 2
        self.queries = 0

    def _query(self, name, rtype):
        self.queries += 1
        try:
            return self.resolver.resolve(name, rtype)
        except dns.resolver.NXDOMAIN:
            raise DnsError("%s does not exist (NXDOMAIN)" % name)
        except dns.resolver.NoAnswer:
            return []
        except dns.resolver.NoNameservers as exc:
            raise DnsLookupError("no name server answered for %s %s (%s)" % (name, rtype, exc))
        except dns.exception.Timeout:
            raise DnsLookupError("DNS query for %s %s timed out" % (name, rtype))
        except dns.exception.DNSException as exc:
            raise DnsLookupError("DNS query for %s %s failed: %s" % (name, rtype, exc))

    def txt(self, name):
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._query(name, "TXT")]

    def spf(self, name):
        records = [t for t in self.txt(name) if is_spf(t)]
        if len(records) != 1:
            raise DnsError("%s has %d SPF records (expected exactly one)" % (name, len(records)))
        return records[0]

    def spf_tree(self, name, depth=0, seen=None):
        """All ip4:/ip6: CIDRs reachable from name's SPF record through include:, and the names visited."""
        seen = seen if seen is not None else []
        if name.lower() in seen:
            return [], seen
        if depth > MAX_INCLUDE_DEPTH:
            raise DnsError("SPF includes under %s nest deeper than %d" % (name, MAX_INCLUDE_DEPTH))
        seen.append(name.lower())
        cidrs, includes = parse_spf(self.spf(name))
        for include in includes:
            more, dummy = self.spf_tree(include, depth + 1, seen)
            cidrs.extend(more)
        return cidrs, seen

    def spf_lookups(self, name, record=None, depth=0, path=()):
        """DNS lookups an SPF check of ``name`` costs (RFC 7208 section 4.6.4): the record's include, a, mx,
        ptr, exists and redirect terms, and those of every include: and redirect= target, followed."""
        name = name.lower().rstrip(".")
        if name in path:
            raise DnsError("SPF includes loop back to %s (%s)" % (name, " -> ".join(path + (name,))))
        if depth > MAX_INCLUDE_DEPTH:
            raise DnsError("SPF includes under %s nest deeper than %d" % (name, MAX_INCLUDE_DEPTH))
        record = record if record is not None else self.spf(name)
        total = len(spf_lookup_terms(record))
        for target in spf_lookup_targets(record):
            total += self.spf_lookups(target, depth=depth + 1, path=path + (name,))
        return total

    def mx(self, name):
        return sorted((r.preference, r.exchange.to_text().rstrip(".").lower()) for r in self._query(name, "MX"))


def resolver_or_fail(module):
    """The task's resolver from the module's DNS options; fails the task with the fix if there is none."""
    if DNSPYTHON_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("dnspython"), exception=DNSPYTHON_IMPORT_ERROR)
    p = module.params
    try:
        return Dns(p["nameservers"], p["dns_port"], p["dns_timeout"])
    except DnsError as exc:
        module.fail_json(msg="%s; set nameservers to the DNS servers to ask." % exc)


# ---------------------------------------------------------------------------- record parsing
# SPF parsing lives in _spf (shared with the spf_record filter, which must not need dnspython).


def is_dmarc(text):
    tags = dmarc_tags(text)
    return bool(tags) and tags[0] == ("v", "dmarc1")


def dmarc_tags(record):
    """[(tag lower case, value lower case)] of a DMARC record (RFC 7489 section 6.4,
    https://www.rfc-editor.org/rfc/rfc7489#section-6.4): tag *WSP "=" *WSP value, separated by ";"."""
    tags = []
    for part in record.split(";"):
        if "=" in part:
            tag, value = part.split("=", 1)
            tags.append((tag.strip().lower(), value.strip().lower()))
    return tags


def dmarc_policy(record):
    """The p= value of a DMARC record ('' when missing); v=DMARC1 must be its first tag."""
    tags = dmarc_tags(record)
    if not tags or tags[0] != ("v", "dmarc1"):
        return ""
    return dict(tags).get("p", "")
