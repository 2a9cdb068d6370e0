# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""One declarative engine behind every list module.

read all (one read per list, all pages) -> normalise -> match on the natural key ->
plan create / update / replace / delete -> check-mode gate -> apply -> before/after.

Ownership: every object the collection writes carries ``owner_tag`` at the end of its
narrative (``description``), e.g. ``"Dune Security IP bypass [ansible]"``. The natural
key is the narrative without the tag. ``overridden`` and ``deleted`` without entries
touch only tagged objects; an untagged object whose narrative equals a key is refused
unless ``adopt: true`` (or ``owner_tag: ''``, which makes every object the module's).
"""

from __future__ import annotations

import copy

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError

STATES = ("merged", "replaced", "overridden", "deleted", "gathered")


class EngineError(MimecastError):
    pass


class Collection:
    """One Mimecast list the module manages (a REST collection)."""

    def __init__(self, name, path, label):
        self.name = name
        self.path = path
        self.label = label

    def item_path(self, object_id):
        return "%s/%s" % (self.path, object_id)


class Spec:
    """What a module tells the engine about its object type. Subclasses override."""

    key = "description"
    collections = {}
    # Fields of the user-facing entry that are compared (after normalisation).
    fields = ()
    # Fields whose order does not matter (compared as sorted lists).
    unordered = ()

    def prepare(self, entry, state):
        """Validate one config entry (guardrails) and return it normalised.

        Must set ``entry['_collection']`` when the state writes. Unspecified options stay None.
        """
        raise NotImplementedError

    def defaults(self, collection):
        """Values for options the user left out, for creates and ``replaced``."""
        return {}

    def from_api(self, collection, item):
        """A read-back item in the user-facing shape (description included, untagged)."""
        raise NotImplementedError

    def to_api(self, collection, desired, description):
        """The create body for a desired entry; ``description`` carries the owner tag."""
        raise NotImplementedError

    def needed_collections(self, entries, state):
        """Lists to read. All of them by default: an entry may have moved between them."""
        return list(self.collections)


def _comparable(spec, entry):
    out = {}
    for field in spec.fields:
        value = entry.get(field)
        if field in spec.unordered and isinstance(value, list):
            value = sorted(value)
        out[field] = value
    return out


class Engine:
    def __init__(self, client, spec, owner_tag="[ansible]", adopt=False, check_mode=False):
        self.client = client
        self.spec = spec
        self.owner_tag = owner_tag or ""
        self.adopt = adopt
        self.check_mode = check_mode

    # ------------------------------------------------------------------ ownership
    def _stored_description(self, key):
        return "%s %s" % (key, self.owner_tag) if self.owner_tag else key

    def _split_description(self, description):
        description = description or ""
        if not self.owner_tag:
            return description, True
        suffix = " " + self.owner_tag
        if description.endswith(suffix):
            return description[: -len(suffix)], True
        return description, False

    # ------------------------------------------------------------------ read
    def read(self, collection_names):
        """Every existing object of the named collections, normalised."""
        current = []
        for name in collection_names:
            collection = self.spec.collections[name]
            for item in self.client.rest_list(collection.path):
                entry = self.spec.from_api(name, item)
                key, owned = self._split_description(entry.get("description"))
                entry["description"] = key
                current.append({
                    "id": item.get("id"),
                    "collection": name,
                    "owned": owned,
                    "stored_description": item.get("description"),
                    "entry": entry,
                })
        return current

    def _index(self, current):
        owned, unowned = {}, {}
        for obj in current:
            target = owned if obj["owned"] else unowned
            target.setdefault(obj["entry"]["description"], []).append(obj)
        for key, objs in owned.items():
            if len(objs) > 1:
                raise EngineError(
                    "%d objects on the tenant share the narrative %r (ids %s); the collection "
                    "will not guess which one is meant. Nothing was changed."
                    % (len(objs), self._stored_description(key), ", ".join(o["id"] for o in objs)),
                    fix="Delete or rename the extra objects in the console, then re-run.",
                )
        return owned, unowned

    def _match(self, key, owned, unowned):
        if key in owned:
            return owned[key][0]
        objs = unowned.get(key) or []
        if not objs:
            return None
        if not self.adopt:
            raise EngineError(
                "An object with the narrative %r already exists (id %s) but was not written by "
                "this collection (its narrative lacks the owner tag %r). Nothing was changed."
                % (key, objs[0]["id"], self.owner_tag),
                fix="Give the entry another description, or set adopt: true to take that object "
                "over (the owner tag is then added to its narrative).",
            )
        if len(objs) > 1:
            raise EngineError(
                "%d objects share the narrative %r (ids %s); refusing to adopt one of them. "
                "Nothing was changed." % (len(objs), key, ", ".join(o["id"] for o in objs)),
                fix="Delete or rename the extra objects in the console, then re-run.",
            )
        return objs[0]

    # ------------------------------------------------------------------ plan
    def plan(self, state, entries, current):
        owned, unowned = self._index(current)
        actions = []
        keys = set()
        for entry in entries:
            key = entry["description"]
            obj = self._match(key, owned, unowned)
            keys.add(key)
            if state == "deleted":
                if obj is not None:
                    actions.append({"action": "delete", "object": obj})
                continue
            collection = entry["_collection"]
            defaults = self.spec.defaults(collection)
            if obj is None:
                desired = self._fill(entry, defaults)
                actions.append({"action": "create", "collection": collection, "desired": desired})
                continue
            if state == "merged" and obj["collection"] == collection:
                desired = self._fill(entry, obj["entry"])
            else:
                desired = self._fill(entry, defaults)
            desired["description"] = key
            if obj["collection"] != collection:
                # A different Mimecast object type: it cannot be patched into this one.
                actions.append({"action": "delete", "object": obj, "reason": "type change"})
                actions.append({"action": "create", "collection": collection, "desired": desired})
            elif (_comparable(self.spec, desired) != _comparable(self.spec, obj["entry"])
                  or obj["stored_description"] != self._stored_description(key)):
                actions.append({"action": "update", "object": obj, "desired": desired})
        if state == "overridden" or (state == "deleted" and not entries):
            for key, objs in sorted(owned.items()):
                if key not in keys:
                    actions.extend({"action": "delete", "object": o} for o in objs)
        order = {"delete": 0, "update": 1, "create": 2}
        actions.sort(key=lambda a: order[a["action"]])
        return actions

    def _fill(self, entry, base):
        desired = copy.deepcopy(base)
        for field in self.spec.fields:
            if entry.get(field) is not None:
                desired[field] = copy.deepcopy(entry[field])
        desired["description"] = entry["description"]
        return desired

    # ------------------------------------------------------------------ apply
    def apply(self, actions):
        """Run the planned writes (none in check mode); return the ids made or touched."""
        for action in actions:
            if self.check_mode:
                continue
            if action["action"] == "delete":
                obj = action["object"]
                collection = self.spec.collections[obj["collection"]]
                self.client.rest_delete(collection.item_path(obj["id"]))
            elif action["action"] == "create":
                collection = self.spec.collections[action["collection"]]
                desired = action["desired"]
                body = self.spec.to_api(action["collection"], desired,
                                        self._stored_description(desired["description"]))
                action["id"], dummy = self.client.rest_create(collection.path, body)
            else:
                obj = action["object"]
                collection = self.spec.collections[obj["collection"]]
                desired = action["desired"]
                new = self.spec.to_api(obj["collection"], desired,
                                       self._stored_description(desired["description"]))
                old = self.spec.to_api(obj["collection"], obj["entry"], obj["stored_description"])
                patch = {k: v for k, v in new.items() if old.get(k) != v}
                self.client.rest_update(collection.item_path(obj["id"]), patch)

    # ------------------------------------------------------------------ run
    def run(self, state, config):
        if state not in STATES:
            raise EngineError("Unknown state %r." % state)
        entries = []
        seen = set()
        for raw in config or []:
            entry = self.spec.prepare(dict(raw), state)
            key = entry.get("description")
            if not key:
                raise EngineError("Every config entry needs a description (the natural key).")
            if self.owner_tag and key.endswith(self.owner_tag):
                raise EngineError(
                    "The description %r ends with the owner tag %r, which the collection adds "
                    "itself." % (key, self.owner_tag),
                    fix="Leave the owner tag out of description.",
                )
            if key in seen:
                raise EngineError("Two config entries have the description %r." % key,
                                  fix="Merge them into one entry or rename one.")
            seen.add(key)
            entries.append(entry)
        current = self.read(self.spec.needed_collections(entries, state))
        result = {"changed": False, "actions": []}
        if state == "gathered":
            result["gathered"] = [self._public(o) for o in current if o["owned"]]
            result["unmanaged"] = [self._public(o, tagged=True) for o in current if not o["owned"]]
            return result
        actions = self.plan(state, entries, current)
        self.apply(actions)
        result["changed"] = bool(actions)
        result["actions"] = [self._describe(a) for a in actions]
        before, after = self._before_after(actions, current, entries, state)
        result["before"] = before
        result["after"] = after
        return result

    def _public(self, obj, tagged=False):
        entry = {k: v for k, v in obj["entry"].items() if not k.startswith("_")}
        if tagged:
            entry["description"] = obj["stored_description"]
        entry["id"] = obj["id"]
        entry["kind"] = entry.get("kind") or obj["collection"]
        return entry

    def _describe(self, action):
        if action["action"] == "delete":
            obj = action["object"]
            out = {"action": "delete", "description": obj["entry"]["description"],
                   "collection": obj["collection"], "id": obj["id"]}
            if action.get("reason"):
                out["reason"] = action["reason"]
            return out
        if action["action"] == "create":
            return {"action": "create", "description": action["desired"]["description"],
                    "collection": action["collection"], "id": action.get("id")}
        obj = action["object"]
        changed = sorted(f for f in self.spec.fields
                         if _comparable(self.spec, action["desired"]).get(f)
                         != _comparable(self.spec, obj["entry"]).get(f))
        if obj["stored_description"] != self._stored_description(action["desired"]["description"]):
            changed.append("description (owner tag)")
        return {"action": "update", "description": obj["entry"]["description"],
                "collection": obj["collection"], "id": obj["id"], "fields": changed}

    def _before_after(self, actions, current, entries, state):
        """Before/after of every object the task addressed, keyed by narrative."""
        touched = {e["description"] for e in entries}
        for action in actions:
            if action["action"] == "delete":
                touched.add(action["object"]["entry"]["description"])
        before, after = {}, {}
        for obj in current:
            key = obj["entry"]["description"]
            if key in touched and (obj["owned"] or self.adopt):
                before[key] = self._public(obj)
                after[key] = self._public(obj)
        for action in actions:
            if action["action"] == "delete":
                after.pop(action["object"]["entry"]["description"], None)
        for action in actions:
            if action["action"] == "create":
                desired = action["desired"]
                entry = {k: v for k, v in desired.items() if not k.startswith("_")}
                entry["id"] = action.get("id")
                entry["kind"] = entry.get("kind") or action["collection"]
                after[desired["description"]] = entry
            elif action["action"] == "update":
                entry = {k: v for k, v in action["desired"].items() if not k.startswith("_")}
                entry["id"] = action["object"]["id"]
                entry["kind"] = entry.get("kind") or action["object"]["collection"]
                after[entry["description"]] = entry
        return before, after
