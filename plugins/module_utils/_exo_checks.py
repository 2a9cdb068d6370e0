# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Exchange-side Cloud Integrated checks, as pure functions over the plain data of
``_exo_mail_flow.gather``, returning findings in mimecast_audit's finding format (id, title, severity,
weight, passed, status, why, fix, objects, not_checked).

mimecast_audit talks to Mimecast only; these checks run in exo_mail_flow_info (its ``checks`` result)
and the role reads them from there.

Mimecast's Cloud Integrated set-up article says its transport rules are installed at the top of the list
when Monitor or Protect is enabled, that rules which must stay on top (disclaimer tools) must be moved back,
and that its trusted ARC sealer must be removed by hand when the service is discontinued
(https://mimecastsupport.zendesk.com/hc/en-us/articles/34000408361491-Getting-Started). Mimecast does not
publish the names of its rules, connectors or its sealer domain: the user names them.
"""

from __future__ import annotations

WEIGHTS = {"low": 1, "medium": 3, "high": 5, "critical": 10}

CHECKS = {
    "MC-EXO-001": ("Named transport rules are below the Cloud Integrated rules", "high",
                   "Cloud Integrated puts its transport rules at the top when Monitor or Protect is enabled; rules "
                   "that "
                   "must run first (disclaimer and signature tools) then run after them, which Mimecast warns can "
                   "cause issues and loss of mail.",
                   "Run mailsec.mimecast.exo_transport_rule_order with these rules (or the cloud_integrated role's "
                   "monitor/protect phase) to put them back at priorities 0..n-1."),
    "MC-EXO-002": ("A Mimecast ARC sealer is trusted but Cloud Integrated is gone", "medium",
                   "Mimecast says the trusted ARC sealer is not removed when Cloud Integrated is discontinued; a "
                   "sealer left trusted makes Exchange Online accept authentication results from a service that no "
                   "longer filters the tenant's mail.",
                   "Remove the sealer with mailsec.mimecast.exo_arc_config state=absent (the role's offboard phase)."),
}


def _finding(cid, objects, reasons):
    title, severity, why, fix = CHECKS[cid]
    status = "fail" if objects else ("not_checked" if reasons else "pass")
    return {"id": cid, "title": title, "severity": severity, "weight": WEIGHTS[severity],
            "passed": status == "pass", "status": status, "why": why, "fix": fix,
            "objects": objects, "not_checked": reasons}


def _by_name(rules):
    return {str(r["name"]).lower(): r for r in rules}


def check_rule_order(rules, top_rules, ci_rules=None):
    """MC-EXO-001 over rule views (name, priority): each rule of ``top_rules`` that is not above every
    existing rule of ``ci_rules`` (or, without ci_rules, not at its place 0..n-1 in the order given)."""
    if top_rules is None or rules is None:
        return _finding("MC-EXO-001", [], ["no transport rules were read or none were named (top_rules)"])
    names = _by_name(rules)
    present = [names[n.lower()] for n in top_rules if n.lower() in names]
    objects = [{"rule": n, "detail": "not found in Exchange Online"} for n in top_rules if n.lower() not in names]
    ci = [names[n.lower()] for n in (ci_rules or []) if n.lower() in names]
    if ci_rules:
        first_ci = min(r["priority"] for r in ci) if ci else None
        for rule in present:
            if first_ci is not None and rule["priority"] > first_ci:
                objects.append({"rule": rule["name"], "priority": rule["priority"],
                                "detail": "below the Cloud Integrated rule at priority %s" % first_ci})
    else:
        for index, rule in enumerate(present):
            if rule["priority"] != index:
                objects.append({"rule": rule["name"], "priority": rule["priority"],
                                "detail": "expected at priority %d" % index})
    return _finding("MC-EXO-001", objects, [])


def check_stale_sealer(sealers, mimecast_sealers, rules=None, connectors=None, ci_rules=None, ci_connectors=None):
    """MC-EXO-002: a sealer of ``mimecast_sealers`` is trusted while none of the named Cloud Integrated
    rules (``ci_rules``) and connectors (``ci_connectors``, inbound or outbound) exists any more.
    Without names for the service's rules or connectors, the service's presence cannot be told from
    Exchange: the check is then not checked (a console check)."""
    if sealers is None or not mimecast_sealers:
        return _finding("MC-EXO-002", [], ["the ARC sealers were not read or no Mimecast sealer domain was named "
                                           "(mimecast_sealers)"])
    if not ci_rules and not ci_connectors:
        return _finding("MC-EXO-002", [], ["name Cloud Integrated's transport rules (ci_rules) or connectors "
                                           "(ci_connectors) so the module can tell whether the service is still "
                                           "installed; otherwise check in the Cloud Integrated console"])
    trusted = [s for s in sealers if s.lower() in [m.lower() for m in mimecast_sealers]]
    rule_names = {str(r["name"]).lower() for r in rules or []}
    connector_names = {str(c["name"]).lower() for c in connectors or []}
    installed = any(n.lower() in rule_names for n in ci_rules or []) or \
        any(n.lower() in connector_names for n in ci_connectors or [])
    objects = [] if installed else [{"sealer": s, "detail": "no Cloud Integrated rule or connector was found"}
                                    for s in trusted]
    return _finding("MC-EXO-002", objects, [])
