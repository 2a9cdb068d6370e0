#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_allowlist
short_description: Keep permitted senders, spoofing and greylisting bypasses and managed URLs as one transaction
version_added: 0.3.0
description:
  - Manages the four allowlisting object types of M(mailsec.mimecast.mimecast_permitted_sender),
    M(mailsec.mimecast.mimecast_antispoof_bypass), M(mailsec.mimecast.mimecast_greylisting_bypass) and
    M(mailsec.mimecast.mimecast_url_bypass) in one task, with one client and one token, and with the same
    entry options, guardrails and results as those modules.
  - B(All or nothing before the first write.) The module first validates every entry of every type and runs
    every guardrail, then reads every list it needs (each list once per run; the tenant's internal domains
    once, for the permitted-sender guardrail), then plans every type. Only when every type has planned
    without a refusal does it write, type by type in the order O(permitted_senders), O(antispoof_bypass),
    O(greylisting_bypass), O(managed_urls). A refusal in any type (guardrail, invalid entry, duplicate key,
    console-made object with the same key, duplicate owned objects) writes nothing in any type.
  - A write that fails part-way fails the task with C(changed=true) when anything was written, and lists
    every write made (RV(done)) and every planned write not made (RV(not_done)) across all types; each item
    names its C(type). A re-run reads again and makes only the writes still needed.
  - A type whose list is omitted is not read and not changed. An empty list is a declaration - with
    O(state=overridden) or O(state=deleted) it deletes every object of that type carrying O(owner_tag).
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.DECLARATIVE
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  state:
    description:
      - V(merged) creates the listed objects that are missing and sets the options given on those that exist,
        leaving options not given as they are.
      - V(replaced) makes each listed object exactly as given; options not given go back to their defaults.
      - V(overridden) is V(replaced) for the listed objects, and also deletes every object of each given type
        this collection owns (see O(owner_tag)) that is not listed.
      - V(deleted) deletes the listed objects; with an empty list, every object of that type this collection owns.
      - V(gathered) changes nothing and returns the current objects of all four types (the lists are ignored).
    type: str
    choices: [merged, replaced, overridden, deleted, gathered]
    default: merged
  owner_tag:
    description:
      - How ownership is recorded, for every type. Every object the module writes gets this tag at the end of
        its narrative (policy description, group name; for managed URLs the comment), separated by one space;
        the natural key is the narrative without the tag.
      - V(overridden) and V(deleted) with an empty list touch only objects carrying the tag. An untagged object
        whose key equals a listed entry's is refused unless O(adopt=true).
    type: str
    default: '[ansible]'
  adopt:
    description:
      - Take over an untagged (console-made) object whose key equals a listed entry's instead of refusing; the
        owner tag is then added to it.
    type: bool
    default: false
  on_duplicate:
    description:
      - What to do when two or more objects this collection owns share one key. V(fail) refuses before any
        write and names the ids; V(keep_newest) keeps the newest copy and deletes the other owned copies.
    type: str
    choices: [fail, keep_newest]
    default: fail
  permitted_senders:
    description:
    - The permitted-sender profile groups (as M(mailsec.mimecast.mimecast_permitted_sender)'s O(mailsec.mimecast.mimecast_permitted_sender#module:config)).
      Omit to leave this type alone; an empty list with O(state=overridden) or O(state=deleted) deletes every object
      of the type this collection owns.
    type: list
    elements: dict
    suboptions:
      group:
        description:
        - The profile group the console Permitted Senders policy points at, without the owner tag.
        - The name must say "permitted sender(s)" (for example C(Dune Security - permitted senders)), except with
          O(state=deleted) and O(state=gathered). The name is what marks the group as a permitted-sender group for
          M(mailsec.mimecast.mimecast_profile_group), which then applies the same guardrails to its members, and for
          M(mailsec.mimecast.mimecast_audit).
        type: str
        required: true
      senders:
        description:
        - Exact sender addresses (recommended) and, with O(allow_domain=true), whole domains.
        - Omit to leave the members of an existing group as they are.
        type: list
        elements: str
  antispoof_bypass:
    description:
    - The anti-spoofing bypass policies (as M(mailsec.mimecast.mimecast_antispoof_bypass)'s O(mailsec.mimecast.mimecast_antispoof_bypass#module:config)).
      Omit to leave this type alone; an empty list with O(state=overridden) or O(state=deleted) deletes every object
      of the type this collection owns.
    type: list
    elements: dict
    suboptions:
      description:
        description:
        - The policy narrative as shown in the console, without the owner tag. The natural key.
        type: str
        required: true
      source_ips:
        description:
        - Makes the entry an IP-based bypass (anti-spoofing policy, option C(no_action)) for these source addresses
          or CIDR ranges.
        - Compared as a set; bare addresses are stored as C(/32) or C(/128).
        type: list
        elements: str
      spf_domains:
        description:
        - Makes the entry an SPF-based bypass (option C(enable_bypass)) for these domains.
        type: list
        elements: str
      emails_from:
        description: The console's "Emails From". Defaults to everyone.
        type: dict
        suboptions:
          type:
            description: Who the policy applies to.
            type: str
            required: true
            choices:
            - everyone
            - internal_addresses
            - external_addresses
            - email_domain
            - individual_email_address
            - profile_group
          value:
            description: The domain, address or profile group id for the types that need one.
            type: str
      emails_to:
        description: The console's "Emails To". Defaults to everyone.
        type: dict
        suboptions:
          type:
            description: Who the policy applies to.
            type: str
            required: true
            choices:
            - everyone
            - internal_addresses
            - external_addresses
            - email_domain
            - individual_email_address
            - profile_group
          value:
            description: The domain, address or profile group id for the types that need one.
            type: str
      from_part:
        description: Which sender address the policy matches. Defaults to V(envelope_from).
        type: str
        choices:
        - envelope_from
        - header_from
        - both
      enabled:
        description: Whether the policy is enabled. Defaults to V(true).
        type: bool
      override:
        description:
        - The console's "Policy Override" (apply before equally specific policies). Defaults to V(false); vendor guides
          ask for V(true).
        type: bool
      bidirectional:
        description: Also apply when sender and recipient are swapped. Defaults to V(false).
        type: bool
      valid_from:
        description:
        - Start of validity, V(YYYY-MM-DD) (start of that day, UTC), an ISO 8601 date-time, or V(eternal) (the default).
        type: str
      valid_to:
        description:
        - End of validity, V(YYYY-MM-DD) (end of that day, UTC), an ISO 8601 date-time, or V(eternal) (the default).
          Use the campaign's end so the bypass expires by itself.
        - An end in the past, an end not after O(antispoof_bypass[].valid_from), and years outside 1900 to 2100 are
          refused before any write (with O(state=deleted) dates are not checked).
        type: str
  greylisting_bypass:
    description:
    - The greylisting bypass policies (as M(mailsec.mimecast.mimecast_greylisting_bypass)'s O(mailsec.mimecast.mimecast_greylisting_bypass#module:config)).
      Omit to leave this type alone; an empty list with O(state=overridden) or O(state=deleted) deletes every object
      of the type this collection owns.
    type: list
    elements: dict
    suboptions:
      description:
        description: The policy narrative, without the owner tag. The natural key.
        type: str
        required: true
      source_ips:
        description:
        - Source addresses or CIDR ranges whose mail is not greylisted. Compared as a set; bare addresses are stored
          as C(/32) or C(/128).
        type: list
        elements: str
      emails_from:
        description: The console's "Emails From". Defaults to everyone.
        type: dict
        suboptions:
          type:
            description: Who the policy applies to.
            type: str
            required: true
            choices:
            - everyone
            - internal_addresses
            - external_addresses
            - email_domain
            - individual_email_address
            - profile_group
          value:
            description: The domain, address or profile group id for the types that need one.
            type: str
      emails_to:
        description: The console's "Emails To". Defaults to everyone.
        type: dict
        suboptions:
          type:
            description: Who the policy applies to.
            type: str
            required: true
            choices:
            - everyone
            - internal_addresses
            - external_addresses
            - email_domain
            - individual_email_address
            - profile_group
          value:
            description: The domain, address or profile group id for the types that need one.
            type: str
      from_part:
        description: Which sender address the policy matches. Defaults to V(envelope_from).
        type: str
        choices:
        - envelope_from
        - header_from
        - both
      enabled:
        description: Whether the policy is enabled. Defaults to V(true).
        type: bool
      override:
        description: The console's "Policy Override". Defaults to V(false).
        type: bool
      bidirectional:
        description: Also apply when sender and recipient are swapped. Defaults to V(false).
        type: bool
      valid_from:
        description: Start of validity, V(YYYY-MM-DD) (start of day, UTC), an ISO 8601 date-time, or V(eternal) (the
          default).
        type: str
      valid_to:
        description:
        - End of validity, V(YYYY-MM-DD) (end of day, UTC), an ISO 8601 date-time, or V(eternal) (the default).
        - An end in the past, an end not after O(greylisting_bypass[].valid_from), and years outside 1900 to 2100
          are refused before any write (with O(state=deleted) dates are not checked).
        type: str
  managed_urls:
    description:
    - The managed URLs (as M(mailsec.mimecast.mimecast_url_bypass)'s O(mailsec.mimecast.mimecast_url_bypass#module:config)).
      Omit to leave this type alone; an empty list with O(state=overridden) or O(state=deleted) deletes every object
      of the type this collection owns.
    type: list
    elements: dict
    suboptions:
      url:
        description:
        - The URL (for V(explicit)) or host name (for V(domain)). Must not contain C(#).
        - For O(managed_urls[].match_type=domain) give the host only; the module sends the host name.
        - Refused before any write - schemes other than C(http) and C(https) (C(javascript:), C(data:), ...); user
          information before the host (C(https://trusted.example@evil.example/) goes to C(evil.example)); ports outside
          1 to 65535; IPv6 literal hosts; host names that are not valid DNS names; white space, control characters
          and backslashes.
        - Unicode (IDN) host names are converted to their punycode (C(xn--)) form.
        - With V(domain), a public suffix (C(com), C(co.uk), C(com.au), ...; a subset of U(https://publicsuffix.org/list/))
          is refused; give at least one label more.
        type: str
        required: true
      match_type:
        description:
        - V(explicit) matches this URL only; V(domain) matches every URL on the host.
        - Defaults to V(explicit), Mimecast's default and the narrow choice.
        type: str
        choices:
        - explicit
        - domain
      action:
        description: V(permit) or V(block). Defaults to V(permit).
        type: str
        choices:
        - permit
        - block
      disable_rewrite:
        description: Do not rewrite matching links (permit only). Defaults to V(false).
        type: bool
      disable_user_awareness:
        description: Do not show user-awareness challenges for matching links (permit only). Defaults to V(false).
        type: bool
      disable_log_click:
        description: Do not log clicks on matching links. Defaults to V(false).
        type: bool
      comment:
        description: A comment; the owner tag is appended to it.
        type: str
  allow_domain:
    description:
    - Accept whole-domain entries in O(permitted_senders[].senders). A permitted domain lets anyone who can send as
      that domain bypass spam scanning, greylisting and reputation checks; prefer exact addresses and the vendor's
      IPs in the policy. Free-mail and cloud-mail provider domains stay refused.
    type: bool
    default: false
  allow_broad_ranges:
    description:
    - Accept IPv4 ranges broader than /24 (IPv6 /48) in O(antispoof_bypass[].source_ips) and O(greylisting_bypass[].source_ips),
      for a sender that really owns such a range. Overlaps with Microsoft 365 or Google ranges and private ranges
      are refused regardless.
    - Ranges of more than one address in the shared sending space of a bulk-mail platform (167.89.0.0/16, 168.245.0.0/16,
      159.183.0.0/16, 149.72.0.0/16) are refused regardless; list the sender's addresses one by one.
    type: bool
    default: false
  allow_shared_domains:
    description:
    - Accept V(domain) permits of shared platforms (sharepoint.com, google.com, amazonaws.com, github.io, URL shorteners,
      free-mail domains, ...). A whole-domain permit of such a host lets any attacker's page on it through.
    type: bool
    default: false
notes:
  - Each list is read once per task (all pages), and the tenant's internal domains once when permitted senders
    are written; the API calls of a run are returned in RV(api_calls). A no-op run of all four types makes one
    token request and seven reads (internal domains, profile groups, the members of each addressed group,
    anti-spoofing policies, anti-spoofing SPF bypasses, greylisting policies, managed URLs) and no write.
  - Mimecast has no transactions. "All or nothing" means everything that can be refused is refused before the
    first write; a write that Mimecast itself refuses part-way (an API error, a lost connection) leaves the
    writes before it in place, and the task says exactly which (RV(done), RV(not_done)).
  - Mimecast has no API for Permitted Senders policies; see M(mailsec.mimecast.mimecast_permitted_sender) for
    the console step (RV(console_steps)).
  - 'Run one task per tenant at a time (C(throttle: 1) or C(serial: 1) when several hosts address one tenant).'
seealso:
  - module: mailsec.mimecast.mimecast_permitted_sender
  - module: mailsec.mimecast.mimecast_antispoof_bypass
  - module: mailsec.mimecast.mimecast_greylisting_bypass
  - module: mailsec.mimecast.mimecast_url_bypass
  - name: Role mailsec.mimecast.phish_sim_allowlist
    description: Uses this module for its API part, one task per tenant.
    link: https://github.com/mailsec/mimecast/blob/main/roles/phish_sim_allowlist/README.md
'''

EXAMPLES = r'''
- name: Allowlist a phishing-simulation vendor in one transaction
  mailsec.mimecast.mimecast_allowlist:
    state: overridden
    owner_tag: "[phish-sim:dune]"
    permitted_senders:
      - group: Dune Security - permitted senders
        senders: [simulations@dune-mail.example]
    antispoof_bypass:
      - description: Dune Security - anti-spoofing bypass
        source_ips: [52.201.210.35]
        override: true
        valid_to: "2026-12-31"
    greylisting_bypass:
      - description: Dune Security - greylisting bypass
        source_ips: [52.201.210.35]
        override: true
        valid_to: "2026-12-31"
    managed_urls:
      - url: dune-links.example
        match_type: domain
        disable_rewrite: true
        comment: Dune Security
  register: allowlist

- name: Show what would change, writing nothing
  mailsec.mimecast.mimecast_allowlist:
    state: merged
    managed_urls:
      - url: https://training.vendor.example/landing
  check_mode: true
  diff: true

- name: Remove everything the campaign's tag owns, in every type
  mailsec.mimecast.mimecast_allowlist:
    state: deleted
    owner_tag: "[phish-sim:dune]"
    permitted_senders: []
    antispoof_bypass: []
    greylisting_bypass: []
    managed_urls: []
'''

RETURN = r'''
types:
  description: The object types the task addressed, in the order they were applied.
  returned: always
  type: list
  elements: str
  sample: [permitted_senders, antispoof_bypass, greylisting_bypass, managed_urls]
actions:
  description:
    - Per type, the writes planned, in order, as the single module returns them; in check mode the same lists a
      real run would execute.
  returned: when state is not gathered
  type: dict
  sample: {antispoof_bypass: [{action: create, description: Dune - anti-spoofing bypass, collection: anti-spoofing, id: null}]}
before:
  description: Per type, the addressed objects before the task, keyed by natural key.
  returned: when state is not gathered
  type: dict
after:
  description: Per type, the addressed objects after the task (predicted in check mode), keyed by natural key.
  returned: when state is not gathered
  type: dict
gathered:
  description: Per type, the objects this collection owns.
  returned: when state is gathered
  type: dict
unmanaged:
  description: Per policy and managed-URL type, the objects without the owner tag; never changed.
  returned: when state is gathered
  type: dict
console_steps:
  description: The console step per permitted-sender group that makes the Permitted Senders policy point at it.
  returned: when permitted_senders is given and state is merged, replaced or overridden
  type: list
  elements: str
internal_domains:
  description: The tenant's internal domains, as read for the permitted-sender guardrail.
  returned: when permitted_senders is given and state is merged, replaced or overridden
  type: list
  elements: str
policy_confirmed:
  description: Always false; Mimecast has no API to read Permitted Senders policies.
  returned: when permitted_senders is given or state is gathered
  type: bool
api_calls:
  description: How many Mimecast API calls the task made, by kind.
  returned: always
  type: dict
  contains:
    read:
      description: Read calls, every page counted.
      type: int
      returned: always
    write:
      description: Create, update and delete calls. Zero in check mode.
      type: int
      returned: always
    auth:
      description: Token requests (one per task, plus one refresh if a token expired).
      type: int
      returned: always
    total:
      description: All calls.
      type: int
      returned: always
  sample: {read: 7, write: 0, auth: 1, total: 8}
done:
  description:
    - On a failed write, every write the task made before it, in every type (C(action), the natural key,
      C(collection), C(id), C(type)).
  returned: when a write failed
  type: list
  elements: dict
not_done:
  description: On a failed write, every planned write not made in any type, the failed one first.
  returned: when a write failed
  type: list
  elements: dict
restored:
  description: When a delete + create replacement failed at the create, whether the original was put back.
  returned: when a replacement failed
  type: dict
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import (
    ANTISPOOF_ENTRY_OPTIONS,
    GREYLISTING_ENTRY_OPTIONS,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import ON_DUPLICATE, STATES
from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import URL_ENTRY_OPTIONS
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._transaction import run_allowlist


def main():
    argument_spec = dict(
        permitted_senders=dict(type="list", elements="dict", options=dict(
            group=dict(type="str", required=True),
            senders=dict(type="list", elements="str"),
        )),
        antispoof_bypass=dict(type="list", elements="dict", options=ANTISPOOF_ENTRY_OPTIONS, no_log=False),
        greylisting_bypass=dict(type="list", elements="dict", options=GREYLISTING_ENTRY_OPTIONS, no_log=False),
        managed_urls=dict(type="list", elements="dict", options=URL_ENTRY_OPTIONS),
        state=dict(type="str", default="merged", choices=list(STATES)),
        owner_tag=dict(type="str", default="[ansible]"),
        adopt=dict(type="bool", default=False),
        on_duplicate=dict(type="str", default="fail", choices=list(ON_DUPLICATE)),
        allow_domain=dict(type="bool", default=False),
        allow_broad_ranges=dict(type="bool", default=False),
        allow_shared_domains=dict(type="bool", default=False),
    )
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run(lambda client: run_allowlist(client, module.params, check_mode=module.check_mode,
                                            warn=module.module.warn))


if __name__ == "__main__":
    main()
