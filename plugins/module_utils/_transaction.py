# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Several object types of one tenant as one transaction, in one module run with one client (one token).

prepare every part (validation, guardrails) -> read what every part needs (each list read once,
shared between parts) -> plan every part -> only then apply, part by part, in order.

A refusal anywhere (guardrail, validation, duplicate, unowned object, plan error) raises before
the first write, so nothing is written in any part. A write failure raises WriteFailed with every
write done in the parts before and in the failing part (``done``), and the failed write, the rest
of that part and every later part's planned writes (``not_done``); each description carries the
part's ``type``.
"""

from __future__ import annotations

from ansible_collections.mailsec.mimecast.plugins.module_utils._bypass import AntiSpoofBypassSpec, GreylistingBypassSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import STATES, Engine, EngineError, WriteFailed
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import ManagedUrlSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._permitted_sender import PermittedSenders
from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import read_internal_domains


class SharedReads:
    """Each list read at most once per run, whatever number of parts need it."""

    def __init__(self, client):
        self.client = client
        self._cache = {}

    def get(self, key, read):
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def internal_domains(self):
        return self.get(("internal-domains",), lambda: read_internal_domains(self.client))

    def lister(self, collection):
        """A collection's listed items (read once; keyed by path and list filter)."""
        key = ("list", collection.path, repr(getattr(collection, "list_data", None)))
        return self.get(key, lambda: list(collection.list(self.client)))


class EnginePart:
    """One engine-managed object type in a transaction (policies, managed URLs)."""

    def __init__(self, client, spec, state, config, owner_tag="[ansible]", adopt=False, check_mode=False,
                 on_duplicate="fail", warn=None):
        self.engine = Engine(client, spec, owner_tag=owner_tag, adopt=adopt, check_mode=check_mode,
                             on_duplicate=on_duplicate, warn=warn)
        self.state = state
        self.config = config or []
        self.entries = []
        self.current = []
        self.actions = []

    def prepare(self, reads=None):
        self.entries = self.engine.prepare(self.state, self.config)

    def plan(self, lister=None):
        spec = self.engine.spec
        self.current = self.engine.read(spec.needed_collections(self.entries, self.state), lister=lister)
        if self.state != "gathered":
            self.actions = self.engine.plan(self.state, self.entries, self.current)
            self.engine._known_ids = {o["id"] for o in self.current}

    def apply(self):
        self.engine.apply(self.actions)

    @property
    def done(self):
        return self.engine.done

    def planned(self):
        return [self.engine.describe(a) for a in self.actions]

    def result(self):
        engine = self.engine
        result = {"changed": False, "actions": []}
        if self.state == "gathered":
            result["gathered"] = [engine.public(o) for o in self.current if o["owned"]]
            result["unmanaged"] = [engine.public(o, tagged=True) for o in self.current if not o["owned"]]
            return result
        result["changed"] = bool(self.actions)
        result["actions"] = [engine.describe(a) for a in self.actions]
        result["before"], result["after"] = engine._before_after(self.actions, self.current, self.entries)
        return result


def _typed(writes, name):
    return [dict(w, type=name) for w in writes]


class Transaction:
    """``parts``: (type name, part) pairs, applied in this order. A part has ``prepare(reads)``,
    ``plan(lister)``, ``apply()``, ``done``, ``planned()`` and ``result()``."""

    def __init__(self, client, state, parts):
        if state not in STATES:
            raise EngineError("Unknown state %r." % state)
        self.client = client
        self.state = state
        self.parts = list(parts)
        self.reads = SharedReads(client)

    def run(self):
        """Prepare and plan every part, then apply them; returns {type: part result}."""
        problems = []
        for name, part in self.parts:
            try:
                part.prepare(self.reads)
            except GuardrailError as exc:
                # Every type's refusals at once, so that one fix-and-re-run cycle is enough.
                problems.extend("%s: %s" % (name, problem) for problem in exc.problems)
        if problems:
            raise GuardrailError(problems)
        for dummy, part in self.parts:
            part.plan(self.reads.lister)
        if self.state != "gathered":
            self.apply()
        return {name: part.result() for name, part in self.parts}

    def apply(self):
        done = []
        for index, (name, part) in enumerate(self.parts):
            try:
                part.apply()
            except WriteFailed as exc:
                later = []
                for other_name, other in self.parts[index + 1:]:
                    later.extend(_typed(other.planned(), other_name))
                raise WriteFailed(exc.cause, done + _typed(exc.done, name), _typed(exc.not_done, name) + later,
                                  restored=exc.restored, note=exc.note)
            done.extend(_typed(part.done, name))


# mimecast_allowlist: the four allowlisting types of a phishing-simulation campaign, in the order the
# phish_sim_allowlist role always applied them.
ALLOWLIST_TYPES = ("permitted_senders", "antispoof_bypass", "greylisting_bypass", "managed_urls")


def allowlist_parts(client, p, check_mode=False, warn=None):
    """The transaction parts for mimecast_allowlist's parameters ``p``.

    A type whose list is omitted (None) is left alone; with ``gathered`` every type is read."""
    state = p["state"]
    common = dict(owner_tag=p["owner_tag"], adopt=p["adopt"], check_mode=check_mode,
                  on_duplicate=p["on_duplicate"], warn=warn)
    specs = {
        "antispoof_bypass": lambda: AntiSpoofBypassSpec(allow_broad_ranges=p["allow_broad_ranges"]),
        "greylisting_bypass": lambda: GreylistingBypassSpec(allow_broad_ranges=p["allow_broad_ranges"]),
        "managed_urls": lambda: ManagedUrlSpec(allow_shared_domains=p["allow_shared_domains"]),
    }
    parts = []
    for name in ALLOWLIST_TYPES:
        config = p.get(name)
        if state == "gathered":
            config = []
        elif config is None:
            continue
        if name == "permitted_senders":
            part = PermittedSenders(client, state, config, allow_domain=p["allow_domain"], **common)
        else:
            part = EnginePart(client, specs[name](), state, config, **common)
        parts.append((name, part))
    return parts


def run_allowlist(client, p, check_mode=False, warn=None):
    """mimecast_allowlist's result: per type ``actions``/``before``/``after`` (or ``gathered``/``unmanaged``)."""
    parts = allowlist_parts(client, p, check_mode=check_mode, warn=warn)
    results = Transaction(client, p["state"], parts).run()
    out = {"changed": any(r["changed"] for r in results.values()), "types": list(results)}
    for field in ("actions", "before", "after", "gathered", "unmanaged"):
        values = {name: r[field] for name, r in results.items() if field in r}
        if values:
            out[field] = values
    senders = results.get("permitted_senders")
    if senders:
        out["policy_confirmed"] = False
        for field in ("console_steps", "internal_domains"):
            if field in senders:
                out[field] = senders[field]
    return out
