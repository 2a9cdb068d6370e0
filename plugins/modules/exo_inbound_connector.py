#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: exo_inbound_connector
short_description: Keep an Exchange Online inbound connector (Mimecast lockdown, vendor partner connector) as declared
version_added: 0.1.0
description:
  - Manages one Exchange Online inbound connector by name through the
    C(/adminapi/beta/{tenant}/InvokeCommand) REST endpoint (the one the Exchange Online
    PowerShell module uses), with an app-only Microsoft Entra token.
  - The Mimecast lockdown is a C(Partner) connector for C(SenderDomains *) that requires TLS,
    expects the certificate C(*.mimecast.com) and accepts mail only from Mimecast's ranges
    (O(restrict_domains_to_ip_addresses=true) with O(sender_ip_addresses)), or only with that
    certificate (O(restrict_domains_to_certificate=true)).
  - The same module makes a phishing-simulation vendor's partner receive connector, which
    vendors such as Dune Security and Hoxhunt recommend over allowlisting in the gateway.
  - B(Exchange accepts IPv4 masks /24 through /32 only.) Ranges from /21 to /23 in
    O(sender_ip_addresses) are split into /24s before anything is sent (a /22 is never sent).
    Ranges broader than /21 (Mimecast's broadest, the two published ZA /22s collapsed into
    C(41.74.192.0/21) as M(mailsec.mimecast.mimecast_ip_range) returns them) are refused
    instead of being split into thousands of entries; IPv6, private or reserved ranges and ranges
    overlapping Microsoft 365 or Google sending ranges are refused, before any call.
  - Every connector the module creates carries the marker C([mailsec.mimecast]) at the end of
    its C(Comment). V(state=absent) removes a connector of that name only if it carries the
    marker, or if its properties match the task (which then names O(sender_ip_addresses) or
    O(tls_sender_certificate_name)), or with O(force=true); otherwise it refuses and removes
    nothing. V(state=present) on a same-named connector without the marker (one made before
    version 0.2.0 or by hand) adopts it, adds the marker and warns.
  - Reads all inbound connectors once (all pages), compares, and sends C(New-InboundConnector)
    or a C(Set-InboundConnector) with only the parameters that differ; V(absent) sends
    C(Remove-InboundConnector).
  - Errors carry Exchange's C(code|type|message) and the fix (for example the missing
    C(Exchange.ManageAsApp) permission or Entra role).
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.exo
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.ACTION_GROUP_EXO
attributes:
  check_mode:
    support: full
    details: Reads the connectors and returns the exact cmdlet a real run would send, without sending it.
  diff_mode:
    support: full
    details: Before and after of the connector's managed properties.
  idempotent:
    support: full
    details: IP ranges and domains are compared as sets after normalising Exchange's read-back forms.
options:
  name:
    description: The connector's name, its natural key.
    type: str
    required: true
  state:
    description: Whether the connector exists.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With V(state=absent), remove a same-named connector even if it was not made by this
        collection (no C([mailsec.mimecast]) marker in its Comment) and does not match the task.
    type: bool
    default: false
    version_added: 0.2.0
  connector_type:
    description: V(Partner) for Mimecast and vendors; V(OnPremises) for a hybrid on-premises organisation.
    type: str
    choices: [Partner, OnPremises]
    default: Partner
  sender_domains:
    description: Sender domains the connector applies to; Mimecast uses V(*).
    type: list
    elements: str
    default: ['*']
  sender_ip_addresses:
    description:
      - IPv4 addresses or ranges mail must come from. /21 to /23 ranges are split into /24s
        (at most 8 entries each); broader ranges are refused.
      - An address range C(a.b.c.d-e.f.g.h) is taken as the CIDRs that cover exactly its addresses.
      - Compared as a set. Exchange may return an entry as a single address, a CIDR or an address range
        C(a.b.c.d-e.f.g.h); each is compared by the addresses it covers. An entry of any other form is
        reported in RV(before) as it is and replaced by this list.
    type: list
    elements: str
  restrict_domains_to_ip_addresses:
    description: Reject mail for O(sender_domains) from addresses not in O(sender_ip_addresses).
    type: bool
    default: false
  restrict_domains_to_certificate:
    description: Accept mail only when the sender's certificate matches O(tls_sender_certificate_name).
    type: bool
    default: false
  require_tls:
    description: Reject mail not sent over TLS.
    type: bool
    default: true
  tls_sender_certificate_name:
    description: The certificate name senders must present, for example C(*.mimecast.com).
    type: str
  enabled:
    description: Whether the connector is enabled.
    type: bool
    default: true
  comment:
    description:
      - A comment on the connector. The module appends the marker C([mailsec.mimecast]) to it.
    type: str
