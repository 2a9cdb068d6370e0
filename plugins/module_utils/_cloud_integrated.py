# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Mimecast Email Security Cloud Integrated policies (API 2.0), for the declarative engine.

Public sources (no Mimecast OpenAPI document is published for these calls):

* Operations: the Mimecast Terraform provider classifies every operation of Mimecast's API 2.0
  catalogue (github.com/Scriptception/terraform-provider-mimecast, ``capabilities/api-v2.json``,
  product ``cloud-integrated``): ``POST /email/cloud-integrated/v1/policies`` (create),
  ``GET``/``PATCH``/``DELETE /email/cloud-integrated/v1/policies/{policyId}`` and
  ``GET /email/cloud-integrated/v1/policies/default-policy``; ``PATCH`` of the default policy is
  left out there as tenant-wide. The catalogue has NO operation that lists the policies, so the
  collection never lists: it reads the Default policy and the policy ids the user gives
  (``policy_ids``) one by one, and returns the ids it knows after the task.
* Fields: same provider, ``internal/client/misc.go`` (``CloudIntegratedPolicy``: ``policyId``,
  ``name``, ``description``, ``protectionMode``, ``targets.senders|recipients`` = ``{route,
  emails, groups: [{id}], domains}``, ``targets.exceptions`` = ``{emails, groups, domains}``,
  ``targets.addressMatch``; create answers ``{"policyId": ...}``; update is a PATCH with the
  whole write body, never ``policyId``/``accountId``).
* Values: same provider, ``internal/provider/cloud_integrated_resource.go`` validators:
  ``protectionMode`` ACTIVE | MONITOR_ONLY, ``route`` ALL | INTERNAL | EXTERNAL, ``addressMatch``
  HEADER | ENVELOPE | BOTH.
* Modes and the Default policy: Mimecast's "Getting Started" article for Email Security Cloud
  Integrated (https://mimecastsupport.zendesk.com/hc/en-us/articles/34000408361491-Getting-Started):
  modes Protect, Monitor and Disabled; "You cannot configure Targets using the default policy";
  user-created policies take priority over the Default policy.

Not settled by any source, and how a wrong guess fails loudly with nothing written:

* Monitor = MONITOR_ONLY and Protect = ACTIVE is read from the value names. A policy whose
  ``protectionMode`` reads back as anything else (for example the Disabled mode, whose API
  value no source names) is never updated: the task is refused before any write, naming the
  value. ``mode: disabled`` is refused for the same reason (set it in the console).
* 403/404 on the Default policy: read as "no Cloud Integrated on this account (or no API
  permission for it)"; the module fails naming the status, the audit skips its CI checks.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Collection, Engine, Spec
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._shapes import ShapeError, read_object

CI = "cloud-integrated"
POLICIES = "/email/cloud-integrated/v1/policies"
DEFAULT_POLICY = POLICIES + "/default-policy"
MODES = {"monitor": "MONITOR_ONLY", "protect": "ACTIVE"}
MODE_NAMES = {api: name for name, api in MODES.items()}
USER_MODES = ("monitor", "protect", "disabled")
ROUTES = ("all", "internal", "external")
ADDRESS_MATCH = ("header", "envelope", "both")
ID_KEYS = ("policyId", "id")
TARGET_FIELDS = ("senders", "recipients", "exceptions", "address_matched_on")
FIELDS = ("mode",) + TARGET_FIELDS
NO_CI_STATUSES = (403, 404)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

_LISTS = dict(
    emails=dict(type="list", elements="str"),
    domains=dict(type="list", elements="str"),
    group_ids=dict(type="list", elements="str"),
)
ROUTE_OPTIONS = dict(route=dict(type="str", choices=list(ROUTES)), **_LISTS)
EXCEPTION_OPTIONS = dict(_LISTS)
ENTRY_OPTIONS = dict(
    description=dict(type="str", required=True),
    mode=dict(type="str", choices=list(USER_MODES)),
    senders=dict(type="dict", options=ROUTE_OPTIONS),
    recipients=dict(type="dict", options=ROUTE_OPTIONS),
    exceptions=dict(type="dict", options=EXCEPTION_OPTIONS),
    address_matched_on=dict(type="str", choices=list(ADDRESS_MATCH)),
)


def _values(values, field, kind):
    out = set()
    for value in values or []:
        text = str(value).strip()
        if kind != "group":
            text = text.lower().rstrip(".")
        if kind == "email" and not _EMAIL.match(text):
            raise GuardrailError(["%s: %r is not an email address; give an address such as user@example.com"
                                  % (field, value)])
        if kind == "domain" and not _DOMAIN.match(text):
            raise GuardrailError(["%s: %r is not a domain; give a domain such as example.com" % (field, value)])
        if not text:
            raise GuardrailError(["%s: an empty value; give a profile group id or leave it out" % field])
        out.add(text)
    return sorted(out)


