#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: exo_mail_flow_info
short_description: Read Exchange Online connectors, transport rules and ARC sealers, with Cloud Integrated checks
version_added: 0.3.0
description:
  - Reads, with C(Get-) cmdlets only, the Exchange Online inbound and outbound connectors, the transport
    (mail flow) rules in priority order and the trusted ARC sealers, and returns them as plain data
    (names, priorities, states, connector types, smart hosts, sender IP ranges, sealers).
  - With O(top_rules), O(ci_rules), O(ci_connectors) and O(mimecast_sealers) it also runs the Exchange side
    Cloud Integrated checks and returns them in RV(checks), in the finding format of
    M(mailsec.mimecast.mimecast_audit) (C(MC-EXO-001) named rules below the Cloud Integrated rules,
    C(MC-EXO-002) a Mimecast ARC sealer still trusted while Cloud Integrated's rules and connectors are
    gone). Mimecast does not publish the names of the rules, connectors or sealer domain Cloud Integrated
    installs, so you name them; without them a check is reported as not checked, never as passed.
  - Never writes.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.exo
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
  - mailsec.mimecast.attributes.ACTION_GROUP_EXO
options:
  gather:
    description: The parts to read.
    type: list
    elements: str
    choices: [inbound_connectors, outbound_connectors, transport_rules, arc_sealers]
    default: [inbound_connectors, outbound_connectors, transport_rules, arc_sealers]
  top_rules:
    description:
      - Names of the transport rules that must run first, in order (as for
        M(mailsec.mimecast.exo_transport_rule_order)). Used by check C(MC-EXO-001).
    type: list
    elements: str
  ci_rules:
    description: Names of the transport rules Cloud Integrated installed. Used by both checks.
    type: list
    elements: str
    default: []
  ci_connectors:
    description:
      - Names of the connectors Cloud Integrated installed (inbound or outbound). Used by check C(MC-EXO-002)
        to tell whether the service is still installed.
    type: list
    elements: str
    default: []
  mimecast_sealers:
    description: The sealer domain(s) Mimecast added as trusted ARC sealers. Used by check C(MC-EXO-002).
    type: list
    elements: str
    default: []
notes:
  - Global Reader is enough.
seealso:
  - module: mailsec.mimecast.exo_transport_rule_order
  - module: mailsec.mimecast.exo_arc_config
  - module: mailsec.mimecast.mimecast_audit
'''

EXAMPLES = r'''
- name: Connector and rule inventory with the Cloud Integrated checks
  mailsec.mimecast.exo_mail_flow_info:
    tenant: contoso.onmicrosoft.com
    app_id: "{{ exo_app_id }}"
    certificate_path: /etc/mailsec/exo-app.pem
    top_rules: [Company disclaimer]
    ci_rules: [Mimecast Cloud Integrated rule]
    mimecast_sealers: ["{{ mimecast_arc_sealer }}"]
  register: mail_flow

- name: Only the transport rules
  mailsec.mimecast.exo_mail_flow_info:
    tenant: contoso.onmicrosoft.com
    app_id: "{{ exo_app_id }}"
    certificate_path: /etc/mailsec/exo-app.pem
    gather: [transport_rules]
  register: rules
'''

RETURN = r'''
inbound_connectors:
  description:
    - Inbound connectors (name, enabled, connector_type, sender_domains, sender_ip_addresses, TLS settings, comment).
  returned: when gathered
  type: list
  elements: dict
outbound_connectors:
  description:
    - Outbound connectors (name, enabled, connector_type, smart_hosts, use_mx_record, recipient_domains, TLS settings).
  returned: when gathered
  type: list
  elements: dict
transport_rules:
  description: Transport rules, highest priority (0) first (name, priority, state, mode, guid, comments).
  returned: when gathered
  type: list
  elements: dict
arc_sealers:
  description: The trusted ARC sealer domains.
  returned: when gathered
  type: list
  elements: str
checks:
  description:
    - The Cloud Integrated checks, each with id, title, severity, weight, passed, status (pass, fail, not_checked),
      why, fix, objects and not_checked (the reasons), as in M(mailsec.mimecast.mimecast_audit).
  returned: always
  type: list
  elements: dict
findings:
  description: The checks of RV(checks) that failed.
  returned: always
  type: list
  elements: dict
api_calls:
  description: Calls made (C(read), C(auth) for the Entra token, C(total)).
  returned: always
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_checks import check_rule_order, check_stale_sealer
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_mail_flow import (
    GATHER_CHOICES,
    gather,
    run_exo_module,
)


def run(module, client):
    p = module.params
    data = gather(client, p["gather"])
    connectors = (data.get("inbound_connectors") or []) + (data.get("outbound_connectors") or [])
    checks = [check_rule_order(data.get("transport_rules"), p["top_rules"], p["ci_rules"]),
              check_stale_sealer(data.get("arc_sealers"), p["mimecast_sealers"], data.get("transport_rules"),
                                 connectors if p["ci_connectors"] else None, p["ci_rules"], p["ci_connectors"])]
    if p["ci_connectors"] and not {"inbound_connectors", "outbound_connectors"} <= set(p["gather"]):
        checks[1] = dict(checks[1], status="not_checked", passed=False, objects=[],
                         not_checked=["ci_connectors needs both inbound_connectors and outbound_connectors gathered"])
    if p["ci_rules"] and "transport_rules" not in p["gather"]:
        checks[1] = dict(checks[1], status="not_checked", passed=False, objects=[],
                         not_checked=["ci_rules needs transport_rules gathered"])
    return dict(data, changed=False, checks=checks, findings=[c for c in checks if c["status"] == "fail"])


def main():
    argument_spec = dict(
        EXO_ARGUMENT_SPEC,
        gather=dict(type="list", elements="str", choices=list(GATHER_CHOICES), default=list(GATHER_CHOICES)),
        top_rules=dict(type="list", elements="str"),
        ci_rules=dict(type="list", elements="str", default=[]),
        ci_connectors=dict(type="list", elements="str", default=[]),
        mimecast_sealers=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_exo_module(module, run)


if __name__ == "__main__":
    main()