notes:
  - The InvokeCommand endpoint is what the Exchange Online PowerShell module uses in REST mode; it is
    not documented by Microsoft as a public API. The module relies on the request and answer shapes that
    public clients of it use (for example CIPP-API's C(New-ExoRequest.ps1) and GreyCorbel's ExoHelper); an
    answer of any other shape fails the task instead of being guessed at.
  - An environment variable set to an empty value counts as not set (AWX injects every field of a
    credential, empty ones included), so the option's default applies.
  - The AWX credential type C(extensions/awx/credential_type_exchange_online.yml) injects E(EXO_TENANT),
    E(EXO_APP_ID), E(EXO_CLIENT_SECRET), E(EXO_CERTIFICATE_PATH) and E(EXO_CERTIFICATE_PASSWORD).
'''

EXAMPLES = r'''
- name: Accept mail for every sender domain only from Mimecast's ranges, over TLS
  mailsec.mimecast.exo_inbound_connector:
    tenant: contoso.onmicrosoft.com
    app_id: "{{ exo_app_id }}"
    certificate_path: /secure/exo-app.pem
    name: Mimecast inbound (lockdown)
    sender_domains: ['*']
    require_tls: true
    tls_sender_certificate_name: '*.mimecast.com'
    restrict_domains_to_ip_addresses: true
    sender_ip_addresses: "{{ (lookup('ansible.builtin.vars', 'mimecast_ranges')).exchange }}"
'''

RETURN = r'''
actions:
  description: The cmdlet sent (or, in check mode, that would be sent), with its parameters.
  returned: always
  type: list
  elements: dict
  sample: [{cmdlet: Set-InboundConnector, parameters: {Identity: Mimecast inbound, SenderIPAddresses: [205.139.110.0/24]}}]
before:
  description: The connector's managed properties before the task (empty when it did not exist).
  returned: always
  type: dict
after:
  description: The connector's managed properties after the task (predicted in check mode).
  returned: always
  type: dict
split:
  description: Ranges broader than /24 that were split into /24s, with their /24s.
  returned: always
  type: dict
api_calls:
  description: Calls made (C(read), C(write), C(auth) for the Entra token, C(total)).
  returned: always
  type: dict
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo_mail_flow import run_exo_module
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError, check_source_ips

# option name -> Exchange parameter
PARAMETERS = {
    "connector_type": "ConnectorType",
    "sender_domains": "SenderDomains",
    "sender_ip_addresses": "SenderIPAddresses",
    "restrict_domains_to_ip_addresses": "RestrictDomainsToIPAddresses",
    "restrict_domains_to_certificate": "RestrictDomainsToCertificate",
    "require_tls": "RequireTls",
    "tls_sender_certificate_name": "TlsSenderCertificateName",
    "enabled": "Enabled",
    "comment": "Comment",
}
SETS = ("SenderDomains", "SenderIPAddresses")
# Written into the Comment of every connector the module creates (or adopts with state=present);
# state=absent removes only a connector carrying it, one matching the task, or with force.
MARKER = "[mailsec.mimecast]"
# Exchange Online accepts IPv4 masks /24 to /32 in SenderIPAddresses (Microsoft's New-InboundConnector
# reference: https://learn.microsoft.com/powershell/module/exchange/new-inboundconnector; the limit was added
# after https://github.com/MicrosoftDocs/office-docs-powershell/issues/8064). Mimecast's broadest published
# ranges are /22s (ZA, 41.74.192.0/22 and 41.74.196.0/22 in
# https://mimecastsupport.zendesk.com/hc/en-us/articles/34000792642963), which mimecast_ip_range collapses into
# 41.74.192.0/21; nothing broader is split (at most 8 entries per range): a /8 would be 65,536 entries.
EXCHANGE_PREFIX = 24
BROADEST_PREFIX = 21


def networks(value):
    """One SenderIPAddresses entry -> the exact CIDRs it covers; ValueError if it is none of the forms.

    Exchange IP lists take a single address, a CIDR or a range ``a.b.c.d-e.f.g.h`` (the
    ``192.168.0.1-192.168.0.254`` form of the "Valid values" lists on Microsoft's Exchange cmdlet pages,
    e.g. https://learn.microsoft.com/powershell/module/exchangepowershell/set-hostedconnectionfilterpolicy;
    SenderIPAddresses itself: https://learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector).
    A range becomes the CIDRs that cover exactly its addresses (at most 62 for IPv4, so bounded).
    """
    text = str(value).strip()
    if "-" in text:
        first, last = text.split("-", 1)
        start, end = ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())
        if start.version != end.version or start > end:
            raise ValueError("%r is not an address range" % text)
        return list(ipaddress.summarize_address_range(start, end))
    return [ipaddress.ip_network(text, strict=False)]


