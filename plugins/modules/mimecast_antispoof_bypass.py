#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_antispoof_bypass
short_description: Keep Mimecast anti-spoofing bypasses (by source IP or by SPF) as declared
version_added: 0.1.0
description:
  - Manages the two narrow ways to let a trusted external sender through Mimecast's
    anti-spoofing check for mail that claims to come from your own domains, for example a
    phishing-simulation vendor.
  - B(IP-based bypass) (an entry with O(config[].source_ips)) is an anti-spoofing policy
    with the option C(no_action), scoped to the sender's source IPs. This is the narrow
    form Mimecast's pitfalls guide recommends. It uses the API 2.0 endpoint
    C(/policy-management/cloud-gateway/v1/anti-spoofing/policies).
  - B(SPF-based bypass) (an entry with O(config[].spf_domains)) is an anti-spoofing bypass
    policy with the option C(enable_bypass); mail passes when the connecting IP passes SPF
    for one of the domains. It uses
    C(/policy-management/cloud-gateway/v1/anti-spoofing-bypass/policies). Prefer the IP form;
    never list domains whose SPF includes Microsoft 365 or Google ranges or ends in C(+all).
  - The natural key is the policy narrative, O(config[].description). Both lists are read
    once per task (all pages); only real differences are written.
  - Guardrails refuse, before any write, source ranges that overlap Microsoft 365 or Google
    sending ranges, private/loopback/reserved/unspecified ranges, malformed addresses, IPv4
    ranges broader than /24 (IPv6 /48) unless O(allow_broad_ranges=true), and SPF domains
    of free-mail or shared cloud-mail providers.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.declarative
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.DECLARATIVE
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  config:
    description:
      - The bypass policies. Give each one either O(config[].source_ips) or
        O(config[].spf_domains), except with O(state=deleted), where only the description
        is needed.
    type: list
    elements: dict
    default: []
    suboptions:
      description:
        description:
          - The policy narrative as shown in the console, without the owner tag. The natural key.
        type: str
        required: true
      source_ips:
        description:
          - Makes the entry an IP-based bypass (anti-spoofing policy, option C(no_action))
            for these source addresses or CIDR ranges.
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
            choices: [everyone, internal_addresses, external_addresses, email_domain, individual_email_address, profile_group]
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
            choices: [everyone, internal_addresses, external_addresses, email_domain, individual_email_address, profile_group]
          value:
            description: The domain, address or profile group id for the types that need one.
            type: str
      from_part:
        description: Which sender address the policy matches. Defaults to V(envelope_from).
        type: str
        choices: [envelope_from, header_from, both]
      enabled:
        description: Whether the policy is enabled. Defaults to V(true).
        type: bool
      override:
        description:
          - The console's "Policy Override" (apply before equally specific policies).
            Defaults to V(false); vendor guides ask for V(true).
        type: bool
      bidirectional:
        description: Also apply when sender and recipient are swapped. Defaults to V(false).
        type: bool
      valid_from:
        description:
          - Start of validity, V(YYYY-MM-DD) (start of that day, UTC), an ISO 8601 date-time,
            or V(eternal) (the default).
        type: str
      valid_to:
        description:
          - End of validity, V(YYYY-MM-DD) (end of that day, UTC), an ISO 8601 date-time, or
            V(eternal) (the default). Use the campaign's end so the bypass expires by itself.
          - An end in the past, an end not after O(config[].valid_from), and years outside 1900 to 2100
            are refused before any write (with O(state=deleted) dates are not checked).
        type: str
  allow_broad_ranges:
    description:
      - Accept IPv4 ranges broader than /24 (IPv6 /48) in O(config[].source_ips), for a sender
        that really owns such a range. Overlaps with Microsoft 365 or Google ranges and
        private ranges are refused regardless.
      - Ranges of more than one address in the shared sending space of a bulk-mail platform
        (167.89.0.0/16, 168.245.0.0/16, 159.183.0.0/16, 149.72.0.0/16) are refused regardless;
        list the sender's addresses one by one.
    type: bool
    default: false
notes:
  - Mimecast does not publish the request fields of the REST anti-spoofing endpoints in an
    OpenAPI document; the module uses the field names public clients send (the Mimecast
    Terraform provider). A field Mimecast rejects fails the task with
    Mimecast's error code and nothing is written; a list answer of an unknown shape fails
    the task instead of being read as empty.
  - API 2.0 credentials are required; legacy API 1.0 keys cannot reach these endpoints.
