#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_greylisting_bypass
short_description: Keep Mimecast greylisting bypasses for trusted source IPs as declared
version_added: 0.1.0
description:
  - Greylisting makes Mimecast defer the first message from an unknown sender, which
    delays a phishing-simulation vendor's mail or a partner's time-critical mail. A
    greylisting policy with the option C(no_action) scoped to the sender's source IPs lets
    that mail through at once, and nobody else's.
  - Uses the API 2.0 endpoint C(/policy-management/cloud-gateway/v1/greylisting/policies).
  - The natural key is the policy narrative, O(config[].description). The list is read once
    per task (all pages); only real differences are written.
  - The source-range guardrails are the same code as in M(mailsec.mimecast.mimecast_antispoof_bypass);
    overlaps with Microsoft 365 or Google sending ranges, private/loopback/reserved/unspecified
    ranges, malformed values and ranges broader than IPv4 /24 (IPv6 /48) unless
    O(allow_broad_ranges=true) are refused before any write.
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
      - The greylisting bypass policies. O(config[].source_ips) is required except with
        O(state=deleted), where only the description is needed.
    type: list
    elements: dict
    default: []
    suboptions:
      description:
        description: The policy narrative, without the owner tag. The natural key.
        type: str
        required: true
      source_ips:
        description:
          - Source addresses or CIDR ranges whose mail is not greylisted. Compared as a set;
            bare addresses are stored as C(/32) or C(/128).
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
        description: The console's "Policy Override". Defaults to V(false).
        type: bool
      bidirectional:
        description: Also apply when sender and recipient are swapped. Defaults to V(false).
        type: bool
      valid_from:
        description: Start of validity, V(YYYY-MM-DD) (start of day, UTC), an ISO 8601 date-time, or V(eternal) (the default).
        type: str
      valid_to:
        description:
          - End of validity, V(YYYY-MM-DD) (end of day, UTC), an ISO 8601 date-time, or V(eternal) (the default).
          - An end in the past, an end not after O(config[].valid_from), and years outside 1900 to 2100
            are refused before any write (with O(state=deleted) dates are not checked).
        type: str
  allow_broad_ranges:
    description:
      - Accept IPv4 ranges broader than /24 (IPv6 /48), for a sender that really owns such a
        range. Cloud-provider overlaps and private ranges are refused regardless.
      - Ranges of more than one address in the shared sending space of a bulk-mail platform
        (167.89.0.0/16, 168.245.0.0/16, 159.183.0.0/16, 149.72.0.0/16) are refused regardless;
        list the sender's addresses one by one.
    type: bool
    default: false
notes:
  - Greylisting policies carry their validity as C(fromDate)/C(toDate), not the
    C(fromDateTime)/C(toDateTime) of other policies; the module handles the difference.
  - Mimecast does not document the greylisting request schema, and public clients disagree
    on whether it has a C(to) target. The module always sends one (everyone by default), as
    the Mimecast Terraform provider does. A field Mimecast rejects fails the task with
    Mimecast's error code and nothing is written.
  - API 2.0 credentials are required.
'''

EXAMPLES = r'''
- name: Do not greylist the simulation vendor during the campaign
  mailsec.mimecast.mimecast_greylisting_bypass:
    config:
      - description: Dune Security phishing simulation
        source_ips: [52.201.210.35]
        valid_from: "2026-12-01"
        valid_to: "2026-12-31"

- name: Remove it again
  mailsec.mimecast.mimecast_greylisting_bypass:
    state: deleted
    config:
      - description: Dune Security phishing simulation
'''

RETURN = r'''
actions:
  description: The writes planned, in order; in check mode the same list a real run would execute.
  returned: when state is not gathered
  type: list
  elements: dict
  sample:
    - {action: create, description: Dune Security phishing simulation, collection: greylisting, id: null}
before:
  description: The addressed policies before the task, keyed by description.
  returned: when state is not gathered
  type: dict
after:
  description: The addressed policies after the task (predicted in check mode), keyed by description.
  returned: when state is not gathered
  type: dict
gathered:
  description: The policies this collection owns, in the shape of O(config) plus C(id) and C(kind).
  returned: when state is gathered
  type: list
  elements: dict
unmanaged:
  description: Greylisting policies without the owner tag (full narrative, C(id)); never changed.
  returned: when state is gathered
  type: list
  elements: dict
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write), C(auth), C(total)).
  returned: always
  type: dict
  sample: {read: 1, write: 1, auth: 1, total: 3}
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
    GREYLISTING_ENTRY_OPTIONS,
    GreylistingBypassSpec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)


def main():
    argument_spec = declarative_argument_spec(dict(GREYLISTING_ENTRY_OPTIONS))
    argument_spec["allow_broad_ranges"] = dict(type="bool", default=False)
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run_engine(GreylistingBypassSpec(allow_broad_ranges=module.params["allow_broad_ranges"]))


if __name__ == "__main__":
    main()
