#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: exo_transport_rule_order
short_description: Keep named Exchange Online transport rules on top, above the Cloud Integrated rules
version_added: 0.3.0
description:
  - When Mimecast Email Security Cloud Integrated is put into Monitor or Protect mode, it installs its
    transport (mail flow) rules in Exchange Online at the top of the list, above the existing rules.
    Mimecast asks administrators to move the rules that must run first (disclaimer and signature tools,
    for example) back up afterwards, or mail may be lost.
  - This module keeps the rules named in O(rules) at priorities 0, 1, ... in that order. It only ever sends
    C(Set-TransportRule -Identity <name> -Priority <n>); it never changes a rule's conditions, exceptions,
    actions, state or mode, and never sends anything for a rule it was not told about.
  - Exchange renumbers the other rules when one rule's priority is set (the rules between its old and new
    place move by one; Microsoft's Set-TransportRule reference). The module reads all rules once, plans at
    most one C(Set-TransportRule) per named rule that is not already in its place, in top-down order,
    sends them, then reads the rules back and fails if the order is not the one it predicted. All other
    rules keep their relative order.
  - Mimecast does not publish the names of the rules Cloud Integrated installs. Name them in O(ci_rules)
    to have RV(ci_rules) report where they end up; the module does not move them.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.exo
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.ACTION_GROUP_EXO
attributes:
  check_mode:
    support: full
    details:
      - Reads the rules and returns the exact Set-TransportRule calls and the resulting order, without sending them.
  diff_mode:
    support: full
    details: The rule order (name and priority of every rule) before and after.
  idempotent:
    support: full
    details: A rule already at its priority gets no call; a second run sends nothing.
options:
  rules:
    description:
      - The names of the transport rules that must be on top, in the order they must run. The first gets
        priority 0, the second priority 1, and so on. Names are matched case-insensitively, as Exchange does.
    type: list
    elements: str
    required: true
  ci_rules:
    description:
      - Names of the transport rules Cloud Integrated installed. Only reported (RV(ci_rules)), never moved.
    type: list
    elements: str
    default: []
  missing_rules:
    description:
      - What to do when a rule of O(rules) does not exist. V(fail) refuses before any change; V(ignore)
        keeps the rules that exist at the top, in the order given, and lists the missing ones in RV(missing).
    type: str
    choices: [fail, ignore]
    default: fail
notes:
  - Needs the Entra role Exchange Administrator for changes; Global Reader can run check mode.
seealso:
  - name: Set-TransportRule
    description: Microsoft's reference, including how -Priority renumbers the other rules.
    link: https://learn.microsoft.com/powershell/module/exchangepowershell/set-transportrule
  - module: mailsec.mimecast.exo_mail_flow_info
'''

EXAMPLES = r'''
- name: Put the disclaimer rules back on top after Cloud Integrated's install
  mailsec.mimecast.exo_transport_rule_order:
    tenant: contoso.onmicrosoft.com
    app_id: "{{ exo_app_id }}"
    certificate_path: /etc/mailsec/exo-app.pem
    rules:
      - Company disclaimer
      - Signature tool routing
    ci_rules:
      - Mimecast Cloud Integrated rule
  register: order
'''

RETURN = r'''
actions:
  description: The Set-TransportRule calls sent (or, in check mode, that would be sent), in order.
  returned: always
  type: list
  elements: dict
  sample: [{cmdlet: Set-TransportRule, parameters: {Identity: Company disclaimer, Priority: 0}}]
before:
  description: Every rule's name and priority before the task, highest priority first.
  returned: always
  type: list
  elements: dict
after:
  description: Every rule's name and priority after the task (predicted in check mode; read back otherwise).
  returned: always
  type: list
  elements: dict
ci_rules:
  description: The rules of O(ci_rules) that exist, with their priority after the task.
  returned: always
  type: list
  elements: dict
missing:
  description: Rules of O(rules) that do not exist (only with O(missing_rules=ignore)).
  returned: always
  type: list
  elements: str
api_calls:
  description: Calls made (C(read), C(write), C(auth) for the Entra token, C(total)).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_mail_flow import (
    match_names,
    plan_rule_order,
    rule_order,
    run_exo_module,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError


def positions(order):
    return [{"name": name, "priority": index} for index, name in enumerate(order)]


def run(module, client):
    p = module.params
    rules = client.invoke("Get-TransportRule")
    top, missing = match_names(p["rules"], rules, "rules")
    if missing and p["missing_rules"] == "fail":
        raise GuardrailError(["rules: no transport rule is named %s in Exchange Online; check the names "
                              "(exo_mail_flow_info lists them) or set missing_rules: ignore"
                              % ", ".join(repr(m) for m in missing)])
    ci, dummy = match_names(p["ci_rules"], rules, "ci_rules")
    both = sorted(set(n.lower() for n in top) & set(n.lower() for n in ci))
    if both:
        raise GuardrailError(["the rule(s) %s are named in both rules and ci_rules; a rule is either kept on top "
                              "or Cloud Integrated's, not both" % ", ".join(repr(n) for n in both)])
    order = rule_order(rules)
    calls, predicted = plan_rule_order(order, top)
    result = {"actions": [{"cmdlet": "Set-TransportRule", "parameters": {"Identity": name, "Priority": priority}}
                          for name, priority in calls],
              "before": positions(order), "missing": missing}
    after = predicted
    if calls and not module.check_mode:
        for action in result["actions"]:
            client.invoke(action["cmdlet"], action["parameters"], write=True)
        after = rule_order(client.invoke("Get-TransportRule"))
        if after != predicted:
            raise MimecastError(
                "Exchange Online ordered the transport rules differently than predicted after %d "
                "Set-TransportRule call(s): expected %s, read back %s (another change may have run at the same "
                "time). Run the task again, or check the order in the Exchange admin center."
                % (len(calls), predicted, after))
    result["after"] = positions(after)
    result["ci_rules"] = [{"name": n, "priority": after.index(n)} for n in ci if n in after]
    result["changed"] = bool(calls)
    if module._diff:
        result["diff"] = {"before": "\n".join("%d %s" % (i, n) for i, n in enumerate(order)) + "\n",
                          "after": "\n".join("%d %s" % (i, n) for i, n in enumerate(after)) + "\n"}
    return result


def main():
    argument_spec = dict(
        EXO_ARGUMENT_SPEC,
        rules=dict(type="list", elements="str", required=True),
        ci_rules=dict(type="list", elements="str", default=[]),
        missing_rules=dict(type="str", default="fail", choices=["fail", "ignore"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_exo_module(module, run)


if __name__ == "__main__":
    main()