def read_back_ranges(values):
    """SenderIPAddresses as Exchange returns them -> sorted /24-or-narrower CIDRs, never raising.

    Ranges become their exact CIDRs, CIDRs from /21 to /23 are split into /24s (as exchange_ranges does
    for the desired side), so equal address sets compare equal; an entry of no known form (or broader
    than /21) is kept as text: it then differs from the task and the list is rewritten, not crashed on."""
    out = set()
    for value in values or []:
        try:
            nets = networks(value)
        except ValueError:
            out.add(str(value).strip())
            continue
        for net in nets:
            if BROADEST_PREFIX <= net.prefixlen < EXCHANGE_PREFIX and net.version == 4:
                out.update(str(p) for p in net.subnets(new_prefix=EXCHANGE_PREFIX))
            else:
                out.add(str(net))
    return sorted(out)


def range_problem(net):
    """Why one network cannot go into SenderIPAddresses, or None."""
    if net.version != 4:
        return "sender_ip_addresses: %s is IPv6; Exchange Online connectors accept IPv4 only" % net
    if net.prefixlen < BROADEST_PREFIX:
        return ("sender_ip_addresses: %s is broader than /%d, Mimecast's broadest range; Exchange "
                "accepts /24 to /32 only, so it would become %d connector entries. List the /24s (or narrower "
                "ranges) the sender really uses" % (net, BROADEST_PREFIX, 2 ** (EXCHANGE_PREFIX - net.prefixlen)))
    return None


def exchange_ranges(values):
    """Split to /24-or-narrower IPv4 CIDRs; refuse IPv6, ranges broader than /21, private or
    reserved ranges and shared cloud ranges, all before any split. (cidrs, split)
    An address range ``a.b.c.d-e.f.g.h`` is taken as the CIDRs it covers."""
    problems, nets = [], []
    for value in values:
        try:
            found = networks(value)
        except ValueError:
            problems.append("sender_ip_addresses: %r is not an IP address, CIDR or range a.b.c.d-e.f.g.h" % value)
            continue
        for net in found:
            problem = range_problem(net)
            if problem:
                problems.append(problem)
            else:
                nets.append(net)
    if problems:
        raise GuardrailError(problems)
    # Private, reserved and Microsoft 365 / Google ranges are refused on the ranges as given.
    checked = check_source_ips([str(n) for n in nets], allow_broad_ranges=True, field="sender_ip_addresses")
    out, split = [], {}
    for cidr in checked:
        net = ipaddress.ip_network(cidr)
        parts = list(net.subnets(new_prefix=EXCHANGE_PREFIX)) if net.prefixlen < EXCHANGE_PREFIX else [net]
        if len(parts) > 1:
            split[cidr] = [str(p) for p in parts]
        out.extend(str(p) for p in parts if str(p) not in out)
    return out, split


def has_marker(connector):
    return MARKER in str(connector.get("Comment") or "")


def with_marker(comment):
    text = str(comment or "").replace(MARKER, "").strip()
    return ("%s %s" % (text, MARKER)).strip()


def absent_refusal(p, connector, desired):
    """Why a same-named connector not made by the collection may not be removed, or None."""
    if has_marker(connector) or p["force"]:
        return None
    current = current_properties(connector)
    differs = sorted(k for k, v in desired.items() if v is not None and k != "Comment" and current.get(k) != v)
    if p["comment"] is not None and str(connector.get("Comment") or "").strip() != p["comment"].strip():
        differs.append("Comment")
    if not differs and (p["sender_ip_addresses"] or p["tls_sender_certificate_name"]):
        return None
    why = ("its %s differ from this task's" % ", ".join(differs) if differs else
           "this task names neither its sender_ip_addresses nor its tls_sender_certificate_name")
    return ("the inbound connector %r was not made by mailsec.mimecast (no %s in its Comment) and %s, so it "
            "may belong to someone else; nothing was removed. Describe the connector in the task (its "
            "sender_ip_addresses, tls_sender_certificate_name and other properties) or set force: true to remove "
            "it anyway" % (p["name"], MARKER, why))


