# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: spf_record
short_description: Merge a Mimecast include into an existing SPF record without breaking it
version_added: 0.3.0
description:
  - Returns the SPF record with C(include:<domain>) added before its C(all) mechanism (or after its
    last mechanism when it has none), for handing to the DNS module of the domain's DNS provider.
  - Every other term is kept as written. The C(all) qualifier is kept unless O(all) asks for another.
    A record that already has the include comes back unchanged (so a task using it is idempotent).
  - With no record (V(null), an empty string or a TXT list without an SPF record) the result is
    C(v=spf1 include:<domain> ~all).
  - "C(~all) or C(-all): Mimecast's Cloud Integrated guide gives C(~all) (softfail) as the relaxed
    configuration for domains that send external mail only through Mimecast, and advises testing with it
    before a strict C(-all) (fail), which tells receivers to reject mail from any other host. The filter
    never turns C(~all) into C(-all) on its own."
  - Refuses (fails the template) a record it cannot read, several SPF records in a TXT list (receivers
    treat that as an error), a C(+all) it would keep, and a result over the 10 DNS-lookup limit of
    RFC 7208 section 4.6.4 (receivers then fail SPF for every message).
author:
  - Mailsec Mimecast developers (@mailsec)
options:
  _input:
    description:
      - The current SPF record (a string), or the list of TXT strings of the domain (as a DNS lookup or
        M(mailsec.mimecast.mimecast_dns_check) returns them); V(null) or empty for none.
    type: raw
    required: true
  region:
    description:
      - The Mimecast Cloud Integrated region whose outbound delivery include to add
        (C(spf.<region>-1.a.mimecastprotect.com), from Mimecast's Cloud Integrated "Getting Started" article).
      - Give either O(region) or O(include).
    type: str
    choices: [us, uk, de, ca, au, za]
  include:
    description:
      - Any domain to include instead, for example a gateway netblock such as C(us._netblocks.mimecast.com).
    type: str
  all:
    description:
      - Replace the C(all) qualifier with V(~) (softfail) or V(-) (fail); also V(softfail) or V(fail).
      - Without it the record's own qualifier is kept (and C(~all) is used for a new record).
    type: str
  lookups:
    description:
      - The DNS lookups the current record costs in all, its includes followed (M(mailsec.mimecast.mimecast_dns_check)
        returns it per domain as C(spf_lookups) with its C(spf_lookups) check). Without it only the record's own lookup terms are counted,
        which can miss lookups inside its includes.
    type: int
  include_lookups:
    description: The DNS lookups inside the new include (0 when it lists only ip4/ip6 ranges).
    type: int
    default: 0
'''

EXAMPLES = r'''
- name: Add the Cloud Integrated include for the UK region, keeping -all
  ansible.builtin.debug:
    msg: "{{ 'v=spf1 include:spf.protection.outlook.com -all' | mailsec.mimecast.spf_record(region='uk') }}"
  # v=spf1 include:spf.protection.outlook.com include:spf.uk-1.a.mimecastprotect.com -all

- name: Check, then merge with the lookups the current record costs
  mailsec.mimecast.mimecast_dns_check:
    domains: [corp.example]
    checks: [ci_spf, spf_lookups]
    ci_region: uk
  register: corp_dns

- name: The record to publish
  ansible.builtin.set_fact:
    corp_spf: >-
      {{ corp_dns.domains['corp.example'].spf
         | mailsec.mimecast.spf_record(region='uk', lookups=corp_dns.domains['corp.example'].spf_lookups) }}
'''

RETURN = r'''
_value:
  description: The SPF record to publish.
  type: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import (
    CI_SPF_INCLUDES,
    SpfError,
    is_spf,
    merge_include,
)


def spf_record(value, region=None, include=None, all=None, lookups=None, include_lookups=0):  # pylint: disable=redefined-builtin
    if (region is None) == (include is None):
        raise AnsibleFilterError("spf_record: give either region (one of %s) or include"
                                 % ", ".join(sorted(CI_SPF_INCLUDES)))
    if region is not None:
        key = to_text(region).strip().lower()
        if key not in CI_SPF_INCLUDES:
            raise AnsibleFilterError("spf_record: region %r is not a Cloud Integrated region; give one of %s"
                                     % (to_text(region)[:40], ", ".join(sorted(CI_SPF_INCLUDES))))
        include = CI_SPF_INCLUDES[key]
    if isinstance(value, (list, tuple)):
        records = [to_text(v) for v in value if v is not None and is_spf(to_text(v))]
        if len(records) > 1:
            raise AnsibleFilterError("spf_record: the domain has %d SPF records; receivers treat that as an "
                                     "error (RFC 7208 section 4.5). Merge them into one first" % len(records))
        value = records[0] if records else None
    elif value is not None and not isinstance(value, str):
        raise AnsibleFilterError("spf_record: give the SPF record as a string or the TXT records as a list, "
                                 "not %s" % type(value).__name__)
    for name, number in (("lookups", lookups), ("include_lookups", include_lookups)):
        if number is not None and (isinstance(number, bool) or not str(number).isdigit()):
            raise AnsibleFilterError("spf_record: %s must be a whole number of DNS lookups, not %r"
                                     % (name, to_text(number)[:40]))
    try:
        return merge_include(value, include, all_qualifier=all,
                             lookups=None if lookups is None else int(lookups),
                             include_lookups=int(include_lookups or 0))
    except SpfError as exc:
        raise AnsibleFilterError("spf_record: %s" % exc)


class FilterModule:
    def filters(self):
        return {"spf_record": spf_record}
