# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Profile groups and their members (classic ``/api/directory/*``: Mimecast's endpoint reference,
https://integrations.mimecast.com/documentation/endpoint-reference/directory/find-groups/ and siblings).

Groups are matched on their description (the owner tag appended); members are exact
addresses or domains (Mimecast groups have no wildcards, a domain does not cover its
subdomains). The group list is read once (all pages), each addressed existing group's
members once; member adds and removes go in one call per group and direction (Mimecast
processes the items of one call one by one), with "already exists" / "not found"
answers taken as the idempotent outcome they are.
"""

from __future__ import annotations

import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import (
    ClassicCollection,
    Engine,
    Spec,
    WriteFailed,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError, ascii_domain

GROUP = "profile-group"
FIND = "/api/directory/find-groups"
MEMBERS = "/api/directory/get-group-members"
ADD = "/api/directory/add-group-member"
REMOVE = "/api/directory/remove-group-member"
INTERNAL_DOMAINS = "/api/domain/get-internal-domain"
ALREADY = "err_folder_group_member_already_exists"
NOT_FOUND = "err_folder_email_address_not_found"
# Members added or removed per call. Mimecast documents no limit on the items of one call; the collection
# bounds the request size itself (a group of thousands of members is then changed in several calls).
MEMBER_BATCH = 100
_ADDRESS = re.compile(r"^[^@\s*]+@[^@\s*]+\.[^@\s*]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$")


def normalise_member(value, field="members"):
    """'a@b.example' or 'b.example', lower case; wildcards are refused (exact match only)."""
    text = str(value).strip().lower()
    if "*" in text:
        raise GuardrailError([
            "%s: %r uses a wildcard; Mimecast profile groups match exact addresses or whole "
            "domains only (give %r for the domain)" % (field, value, text.rsplit("@", maxsplit=1)[-1].lstrip("*."))])
    if "@" in text:
        local, dummy, domain = text.rpartition("@")
        if not local.isascii():
            raise GuardrailError(["%s: %r has non-ASCII characters before the '@' (SMTPUTF8), which this module "
                                  "does not support; give the sender's ASCII address" % (field, value)])
        text = "%s@%s" % (local, ascii_domain(domain, field)) if local else text
        if not _ADDRESS.match(text) or not _DOMAIN.match(text.rsplit("@", 1)[-1]):
            raise GuardrailError(["%s: %r is not an email address" % (field, value)])
        return text
    domain = ascii_domain(text, field)
    if not _DOMAIN.match(domain):
        raise GuardrailError(["%s: %r is neither an email address nor a domain" % (field, value)])
    return domain


def read_internal_domains(client):
    """The tenant's internal domains (role permission Directories | Internal | Read)."""
    return sorted({(d.get("domain") or "").lower() for d in client.classic(INTERNAL_DOMAINS, paginate=True)} - {""})


def member_body(group_id, member):
    key = "emailAddress" if "@" in member else "domain"
    return {"id": group_id, key: member}


class GroupCollection(ClassicCollection):
    can_update = True
    # New and removed groups go up to 20 per call: create-group and delete-group take one group per item of
    # the "data" array, which Mimecast processes as separate calls with per-item refusals in "fail"
    # (https://integrations.mimecast.com/documentation/api-overview/api-concepts). 20 is the bound a public
    # client uses for batched classic creates (netskopeoss/ta_cloud_exchange_plugins mimecast/main.py).
    batch_size = 20

    def __init__(self):
        super().__init__(GROUP, "profile group", FIND, "/api/directory/create-group",
                         "/api/directory/delete-group", list_data=[{"source": "cloud"}])

    def list(self, client):
        folders = []
        for page in client.classic(self.path, self.list_data, paginate=True):
            folders.extend(page.get("folders") or [])
        return folders

    def update(self, client, object_id, patch):
        client.classic("/api/directory/update-group", [dict(patch, id=object_id)], write=True)