def normalise_domain(value):
    """Exchange reads SenderDomains back as 'smtp:*;1'; compare the bare domain."""
    text = str(value).strip()
    if text.lower().startswith("smtp:"):
        text = text[5:]
    return text.split(";", 1)[0].lower()


def current_properties(connector):
    props = {}
    for param in PARAMETERS.values():
        value = connector.get(param)
        if param == "SenderDomains":
            value = sorted(normalise_domain(v) for v in value or [])
        elif param == "SenderIPAddresses":
            value = read_back_ranges(value)
        props[param] = value
    return props


def desired_properties(params, ranges):
    props = {}
    for option, param in PARAMETERS.items():
        value = params[option]
        if option == "sender_domains":
            value = sorted(normalise_domain(v) for v in value)
        elif option == "sender_ip_addresses":
            value = sorted(ranges) if value is not None else None
        props[param] = value
    return props


def run(module, client):
    p = module.params
    ranges, split = [], {}
    if p["sender_ip_addresses"] is not None:
        ranges, split = exchange_ranges(p["sender_ip_addresses"])
    if p["restrict_domains_to_ip_addresses"] and not ranges and p["state"] == "present":
        raise GuardrailError(["restrict_domains_to_ip_addresses needs sender_ip_addresses; without them "
                              "Exchange would reject all mail for the sender domains"])
    if p["restrict_domains_to_certificate"] and not p["tls_sender_certificate_name"] and p["state"] == "present":
        raise GuardrailError(["restrict_domains_to_certificate needs tls_sender_certificate_name"])
    connectors = [c for c in client.invoke("Get-InboundConnector") if c.get("Name") == p["name"]]
    if len(connectors) > 1:
        raise MimecastError("%d inbound connectors are named %r; the module will not guess." % (len(connectors), p["name"]))
    before = current_properties(connectors[0]) if connectors else {}
    result = {"changed": False, "actions": [], "split": split, "before": before}
    desired = desired_properties(p, ranges)
    if p["state"] == "absent":
        if connectors:
            refusal = absent_refusal(p, connectors[0], desired)
            if refusal:
                raise GuardrailError([refusal])
            result["actions"].append({"cmdlet": "Remove-InboundConnector",
                                      "parameters": {"Identity": p["name"], "Confirm": False}})
        result["after"] = {}
    else:
        if connectors and not has_marker(connectors[0]):
            # Made before 0.2.0 or by hand: this task manages it from now on (adopted).
            desired["Comment"] = with_marker(p["comment"] if p["comment"] is not None
                                             else connectors[0].get("Comment"))
            module.warn("%s the inbound connector %r, which has no %s in its Comment (made before version 0.2.0 "
                        "or by hand): the marker %s added, so state=absent may remove it later."
                        % ("Adopting" if module.check_mode else "Adopted", p["name"], MARKER,
                           "would be" if module.check_mode else "was"))
        else:
            desired["Comment"] = with_marker(p["comment"]) if p["comment"] is not None or not connectors else None
        if not connectors:
            params = {k: v for k, v in desired.items() if v is not None}
            params["Name"] = p["name"]
            result["actions"].append({"cmdlet": "New-InboundConnector", "parameters": params})
            result["after"] = {k: desired.get(k) for k in PARAMETERS.values()}
        else:
            changes = {k: v for k, v in desired.items() if v is not None and before.get(k) != v}
            if changes:
                result["actions"].append({"cmdlet": "Set-InboundConnector",
                                          "parameters": dict(changes, Identity=p["name"])})
            result["after"] = dict(before, **changes)
    result["changed"] = bool(result["actions"])
    if not module.check_mode:
        for action in result["actions"]:
            client.invoke(action["cmdlet"], action["parameters"], write=True)
    return result


def main():
    argument_spec = dict(
        EXO_ARGUMENT_SPEC,
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force=dict(type="bool", default=False),
        connector_type=dict(type="str", default="Partner", choices=["Partner", "OnPremises"]),
        sender_domains=dict(type="list", elements="str", default=["*"]),
        sender_ip_addresses=dict(type="list", elements="str"),
        restrict_domains_to_ip_addresses=dict(type="bool", default=False),
        restrict_domains_to_certificate=dict(type="bool", default=False),
        require_tls=dict(type="bool", default=True),
        tls_sender_certificate_name=dict(type="str"),
        enabled=dict(type="bool", default=True),
        comment=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_exo_module(module, run)


if __name__ == "__main__":
    main()