def normalise_target(value, field, with_route=True):
    """A user target ({route, emails, domains, group_ids}) with sorted, de-duplicated lists."""
    if value is None:
        return None
    out = {"emails": _values(value.get("emails"), field + ".emails", "email"),
           "domains": _values(value.get("domains"), field + ".domains", "domain"),
           "group_ids": _values(value.get("group_ids"), field + ".group_ids", "group")}
    if with_route:
        out["route"] = value.get("route") or "all"
    return out


def _target_from_api(node, with_route=True):
    node = node if isinstance(node, dict) else {}
    groups = [g.get("id") if isinstance(g, dict) else g for g in node.get("groups") or []]
    out = {"emails": sorted({str(e).lower() for e in node.get("emails") or []}),
           "domains": sorted({str(d).lower().rstrip(".") for d in node.get("domains") or []}),
           "group_ids": sorted({str(g) for g in groups if g})}
    if with_route:
        out["route"] = str(node.get("route") or "ALL").lower()
    return out


def _target_to_api(target, with_route=True):
    body = {"route": target["route"].upper()} if with_route else {}
    if target["emails"]:
        body["emails"] = list(target["emails"])
    if target["group_ids"]:
        body["groups"] = [{"id": g} for g in target["group_ids"]]
    if target["domains"]:
        body["domains"] = list(target["domains"])
    return body


def policy_from_api(item):
    """A read-back policy in the module's shape; ``mode`` is None for a value no source maps."""
    targets = item.get("targets") if isinstance(item.get("targets"), dict) else {}
    api_mode = item.get("protectionMode")
    match = targets.get("addressMatch")
    entry = {
        "description": item.get("description"),
        "name": item.get("name"),
        "mode": MODE_NAMES.get(api_mode),
        "senders": _target_from_api(targets.get("senders")),
        "recipients": _target_from_api(targets.get("recipients")),
        "exceptions": _target_from_api(targets.get("exceptions"), with_route=False),
        "address_matched_on": str(match).lower() if match else None,
    }
    if entry["mode"] is None:
        entry["api_protection_mode"] = api_mode
    if item.get("_default"):
        entry["default"] = True
    return entry


class CloudIntegratedCollection(Collection):
    """Cloud Integrated policies: no list call, so the Default policy plus the given ids, read by id."""

    def __init__(self, policy_ids=()):
        super().__init__(CI, POLICIES, "Cloud Integrated policy")
        self.policy_ids = list(dict.fromkeys(str(i).strip() for i in policy_ids or [] if i and str(i).strip()))
        self.found = []
        self.missing = []
        self.default_id = None

    def item_path(self, object_id):
        return "%s/%s" % (self.path, quote(str(object_id), safe=""))

    def get(self, client, path):
        payload = client.rest_get(path)
        try:
            item = dict(read_object(payload, ID_KEYS))
        except ShapeError as exc:
            raise MimecastError(
                "Mimecast answered %s with an object the collection does not understand: %s. Its keys "
                "(values left out): %s. Nothing was changed." % (path, exc.problem, exc.keys),
                path=path,
                fix="Report this response shape (the message holds no values) to the mailsec.mimecast maintainers.")
        item["id"] = item.get("policyId") or item.get("id")
        item["description"] = item.get("description") or item.get("name")
        return item

    def read_default(self, client):
        try:
            item = self.get(client, DEFAULT_POLICY)
        except MimecastError as exc:
            if exc.status in NO_CI_STATUSES:
                raise MimecastError(
                    "Mimecast answered HTTP %s for the Cloud Integrated Default policy (%s): the account has no "
                    "Mimecast Email Security Cloud Integrated, or the API application lacks permission for it. "
                    "Nothing was changed." % (exc.status, DEFAULT_POLICY),
                    code=exc.code, status=exc.status, path=DEFAULT_POLICY,
                    fix="Check that the account has Cloud Integrated and that the API 2.0 application may use "
                    "its policies.")
            raise
        item["_default"] = True
        self.default_id = item["id"]
        return item

    def list(self, client):
        self.found, self.missing = [], []
        items = [self.read_default(client)]
        for policy_id in self.policy_ids:
            if policy_id == self.default_id:
                continue
            try:
                item = self.get(client, self.item_path(policy_id))
            except MimecastError as exc:
                if exc.status == 404:
                    self.missing.append(policy_id)
                    continue
                raise
            if item["id"] != policy_id:
                raise MimecastError(
                    "Mimecast answered the read of Cloud Integrated policy %s with policy %s. Nothing was "
                    "changed." % (policy_id, item["id"]), path=self.item_path(policy_id),
                    fix="Check policy_ids; report this answer to the mailsec.mimecast maintainers.")
            self.found.append(policy_id)
            items.append(item)
        return items

    def create(self, client, body):
        return client.rest_create(self.path, body)[0]


