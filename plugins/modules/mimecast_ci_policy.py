#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_ci_policy
short_description: Keep Mimecast Email Security Cloud Integrated policies (protection mode and targets) as declared
version_added: 0.3.0
description:
  - Manages the policies of Mimecast Email Security Cloud Integrated over the API 2.0 endpoints
    C(/email/cloud-integrated/v1/policies) - the protection mode (Monitor or Protect) and the
    targets (senders, recipients, exceptions and "address matched on").
  - The natural key is the policy description, O(config[].description); the owner tag is
    appended to it (and to the policy name of a policy the module creates).
  - B(Mimecast documents no call that lists Cloud Integrated policies) (the API 2.0 operation
    catalogue as classified by the Mimecast Terraform provider has create, read, update and
    delete by id, and a read of the Default policy, nothing else). The module therefore reads
    the Default policy and the policies named in O(policy_ids), one call each, and returns
    RV(policy_ids), the ids it knows after the task. Keep that list (for example in the
    tenant's host variables) and pass it to the next run; a policy whose id is not given is
    not seen, so a create would make a second policy with the same description.
  - The Default policy is read (it appears in RV(unmanaged) with C(default=true)) but never
    changed. An entry that would change its targets is refused with the advice to make a new
    policy (Mimecast does not let the Default policy be targeted, and user-made policies take
    priority over it); changing its mode and deleting it are refused too. Every refusal happens
    before the first write.
  - "Mode values: V(monitor) is sent as C(MONITOR_ONLY) and V(protect) as C(ACTIVE), the two values
    public clients allow. No public source gives the value of the console's Disabled mode:
    V(disabled) is refused (set it in the console), and a policy that reads back with any other
    value is never updated; the task fails naming the value, with nothing written."
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
      - The Cloud Integrated policies. With O(state=deleted) only the description is needed.
    type: list
    elements: dict
    default: []
    suboptions:
      description:
        description:
          - The policy description without the owner tag. The natural key.
        type: str
        required: true
      mode:
        description:
          - The protection mode. V(monitor) (Mimecast recommends it before Protect) is the
            default for a new policy.
          - V(disabled) is refused before any write because no public source names its API value;
            set Disabled in the Cloud Integrated console (Policies | Email | Mode).
        type: str
        choices: [monitor, protect, disabled]
      senders:
        description:
          - The console's Sender target. Defaults to everyone (V(all)) for a new policy. Given as a
            whole; a given O(config[].senders) replaces the policy's sender target.
        type: dict
        suboptions:
          route:
            description: Which senders. Defaults to V(all).
            type: str
            choices: [all, internal, external]
          emails:
            description: Email addresses (compared as a set, lower case).
            type: list
            elements: str
          domains:
            description: Domains (compared as a set, lower case).
            type: list
            elements: str
          group_ids:
            description: Directory group ids (compared as a set).
            type: list
            elements: str
      recipients:
        description:
          - The console's Recipient target, for example one group for a Monitor pilot. Defaults to
            everyone (V(all)) for a new policy. Given as a whole.
        type: dict
        suboptions:
          route:
            description: Which recipients. Defaults to V(all).
            type: str
            choices: [all, internal, external]
          emails:
            description: Email addresses (compared as a set, lower case).
            type: list
            elements: str
          domains:
            description: Domains (compared as a set, lower case).
            type: list
            elements: str
          group_ids:
            description: Directory group ids (compared as a set).
            type: list
            elements: str
      exceptions:
        description: The console's Exceptions (addresses, domains and groups the policy skips). Given as a whole.
        type: dict
        suboptions:
          emails:
            description: Email addresses (compared as a set, lower case).
            type: list
            elements: str
          domains:
            description: Domains (compared as a set, lower case).
            type: list
            elements: str
          group_ids:
            description: Directory group ids (compared as a set).
            type: list
            elements: str
      address_matched_on:
        description: The console's "Address Matched On". Defaults to V(both) for a new policy.
        type: str
        choices: [header, envelope, both]
  policy_ids:
    description:
      - Ids of the Cloud Integrated policies to read besides the Default policy, usually
        RV(policy_ids) of the previous run. Mimecast documents no call that lists the policies.
      - An id that no longer exists (HTTP 404) is skipped with a warning and left out of
        RV(policy_ids).
      - O(state=overridden) and O(state=deleted) without entries consider only these policies.
    type: list
    elements: str
    default: []
notes:
  - The paths, fields and values come from public client code (the Mimecast Terraform provider),
    not from a Mimecast reference page. A field or value Mimecast rejects fails the task with
    Mimecast's error and nothing written for that policy.
  - Actions, alerts and security engines of a policy are not managed; Mimecast's defaults apply
    to a new policy and an update leaves them alone.
  - API 2.0 credentials are required.
  - Changing the mode in the console asks to re-confirm Microsoft permissions; Mimecast does not
    say whether a change by API does. Check the Cloud Integrated console after the first change.
seealso:
  - name: Mimecast Email Security Cloud Integrated, Getting Started
    description: Protection modes, targets and the Default policy.
    link: https://mimecastsupport.zendesk.com/hc/en-us/articles/34000408361491-Getting-Started
'''

EXAMPLES = r'''
- name: Monitor mode for one pilot group first
  mailsec.mimecast.mimecast_ci_policy:
    config:
      - description: CI pilot
        mode: monitor
        recipients:
          route: internal
          group_ids: [grp-pilot-0001]
    policy_ids: "{{ ci_policy_ids | default([]) }}"
  delegate_to: localhost
  register: ci

- name: Keep the returned ids for the next run
  ansible.builtin.debug:
    var: ci.policy_ids

- name: Protect everyone
  mailsec.mimecast.mimecast_ci_policy:
    state: replaced
    config:
      - description: CI pilot
        mode: protect
    policy_ids: "{{ ci.policy_ids }}"

- name: Offboarding - delete every policy this collection made among the known ids
  mailsec.mimecast.mimecast_ci_policy:
    state: deleted
    policy_ids: "{{ ci.policy_ids }}"

- name: Report the Default policy and the known policies
  mailsec.mimecast.mimecast_ci_policy:
    state: gathered
    policy_ids: "{{ ci_policy_ids | default([]) }}"
  register: ci_policies
'''

RETURN = r'''
actions:
  description: The writes planned, in order; in check mode the same list a real run would execute.
  returned: when state is not gathered
  type: list
  elements: dict
  sample:
    - {action: create, description: CI pilot, collection: cloud-integrated, id: null}
before:
  description: The addressed policies before the task, keyed by description.
  returned: when state is not gathered
  type: dict
  sample: {}
after:
  description: The addressed policies after the task (predicted in check mode), keyed by description.
  returned: when state is not gathered
  type: dict
  sample:
    CI pilot:
      id: ci-0001
      kind: cloud-integrated
      description: CI pilot
      mode: monitor
      senders: {route: all, emails: [], domains: [], group_ids: []}
      recipients: {route: internal, emails: [], domains: [], group_ids: [grp-pilot-0001]}
      exceptions: {emails: [], domains: [], group_ids: []}
      address_matched_on: both
gathered:
  description: The known policies this collection owns, in the shape of O(config) plus C(id).
  returned: when state is gathered
  type: list
  elements: dict
unmanaged:
  description:
    - The Default policy (C(default=true)) and known policies without the owner tag; never changed.
    - C(api_protection_mode) is Mimecast's value; C(mode) is null when no public source maps it.
  returned: when state is gathered
  type: list
  elements: dict
policy_ids:
  description:
    - The ids of the known policies after the task (the Default policy left out), created ones
      included. Pass them as O(policy_ids) to the next run. In check mode a policy still to be
      created has no id yet.
  returned: success
  type: list
  elements: str
  sample: [ci-0001]
missing_policy_ids:
  description: Ids of O(policy_ids) that Mimecast no longer has (HTTP 404).
  returned: success
  type: list
  elements: str
  sample: []
api_calls:
  description: How many Mimecast API calls the task made.
  returned: always
  type: dict
  contains:
    read:
      description: Read calls (the Default policy and one per known id).
      type: int
      returned: always
    write:
      description: Create, update and delete calls. Zero in check mode.
      type: int
      returned: always
    auth:
      description: Token requests.
      type: int
      returned: always
    total:
      description: All calls.
      type: int
      returned: always
  sample: {read: 2, write: 1, auth: 1, total: 4}
done:
  description: On a failed write, every write the task made before it.
  returned: when a write failed
  type: list
  elements: dict
not_done:
  description: On a failed write, every planned write not made, the failed one first.
  returned: when a write failed
  type: list
  elements: dict
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._cloud_integrated import (
    ENTRY_OPTIONS,
    CloudIntegratedEngine,
    CloudIntegratedSpec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)


def main():
    argument_spec = declarative_argument_spec(ENTRY_OPTIONS)
    argument_spec["policy_ids"] = dict(type="list", elements="str", default=[])
    module = MimecastModule(argument_spec, supports_check_mode=True)
    p = module.params
    spec = CloudIntegratedSpec(p["policy_ids"])
    module.run(lambda client: CloudIntegratedEngine(
        client, spec, owner_tag=p["owner_tag"], adopt=p["adopt"], check_mode=module.check_mode,
        on_duplicate=p["on_duplicate"], warn=module.module.warn).run(p["state"], p["config"]))


if __name__ == "__main__":
    main()
