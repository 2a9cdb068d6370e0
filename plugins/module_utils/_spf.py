# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""SPF records as text: parsing, DNS-lookup counting and merging an include (no DNS access here).

Used by the DNS modules (with dnspython) and by the ``spf_record`` filter (without it).
SPF is RFC 7208 (https://www.rfc-editor.org/rfc/rfc7208): terms separated by spaces; a
mechanism is [qualifier] name [":" domain-spec or "/" prefix]; a modifier is name "=" value;
names are matched case-insensitively (ABNF strings are case-insensitive, RFC 5234 section 2.3);
"+" is the default qualifier.
"""

from __future__ import annotations

import re

# Mimecast Email Security Cloud Integrated, outbound delivery SPF includes per region, from Mimecast's
# "Getting Started" article for Cloud Integrated, section "Cloud Integrated Outbound Delivery SPF
# Includes" (https://mimecastsupport.zendesk.com/hc/en-us/articles/34000408361491-Getting-Started).
# The article lists one include per region and no other; the gateway product's netblocks
# (<region>._netblocks.mimecast.com) are another table (_netblocks.REGION_RECORDS).
CI_SPF_INCLUDES = {
    "us": "spf.us-1.a.mimecastprotect.com",
    "uk": "spf.uk-1.a.mimecastprotect.com",
    "de": "spf.de-1.a.mimecastprotect.com",
    "ca": "spf.ca-1.a.mimecastprotect.com",
    "au": "spf.au-1.a.mimecastprotect.com",
    "za": "spf.za-1.a.mimecastprotect.com",
}

# RFC 7208 section 4.6.4: include, a, mx, ptr and exists mechanisms and the redirect modifier
# cause DNS lookups; at most 10 of them per check, else the result is permerror.
LOOKUP_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
MAX_LOOKUPS = 10

QUALIFIERS = {"+": "+", "pass": "+", "-": "-", "fail": "-", "~": "~", "softfail": "~", "?": "?", "neutral": "?"}

_SPF_VERSION = re.compile(r"^v=spf1(\s|$)", re.I)
_SPF_MECHANISM = re.compile(r"^([+?~-]?)([a-z][a-z0-9_.-]*)(?:[:/](.*))?$", re.I)
_SPF_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.I)
_DOMAIN = re.compile(r"^(?=.{1,253}$)((?!-)[a-z0-9_-]{1,63}(?<!-)\.)+[a-z0-9-]{2,63}$")


class SpfError(ValueError):
    """An SPF record that cannot be read, or a merge that would break it."""


def is_spf(text):
    return bool(_SPF_VERSION.match(str(text).strip()))


def spf_mechanisms(record):
    """[(qualifier, name lower case, argument or None)] of an SPF record's mechanisms (modifiers left out)."""
    out = []
    for term in record.split()[1:]:
        if "=" in term.split(":", 1)[0]:
            continue  # a modifier such as redirect=
        match = _SPF_MECHANISM.match(term)
        if match:
            out.append((match.group(1) or "+", match.group(2).lower(), match.group(3)))
    return out


def spf_modifiers(record):
    """[(name lower case, value)] of an SPF record's modifiers (redirect=, exp=, ...)."""
    out = []
    for term in record.split()[1:]:
        if "=" in term.split(":", 1)[0]:
            match = _SPF_MODIFIER.match(term)
            if match:
                out.append((match.group(1).lower(), match.group(2)))
    return out


def spf_all_qualifier(record):
    """The qualifier of the record's first ``all`` (evaluation stops there), or None without one."""
    for qualifier, name, dummy in spf_mechanisms(record):
        if name == "all":
            return qualifier
    return None


def _norm(domain):
    return (domain or "").strip().lower().rstrip(".")


def spf_includes(record, domain):
    """Whether the record has a pass (+) ``include:`` of exactly ``domain`` (case and trailing dot ignored)."""
    want = _norm(domain)
    return any(q == "+" and name == "include" and _norm(arg) == want for q, name, arg in spf_mechanisms(record))


def spf_lookup_terms(record):
    """The terms of the record itself that cost a DNS lookup (RFC 7208 section 4.6.4), in order."""
    terms = ["%s:%s" % (name, arg) if arg else name
             for dummy, name, arg in spf_mechanisms(record) if name in LOOKUP_MECHANISMS]
    terms.extend("redirect=%s" % value for name, value in spf_modifiers(record) if name == "redirect")
    return terms


def spf_lookup_targets(record):
    """The domains whose own SPF records add lookups: include: arguments and the redirect= target."""
    targets = [_norm(arg) for dummy, name, arg in spf_mechanisms(record) if name == "include" and arg]
    targets.extend(_norm(value) for name, value in spf_modifiers(record) if name == "redirect")
    return targets


def _check_record(record):
    if not is_spf(record):
        raise SpfError("%r is not an SPF record (it must start with v=spf1)" % _short(record))
    for term in record.split()[1:]:
        if "=" in term.split(":", 1)[0]:
            if not _SPF_MODIFIER.match(term):
                raise SpfError("the SPF term %r is not valid (RFC 7208 section 12)" % _short(term))
        elif not _SPF_MECHANISM.match(term):
            raise SpfError("the SPF term %r is not valid (RFC 7208 section 12)" % _short(term))
    alls = [q for q, name, dummy in spf_mechanisms(record) if name == "all"]
    if len(alls) > 1:
        raise SpfError("the SPF record has %d 'all' mechanisms; keep one, at the end" % len(alls))
    redirects = [v for name, v in spf_modifiers(record) if name == "redirect"]
    if len(redirects) > 1:
        raise SpfError("the SPF record has %d redirect= modifiers; RFC 7208 section 6 allows one" % len(redirects))


def _short(value, limit=80):
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def merge_include(record, include, all_qualifier=None, lookups=None, include_lookups=0):
    """``record`` with ``include:<include>`` added before its ``all`` (or at the end of its mechanisms).

    Keeps every other term as written and the ``all`` qualifier, unless ``all_qualifier`` is given
    (``~``/``softfail`` or ``-``/``fail``). With no record (None or ''), starts ``v=spf1 include:<include>``
    ending in ``~all`` unless asked otherwise (the relaxed form Mimecast advises testing with first).
    ``lookups`` is the number of DNS lookups the existing record costs in all (its includes followed, as
    ``mimecast_dns_check`` reports it); without it only the record's own lookup terms are counted.
    ``include_lookups`` is what the new include costs inside it. Raises SpfError for a record it cannot
    read, a ``+all`` it would keep, or a result over the 10-lookup limit of RFC 7208 section 4.6.4.
    """
    include = _norm(include)
    if not _DOMAIN.match(include):
        raise SpfError("include %r is not a domain name" % _short(include))
    if all_qualifier is not None:
        wanted = QUALIFIERS.get(str(all_qualifier).strip().lower())
        if wanted not in ("~", "-"):
            raise SpfError("all %r: give '~' (softfail) or '-' (fail); '+all' lets every host on the internet "
                           "send as the domain and '?all' says nothing" % _short(all_qualifier))
    else:
        wanted = None
    record = " ".join(str(record or "").split())
    if not record:
        return "v=spf1 include:%s %sall" % (include, wanted or "~")
    _check_record(record)
    terms = record.split()
    already = spf_includes(record, include)
    if not already:
        position = len(terms)
        for index, term in enumerate(terms[1:], start=1):
            match = _SPF_MECHANISM.match(term) if "=" not in term.split(":", 1)[0] else None
            if match and match.group(2).lower() == "all":
                position = index
                break
        else:
            # no 'all': the new mechanism goes after the last mechanism, before modifiers (redirect=, exp=)
            position = 1
            for index, term in enumerate(terms[1:], start=1):
                if "=" not in term.split(":", 1)[0]:
                    position = index + 1
        terms.insert(position, "include:%s" % include)
    for index, term in enumerate(terms[1:], start=1):
        match = _SPF_MECHANISM.match(term) if "=" not in term.split(":", 1)[0] else None
        if match and match.group(2).lower() == "all":
            qualifier = match.group(1) or "+"
            if wanted:
                terms[index] = "%sall" % wanted
            elif qualifier == "+":
                raise SpfError("the record ends in %r (+all), which lets every host on the internet send as the "
                               "domain; pass all='~' or all='-' to replace it" % term)
    if wanted and spf_all_qualifier(" ".join(terms)) is None:
        if any(name == "redirect" for name, dummy in spf_modifiers(record)):
            raise SpfError("the record delegates with redirect=, so an 'all' would switch the redirect off; "
                           "change the qualifier in the redirect target's record instead")
        terms.append("%sall" % wanted)
    merged = " ".join(terms)
    own = len(spf_lookup_terms(record))
    total = (lookups if lookups is not None else own) + (0 if already else 1 + int(include_lookups or 0))
    if total > MAX_LOOKUPS:
        raise SpfError("the merged record would need %d DNS lookups; RFC 7208 section 4.6.4 allows %d and receivers "
                       "fail the check beyond that (permerror). Remove an include the domain no longer sends "
                       "through, or flatten one into ip4:/ip6: ranges, then merge again"
                       % (total, MAX_LOOKUPS))
    return merged
