#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_delivery_route
short_description: Keep a Mimecast delivery route (definition, alternate, policies) as declared
version_added: 0.1.0
description:
  - Manages a delivery route through the API 2.0 endpoints
    C(/policy-management/cloud-gateway/v1/delivery-route/definitions) and C(.../policies) -
    a primary route definition, an optional alternate (fail-over) definition the primary points
    at, and one delivery routing policy per domain, from everyone to that domain.
  - For Google Workspace the primary host is C(ASPMX.L.GOOGLE.COM) and the alternate
    C(ALT1.ASPMX.L.GOOGLE.COM) (Google's published MX list; Mimecast's delivery routing
    documentation does not name Google's hosts, so the module takes the hosts you give and
    does not check them against Google's list).
  - Objects are named from O(description) with the owner tag - the primary C(<description>),
    the alternate C(<description> - alternate) and the policies C(<description> - <domain>).
    Policies of this route for domains no longer listed are deleted.
  - Each list is read once (all pages); only differences are written; deletes go policies
    first, then definitions, because Mimecast refuses to delete a definition in use.
  - Every value is checked before the first write - ports 1-65535, host names (a DNS name or
    an IPv4 address; private, loopback, link-local and other non-public addresses only with
    O(allow_private_host=true)), domains, and the length of every narrative (at most 200
    characters with the owner tag, the collection's own limit) - so a bad value never leaves
    half a route behind.
  - Writes go one by one. If one fails, the task fails with C(changed=true) when anything was
    written, and lists in C(done) every write made and in C(not_done) every planned write not
    made; a re-run makes only the writes still needed. A write with no clear answer (timeout,
    HTTP 5xx) is not sent again; the list is re-read and the write counted as done only if the
    object is there.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    details: Reads the tenant and returns the exact actions; ids of objects to be created are shown as C(null).
  diff_mode:
    support: full
    details: Before and after of the route's definitions and policies.
  idempotent:
    support: full
    details: Host names are compared case-insensitively without a trailing dot; a second identical run makes no write.
options:
  description:
    description: The route's name, the base of every object's narrative.
    type: str
    required: true
  state:
    description: Whether the route exists.
    type: str
    choices: [present, absent]
    default: present
  hostname:
    description: The primary delivery host. Required when O(state=present).
    type: str
  port:
    description: The primary host's port, 1-65535.
    type: int
    default: 25
  alternate_hostname:
    description: The fail-over host. Omit for no alternate route.
    type: str
  alternate_port:
    description: The fail-over host's port, 1-65535.
    type: int
    default: 25
  allow_private_host:
    description:
      - Accept a private, loopback, link-local, shared (100.64.0.0/10) or otherwise non-public
        IPv4 address (or C(localhost)) as O(hostname) or O(alternate_hostname). Mimecast delivers
        from its cloud over the internet, so such a route does not reach your server (or reaches
        someone else's); only set this when your Mimecast tenant really has such a path.
    type: bool
    default: false
    version_added: 0.2.0
  domains:
    description: The recipient domains routed this way (one policy each). Required when O(state=present).
    type: list
    elements: str
    default: []
  override:
    description: Policy override; only one delivery routing policy applies to a message, so this forces this one.
    type: bool
    default: false
  owner_tag:
    description: The tag appended to every object's narrative, which records ownership.
    type: str
    default: '[ansible]'
notes:
  - Mimecast's one-shot route test (C(.../delivery-route/verify)) is not called.
'''

EXAMPLES = r'''
- name: Deliver mail for corp.example from Mimecast to Google Workspace
  mailsec.mimecast.mimecast_delivery_route:
    description: Google Workspace
    hostname: ASPMX.L.GOOGLE.COM
    alternate_hostname: ALT1.ASPMX.L.GOOGLE.COM
    domains: [corp.example]
'''

RETURN = r'''
actions:
  description: The writes, in order (C(action), C(object), C(id)); in check mode those a real run would make.
  returned: always
  type: list
  elements: dict
before:
  description: The route's objects before the task, keyed by narrative.
  returned: always
  type: dict
after:
  description: The route's objects after the task (predicted in check mode), keyed by narrative.
  returned: always
  type: dict
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write), C(auth), C(total)).
  returned: always
  type: dict
done:
  description: On a failed write, every write the task made before it (C(action), C(object), C(id)).
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
not_done:
  description: On a failed write, every planned write not made, the failed one first.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
'''

import ipaddress
import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import NARRATIVE_MAX, WriteFailed
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError, normalise_domain
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import target_from_api

BASE = "/policy-management/cloud-gateway/v1/delivery-route"
DEFINITIONS = BASE + "/definitions"
POLICIES = BASE + "/policies"
# The id of an object check mode predicts would be created.
PENDING = "(to be created)"
# RFC 1123 host name: labels of 1-63 letters, digits and hyphens, at most 253 characters.
_HOST = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)*[a-z0-9-]{1,63}(?<!-)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")


def definition_view(item):
    return {"hostname": normalise_domain(item.get("hostname") or ""), "port": int(item.get("port") or 25),
            "alternateRouteId": item.get("alternateRouteId") or None}


def policy_view(item):
    """A read-back policy in the shape of the body the module sends."""
    to = target_from_api(item, "to")
    return {"definitionId": item.get("definitionId"), "to": {"type": to["type"], "domain": to["value"]},
            "from": {"type": target_from_api(item, "from")["type"]}, "override": bool(item.get("override")),
            "enabled": item.get("enabled", True)}


class Route:
    """Plans (``dry``: check mode and the plan a real run is measured against) or applies the route."""

    def __init__(self, module, client, dry=False):
        self.module = module
        self.client = client
        self.dry = dry
        self.p = module.params
        self.actions = []
        self.before = {}
        self.after = {}

    def name(self, text):
        tag = self.p["owner_tag"]
        return "%s %s" % (text, tag) if tag else text

    def write(self, action, kind, narrative, call, *args):
        """Record an action; run it unless in check mode; return the object id (None if predicted)."""
        entry = {"action": action, "object": narrative, "collection": kind}
        if self.dry:
            self.actions.append(entry)
            return args[0] if action == "update" else PENDING
        try:
            result = call(*args)
            new_id = result[0] if action == "create" else (args[0] if action == "update" else None)
        except MimecastError as exc:
            new_id = self.reconcile(exc, action, narrative, *args)
        entry["id"] = new_id
        # Recorded only once done: self.actions is the exact list of writes made.
        self.actions.append(entry)
        return new_id

    def reconcile(self, exc, action, narrative, *args):
        """A create with no clear answer (timeout, HTTP 5xx): re-read; if the object is there it
        was created (warn, use it), else fail. Not sent again: the first call may still run."""
        if not exc.ambiguous or action != "create":
            raise exc
        path = args[0]
        try:
            found = [i for i in self.client.rest_list(path) if i.get("description") == narrative
                     and i.get("id") not in self.known_ids]
        except MimecastError:
            found = []
        if not found:
            raise MimecastError(
                "%s A re-read shows %r was not created; it was not sent again, because a call that timed "
                "out may still be executed by Mimecast and a second one could make a duplicate."
                % (str(exc.msg), narrative), code=exc.code, status=exc.status, path=exc.path, fix=exc.fix)
        self.module.module.warn("The create of %r got no clear answer (%s) but a re-read shows it was created "
                                "(id %s); counted as done." % (narrative, str(exc.msg).rstrip("."), found[-1]["id"]))
        return found[-1]["id"]

    def ensure(self, path, current, narrative, body, view):
        """Create or patch one object to body; returns its id."""
        obj = current.get(narrative)
        kind = path.rsplit("/", 1)[-1]
        self.after[narrative] = dict(body, id=obj["id"] if obj else PENDING)
        if obj is None:
            created = {k: v for k, v in body.items() if v is not None}
            return self.write("create", kind, narrative, self.client.rest_create, path,
                              dict(created, description=narrative))
        self.before[narrative] = dict(view(obj), id=obj["id"])
        old = view(obj)
        patch = {k: v for k, v in body.items() if k in old and old[k] != v}
        if not patch:
            return obj["id"]
        self.write("update", kind, narrative, lambda i, b: self.client.rest_update("%s/%s" % (path, i), b),
                   obj["id"], patch)
        return obj["id"]

    def delete(self, path, obj, narrative):
        self.before[narrative] = {"id": obj["id"]}
        self.after.pop(narrative, None)
        self.write("delete", path.rsplit("/", 1)[-1], narrative,
                   lambda i: self.client.rest_delete("%s/%s" % (path, i)), obj["id"])

    def run(self, definition_items, policy_items):
        p = self.p
        desc = p["description"]
        self.known_ids = {i.get("id") for i in definition_items + policy_items}
        definitions = self.index(definition_items)
        policies = self.index(policy_items)
        primary_name, alternate_name = self.name(desc), self.name(desc + " - alternate")
        prefix = desc + " - "
        ours = {n: o for n, o in policies.items()
                if n.startswith(prefix) and (not p["owner_tag"] or n.endswith(" " + p["owner_tag"]))}
        wanted = {self.name(prefix + d): d for d in p["domains"]}
        for narrative, obj in sorted(ours.items()):
            if p["state"] == "absent" or narrative not in wanted:
                self.delete(POLICIES, obj, narrative)
        if p["state"] == "absent":
            for narrative in (primary_name, alternate_name):
                if narrative in definitions:
                    self.delete(DEFINITIONS, definitions[narrative], narrative)
            return
        alt_id = None
        if p["alternate_hostname"]:
            alt_id = self.ensure(DEFINITIONS, definitions, alternate_name,
                                 {"hostname": p["alternate_hostname"], "port": p["alternate_port"]}, definition_view)
        primary_id = self.ensure(DEFINITIONS, definitions, primary_name,
                                 {"hostname": p["hostname"], "port": p["port"], "alternateRouteId": alt_id},
                                 definition_view)
        if not p["alternate_hostname"] and alternate_name in definitions:
            self.delete(DEFINITIONS, definitions[alternate_name], alternate_name)
        for narrative, domain in wanted.items():
            self.ensure(POLICIES, policies, narrative,
                        {"definitionId": primary_id, "from": {"type": "everyone"},
                         "to": {"type": "email_domain", "domain": domain}, "override": p["override"], "enabled": True},
                        policy_view)

    def index(self, items):
        out = {}
        for item in items:
            if item.get("description") in out:
                self.module.fail_json(msg="Two objects are named %r (ids %s, %s); the module will not guess."
                                      % (item["description"], out[item["description"]]["id"], item.get("id")))
            out[item.get("description")] = item
        return out


def check_host(value, option, allow_private):
    """A delivery host: a DNS name or a public IPv4 address. Returns the problem or None."""
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        address = None
    if address is not None:
        if address.version != 4:
            return "%s %r: Mimecast delivery routes take a host name or an IPv4 address" % (option, value)
        if not address.is_global and not allow_private:
            return ("%s %r is a private, loopback, link-local or otherwise non-public address, which "
                    "Mimecast's cloud cannot deliver to; give the public host name or address of the mail "
                    "server, or set allow_private_host: true" % (option, value))
        return None
    if not _HOST.match(value) or "." not in value and value != "localhost":
        return "%s %r is not a valid host name (letters, digits, hyphens and dots)" % (option, value)
    if (value == "localhost" or value.endswith(".localhost")) and not allow_private:
        return ("%s %r is this machine (loopback), which Mimecast's cloud cannot deliver to; give the "
                "public host name of the mail server, or set allow_private_host: true" % (option, value))
    return None


def validate(module):
    """Every value, before the first API call: a bad one must not leave half a route behind."""
    p = module.params
    problems = []
    for option in ("port", "alternate_port"):
        if not 1 <= p[option] <= 65535:
            problems.append("%s %d is not a TCP port; use 1-65535 (25 for SMTP)" % (option, p[option]))
    if p["state"] == "present":
        if not p["hostname"]:
            problems.append("hostname is required with state present")
        if not p["domains"]:
            problems.append("domains is required with state present (the recipient domains to route)")
    for option in ("hostname", "alternate_hostname"):
        if p[option]:
            p[option] = normalise_domain(p[option])
            problem = check_host(p[option], option, p["allow_private_host"])
            if problem:
                problems.append(problem)
    domains = []
    for domain in p["domains"]:
        name = normalise_domain(domain)
        if not _DOMAIN.match(name):
            problems.append("domains: %r is not a domain name" % domain)
        elif name not in domains:
            domains.append(name)
    p["domains"] = sorted(domains)
    tag = p["owner_tag"]
    longest = [p["description"] + " - alternate"] + [p["description"] + " - " + d for d in p["domains"]]
    for text in longest:
        stored = "%s %s" % (text, tag) if tag else text
        if len(stored) > NARRATIVE_MAX:
            problems.append(
                "the object name %r would be %d characters long with the owner tag, over the %d the collection "
                "writes (its own limit); shorten description (or the domain)" % (stored, len(stored), NARRATIVE_MAX))
            break
    if problems:
        raise GuardrailError(problems)


def work(module, client):
    validate(module)
    definitions = client.rest_list(DEFINITIONS)
    policies = client.rest_list(POLICIES)
    planned = Route(module, client, dry=True)
    planned.run(definitions, policies)
    if module.check_mode:
        route = planned
    else:
        route = Route(module, client)
        try:
            route.run(definitions, policies)
        except MimecastError as exc:
            raise WriteFailed(exc, route.actions, planned.actions[len(route.actions):])
    return {"changed": bool(route.actions), "actions": route.actions, "before": route.before, "after": route.after}


def main():
    module = MimecastModule(
        dict(
            description=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            hostname=dict(type="str"),
            port=dict(type="int", default=25),
            alternate_hostname=dict(type="str"),
            alternate_port=dict(type="int", default=25),
            domains=dict(type="list", elements="str", default=[]),
            override=dict(type="bool", default=False),
            owner_tag=dict(type="str", default="[ansible]"),
            allow_private_host=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    module.run(lambda client: work(module, client))


if __name__ == "__main__":
    main()
