# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""The anti-spoofing and greylisting bypass policies (API 2.0 cloud-gateway policies), shared by
mimecast_antispoof_bypass, mimecast_greylisting_bypass and mimecast_allowlist."""

from __future__ import annotations

from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Collection
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    GuardrailError,
    check_sender_domains,
    check_source_ips,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import (
    POLICY_ENTRY_OPTIONS,
    POLICY_FIELDS,
    GatewayPolicySpec,
    cidrs_from_api,
)

ANTISPOOF_ENTRY_OPTIONS = dict(
    POLICY_ENTRY_OPTIONS,
    source_ips=dict(type="list", elements="str"),
    spf_domains=dict(type="list", elements="str"),
)
GREYLISTING_ENTRY_OPTIONS = dict(POLICY_ENTRY_OPTIONS, source_ips=dict(type="list", elements="str"))

BASE = "/policy-management/cloud-gateway/v1"
IP = "anti-spoofing"
SPF = "anti-spoofing-bypass"
OPTION = {IP: "no_action", SPF: "enable_bypass"}
KIND = {IP: "ip", SPF: "spf"}


class AntiSpoofBypassSpec(GatewayPolicySpec):
    collections = {
        IP: Collection(IP, BASE + "/anti-spoofing/policies", "anti-spoofing policy (no_action)"),
        SPF: Collection(SPF, BASE + "/anti-spoofing-bypass/policies", "anti-spoofing SPF bypass"),
    }
    fields = ("kind", "option", "source_ips", "spf_domains") + POLICY_FIELDS
    unordered = ("source_ips", "spf_domains")

    def __init__(self, allow_broad_ranges=False):
        self.allow_broad_ranges = allow_broad_ranges

    def prepare(self, entry, state):
        if state in ("deleted", "gathered"):
            return entry
        has_ips, has_spf = entry.get("source_ips") is not None, entry.get("spf_domains") is not None
        if has_ips == has_spf:
            raise GuardrailError([
                "entry %r: give either source_ips (IP-based bypass, recommended) or spf_domains "
                "(SPF-based bypass), not %s" % (entry["description"], "both" if has_ips else "neither")])
        if has_ips:
            entry["_collection"] = IP
            entry["source_ips"] = check_source_ips(entry["source_ips"], self.allow_broad_ranges)
            if not entry["source_ips"]:
                raise GuardrailError(["entry %r: source_ips is empty" % entry["description"]])
        else:
            entry["_collection"] = SPF
            entry["spf_domains"] = check_sender_domains(entry["spf_domains"])
            if not entry["spf_domains"]:
                raise GuardrailError(["entry %r: spf_domains is empty" % entry["description"]])
        entry["kind"] = KIND[entry["_collection"]]
        entry["option"] = OPTION[entry["_collection"]]
        return self.prepare_policy(entry)

    def defaults(self, collection):
        values = self.policy_defaults()
        values.update(kind=KIND[collection], option=OPTION[collection], source_ips=None, spf_domains=None)
        return values

    def from_api(self, collection, item):
        entry = self.policy_from_api(item)
        entry["kind"] = KIND[collection]
        entry["option"] = item.get("option")
        if collection == IP:
            entry["source_ips"] = cidrs_from_api(item)
            entry["spf_domains"] = None
        else:
            entry["source_ips"] = None
            domains = item.get("spfDomains") or (item.get("conditions") or {}).get("spfDomains") or []
            entry["spf_domains"] = [d.lower().rstrip(".") for d in domains]
        return entry

    def to_api(self, collection, desired):
        body = self.policy_to_api(desired)
        body["option"] = desired["option"]
        if collection == IP:
            body["sourceIPs"] = list(desired["source_ips"] or [])
        else:
            body["spfDomains"] = list(desired["spf_domains"] or [])
        return body


GREYLISTING = "greylisting"


class GreylistingBypassSpec(GatewayPolicySpec):
    collections = {
        GREYLISTING: Collection(GREYLISTING, "/policy-management/cloud-gateway/v1/greylisting/policies",
                                "greylisting policy (no_action)"),
    }
    date_fields = ("fromDate", "toDate")
    fields = ("option", "source_ips") + POLICY_FIELDS
    unordered = ("source_ips",)

    def __init__(self, allow_broad_ranges=False):
        self.allow_broad_ranges = allow_broad_ranges

    def prepare(self, entry, state):
        if state in ("deleted", "gathered"):
            return entry
        entry["source_ips"] = check_source_ips(entry.get("source_ips"), self.allow_broad_ranges)
        if not entry["source_ips"]:
            raise GuardrailError(["entry %r: source_ips is required and may not be empty" % entry["description"]])
        entry["_collection"] = GREYLISTING
        entry["option"] = "no_action"
        return self.prepare_policy(entry)

    def defaults(self, collection):
        return dict(self.policy_defaults(), option="no_action", source_ips=None)

    def from_api(self, collection, item):
        entry = self.policy_from_api(item)
        entry["option"] = item.get("option")
        entry["source_ips"] = cidrs_from_api(item)
        return entry

    def to_api(self, collection, desired):
        body = self.policy_to_api(desired)
        body["option"] = desired["option"]
        body["sourceIPs"] = list(desired["source_ips"] or [])
        return body
