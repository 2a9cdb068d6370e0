# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is PRIVATE to mailsec.mimecast: it may change in any release.
# Do not import it from other collections.

"""The one place that knows which list and paging shapes Mimecast answers with.

Every list read of the collection (REST collections and paged classic ``/api/...`` calls)
goes through :func:`read_page`. It returns the page's items and the next-page token, or
raises :class:`ShapeError` naming the unexpected keys (types only, never values). The rule
it keeps: a payload that holds objects is never read as "no objects", because the
declarative engine would then create what already exists.

What is accepted, and the public evidence for it:

* REST list items under ``definitions`` or ``policies``: the Mimecast Terraform provider
  (github.com/Scriptception/terraform-provider-mimecast, ``internal/client/resources.go``
  ``ListPolicies``) decodes both and reads the filled one when the other is empty; under
  ``data``: the Akonis Mimecast automation library
  (github.com/Akonis-cybersecurity/Mimecast-Akonis-automation-library,
  ``mimecast_modules/actions/action_get_blocked_sender_policies.py``) reads ``policies`` or
  ``data``. Two known keys that both hold items are refused (no guessing).
* A missing list key reads as an empty list: both clients above do so (Go decoding leaves the
  slice empty; Akonis falls back to ``[]``). Only when the payload holds no other list at all.
* REST next-page token: ``meta.nextPageToken``, ``meta.nextPage`` and
  ``meta.pagination.next|nextPage|nextPageToken`` (Terraform provider ``internal/client/types.go``
  ``PageMeta``), and a top-level ``nextToken`` / ``next_token`` (Akonis, same file as above).
  Any other key that looks like a next-page pointer and holds a value is refused, so paging
  never stops early.
* Items wrapped as ``{"id": ..., "option": ..., "policy": {...}}`` (the classic get-policy
  shape, https://integrations.mimecast.com/documentation/endpoint-reference/policies/antispoofing-spf-bypass/get-policy/
  and the recorded create response in demisto/content
  ``Packs/Mimecast/Integrations/MimecastV2/test_data/create_antispoofing_bypass_policy_response.json``)
  are unwrapped into one flat object; a key present inside and outside with different values
  is refused.
* Classic envelope: items under ``data``, next token at ``meta.pagination.next``
  (https://integrations.mimecast.com/documentation/api-overview/api-concepts/).
"""

from __future__ import annotations


class ShapeError(Exception):
    """A response the collection does not understand; the message names keys, never values."""

    def __init__(self, problem, keys=None):
        super().__init__(problem)
        self.problem = problem
        self.keys = keys or ""


class Shape:
    """The accepted layout of one kind of list answer."""

    def __init__(self, name, list_keys, token_paths, envelope_keys, unwrap=None):
        self.name = name
        self.list_keys = list_keys
        self.token_paths = token_paths
        self.envelope_keys = envelope_keys
        self.unwrap = unwrap


REST = Shape(
    "REST list",
    list_keys=("definitions", "policies", "data"),
    token_paths=(
        ("meta", "nextPageToken"),
        ("meta", "nextPage"),
        ("meta", "pagination", "next"),
        ("meta", "pagination", "nextPage"),
        ("meta", "pagination", "nextPageToken"),
        ("nextToken",),
        ("next_token",),
    ),
    envelope_keys=("meta",),
    unwrap="policy",
)
CLASSIC = Shape(
    "classic list",
    list_keys=("data",),
    token_paths=(("meta", "pagination", "next"),),
    envelope_keys=("meta", "fail"),
)
# Key names that mention paging but never point at the next page: the current page's token
# echoed back, and the previous page (following either would loop).
NOT_NEXT = ("pagetoken", "previous", "prev", "previouspage", "previouspagetoken", "prevpagetoken",
            "prevtoken", "previoustoken")
PAGING_WORDS = ("next", "cursor", "token")
KEY_MAX = 60


def _type(value):
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list of %d" % len(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _name(key):
    text = str(key)
    if len(text) > KEY_MAX:
        text = text[:KEY_MAX] + "..."
    return "".join(c if c.isprintable() else "?" for c in text)


def key_summary(node, prefix="", depth=3):
    """``a (object), a.b (string), c (list of 2)``: every key with its type, values redacted.
    List contents are not shown (only their length)."""
    if not isinstance(node, dict):
        return _type(node)
    parts = []
    for key in sorted(node, key=str):
        value = node[key]
        path = prefix + _name(key)
        parts.append("%s (%s)" % (path, _type(value)))
        if isinstance(value, dict) and depth > 1:
            inner = key_summary(value, path + ".", depth - 1)
            if inner:
                parts.append(inner)
    return ", ".join(parts)


def _has_list(node):
    """True when ``node`` is a list or an object holding a list at any depth."""
    if isinstance(node, list):
        return True
    if isinstance(node, dict):
        return any(_has_list(v) for v in node.values())
    return False