seealso:
  - name: Mimecast pitfalls guide, section 1 (anti-spoofing)
    description: Why IP-based bypasses beat SPF-based ones.
    link: https://www.mimecast.com/blog/common-pitfalls-in-mimecast-email-security-configurations/
'''

EXAMPLES = r'''
- name: Let a phishing-simulation vendor's IP through anti-spoofing for the campaign
  mailsec.mimecast.mimecast_antispoof_bypass:
    config:
      - description: Dune Security phishing simulation
        source_ips:
          - 52.201.210.35
        override: true
        valid_from: "2026-12-01"
        valid_to: "2026-12-31"
  delegate_to: localhost

- name: SPF-based bypass for a partner domain (prefer the IP form)
  mailsec.mimecast.mimecast_antispoof_bypass:
    config:
      - description: Partner invoices via their own SPF
        spf_domains:
          - billing.partner.example
        emails_to:
          type: email_domain
          value: corp.example

- name: Keep exactly these bypasses; delete other bypasses this collection made
  mailsec.mimecast.mimecast_antispoof_bypass:
    state: overridden
    config:
      - description: Dune Security phishing simulation
        source_ips: [52.201.210.35]
        override: true

- name: Remove the campaign's bypass
  mailsec.mimecast.mimecast_antispoof_bypass:
    state: deleted
    config:
      - description: Dune Security phishing simulation

- name: Report the bypasses without changing anything
  mailsec.mimecast.mimecast_antispoof_bypass:
    state: gathered
  register: bypasses

- name: Credentials for every task of the play, from host variables
  module_defaults:
    group/mailsec.mimecast.mimecast:
      base_url: "{{ mimecast_base_url }}"
      client_id: "{{ mimecast_client_id }}"
      client_secret: "{{ mimecast_client_secret }}"
  block:
    - name: Bypass for the vendor
      mailsec.mimecast.mimecast_antispoof_bypass:
        config:
          - description: Hoxhunt simulation
            source_ips: [198.2.177.0/28]
'''

RETURN = r'''
actions:
  description:
    - The writes planned, in order; in check mode the same list a real run would execute.
    - C(id) of a create is null in check mode. C(fields) of an update lists what differs.
    - An entry that moves between the IP and the SPF form is a delete plus a create
      (C(reason) is C(type change)), because they are different Mimecast objects.
  returned: when state is not gathered
  type: list
  elements: dict
  sample:
    - {action: create, description: Dune Security phishing simulation, collection: anti-spoofing, id: null}
before:
  description: The addressed policies before the task, keyed by description.
  returned: when state is not gathered
  type: dict
  sample:
    {}
after:
  description: The addressed policies after the task (predicted in check mode), keyed by description.
  returned: when state is not gathered
  type: dict
  sample:
    Dune Security phishing simulation:
      id: eNo1abc
      kind: ip
      description: Dune Security phishing simulation
      source_ips: [52.201.210.35/32]
      spf_domains: null
      option: no_action
      emails_from: {type: everyone, value: null}
      emails_to: {type: everyone, value: null}
      from_part: envelope_from
      enabled: true
      override: true
      bidirectional: false
      valid_from: "2026-12-01T00:00:00+0000"
      valid_to: "2026-12-31T23:59:59+0000"
gathered:
  description: The bypasses this collection owns, in the shape of O(config) plus C(id) and C(kind).
  returned: when state is gathered
  type: list
  elements: dict
unmanaged:
  description: Bypasses without the owner tag (full narrative, C(id), C(kind)); never changed.
  returned: when state is gathered
  type: list
  elements: dict
api_calls:
  description: How many Mimecast API calls the task made.
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
  sample: {read: 2, write: 1, auth: 1, total: 4}
done:
  description:
    - On a failed write, every write the task made before it (C(action), the natural key, C(collection), C(id)),
      including a C(restore) of a replaced entry.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
not_done:
  description: On a failed write, every planned write not made, the failed one first.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
restored:
  description: When a delete + create replacement failed at the create, whether the original was put back.
  returned: when a replacement failed
  type: dict
  version_added: 0.2.0
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import (
    ANTISPOOF_ENTRY_OPTIONS,
    AntiSpoofBypassSpec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)


def main():
    argument_spec = declarative_argument_spec(dict(ANTISPOOF_ENTRY_OPTIONS))
    argument_spec["allow_broad_ranges"] = dict(type="bool", default=False)
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run_engine(AntiSpoofBypassSpec(allow_broad_ranges=module.params["allow_broad_ranges"]))


if __name__ == "__main__":
    main()
