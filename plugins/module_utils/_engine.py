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
    """One Mimecast list the module manages: a REST collection by default."""

    can_update = True

    def __init__(self, name, path, label):
        self.name = name
        self.path = path
        self.label = label

    def item_path(self, object_id):
        return "%s/%s" % (self.path, object_id)

    def list(self, client):
        return client.rest_list(self.path)

    def create(self, client, body):
        return client.rest_create(self.path, body)[0]

    def update(self, client, object_id, patch):
        client.rest_update(self.item_path(object_id), patch)

    def delete(self, client, object_id):
        client.rest_delete(self.item_path(object_id))


class ClassicCollection(Collection):
    """A list behind classic ``/api/...`` functions (list / create / delete, no update)."""

    can_update = False

    def __init__(self, name, label, list_path, create_path, delete_path, list_data=None):
        super().__init__(name, list_path, label)
        self.create_path = create_path
        self.delete_path = delete_path
        self.list_data = list_data

    def list(self, client):
        return client.classic(self.path, self.list_data, paginate=True)

    def create(self, client, body):
        data = client.classic(self.create_path, [body], write=True)
        if not data or not data[0].get("id"):
            raise EngineError("Mimecast answered %s without the new object's id." % self.create_path,
                              path=self.create_path, fix="Re-run the task: it finds the object by its key.")
        return data[0]["id"]

    def update(self, client, object_id, patch):  # pragma: no cover - guarded by can_update
        raise NotImplementedError

    def delete(self, client, object_id):
        client.classic(self.delete_path, [{"id": object_id}], write=True)


