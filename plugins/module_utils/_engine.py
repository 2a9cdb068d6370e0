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

Writes are applied one object at a time, in plan order, and every write done is recorded:
on a failure the task fails with ``changed: true`` when anything was written and lists
``done`` and ``not_done``. An object that needs delete + create is replaced as one unit:
create the new one first where both may exist at once (a REST policy moving between
collections), else delete then create at once for that object only (managed URLs: one URL
cannot exist twice), and if that create fails the deleted original is put back once.
A write whose outcome is unknown (timeout, lost connection, HTTP 5xx) is never retried
blindly: the list is re-read and the write counted as done only when the re-read shows it.
"""

from __future__ import annotations

import copy

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError, _first_error
from ansible_collections.mailsec.mimecast.plugins.module_utils._shapes import key_summary

STATES = ("merged", "replaced", "overridden", "deleted", "gathered")
ON_DUPLICATE = ("fail", "keep_newest")
# The longest narrative (description / comment, owner tag included) the collection writes.
# No public Mimecast source states a limit for policy descriptions, profile group names or
# managed-URL comments (Mimecast's API reference, https://developer.services.mimecast.com/,
# documents none); 200 characters is the collection's own conservative limit, checked before
# the first write so that a long name cannot fail a task halfway.
NARRATIVE_MAX = 200


class EngineError(MimecastError):
    pass


def _check_item(item, collection):
    """Refuse to plan on an object that was not understood: without an id it cannot be updated or
    deleted, and without its narrative it cannot be matched, so planning around it could create
    a duplicate."""
    missing = [f for f in collection.required if not isinstance(item, dict)
               or item.get(f) in (None, "") or isinstance(item.get(f), (dict, list))]
    if not missing:
        return
    raise EngineError(
        "Mimecast listed a %s the collection does not understand (no %s); its keys (values left out): %s. "
        "Nothing was changed." % (collection.label, " or ".join(missing), key_summary(item)),
        path=collection.path,
        fix="Report this response shape (the message holds no values) to the mailsec.mimecast maintainers.",
    )


def describe_write(action, key_name, key, collection, object_id, **extra):
    out = {"action": action, key_name: key, "collection": collection, "id": object_id}
    out.update(extra)
    return out


class WriteFailed(EngineError):
    """A write failed after the task may already have written: says exactly what was done.

    ``done`` and ``not_done`` are lists of write descriptions (action, key, collection, id);
    ``restored`` describes an original put back after a failed replacement.
    """

    def __init__(self, cause, done, not_done, restored=None, note=None):
        self.cause = cause
        self.done = list(done)
        self.not_done = list(not_done)
        self.restored = restored
        self.note = note
        parts = [str(cause.msg if isinstance(cause, MimecastError) else cause).rstrip(".") + "."]
        if note:
            parts.append(note)
        if self.done:
            parts.append("The task had already made %d write(s), which stay done: %s."
                         % (len(self.done), "; ".join(_say(d) for d in self.done)))
        else:
            parts.append("Nothing was written.")
        if self.not_done:
            parts.append("%d planned write(s) were not done: %s."
                         % (len(self.not_done), "; ".join(_say(d) for d in self.not_done)))
        if restored:
            parts.append(restored["message"])
        fix = "Re-run the task: it reads the current state and makes only the writes still needed."
        if isinstance(cause, MimecastError) and cause.fix:
            fix = cause.fix.rstrip(".") + ". " + fix
        super().__init__(" ".join(parts), code=getattr(cause, "code", None), status=getattr(cause, "status", None),
                         field=getattr(cause, "field", None), path=getattr(cause, "path", None), fix=fix)

    def result(self):
        out = {"changed": bool(self.done), "done": self.done, "not_done": self.not_done}
        if self.restored:
            out["restored"] = {k: v for k, v in self.restored.items() if k != "message"}
        return out


def _say(write):
    skip = ("action", "collection", "id", "reason", "members", "fields", "restored")
    key = next((write[k] for k in write if k not in skip), None)
    text = "%s %r" % (write["action"], key)
    if write.get("members"):
        text += " (%s)" % ", ".join(write["members"])
    if write.get("id"):
        text += " id %s" % write["id"]
    return text


class Collection:
    """One Mimecast list the module manages: a REST collection by default."""

    can_update = True
    # Fields every listed object must carry to be understood (checked before planning). REST
    # policies always carry their description (Mimecast requires it on create).
    required = ("id", "description")
    # True when Mimecast refuses a second object with the same key (managed URLs): a
    # replacement must then delete the old object before creating the new one.
    key_unique = False
    # The most creates (or deletes) one write call may carry; 1 = one call per object. REST policy
    # collections take one object per POST (their API has no list body).
    batch_size = 1

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
    # Classic objects may lack the narrative (a managed URL without a comment), never the id.
    required = ("id",)

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
                              path=self.create_path, ambiguous=True,
                              fix="Re-run the task: it finds the object by its key.")
        return data[0]["id"]

    def update(self, client, object_id, patch):  # pragma: no cover - guarded by can_update
        raise NotImplementedError

    def delete(self, client, object_id):
        client.classic(self.delete_path, [{"id": object_id}], write=True)

    def create_batch(self, client, bodies):
        """Create several objects in one call: (data, fail) as Mimecast answered (see batch_size)."""
        return client.classic_batch(self.create_path, bodies)

    def delete_batch(self, client, object_ids):
        """Delete several objects in one call: (data, fail) as Mimecast answered (see batch_size)."""
        return client.classic_batch(self.delete_path, [{"id": object_id} for object_id in object_ids])


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
    # Longest stored tag field (owner tag included); None = no limit.
    narrative_max = NARRATIVE_MAX

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


def _created(item):
    """When Mimecast says an object was made (REST ``createTime``), or None."""
    for field in ("createTime", "created", "creationTime"):
        if isinstance(item.get(field), str):
            return item[field]
    return None


def _comparable(spec, entry):
    out = {}
    for field in spec.fields:
        value = entry.get(field)
        if field in spec.unordered and isinstance(value, list):
            value = sorted(value)
        out[field] = value
    return out


class Engine:
    def __init__(self, client, spec, owner_tag="[ansible]", adopt=False, check_mode=False, on_duplicate="fail",
                 warn=None):
        self.client = client
        self.spec = spec
        self.owner_tag = owner_tag or ""
        self.adopt = adopt
        self.check_mode = check_mode
        if on_duplicate not in ON_DUPLICATE:
            raise EngineError("on_duplicate %r is not one of %s." % (on_duplicate, ", ".join(ON_DUPLICATE)))
        self.on_duplicate = on_duplicate
        self._warn = warn or getattr(client, "_warn", None) or (lambda msg: None)
        # Filled by plan(): the owned object each key resolves to (after on_duplicate).
        self.owned_index = {}
        # Filled by apply(): every write done, in order.
        self.done = []
        self._known_ids = set()

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
    def read(self, collection_names, lister=None):
        """Every existing object of the named collections, normalised.

        ``lister(collection)`` (a transaction's shared reads) returns a collection's items instead
        of listing it here, so that one list read serves every part that needs it."""
        current = []
        tag_field = self.spec.tag_field
        for name in collection_names:
            collection = self.spec.collections[name]
            for item in (lister(collection) if lister else collection.list(self.client)):
                _check_item(item, collection)
                entry = self.spec.from_api(name, item)
                stored = entry.get(tag_field)
                entry[tag_field], owned = self._untag(stored)
                current.append({"id": item.get("id"), "collection": name, "owned": owned,
                                "stored_tag_field": stored, "entry": entry, "position": len(current),
                                "created": _created(item)})
        return current

    def _index(self, current):
        """({key: [owned objects]}, {key: [unowned objects]}, [owned duplicates to delete])."""
        owned, unowned = {}, {}
        extra = []
        for obj in current:
            target = owned if obj["owned"] else unowned
            target.setdefault(self._key(obj["entry"]), []).append(obj)
        for key, objs in sorted(owned.items(), key=lambda kv: str(kv[0])):
            if len(objs) < 2:
                continue
            # Newest = the latest creation time Mimecast reports (createTime); without one
            # (classic lists), the last in Mimecast's list order, which is creation order.
            ranked = sorted(objs, key=lambda o: (o["created"] or "", o["position"]))
            keep, others = ranked[-1], ranked[:-1]
            if self.on_duplicate != "keep_newest":
                raise EngineError(
                    "%d objects owned by this collection share the %s %r (ids %s); the collection "
                    "will not guess which one is meant. Nothing was changed. A duplicate like this "
                    "can be left by a lost answer to a create or by two runs on one tenant at once."
                    % (len(objs), self.spec.key, key, ", ".join(str(o["id"]) for o in objs)),
                    fix="Set on_duplicate: keep_newest to keep id %s (the newest) and delete id(s) %s "
                    "(only objects carrying the owner tag are touched), or delete the extra objects "
                    "in the console, then re-run." % (keep["id"], ", ".join(str(o["id"]) for o in others)),
                )
            owned[key] = [keep]
            for obj in others:
                extra.append({"action": "delete", "object": obj, "duplicate": True,
                              "reason": "duplicate of id %s (on_duplicate: keep_newest)" % keep["id"]})
        return owned, unowned, extra

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
        """The writes, one object at a time: each entry's update, create or replacement unit in
        config order, then deletes (``deleted``, ``overridden``, duplicates)."""
        owned, unowned, duplicates = self._index(current)
        self.owned_index = {key: objs[0] for key, objs in owned.items()}
        actions = []
        deletes = []
        keys = set()
        for entry in entries:
            key = self._key(entry)
            obj = self._match(key, owned, unowned)
            keys.add(key)
            if state == "deleted":
                if obj is not None:
                    deletes.append({"action": "delete", "object": obj})
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
            delete = {"action": "delete", "object": obj, "reason": reason}
            create = {"action": "create", "collection": collection, "desired": desired, "reason": reason}
            if self.spec.collections[collection].key_unique and obj["collection"] == collection:
                # One key cannot exist twice: delete, then create at once (restored if the create fails).
                create["replaces"] = obj
                actions.extend([delete, create])
            else:
                # Both may exist at once: the new object first, so the protection never lapses.
                actions.extend([create, delete])
        if state == "overridden" or (state == "deleted" and not entries):
            for key, objs in sorted(owned.items(), key=lambda kv: str(kv[0])):
                if key not in keys:
                    deletes.extend({"action": "delete", "object": o} for o in objs)
        return actions + deletes + duplicates

    def _fill(self, entry, base):
        desired = copy.deepcopy(base)
        for field in self.spec.fields + (self.spec.key, self.spec.tag_field):
            if entry.get(field) is not None:
                desired[field] = copy.deepcopy(entry[field])
        return desired

    # ------------------------------------------------------------------ apply
    def apply(self, actions):
        """Run the planned writes one by one (none in check mode); record each in ``self.done``.

        Raises WriteFailed (with what was done and what not) on the first write that fails.
        """
        self.done = []
        if self.check_mode:
            return
        index = 0
        while index < len(actions):
            batch = self._batch_at(actions, index)
            if len(batch) > 1:
                self._apply_batch(actions, index, batch)
                index += len(batch)
                continue
            action = actions[index]
            index += 1
            try:
                self._write(action)
            except MimecastError as exc:
                note = None
                if exc.ambiguous:
                    found, note = self._reconcile(action, exc)
                    if found:
                        self.done.append(self.describe(action))
                        continue
                restored = None
                # Restoring is safe even if the failed create still lands later: Mimecast refuses
                # one key twice in such a list (key_unique), so no duplicate can result.
                if action["action"] == "create" and action.get("replaces"):
                    restored = self._restore(action["replaces"])
                    if restored.get("id"):
                        self.done.append(describe_write("restore", self.spec.key, restored[self.spec.key],
                                                        restored["collection"], restored["id"]))
                raise WriteFailed(exc, self.done, [self.describe(a) for a in actions[index - 1:]],
                                  restored=restored, note=note)
            self.done.append(self.describe(action))

    # ------------------------------------------------------------------ batched writes
    def _batch_at(self, actions, index):
        """The run of plain creates (or plain deletes) of one batching collection starting at ``index``,
        at most its batch_size long. Replacements (a delete + create pair, restored on failure) and
        duplicate clean-ups keep one call each."""

        def plain(action):
            if action["action"] not in ("create", "delete") or action.get("reason") or action.get("replaces"):
                return None
            name = action["collection"] if action["action"] == "create" else action["object"]["collection"]
            return action["action"], name

        first = plain(actions[index])
        if first is None:
            return actions[index:index + 1]
        size = max(int(getattr(self.spec.collections[first[1]], "batch_size", 1) or 1), 1)
        batch = [actions[index]]
        while len(batch) < size and index + len(batch) < len(actions) and plain(actions[index + len(batch)]) == first:
            batch.append(actions[index + len(batch)])
        return batch

    def _item_key(self, name, item):
        entry = self.spec.from_api(name, item)
        key = entry.get(self.spec.key)
        if self.spec.key == self.spec.tag_field:
            key = self._untag(key)[0]
        return key

    def _apply_batch(self, actions, index, batch):
        """Send one batch; record exactly which of its objects were written; raise WriteFailed if not all.

        Objects the answer does not account for (a per-item ``fail``, an answer that does not match the
        request, or no clear answer at all: timeout, lost connection, HTTP 5xx) are decided by one re-read
        of the list, never by sending them again."""
        creating = batch[0]["action"] == "create"
        name = batch[0]["collection"] if creating else batch[0]["object"]["collection"]
        collection = self.spec.collections[name]
        rest = [self.describe(a) for a in actions[index + len(batch):]]
        bodies = [self.spec.to_api(name, self._tagged(a["desired"])) for a in batch] if creating else None
        try:
            if creating:
                data, fails = collection.create_batch(self.client, bodies)
            else:
                data, fails = collection.delete_batch(self.client, [a["object"]["id"] for a in batch])
        except MimecastError as exc:
            if not exc.ambiguous:
                # Mimecast refused the whole call (not a per-item answer): none of its objects was written.
                raise WriteFailed(exc, self.done, [self.describe(a) for a in batch] + rest)
            self._settle_batch(name, batch, {None: []}, rest, cause=exc)
            return
        unsettled = list(batch)
        if creating:
            by_key = {}
            for item in data:
                if item.get("id"):
                    by_key.setdefault(self._item_key(name, item), []).append(item["id"])
            unsettled = []
            for action in batch:
                ids = by_key.get(self._key(action["desired"])) or []
                if len(ids) == 1:
                    action["id"] = ids[0]
                    self.done.append(self.describe(action))
                else:
                    unsettled.append(action)
        elif not fails:
            unsettled = []
            self.done.extend(self.describe(a) for a in batch)
        if unsettled:
            self._settle_batch(name, unsettled, self._fail_errors(batch, bodies, fails), rest, fails=fails)

    @staticmethod
    def _fail_errors(batch, bodies, fails):
        """{id(action): "code (message)"} for the ``fail`` entries that echo their item in ``key`` (as the
        sandbox and Mimecast's endpoint reference samples show), and under None the texts of the others."""
        errors = {None: []}
        for fail in fails:
            code, message, dummy = _first_error({"fail": [fail]})
            text = "%s%s" % (code or "refused", " (%s)" % message if message else "")
            echo = fail.get("key")
            for position, action in enumerate(batch):
                sent = bodies[position] if bodies else {"id": action["object"]["id"]}
                if isinstance(echo, dict) and echo and all(sent.get(k) == v for k, v in echo.items()) \
                        and id(action) not in errors:
                    errors[id(action)] = text
                    break
            else:
                errors[None].append(text)
        return errors

    def _settle_batch(self, name, unsettled, errors, rest, cause=None, fails=()):
        """Re-read the list once and sort the unsettled batch objects into done / not done; raise WriteFailed
        when anything is not done."""
        note = None
        try:
            now = self.read([name])
        except MimecastError as again:
            now = None
            note = ("A re-read to check which objects of the batch were written failed too (%s), so whether "
                    "they were is unknown." % str(again.msg).rstrip("."))
        not_done = []
        known = set(self._known_ids)
        for action in unsettled:
            written = False
            if now is not None and action["action"] == "create":
                key, tagged = self._key(action["desired"]), self._tag(action["desired"].get(self.spec.tag_field))
                found = [o for o in now if o["owned"] and self._key(o["entry"]) == key
                         and o["stored_tag_field"] == tagged and o["id"] not in known]
                if found:
                    action["id"] = sorted(found, key=lambda o: (o["created"] or "", o["position"]))[-1]["id"]
                    known.add(action["id"])
                    written = True
            elif now is not None:
                written = not any(o["id"] == action["object"]["id"] for o in now)
            if written:
                self.done.append(self.describe(action))
                continue
            out = self.describe(action)
            out["error"] = errors.get(id(action)) or "; ".join(errors[None]) or (
                "no clear answer" if cause is not None else "not in Mimecast's answer")
            not_done.append(out)
        if not not_done:
            if cause is not None:
                self._warn("A batch of %d %s write(s) got no clear answer (%s) but a re-read shows every one was "
                           "made; counted as done, not sent again."
                           % (len(unsettled), name, str(cause.msg).rstrip(".")))
            return
        if cause is None:
            cause = EngineError(
                "Mimecast refused %d of the %s %s(s) of one call: %s."
                % (len(not_done), name, not_done[0]["action"],
                   "; ".join("%r: %s" % (d.get(self.spec.key), d.get("error") or "not applied") for d in not_done)),
                code=_first_error({"fail": list(fails)})[0])
        elif note is None:
            note = ("The batch got no clear answer; a re-read shows which of its objects were written. The others "
                    "were not sent again, because a call that timed out may still be executed by Mimecast.")
        raise WriteFailed(cause, self.done, not_done + rest, note=note)

    def _write(self, action):
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

    def _reconcile(self, action, exc):
        """After a write with an unknown outcome: re-read its list and decide.

        Returns (True, None) when the re-read shows the write took effect (the action gets the
        new id; a warning says so), else (False, a sentence for the error message). A create
        that did not show up is NOT sent again: the first attempt may still be executing at
        Mimecast (a timed-out call is not a cancelled call), and a second one could then make
        the duplicate this check exists to prevent. The task fails and a re-run, which reads
        first, creates it only if it is still missing.
        """
        name = action["collection"] if action["action"] == "create" else action["object"]["collection"]
        key = self._key(action["desired"] if action["action"] != "delete" else action["object"]["entry"])
        what = "%s of %r" % (action["action"], key)
        try:
            now = self.read([name])
        except MimecastError as again:
            return False, ("Its outcome is unknown: the re-read to check it failed too (%s)."
                           % str(again.msg).rstrip("."))
        if action["action"] == "create":
            tagged = self._tag(action["desired"].get(self.spec.tag_field))
            known = set(self._known_ids)
            found = [o for o in now if o["owned"] and self._key(o["entry"]) == key
                     and o["stored_tag_field"] == tagged and o["id"] not in known]
            if found:
                newest = sorted(found, key=lambda o: (o["created"] or "", o["position"]))[-1]
                action["id"] = newest["id"]
                self._warn("The %s got no clear answer (%s) but a re-read shows it was created (id %s); "
                           "counted as done, not sent again." % (what, str(exc.msg).rstrip("."), newest["id"]))
                return True, None
            return False, ("The %s got no clear answer; a re-read shows no such object, so it was not "
                           "created. It was not sent again, because a call that timed out may still be "
                           "executed by Mimecast and a second one could make a duplicate." % what)
        obj = action["object"]
        same = [o for o in now if self._key(o["entry"]) == key and o["owned"] == obj["owned"]
                and (o["id"] == obj["id"] or self.spec.collections[name].key_unique)]
        if action["action"] == "delete" and not same:
            self._warn("The %s got no clear answer (%s) but a re-read shows it is gone; counted as done."
                       % (what, str(exc.msg).rstrip(".")))
            return True, None
        if action["action"] == "update" and same and not self._differs(action["desired"], same[0]):
            self._warn("The %s got no clear answer (%s) but a re-read shows the change was made; counted "
                       "as done." % (what, str(exc.msg).rstrip(".")))
            return True, None
        return False, "The %s got no clear answer; a re-read shows it did not take effect." % what

    def _restore(self, obj):
        """Put back an object deleted for a replacement whose create failed (one attempt)."""
        entry = dict(obj["entry"])
        entry[self.spec.tag_field] = obj["stored_tag_field"]
        key = self._key(obj["entry"])
        out = {self.spec.key: key, "collection": obj["collection"], "id": None}
        try:
            body = self.spec.to_api(obj["collection"], entry)
            out["id"] = self.spec.collections[obj["collection"]].create(self.client, body)
        except MimecastError as exc:
            out["message"] = ("The original %r (deleted for the replacement) could NOT be restored (%s): "
                              "it is missing now; re-run the task at once." % (key, str(exc.msg).rstrip(".")))
            self._warn(out["message"])
            return out
        out["message"] = ("The original %r, deleted for the replacement, was restored as it was (new id %s)."
                          % (key, out["id"]))
        self._warn(out["message"])
        return out

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
            limit = self.spec.narrative_max
            if limit and state not in ("deleted", "gathered") and len(self._tag(tagged) or "") > limit:
                raise EngineError(
                    "The %s %r is %d characters long with the owner tag %r; the collection writes at "
                    "most %d (its own limit, so that Mimecast cannot refuse it halfway through the "
                    "task). Nothing was written."
                    % (self.spec.tag_field, tagged, len(self._tag(tagged)), self.owner_tag, limit),
                    field=self.spec.tag_field,
                    fix="Shorten the %s to at most %d characters." % (
                        self.spec.tag_field, limit - len(self._tag("")) - (1 if self.owner_tag else 0)),
                )
            if key in seen:
                raise EngineError("Two config entries have the %s %r. Nothing was written." % (key_name, key),
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
        self._known_ids = {o["id"] for o in current}
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
        for key, obj in self.owned_index.items():
            if key in after:
                after[key] = self.public(obj)
        for action in actions:
            if action["action"] == "delete" and not action.get("duplicate"):
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
