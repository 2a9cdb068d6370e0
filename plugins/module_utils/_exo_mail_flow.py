# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Exchange Online mail flow for Cloud Integrated: transport rule order, trusted ARC sealers and a
plain read-only view of connectors and rules, over the InvokeCommand client of ``_exo``.

Sources (Microsoft's cmdlet reference, github.com/MicrosoftDocs/office-docs-powershell,
``exchange/exchange-ps/exchange/``):
- Set-TransportRule.md, ``-Priority``: 0 is the highest priority, rules cannot share a value, valid values
  are 0 to (number of rules - 1), and setting a rule to the value of another rule moves that rule and all
  rules after it down by one (https://learn.microsoft.com/powershell/module/exchangepowershell/set-transportrule).
- Get-TransportRule.md: Name, Priority, State, Mode of each rule.
- Get-ArcConfig.md / Set-ArcConfig.md: ``Set-ArcConfig -Identity Default -ArcTrustedSealers <String[]>``
  replaces the whole list; Microsoft's own examples add or remove one sealer by reading the list with
  Get-ArcConfig first (https://learn.microsoft.com/powershell/module/exchangepowershell/set-arcconfig).
  Get-ArcConfig returns ArcTrustedSealers as one comma-separated string in public readers
  (the ORCA report's check ORCA243, github.com/cammurray/orca, splits it on ","), so both forms are read.
- Get-InboundConnector.md / Get-OutboundConnector.md: the connector properties reported here.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    HTTPX_IMPORT_ERROR,
    MimecastError,
    check_options,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC, ExoClient
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError

GATHER_CHOICES = ("inbound_connectors", "outbound_connectors", "transport_rules", "arc_sealers")


# --------------------------------------------------------------------------- transport rule order

def rule_order(rules):
    """Get-TransportRule objects -> their names, highest priority (0) first."""
    return [r["Name"] for r in sorted(rules, key=lambda r: (_int(r.get("Priority")), str(r.get("Name"))))]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1 << 30


def set_priority(order, name, priority):
    """The rule order after ``Set-TransportRule -Identity name -Priority priority`` (Exchange's renumbering:
    the rule leaves its place and takes ``priority``; the rules between its old and new place move by one)."""
    if not 0 <= priority < len(order):
        raise ValueError("priority %s is outside 0..%d" % (priority, len(order) - 1))
    out = [n for n in order if n != name]
    out.insert(priority, name)
    return out


def plan_rule_order(order, top):
    """The Set-TransportRule calls that put ``top`` (names, in order) at priorities 0..len(top)-1.

    One call per named rule that is not yet in its place, none for a rule already there; every other rule
    keeps its relative order. Returns (calls, predicted order); calls are (name, priority)."""
    calls, current = [], list(order)
    for index, name in enumerate(top):
        if current[index] != name:
            calls.append((name, index))
            current = set_priority(current, name, index)
    return calls, current


def match_names(wanted, rules, option):
    """Map the names the user gave onto the rules' names (Exchange names are case-insensitive).
    (found names in the given order, missing names); refuses duplicates."""
    by_lower = {}
    for rule in rules:
        by_lower.setdefault(str(rule.get("Name", "")).lower(), []).append(rule["Name"])
    seen, found, lacking = set(), [], []
    for name in wanted:
        key = str(name).strip().lower()
        if not key:
            raise GuardrailError(["%s: an empty rule name was given; name each rule" % option])
        if key in seen:
            raise GuardrailError(["%s: the rule %r is named twice; name each rule once" % (option, name)])
        seen.add(key)
        matches = by_lower.get(key, [])
        if len(matches) > 1:
            raise MimecastError("%d transport rules are named %r; the module will not guess." % (len(matches), name))
        if matches:
            found.append(matches[0])
        else:
            lacking.append(name)
    return found, lacking


def rule_view(rule):
    """The plain properties of one transport rule."""
    return {"name": rule.get("Name"), "priority": rule.get("Priority"), "state": rule.get("State"),
            "mode": rule.get("Mode"), "guid": rule.get("Guid"), "comments": rule.get("Comments")}


# --------------------------------------------------------------------------- ARC sealers

def parse_sealers(value):
    """ArcTrustedSealers as Exchange returns it (a comma-separated string, a list or null) -> list."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            if part and part.lower() not in [o.lower() for o in out]:
                out.append(part)
    return out


def plan_sealers(current, sealers, state):
    """The new sealer list: ``sealers`` added (present) or removed (absent), every other entry kept in
    its place. Compared case-insensitively (domain names). Returns the new list (equal to current when
    nothing changes)."""
    lower = [s.lower() for s in sealers]
    if state == "absent":
        return [s for s in current if s.lower() not in lower]
    out = list(current)
    for sealer in sealers:
        if sealer.lower() not in [o.lower() for o in out]:
            out.append(sealer)
    return out


# --------------------------------------------------------------------------- read-only view

def connector_view(connector, direction):
    """The plain properties of one inbound or outbound connector."""
    out = {"name": connector.get("Name"), "direction": direction, "enabled": connector.get("Enabled"),
           "connector_type": connector.get("ConnectorType"), "comment": connector.get("Comment")}
    if direction == "inbound":
        out.update({
            "sender_domains": list(connector.get("SenderDomains") or []),
            "sender_ip_addresses": list(connector.get("SenderIPAddresses") or []),
            "require_tls": connector.get("RequireTls"),
            "tls_sender_certificate_name": connector.get("TlsSenderCertificateName"),
            "restrict_domains_to_ip_addresses": connector.get("RestrictDomainsToIPAddresses"),
            "restrict_domains_to_certificate": connector.get("RestrictDomainsToCertificate")})
    else:
        out.update({
            "smart_hosts": list(connector.get("SmartHosts") or []),
            "use_mx_record": connector.get("UseMXRecord"),
            "recipient_domains": list(connector.get("RecipientDomains") or []),
            "is_transport_rule_scoped": connector.get("IsTransportRuleScoped"),
            "tls_settings": connector.get("TlsSettings"),
            "tls_domain": connector.get("TlsDomain")})
    return out


def gather(client, parts):
    """Read the requested parts (GATHER_CHOICES) with Get- cmdlets only."""
    out = {}
    if "inbound_connectors" in parts:
        out["inbound_connectors"] = [connector_view(c, "inbound") for c in client.invoke("Get-InboundConnector")]
    if "outbound_connectors" in parts:
        out["outbound_connectors"] = [connector_view(c, "outbound") for c in client.invoke("Get-OutboundConnector")]
    if "transport_rules" in parts:
        rules = client.invoke("Get-TransportRule")
        by_name = {r["Name"]: r for r in rules}
        out["transport_rules"] = [rule_view(by_name[n]) for n in rule_order(rules)]
    if "arc_sealers" in parts:
        configs = client.invoke("Get-ArcConfig")
        out["arc_sealers"] = parse_sealers(configs[0].get("ArcTrustedSealers")) if configs else []
    return out


# --------------------------------------------------------------------------- module plumbing

def run_exo_module(module, run):
    """Build the Exchange Online client from the EXO_ARGUMENT_SPEC options, call ``run(module, client)``
    and exit; guardrail refusals and service errors end in fail_json with api_calls, never a traceback.
    (The same credential handling as exo_inbound_connector.)"""
    if HTTPX_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    p = module.params
    # Credential injectors (AWX) set every variable, empty ones included: empty means not given.
    if not p["client_secret"]:
        p["client_secret"] = None
    path = p["certificate_path"]
    if path and (not os.path.exists(path) or not os.path.getsize(path)):
        if os.path.exists(path) or p["client_secret"]:
            p["certificate_path"] = None
    if p["client_secret"] and p["certificate_path"]:
        module.fail_json(msg="Give either client_secret or certificate_path, not both.", api_calls={})
    problems = check_options(p)
    if problems:
        module.fail_json(msg="; ".join(problems) + ".", api_calls={})
    client = None
    try:
        client = ExoClient(warn=module.warn, **{k: p[k] for k in EXO_ARGUMENT_SPEC})
        result = run(module, client)
    except GuardrailError as exc:
        module.fail_json(msg="Refused by a guardrail, nothing was sent: " + "; ".join(exc.problems) + ".",
                         problems=exc.problems, api_calls=client.api_calls if client else {})
    except MimecastError as exc:
        module.fail_json(msg=str(exc), error=exc.as_dict(), api_calls=client.api_calls if client else {})
    result["api_calls"] = client.api_calls
    if module._diff and "diff" not in result and "before" in result and "after" in result:
        result["diff"] = {"before": result["before"], "after": result["after"]}
    module.exit_json(**result)
