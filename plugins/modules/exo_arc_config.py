#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: exo_arc_config
short_description: Add or remove trusted ARC sealers in Exchange Online without touching the others
version_added: 0.3.0
description:
  - Mimecast Email Security Cloud Integrated configures Mimecast as a trusted ARC sealer in Microsoft 365,
    and Mimecast says the sealer must be removed by hand when the service is discontinued. This module
    adds (V(state=present)) or removes (V(state=absent), the offboarding step) the sealers in O(sealers)
    and keeps every other trusted sealer as it is, in its place.
  - B(Mimecast does not publish the sealer domain it adds) (no public source found names it), so
    O(sealers) is required. It is the domain in the C(d=) tag of the C(ARC-Seal) header Mimecast adds to
    your mail; read it from a message header or from RV(mailsec.mimecast.exo_mail_flow_info#module:arc_sealers).
  - C(Set-ArcConfig -Identity Default -ArcTrustedSealers) replaces the whole list, and Exchange offers no
    version check. The module reads the list with C(Get-ArcConfig), and, when a change is due, reads it
    again right before writing. If the list changed between the two reads (someone else edited it), the
    change is planned again on the newer list (one retry) and a warning says so; if it changed again, the
    module refuses and writes nothing. After the write it reads the list back and fails if it is not the
    list it wrote. A change made by someone else in the short time between the last read and the write
    can still be lost; run the module when no one else edits the list.
  - Removing the last sealer sends an empty list. Microsoft does not document whether Exchange accepts an
    empty C(ArcTrustedSealers); if it refuses, the module fails with Exchange's message and the list is
    unchanged (remove the sealer in the Microsoft Defender portal, Email authentication settings, ARC).
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.exo
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.ACTION_GROUP_EXO
attributes:
  check_mode:
    support: full
    details: Reads the list and returns the exact Set-ArcConfig call and the resulting list, without sending it.
  diff_mode:
    support: full
    details: The trusted sealer list before and after.
  idempotent:
    support: full
    details: Sealers are compared case-insensitively; nothing is sent when the list already has (or lacks) them.
options:
  sealers:
    description:
      - The sealer domains to add or remove, for example the domain in the C(d=) tag of Mimecast's
        C(ARC-Seal) header. Required because no public source names Mimecast's sealer domain.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) adds the sealers that are missing; V(absent) removes them (the Cloud Integrated offboarding
        step). Other sealers are never touched.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Needs the Entra role Exchange Administrator for changes; Global Reader can run check mode.
seealso:
  - name: Set-ArcConfig
    description: Microsoft's reference (the whole list is replaced; add or remove by reading it first).
    link: https://learn.microsoft.com/powershell/module/exchangepowershell/set-arcconfig
  - name: Configure trusted ARC sealers
    description: Microsoft's guide to trusted ARC sealers.
    link: https://learn.microsoft.com/defender-office-365/email-authentication-arc-configure
  - module: mailsec.mimecast.exo_mail_flow_info
'''

EXAMPLES = r'''
- name: Offboarding Cloud Integrated - remove Mimecast's trusted ARC sealer, keep the others
  mailsec.mimecast.exo_arc_config:
    tenant: contoso.onmicrosoft.com
    app_id: "{{ exo_app_id }}"
    certificate_path: /etc/mailsec/exo-app.pem
    sealers: ["{{ mimecast_arc_sealer }}"]
    state: absent
'''

RETURN = r'''
actions:
  description: The Set-ArcConfig call sent (or, in check mode, that would be sent); empty when nothing changes.
  returned: always
  type: list
  elements: dict
  sample: [{cmdlet: Set-ArcConfig, parameters: {Identity: Default, ArcTrustedSealers: [contoso-partner.com]}}]
before:
  description: The trusted ARC sealers before the task.
  returned: always
  type: list
  elements: str
after:
  description: The trusted ARC sealers after the task (predicted in check mode; read back otherwise).
  returned: always
  type: list
  elements: str
retried:
  description: Whether the list changed between the first read and the read right before the write.
  returned: always
  type: bool
api_calls:
  description: Calls made (C(read), C(write), C(auth) for the Entra token, C(total)).
  returned: always
  type: dict
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_mail_flow import (
    parse_sealers,
    plan_sealers,
    run_exo_module,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError

DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
IDENTITY = "Default"


def read_sealers(client):
    configs = client.invoke("Get-ArcConfig")
    return parse_sealers(configs[0].get("ArcTrustedSealers")) if configs else []


def run(module, client):
    p = module.params
    bad = [s for s in p["sealers"] if not DOMAIN.match(str(s).strip())]
    if bad or not p["sealers"]:
        raise GuardrailError(["sealers: %s not a domain name; give each sealer as the bare domain of the d= tag of "
                              "its ARC-Seal header (for example example.com)"
                              % (", ".join(repr(b) for b in bad) + (" is" if len(bad) == 1 else " are")
                                 if bad else "the list is empty:")])
    sealers = [s.strip() for s in p["sealers"]]
    before = read_sealers(client)
    wanted = plan_sealers(before, sealers, p["state"])
    result = {"before": before, "retried": False, "actions": []}
    current = before
    if wanted != before and not module.check_mode:
        for attempt in (1, 2):
            fresh = read_sealers(client)
            if fresh == current:
                break
            if attempt == 2:
                raise MimecastError("The trusted ARC sealer list changed twice while the task ran (%s, then %s); "
                                    "nothing was written. Run the task again when no one else edits the list."
                                    % (before, fresh))
            module.warn("The trusted ARC sealer list changed between the first read and the write (%s, now %s); "
                        "the change was planned again on the newer list." % (current, fresh))
            result["retried"] = True
            current = fresh
            wanted = plan_sealers(current, sealers, p["state"])
    if wanted != current:
        result["actions"].append({"cmdlet": "Set-ArcConfig",
                                  "parameters": {"Identity": IDENTITY, "ArcTrustedSealers": wanted}})
    after = wanted
    if result["actions"] and not module.check_mode:
        action = result["actions"][0]
        client.invoke(action["cmdlet"], action["parameters"], write=True)
        after = read_sealers(client)
        if [s.lower() for s in after] != [s.lower() for s in wanted]:
            raise MimecastError("Exchange Online reads the trusted ARC sealers back as %s after Set-ArcConfig "
                                "wrote %s (another change may have run at the same time). Check the list in the "
                                "Microsoft Defender portal and run the task again." % (after, wanted))
    result["after"] = after
    result["changed"] = bool(result["actions"])
    if module._diff:
        result["diff"] = {"before": "".join(s + "\n" for s in result["before"]),
                          "after": "".join(s + "\n" for s in after)}
    return result


def main():
    argument_spec = dict(
        EXO_ARGUMENT_SPEC,
        sealers=dict(type="list", elements="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_exo_module(module, run)


if __name__ == "__main__":
    main()
