#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_permitted_sender
short_description: Keep permitted senders in the profile group a console Permitted Senders policy uses
version_added: 0.1.0
description:
  - B(Mimecast has no API for Permitted Senders policies.) Every permitted-senders path
    answers C(app_forbidden), and the built-in "Permitted Senders" group refuses member
    changes through the API. This module therefore keeps the permitted senders as members
    of a named profile group of your own, which a Permitted Senders policy made once in
    the console points at ("Emails From - Profile Group").
  - It creates the group when missing, adds and removes members like
    M(mailsec.mimecast.mimecast_profile_group), and returns in RV(console_steps) the console
    step that makes the policy. The API cannot read Permitted Senders policies, so the module
    can never confirm the policy exists; RV(policy_confirmed) says so honestly.
  - Guardrails from Mimecast's pitfalls guide refuse, before any write, the tenant's own
    internal domains and addresses in them (read from the API; anti-spoofing must stay in
    force for them), free-mail and cloud-mail provider domains, whole-domain entries unless
    O(allow_domain=true), wildcards, and the built-in groups.
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
      - The permitted-sender groups. The natural key is O(config[].group); the owner tag is
        appended to the group name in Mimecast.
    type: list
    elements: dict
    default: []
    suboptions:
      group:
        description:
          - The profile group the console Permitted Senders policy points at, without the owner tag.
          - The name must say "permitted sender(s)" (for example C(Dune Security - permitted senders)),
            except with O(state=deleted) and O(state=gathered). The name is what marks the group as a
            permitted-sender group for M(mailsec.mimecast.mimecast_profile_group), which then applies the
            same guardrails to its members, and for M(mailsec.mimecast.mimecast_audit).
        type: str
        required: true
      senders:
        description:
          - Exact sender addresses (recommended) and, with O(allow_domain=true), whole domains.
          - Omit to leave the members of an existing group as they are.
        type: list
        elements: str
  allow_domain:
    description:
      - Accept whole-domain entries. A permitted domain lets anyone who can send as that domain
        bypass spam scanning, greylisting and reputation checks; prefer exact addresses and the
        vendor's IPs in the policy. Free-mail and cloud-mail provider domains stay refused.
    type: bool
    default: false
notes:
  - Reading the internal domains needs the role permission Directories | Internal | Read;
    the groups need Directories | Groups | Read and Edit.
seealso:
  - module: mailsec.mimecast.mimecast_profile_group
'''

EXAMPLES = r'''
- name: Permitted senders for the simulation vendor (the console policy points at this group)
  mailsec.mimecast.mimecast_permitted_sender:
    config:
      - group: Dune Security permitted senders
        senders:
          - simulations@dune-mail.example
  register: permitted

- name: Show the console step
  ansible.builtin.debug:
    var: permitted.console_steps
'''

RETURN = r'''
actions:
  description: Group creates/deletes and member changes, in order; in check mode the same list a real run would execute.
  returned: when state is not gathered
  type: list
  elements: dict
before:
  description: Each addressed group's id and members before the task.
  returned: when state is not gathered
  type: dict
after:
  description: Each addressed group's id and members after the task (predicted in check mode).
  returned: when state is not gathered
  type: dict
gathered:
  description: The groups this collection owns with their members.
  returned: when state is gathered
  type: list
  elements: dict
internal_domains:
  description: The tenant's internal domains, as read for the guardrail.
  returned: when state is not gathered or deleted
  type: list
  elements: str
console_steps:
  description: The console step per group that makes the Permitted Senders policy point at it.
  returned: when state is merged, replaced or overridden
  type: list
  elements: str
policy_confirmed:
  description: Always false; Mimecast has no API to read Permitted Senders policies.
  returned: always
  type: bool
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write), C(auth), C(total)).
  returned: always
  type: dict
  sample: {read: 3, write: 2, auth: 1, total: 6}
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._permitted_sender import PermittedSenders


def work(module, client):
    p = module.params
    part = PermittedSenders(client, p["state"], p["config"], owner_tag=p["owner_tag"], adopt=p["adopt"],
                            allow_domain=p["allow_domain"], check_mode=module.check_mode,
                            on_duplicate=p["on_duplicate"], warn=module.module.warn)
    part.prepare()
    part.plan()
    if p["state"] != "gathered":
        part.apply()
    return part.result()


def main():
    argument_spec = declarative_argument_spec(dict(
        group=dict(type="str", required=True),
        senders=dict(type="list", elements="str"),
    ))
    argument_spec["allow_domain"] = dict(type="bool", default=False)
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run(lambda client: work(module, client))


if __name__ == "__main__":
    main()