class GroupSpec(Spec):
    """Groups for the engine; members are synchronised by MemberSync afterwards."""

    key = "description"
    tag_field = "description"
    fields = ()

    def __init__(self, check_member=None, check_for=None):
        """``check_member(member)`` guards every group's members; ``check_for(description)`` returns
        the check for one group (or None): guardrails follow the group, not the module."""
        self.collections = {GROUP: GroupCollection()}
        self.check_member = check_member
        self.check_for = check_for

    def prepare(self, entry, state):
        members = entry.get("members")
        if members is not None:
            normalised = []
            problems = []
            check = self.check_member or (self.check_for(entry["description"]) if self.check_for else None)
            for value in members:
                try:
                    member = normalise_member(value)
                    if check:
                        check(member)
                except GuardrailError as exc:
                    problems.extend(exc.problems)
                    continue
                if member not in normalised:
                    normalised.append(member)
            if problems:
                raise GuardrailError(problems)
            entry["members"] = normalised
        entry["_collection"] = GROUP
        return entry

    def from_api(self, collection, item):
        return {"description": item.get("description"), "user_count": item.get("userCount")}

    def to_api(self, collection, desired):
        return {"description": desired["description"]}


def read_members(client, group_id):
    members = []
    for page in client.classic(MEMBERS, [{"id": group_id}], paginate=True, page_size=500):
        for item in page.get("groupMembers") or []:
            value = item.get("emailAddress") or item.get("domain")
            if value:
                members.append(value.lower())
    return members