class CloudIntegratedSpec(Spec):
    fields = FIELDS

    def __init__(self, policy_ids=()):
        self.collections = {CI: CloudIntegratedCollection(policy_ids)}

    def prepare(self, entry, state):
        if state in ("deleted", "gathered"):
            return entry
        name = entry["description"]
        if entry.get("mode") == "disabled":
            raise GuardrailError([
                "entry %r: mode disabled is refused: no public source gives the API value of the Disabled mode "
                "and the module will not guess it; set Disabled in the Cloud Integrated console (Policies | Email "
                "| Mode), or remove the policy with state: deleted" % name])
        entry["_collection"] = CI
        entry["senders"] = normalise_target(entry.get("senders"), "senders")
        entry["recipients"] = normalise_target(entry.get("recipients"), "recipients")
        entry["exceptions"] = normalise_target(entry.get("exceptions"), "exceptions", with_route=False)
        return entry

    def defaults(self, collection):
        everyone = {"route": "all", "emails": [], "domains": [], "group_ids": []}
        return {"mode": "monitor", "senders": dict(everyone), "recipients": dict(everyone),
                "exceptions": {"emails": [], "domains": [], "group_ids": []}, "address_matched_on": "both"}

    def from_api(self, collection, item):
        return policy_from_api(item)

    def to_api(self, collection, desired):
        return {
            "name": desired.get("name") or desired["description"],
            "description": desired["description"],
            "protectionMode": MODES[desired["mode"]],
            "targets": {
                "senders": _target_to_api(desired["senders"]),
                "recipients": _target_to_api(desired["recipients"]),
                "exceptions": _target_to_api(desired["exceptions"], with_route=False),
                "addressMatch": desired["address_matched_on"].upper(),
            },
        }


def _unknown_mode(obj):
    entry = obj["entry"]
    return ("Cloud Integrated policy %r (id %s) has the protection mode %r, which no public source maps to "
            "Monitor or Protect (it may be Disabled); the module will not change it. Set the mode in the "
            "console (Policies | Email | Mode), or remove the policy with state: deleted"
            % (entry["description"], obj["id"], entry.get("api_protection_mode")))


class CloudIntegratedEngine(Engine):
    """The engine with the Default policy kept read-only, unknown modes refused and full-body updates."""

    def _default_entries(self, state, entries, default):
        problems = []
        kept = []
        current = default["entry"]
        for entry in entries:
            if self._key(entry) != current["description"]:
                kept.append(entry)
                continue
            name = entry["description"]
            if state == "deleted":
                problems.append(
                    "entry %r is the Cloud Integrated Default policy (id %s), which cannot be deleted: every "
                    "installation has one; remove the entry from config" % (name, default["id"]))
                continue
            targets = [f for f in TARGET_FIELDS if entry.get(f) is not None and entry[f] != current.get(f)]
            if targets:
                problems.append(
                    "entry %r would change %s of the Cloud Integrated Default policy (id %s): Mimecast does not "
                    "let the Default policy be targeted; make a new policy with its own description and these "
                    "targets instead (user-made policies take priority over the Default policy)"
                    % (name, ", ".join(targets), default["id"]))
            elif entry.get("mode") is not None and entry["mode"] != current.get("mode"):
                problems.append(
                    "entry %r would change the mode of the Cloud Integrated Default policy (id %s): the module "
                    "leaves the tenant-wide Default policy alone; make a new policy targeted to everyone with "
                    "mode %s, or change the Default policy in the console" % (name, default["id"], entry["mode"]))
        if problems:
            raise GuardrailError(problems)
        return kept

    def plan(self, state, entries, current):
        default = next((o for o in current if o["entry"].get("default")), None)
        if default is not None and state != "gathered":
            entries = self._default_entries(state, entries, default)
        actions = super().plan(state, entries, current)
        problems = []
        for action in actions:
            obj = action.get("object")
            if obj is None:
                continue
            if obj["entry"].get("default"):
                problems.append("the task would %s the Cloud Integrated Default policy (id %s); the module "
                                "never changes or deletes it (give owner_tag a value so that it is not "
                                "treated as the collection's own)" % (action["action"], obj["id"]))
            elif action["action"] == "update" and obj["entry"].get("mode") is None:
                problems.append(_unknown_mode(obj))
        if problems:
            raise GuardrailError(problems)
        return actions

    def _write(self, action):
        if action["action"] != "update":
            return super()._write(action)
        # The provider's update sends the whole write body (name, protectionMode and targets are
        # required there); a partial PATCH is not shown by any source.
        obj = action["object"]
        body = self.spec.to_api(obj["collection"], self._tagged(action["desired"]))
        return self.spec.collections[obj["collection"]].update(self.client, obj["id"], body)

    def run(self, state, config):
        result = super().run(state, config)
        collection = self.spec.collections[CI]
        deleted = {a["id"] for a in result.get("actions", []) if a["action"] == "delete"}
        ids = [i for i in collection.found if i not in deleted]
        ids += [a["id"] for a in result.get("actions", []) if a["action"] == "create" and a.get("id")]
        result["policy_ids"] = ids
        result["missing_policy_ids"] = list(collection.missing)
        for policy_id in collection.missing:
            self._warn("Cloud Integrated policy id %s (from policy_ids) does not exist any more (HTTP 404); it is "
                       "left out of the returned policy_ids." % policy_id)
        return result