def _paging_keys(node, prefix=""):
    """(dotted path, value) of every key under ``node`` (objects only) that looks like paging."""
    found = []
    if not isinstance(node, dict):
        return found
    for key, value in node.items():
        path = prefix + str(key)
        lower = str(key).lower()
        if any(w in lower for w in PAGING_WORDS) and lower not in NOT_NEXT:
            found.append((path, value))
        found.extend(_paging_keys(value, path + "."))
    return found


def _unwrap(item, wrapper, where):
    inner = item[wrapper]
    merged = dict(inner)
    for key, value in item.items():
        if key == wrapper:
            continue
        if key in inner and inner[key] != value:
            raise ShapeError("%s carries %r both inside and outside %r with different values"
                             % (where, _name(key), wrapper), key_summary(item))
        merged[key] = value
    return merged


def read_page(payload, shape=REST):
    """(items, next-page token or None) of one page, or raise ShapeError."""
    if not isinstance(payload, dict):
        raise ShapeError("the body is %s, not an object" % _type(payload), _type(payload))
    present = [k for k in shape.list_keys if k in payload]
    for key in present:
        if not isinstance(payload[key], list):
            raise ShapeError("%r is %s, not a list" % (key, _type(payload[key])), key_summary(payload))
    filled = [k for k in present if payload[k]]
    if len(filled) > 1:
        raise ShapeError("%s all hold items; the collection will not guess which one is the list"
                         % " and ".join(repr(k) for k in filled), key_summary(payload))
    skip = set(present) | set(shape.envelope_keys)
    if not present:
        others = sorted(str(k) for k, v in payload.items() if k not in skip and _has_list(v))
        if others:
            raise ShapeError("the answer has none of the list keys the collection knows (%s) but holds a "
                             "list under %s" % (", ".join(shape.list_keys), ", ".join(map(_name, others))),
                             key_summary(payload))
    else:
        others = sorted(str(k) for k, v in payload.items()
                        if k not in skip and isinstance(v, list) and any(isinstance(i, dict) for i in v))
        if others:
            raise ShapeError("objects sit under %s next to the list key %r; the collection will not guess "
                             "which one is the list" % (", ".join(map(_name, others)), (filled or present)[0]),
                             key_summary(payload))
    list_key = filled[0] if filled else None
    items = []
    for index, item in enumerate(payload[list_key] if list_key else []):
        where = "item %d of %r" % (index + 1, list_key)
        if not isinstance(item, dict):
            raise ShapeError("%s is %s, not an object" % (where, _type(item)), key_summary(payload))
        if shape.unwrap and isinstance(item.get(shape.unwrap), dict):
            item = _unwrap(item, shape.unwrap, where)
        items.append(item)
    return items, _next_token(payload, shape, skip=set(present) | {"fail"})


def _next_token(payload, shape, skip):
    tokens = {}
    for chain in shape.token_paths:
        node = payload
        for key in chain:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None or node == "":
            continue
        if not isinstance(node, (str, int)) or isinstance(node, bool):
            raise ShapeError("the page token %s is %s, not a string" % (".".join(chain), _type(node)),
                             key_summary(payload))
        tokens[".".join(chain)] = str(node)
    if len(set(tokens.values())) > 1:
        raise ShapeError("the page tokens %s disagree" % ", ".join(sorted(tokens)), key_summary(payload))
    known = {".".join(chain) for chain in shape.token_paths}
    outside = {k: v for k, v in payload.items() if k not in skip}
    unknown = sorted(path for path, value in _paging_keys(outside)
                     if path not in known and value not in (None, "", False, [], {})
                     and not isinstance(value, dict))
    if unknown:
        raise ShapeError("paging keys the collection does not know (%s) hold a value; refusing to treat "
                         "the list as complete" % ", ".join(map(_name, unknown)), key_summary(payload))
    return next(iter(tokens.values()), None)


def read_object(payload, id_keys):
    """One object of a GET-by-id answer, or raise ShapeError.

    Accepted: the bare object carrying one of ``id_keys`` with a string value. The Cloud
    Integrated policy reads of the Mimecast Terraform provider decode exactly that shape
    (github.com/Scriptception/terraform-provider-mimecast, ``internal/client/misc.go``
    ``GetCloudIntegratedPolicy``; its test fixture ``internal/client/legacy_resources_test.go``
    answers ``{"policyId": ..., "name": ..., "protectionMode": ..., "targets": {...}}``).
    A list envelope or an object without an id is refused: it cannot be matched or updated.
    """
    if not isinstance(payload, dict):
        raise ShapeError("the body is %s, not an object" % _type(payload), _type(payload))
    if not any(isinstance(payload.get(k), str) and payload.get(k) for k in id_keys):
        raise ShapeError("the object carries none of %s as a string" % ", ".join(id_keys), key_summary(payload))
    return payload