class GroupSync:
    """Groups through the engine, then their members, in phases a transaction can interleave:
    ``prepare`` (no call), ``plan`` (reads only), ``apply`` (writes), ``result``.

    Writes go one by one (group writes, then one member call per group and direction); on a
    failure WriteFailed lists every write done (member calls with the members that a re-read
    shows were really added or removed) and every planned write not done.
    """

    def __init__(self, client, spec, state, owner_tag="[ansible]", adopt=False, check_mode=False,
                 on_duplicate="fail", warn=None):
        self.client = client
        self.state = state
        self.adopt = adopt
        self.check_mode = check_mode
        self.warn = warn or getattr(client, "_warn", None) or (lambda msg: None)
        self.engine = Engine(client, spec, owner_tag=owner_tag, adopt=adopt, check_mode=check_mode,
                             on_duplicate=on_duplicate, warn=warn)
        self.entries = []
        self.gathered = None
        self.group_actions = []
        self.member_actions = []
        self.before, self.after = {}, {}
        self.done = []

    def prepare(self, config):
        """Validate the entries (guardrails included); no API call."""
        self.entries = self.engine.prepare(self.state, config)

    def plan(self, lister=None):
        """Read the groups (through ``lister`` when given) and the addressed groups' members; plan."""
        engine, state, client = self.engine, self.state, self.client
        current = engine.read([GROUP], lister=lister)
        if state == "gathered":
            self.gathered = []
            for obj in current:
                if obj["owned"]:
                    entry = engine.public(obj)
                    entry["members"] = sorted(read_members(client, obj["id"]))
                    self.gathered.append(entry)
            return
        group_actions = engine.plan(state, self.entries, current)
        by_key = {obj["entry"]["description"]: obj for obj in current
                  if obj["owned"] or self.adopt}
        by_key.update(engine.owned_index)
        deleted = {a["object"]["id"] for a in group_actions if a["action"] == "delete"}
        member_plan = []
        before, after = {}, {}
        for entry in self.entries:
            key = entry["description"]
            obj = by_key.get(key)
            existing = []
            if obj and obj["id"] not in deleted and state != "deleted":
                existing = read_members(client, obj["id"])
            if obj:
                before[key] = {"id": obj["id"], "members": sorted(existing) if state != "deleted" else None}
            if state == "deleted":
                continue
            wanted = entry.get("members")
            if wanted is None:
                wanted = existing if obj else []
            add = [m for m in wanted if m not in existing]
            remove = [m for m in existing if m not in wanted] if state in ("replaced", "overridden") else []
            final = sorted(set(existing) - set(remove) | set(add))
            after[key] = {"id": obj["id"] if obj else None, "members": final}
            member_plan.append({"description": key, "object": obj, "add": add, "remove": remove})
        for action in group_actions:
            if action["action"] == "delete" and not action.get("duplicate"):
                key = action["object"]["entry"]["description"]
                before.setdefault(key, {"id": action["object"]["id"], "members": None})
                after.pop(key, None)
        member_actions = []
        for item in member_plan:
            group_id = item["object"]["id"] if item["object"] else None
            for verb, members in (("add_members", item["add"]), ("remove_members", item["remove"])):
                for start in range(0, len(members), MEMBER_BATCH):
                    member_actions.append({"action": verb, "description": item["description"],
                                           "members": members[start:start + MEMBER_BATCH], "id": group_id})
        engine._known_ids = {o["id"] for o in current}
        self.group_actions, self.member_actions = group_actions, member_actions
        self.before, self.after = before, after

    def planned(self):
        """Every planned write, described (for a transaction's ``not_done``)."""
        return [self.engine.describe(a) for a in self.group_actions] + [dict(a) for a in self.member_actions]

    def apply(self):
        engine, client, member_actions, after = self.engine, self.client, self.member_actions, self.after
        self.done = []
        try:
            engine.apply(self.group_actions)
        except WriteFailed as exc:
            # The member changes planned after the failed group write were not made either.
            raise WriteFailed(exc.cause, exc.done, exc.not_done + [dict(a) for a in member_actions],
                              restored=exc.restored, note=exc.note)
        created = {a["desired"]["description"]: a.get("id") for a in self.group_actions if a["action"] == "create"}
        for action in member_actions:
            if action["id"] is None:
                action["id"] = created.get(action["description"])
            if action["description"] in after and action["id"]:
                after[action["description"]]["id"] = action["id"]
        done = self.done = list(engine.done)
        for index, action in enumerate(member_actions):
            if self.check_mode:
                break
            adding = action["action"] == "add_members"
            try:
                client.classic(ADD if adding else REMOVE, [member_body(action["id"], m) for m in action["members"]],
                               write=True, tolerate=(ALREADY,) if adding else (NOT_FOUND,))
            except MimecastError as exc:
                # Mimecast processes the members of one call one by one: re-read the group to say
                # exactly which of them took effect before the failure.
                try:
                    now = set(read_members(client, action["id"]))
                except MimecastError:
                    now = None
                not_done = [dict(a) for a in member_actions[index + 1:]]
                if now is not None:
                    made = [m for m in action["members"] if (m in now) == adding]
                    missing = [m for m in action["members"] if m not in made]
                    if made:
                        done.append(dict(action, members=made))
                    if not missing:
                        self.warn(
                            "The %s call for %r got no clear answer (%s) but a re-read shows it took effect; "
                            "counted as done." % (action["action"], action["description"], str(exc.msg).rstrip(".")))
                        continue
                    not_done.insert(0, dict(action, members=missing))
                    note = None
                else:
                    not_done.insert(0, dict(action))
                    note = "A re-read of the group's members failed too, so which members changed is unknown."
                raise WriteFailed(exc, done, not_done, note=note)
            done.append(dict(action))

    def result(self):
        result = {"changed": False, "actions": []}
        if self.state == "gathered":
            result["gathered"] = self.gathered
            return result
        result["actions"] = [self.engine.describe(a) for a in self.group_actions] + self.member_actions
        result["changed"] = bool(result["actions"])
        result["before"], result["after"] = self.before, self.after
        return result


def sync_groups(client, spec, state, config, owner_tag="[ansible]", adopt=False, check_mode=False,
                on_duplicate="fail", warn=None):
    """Groups through the engine, then their members (see GroupSync). Returns the module result."""
    sync = GroupSync(client, spec, state, owner_tag=owner_tag, adopt=adopt, check_mode=check_mode,
                     on_duplicate=on_duplicate, warn=warn)
    sync.prepare(config)
    sync.plan()
    if state != "gathered":
        sync.apply()
    return sync.result()