class Spec:
    """What a module tells the engine about its object type. Subclasses override."""

    # The user-facing field that is the natural key, and the one that records ownership
    # (the owner tag is appended to it). For policies both are the narrative.
    key = "description"
    tag_field = "description"
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
        """A read-back item in the user-facing shape (the tag field still tagged)."""
        raise NotImplementedError

    def to_api(self, collection, desired):
        """The create body for a desired entry (its tag field already tagged)."""
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
    def _tag(self, value):
        if not self.owner_tag:
            return value
        return "%s %s" % (value, self.owner_tag) if value else self.owner_tag

    def _untag(self, value):
        """(value without the owner tag, owned?)"""
        if not self.owner_tag:
            return value, True
        value = value or ""
        if value == self.owner_tag:
            return None, True
        if value.endswith(" " + self.owner_tag):
            return value[: -len(self.owner_tag) - 1], True
        return value or None, False

    def _tagged(self, entry):
        stored = dict(entry)
        stored[self.spec.tag_field] = self._tag(entry.get(self.spec.tag_field))
        return stored

    def _key(self, entry):
        return entry[self.spec.key]

    # ------------------------------------------------------------------ read
    def read(self, collection_names):
        """Every existing object of the named collections, normalised."""
        current = []
        tag_field = self.spec.tag_field
        for name in collection_names:
            collection = self.spec.collections[name]
            for item in collection.list(self.client):
                entry = self.spec.from_api(name, item)
                stored = entry.get(tag_field)
                entry[tag_field], owned = self._untag(stored)
                current.append({"id": item.get("id"), "collection": name, "owned": owned,
                                "stored_tag_field": stored, "entry": entry})
        return current

    def _index(self, current):
        owned, unowned = {}, {}
        for obj in current:
            target = owned if obj["owned"] else unowned
            target.setdefault(self._key(obj["entry"]), []).append(obj)
        for key, objs in owned.items():
            if len(objs) > 1:
                raise EngineError(
                    "%d objects owned by this collection share the %s %r (ids %s); the collection "
                    "will not guess which one is meant. Nothing was changed."
                    % (len(objs), self.spec.key, key, ", ".join(o["id"] for o in objs)),
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
                "An object with the %s %r already exists (id %s) but was not written by this "
                "collection (its %s lacks the owner tag %r). Nothing was changed."
                % (self.spec.key, key, objs[0]["id"], self.spec.tag_field, self.owner_tag),
                fix="Give the entry another %s, or set adopt: true to take that object over (the "
                "owner tag is then added to its %s)." % (self.spec.key, self.spec.tag_field),
            )
        if len(objs) > 1:
            raise EngineError(
                "%d objects share the %s %r (ids %s); refusing to adopt one of them. Nothing was "
                "changed." % (len(objs), self.spec.key, key, ", ".join(o["id"] for o in objs)),
                fix="Delete or rename the extra objects in the console, then re-run.",
            )
        return objs[0]

    # ------------------------------------------------------------------ plan
    def _differs(self, desired, obj):
        return (_comparable(self.spec, desired) != _comparable(self.spec, obj["entry"])
                or obj["stored_tag_field"] != self._tag(desired.get(self.spec.tag_field)))

    def plan(self, state, entries, current):
        owned, unowned = self._index(current)
        actions = []
        keys = set()
        for entry in entries:
            key = self._key(entry)
            obj = self._match(key, owned, unowned)
            keys.add(key)
            if state == "deleted":
                if obj is not None:
                    actions.append({"action": "delete", "object": obj})
                continue
            collection = entry["_collection"]
            if obj is None:
                desired = self._fill(entry, self.spec.defaults(collection))
                actions.append({"action": "create", "collection": collection, "desired": desired})
                continue
            base = obj["entry"] if state == "merged" and obj["collection"] == collection else \
                self.spec.defaults(collection)
            desired = self._fill(entry, base)
            if not self._differs(desired, obj) and obj["collection"] == collection:
                continue
            if obj["collection"] != collection:
                reason = "type change"
            elif not self.spec.collections[collection].can_update:
                reason = "Mimecast has no update call for this object: delete + create"
            else:
                actions.append({"action": "update", "object": obj, "desired": desired})
                continue
            actions.append({"action": "delete", "object": obj, "reason": reason})
            actions.append({"action": "create", "collection": collection, "desired": desired,
                            "reason": reason})
        if state == "overridden" or (state == "deleted" and not entries):
            for key, objs in sorted(owned.items()):
                if key not in keys:
                    actions.extend({"action": "delete", "object": o} for o in objs)
        order = {"delete": 0, "update": 1, "create": 2}
        actions.sort(key=lambda a: order[a["action"]])
        return actions

    def _fill(self, entry, base):
        desired = copy.deepcopy(base)
        for field in self.spec.fields + (self.spec.key, self.spec.tag_field):
            if entry.get(field) is not None:
                desired[field] = copy.deepcopy(entry[field])
        return desired

    # ------------------------------------------------------------------ apply
    def apply(self, actions):
        """Run the planned writes; none in check mode."""
        if self.check_mode:
            return
        for action in actions:
            if action["action"] == "delete":
                obj = action["object"]
                self.spec.collections[obj["collection"]].delete(self.client, obj["id"])
            elif action["action"] == "create":
                collection = self.spec.collections[action["collection"]]
                body = self.spec.to_api(action["collection"], self._tagged(action["desired"]))
                action["id"] = collection.create(self.client, body)
            else:
                obj = action["object"]
                new = self.spec.to_api(obj["collection"], self._tagged(action["desired"]))
                old_entry = dict(obj["entry"])
                old_entry[self.spec.tag_field] = obj["stored_tag_field"]
                old = self.spec.to_api(obj["collection"], old_entry)
                patch = {k: v for k, v in new.items() if old.get(k) != v}
                self.spec.collections[obj["collection"]].update(self.client, obj["id"], patch)

    # ------------------------------------------------------------------ run
    def prepare(self, state, config):
        """Validate and normalise the config entries (no API call)."""
        key_name = self.spec.key
        entries = []
        seen = set()
        for raw in config or []:
            entry = self.spec.prepare(dict(raw), state)
            key = entry.get(key_name)
            if not key:
                raise EngineError("Every config entry needs a %s (the natural key)." % key_name)
            tagged = entry.get(self.spec.tag_field)
            if self.owner_tag and tagged and (tagged == self.owner_tag or tagged.endswith(" " + self.owner_tag)):
                raise EngineError(
                    "The %s %r ends with the owner tag %r, which the collection adds itself."
                    % (self.spec.tag_field, tagged, self.owner_tag),
                    fix="Leave the owner tag out of %s." % self.spec.tag_field,
                )
            if key in seen:
                raise EngineError("Two config entries have the %s %r." % (key_name, key),
                                  fix="Merge them into one entry or change one.")
            seen.add(key)
            entries.append(entry)
        return entries

    def run(self, state, config):
        if state not in STATES:
            raise EngineError("Unknown state %r." % state)
        entries = self.prepare(state, config)
        current = self.read(self.spec.needed_collections(entries, state))
        result = {"changed": False, "actions": []}
        if state == "gathered":
            result["gathered"] = [self.public(o) for o in current if o["owned"]]
            result["unmanaged"] = [self.public(o, tagged=True) for o in current if not o["owned"]]
            return result
        actions = self.plan(state, entries, current)
        self.apply(actions)
        result["changed"] = bool(actions)
        result["actions"] = [self.describe(a) for a in actions]
        result["before"], result["after"] = self._before_after(actions, current, entries)
        return result

    # ------------------------------------------------------------------ results
    def public(self, obj, tagged=False):
        entry = {k: v for k, v in obj["entry"].items() if not k.startswith("_")}
        if tagged:
            entry[self.spec.tag_field] = obj["stored_tag_field"]
        entry["id"] = obj["id"]
        entry["kind"] = entry.get("kind") or obj["collection"]
        return entry

    def describe(self, action):
        key_name = self.spec.key
        if action["action"] == "create":
            out = {"action": "create", key_name: self._key(action["desired"]),
                   "collection": action["collection"], "id": action.get("id")}
        else:
            obj = action["object"]
            out = {"action": action["action"], key_name: self._key(obj["entry"]),
                   "collection": obj["collection"], "id": obj["id"]}
        if action["action"] == "update":
            desired, current = _comparable(self.spec, action["desired"]), _comparable(self.spec, obj["entry"])
            out["fields"] = sorted(f for f in self.spec.fields if desired.get(f) != current.get(f))
            if obj["stored_tag_field"] != self._tag(action["desired"].get(self.spec.tag_field)):
                out["fields"].append("%s (owner tag)" % self.spec.tag_field)
        if action.get("reason"):
            out["reason"] = action["reason"]
        return out

    def _before_after(self, actions, current, entries):
        """Before/after of every object the task addressed, keyed by natural key."""
        touched = {self._key(e) for e in entries}
        touched.update(self._key(a["object"]["entry"]) for a in actions if a["action"] == "delete")
        before, after = {}, {}
        for obj in current:
            key = self._key(obj["entry"])
            if key in touched and (obj["owned"] or self.adopt):
                before[key] = self.public(obj)
                after[key] = self.public(obj)
        for action in actions:
            if action["action"] == "delete":
                after.pop(self._key(action["object"]["entry"]), None)
        for action in actions:
            if action["action"] == "delete":
                continue
            entry = {k: v for k, v in action["desired"].items() if not k.startswith("_")}
            if action["action"] == "create":
                entry["id"], entry["kind"] = action.get("id"), entry.get("kind") or action["collection"]
                if action.get("reason"):
                    entry["change"] = action["reason"]
            else:
                obj = action["object"]
                entry["id"], entry["kind"] = obj["id"], entry.get("kind") or obj["collection"]
            after[self._key(entry)] = entry
        return before, after
