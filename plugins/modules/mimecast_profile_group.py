#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_profile_group
short_description: Keep Mimecast profile groups and their members as declared
version_added: 0.1.0
description:
  - Manages cloud profile groups (Directories > Profile Groups) and their members, exact
    email addresses and whole domains. Policies made in the console point at such groups
    ("Emails From/To - Profile Group"), so keeping the members here keeps those policies
    current, for example a VIP list for Impersonation Protect or a permitted-senders list.
  - Uses the classic endpoints C(/api/directory/find-groups), C(create-group),
    C(update-group), C(delete-group), C(get-group-members), C(add-group-member) and
    C(remove-group-member).
  - The natural key is the group description; the owner tag is appended to it. The group
    list is read once (all pages) and each addressed group's members once; adds and
    removes are sent in one call per group and direction.
  - Mimecast's "member already exists" and "member not found" answers are the outcome the
    module wanted, not errors.
  - Groups match exactly; wildcards are refused, and a domain does not cover its subdomains.
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
      - The groups. With O(state=merged) the listed members are added and others kept; with
        V(replaced) and V(overridden) each listed group has exactly the listed members; with
        V(deleted) the listed groups are deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      description:
        description: The group name as shown in the console, without the owner tag. The natural key.
        type: str
        required: true
      members:
        description:
          - Email addresses and domains. Omit to leave the members of an existing group as they are.
        type: list
        elements: str
  permitted_sender_groups:
    description:
      - Names of groups (without the owner tag) that console Permitted Senders policies point at.
      - These groups, and every group whose name says "permitted sender(s)" (the groups
        M(mailsec.mimecast.mimecast_permitted_sender) manages must say so), get the same member
        guardrails as M(mailsec.mimecast.mimecast_permitted_sender) - no addresses or domains of the
        tenant's internal domains (read with C(/api/domain/get-internal-domain)), no free-mail or
        cloud-mail domains, no whole domains unless O(allow_domain=true). Other groups, such as VIP
        lists, take any address or domain.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  allow_domain:
    description:
      - Allow whole domains (not only exact addresses) in permitted-sender groups. Free-mail,
        cloud-mail and internal domains stay refused. Has no effect on other groups.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - Writing members to a permitted-sender group needs the role permission Directories | Internal |
    Read for the internal-domain guardrail.
  - The built-in groups (for example "Permitted Senders") refuse member changes through the
    API (C(err_xdk_operation_forbidden_for_address)); keep members in a group of your own
    and point the console policy at it.
  - Legacy API 1.0 keys work for these classic endpoints as well as API 2.0 credentials.
'''

EXAMPLES = r'''
- name: Keep the VIP list for Impersonation Protect current
  mailsec.mimecast.mimecast_profile_group:
    state: replaced
    config:
      - description: Executives (VIP)
        members:
          - ceo@corp.example
          - cfo@corp.example
'''

RETURN = r'''
actions:
  description:
    - Group creates/deletes (C(description), C(id)) and member changes (C(add_members),
      C(remove_members) with C(members)), in order; in check mode the same list a real run would execute.
  returned: when state is not gathered
  type: list
  elements: dict
  sample:
    - {action: create, description: Executives (VIP), collection: profile-group, id: null}
    - {action: add_members, description: Executives (VIP), members: [ceo@corp.example], id: null}
before:
  description: Each addressed group's id and members before the task (members null when not read).
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
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write), C(auth), C(total)).
  returned: always
  type: dict
  sample: {read: 2, write: 2, auth: 1, total: 5}
done:
  description:
    - When a write fails, every write made before it (group writes; member changes with the
      members a re-read of the group shows were really changed).
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
not_done:
  description:
    - When a write fails, every planned write not made, the failed one first.
    - An item Mimecast refused in a batched call carries C(error), Mimecast's code and message for it.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    is_permitted_sender_group,
    sender_check,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import (
    GroupSpec,
    read_internal_domains,
    sync_groups,
)


def work(module, client):
    p = module.params
    named = {g.strip().lower() for g in p["permitted_sender_groups"]}
    tag = p["owner_tag"] or ""

    def permitted(description):
        return (is_permitted_sender_group("%s %s" % (description, tag)) or description.strip().lower() in named
                or ("%s %s" % (description.strip(), tag)).strip().lower() in named)

    # Guardrails follow the data: a group a Permitted Senders policy uses gets the sender checks of
    # mimecast_permitted_sender, whichever module writes its members. Other groups (VIP lists) do not.
    check = None
    if p["state"] not in ("deleted", "gathered") and any(
            permitted(e["description"]) and e.get("members") for e in p["config"]):
        check = sender_check(read_internal_domains(client), p["allow_domain"], field="members")
    spec = GroupSpec(check_for=lambda description: check if permitted(description) else None)
    return sync_groups(client, spec, p["state"], p["config"], owner_tag=p["owner_tag"], adopt=p["adopt"],
                       check_mode=module.check_mode, on_duplicate=p["on_duplicate"], warn=module.module.warn)


def main():
    argument_spec = declarative_argument_spec(dict(
        description=dict(type="str", required=True),
        members=dict(type="list", elements="str"),
    ))
    argument_spec["permitted_sender_groups"] = dict(type="list", elements="str", default=[])
    argument_spec["allow_domain"] = dict(type="bool", default=False)
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run(lambda client: work(module, client))


if __name__ == "__main__":
    main()
