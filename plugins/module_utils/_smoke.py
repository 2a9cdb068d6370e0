# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""The read-only smoke run: every read the collection uses, and a redacted shape report.

The report holds, for every endpoint called, the key names and JSON types of the answers
(values never: only key names, types and list lengths) and what does not match what the
collection expects (list keys, paging keys, fields the modules read). Object keys that are not
plain field names (a recipient address as key, an id as key) are replaced by ``<key>``.
"""

from __future__ import annotations

import datetime
import json
import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._shapes import REST as REST_SHAPE

# What the collection's list reader (_shapes.REST) accepts: list keys, next-page tokens at the top
# level and under meta, and the one key items may come wrapped in.
REST_LIST_KEYS = REST_SHAPE.list_keys
TOP_TOKENS = tuple(chain[0] for chain in REST_SHAPE.token_paths if len(chain) == 1)
META_TOKENS = tuple(".".join(chain[1:]) for chain in REST_SHAPE.token_paths if chain[0] == "meta")

REST = "/policy-management/cloud-gateway/v1/"
GATEWAY_FIELDS = dict(required=("id", "description"),
                      optional=("option", "enabled", "from", "to", "fromPart", "override", "bidirectional",
                                "fromEternal", "toEternal", "fromDateTime|fromDate", "toDateTime|toDate"))
# (label, method, path, classic request data or None for REST, where the items are, expected item fields)
# "<list>" is a REST list key (REST_LIST_KEYS), "data[]" the classic envelope's list.
ENDPOINTS = (
    ("anti-spoofing policies", "GET", REST + "anti-spoofing/policies", None, "<list>[]", GATEWAY_FIELDS),
    ("anti-spoofing bypass policies", "GET", REST + "anti-spoofing-bypass/policies", None, "<list>[]",
     GATEWAY_FIELDS),
    ("greylisting policies", "GET", REST + "greylisting/policies", None, "<list>[]", GATEWAY_FIELDS),
    ("blocked senders policies", "GET", REST + "blocked-senders/policies", None, "<list>[]", GATEWAY_FIELDS),
    ("delivery route definitions", "GET", REST + "delivery-route/definitions", None, "<list>[]",
     dict(required=("id", "description"), optional=("hostname", "port"))),
    ("delivery route policies", "GET", REST + "delivery-route/policies", None, "<list>[]",
     dict(required=("id", "description"), optional=("definitionId", "alternateRouteId", "override"))),
    ("internal domains", "POST", "/api/domain/get-internal-domain", [], "data[]",
     dict(required=("domain",), optional=("id", "inboundType"))),
    ("profile groups", "POST", "/api/directory/find-groups", [{"source": "cloud"}], "data[].folders[]",
     dict(required=("id", "description"), optional=("userCount", "parentId"))),
    ("profile group members", "POST", "/api/directory/get-group-members", "<group>", "data[].groupMembers[]",
     dict(required=(), optional=("emailAddress", "domain"))),
    ("managed URLs", "POST", "/api/ttp/url/get-all-managed-urls", [], "data[]",
     dict(required=("id", "domain", "action", "matchType"),
          optional=("path", "queryString", "scheme", "comment", "disableRewrite", "disableLogClick",
                    "disableUserAwareness"))),
    ("message finder search", "POST", "/api/message-finder/search", "<search>", "data[].trackedEmails[]",
     dict(required=("id",), optional=("status", "received", "fromEnv", "to", "subject", "senderIP", "info"))),
    ("message info", "POST", "/api/message-finder/get-message-info", "<message>", "data[]",
     dict(required=(), optional=("deliveredMessage", "recipientInfo", "status"))),
)
CLASSIC_TOP = ("data", "meta", "fail")
CLASSIC_PAGING = ("next", "pageSize", "totalCount", "previous")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")


def _key(name):
    """A key name safe for the report: plain field names stay, anything else (addresses, ids) is hidden."""
    text = str(name)
    if FIELD_NAME.match(text) and sum(c.isdigit() for c in text) <= 2:
        return text
    return "<key>"


def shape(value):
    """Key names and JSON types of ``value``, recursively; never a value."""
    if isinstance(value, dict):
        keys = {}
        for name, child in value.items():
            safe = _key(name)
            keys[safe] = merge(keys[safe], shape(child)) if safe in keys else shape(child)
        return {"type": "object", "keys": keys}
    if isinstance(value, list):
        out = {"type": "array", "length": len(value)}
        for child in value:
            out["items"] = merge(out["items"], shape(child)) if "items" in out else shape(child)
        return out
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, (int, float)):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    return {"type": "null"}


def merge(a, b):
    """One shape for two answers (or list items): keys united, lengths added, types joined."""
    if a["type"] != b["type"]:
        types = sorted(set(a["type"].split("|")) | set(b["type"].split("|")))
        keep = a if "keys" in a or "items" in a else b
        return dict(keep, type="|".join(types))
    out = dict(a)
    if "keys" in a:
        out["keys"] = dict(a["keys"])
        for name, child in b["keys"].items():
            out["keys"][name] = merge(out["keys"][name], child) if name in out["keys"] else child
    if a["type"] == "array":
        out["length"] = a.get("length", 0) + b.get("length", 0)
        if "items" in a and "items" in b:
            out["items"] = merge(a["items"], b["items"])
        elif "items" in b:
            out["items"] = b["items"]
    return out


def _walk(node, steps):
    """Follow ``a.b[].c`` steps in a shape: the node, or None when a step is missing,
    or "empty" when an array on the way had no items (nothing to judge)."""
    for step in steps:
        array = step.endswith("[]")
        name = step[:-2] if array else step
        if name:
            keys = node.get("keys") if isinstance(node, dict) else None
            if not keys or name not in keys:
                return None
            node = keys[name]
        if array:
            if "array" not in node["type"].split("|"):
                return None
            if "items" not in node:
                return "empty"
            node = node["items"]
    return node


def _paging_like(name):
    return any(w in name.lower() for w in ("next", "cursor", "token"))


def _flat(node, prefix=""):
    out = []
    for name, child in (node.get("keys") or {}).items():
        out.append(prefix + name)
        out.extend(_flat(child, prefix + name + "."))
    return out


def check(rest, items_at, fields, top):
    """Mismatches (one line each) between one endpoint's merged shape ``top`` and what the collection expects."""
    problems = []
    notes = []
    if top is None:
        return ["no JSON object was answered"], notes
    if "object" not in top["type"].split("|"):
        return ["the answer is %s, not an object" % top["type"]], notes
    keys = top.get("keys") or {}
    if rest:
        found = [k for k in REST_LIST_KEYS if k in keys]
        if not found:
            problems.append("none of the list keys the collection reads (%s); top-level keys: %s"
                            % (", ".join(REST_LIST_KEYS), ", ".join(sorted(keys)) or "none"))
        elif len(found) > 1:
            notes.append("more than one list key (%s): the collection reads the one that holds items and "
                         "fails if several do" % ", ".join(found))
        for name in sorted(keys):
            if name in TOP_TOKENS:
                notes.append("the next-page token is at the top level (%s), which the collection reads" % name)
            elif name not in REST_LIST_KEYS and name != "meta":
                what = "a paging key outside meta" if _paging_like(name) else "an unexpected top-level key"
                problems.append("%s: %s" % (what, name))
        known = set(META_TOKENS)
        meta = keys.get("meta") or {}
        for name in _flat(meta):
            if _paging_like(name) and name not in known and not any(k.startswith(name + ".") for k in known):
                problems.append("a paging key the collection does not read: meta.%s" % name)
        items_at = items_at.replace("<list>", found[0] if found else REST_LIST_KEYS[0])
    else:
        for name in sorted(keys):
            if name not in CLASSIC_TOP:
                problems.append("an unexpected top-level key: %s" % name)
        if "data" not in keys:
            problems.append("no data list")
        pagination = _walk(top, ["meta", "pagination"])
        if isinstance(pagination, dict):
            for name in sorted(pagination.get("keys") or {}):
                if name not in CLASSIC_PAGING:
                    problems.append("a paging key the collection does not read: meta.pagination.%s" % name)
    items = _walk(top, items_at.split("."))
    if items is None:
        problems.append("no list at %s" % items_at)
        return problems, notes
    if items == "empty":
        notes.append("no items at %s: the item fields could not be checked" % items_at)
        return problems, notes
    item_keys = items.get("keys") or {}
    inner = item_keys.get(REST_SHAPE.unwrap) if rest else None
    if isinstance(inner, dict) and "object" in inner["type"].split("|"):
        # The collection's reader unwraps {"policy": {...}} (with any fields beside it) into one object.
        notes.append("the items are wrapped in %s, which the collection unwraps" % REST_SHAPE.unwrap)
        item_keys = dict(item_keys)
        item_keys.pop(REST_SHAPE.unwrap)
        item_keys.update(inner.get("keys") or {})
    elif len(item_keys) == 1 and "object" in next(iter(item_keys.values()))["type"].split("|"):
        problems.append("the items are wrapped in one key (%s) instead of carrying their fields"
                        % next(iter(item_keys)))
    for name in fields["required"]:
        if not any(alt in item_keys for alt in name.split("|")):
            problems.append("items lack the field %s" % name.replace("|", " or "))
    for name in fields["optional"]:
        if not any(alt in item_keys for alt in name.split("|")):
            notes.append("no item had the optional field %s" % name.replace("|", " or "))
    return problems, notes


class Recorder:
    """Collects the shape of every answer per endpoint (the client's ``observe`` hook)."""

    def __init__(self):
        self.answers = {}

    def __call__(self, method, path, kind, response):
        if kind == "auth":
            return
        entry = self.answers.setdefault((method, path), {"calls": 0, "statuses": [], "shape": None})
        entry["calls"] += 1
        if response.status_code not in entry["statuses"]:
            entry["statuses"].append(response.status_code)
        try:
            body = shape(response.json()) if response.content else None
        except ValueError:
            body = {"type": "not JSON"}
        if body is not None:
            entry["shape"] = merge(entry["shape"], body) if entry["shape"] else body


def _call(client, method, path, data):
    if method == "GET":
        return client.rest_list(path)
    return client.classic(path, data, paginate=path != "/api/message-finder/search"
                          and path != "/api/message-finder/get-message-info")


def smoke(client, recorder, window_minutes=5, now=None):
    """Call every read; returns the report (a dict of key names, types, counts and mismatches only)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    fmt = "%Y-%m-%dT%H:%M:%S+0000"
    results = {}
    groups = messages = []
    for label, method, path, data, items_at, fields in ENDPOINTS:
        if data == "<group>":
            if not groups:
                results[label] = {"skipped": "no profile group to read the members of"}
                continue
            data = [{"id": groups[0]["id"]}]
        elif data == "<search>":
            start = now - datetime.timedelta(minutes=max(window_minutes, 1))
            data = [{"start": start.strftime(fmt), "end": now.strftime(fmt),
                     "searchReason": "mailsec.mimecast smoke run (read-only)"}]
        elif data == "<message>":
            if not messages:
                results[label] = {"skipped": "the search window held no message"}
                continue
            data = [{"id": messages[0]["id"]}]
        error = None
        try:
            found = _call(client, method, path, data)
        except MimecastError as exc:
            # Only the code and status: Mimecast's message text may quote tenant values.
            error = {"code": exc.code, "status": exc.status}
            found = []
        if label == "profile groups":
            groups = [f for page in found if isinstance(page, dict) for f in page.get("folders") or []
                      if isinstance(f, dict) and f.get("id")]
        if label == "message finder search":
            messages = [m for page in found if isinstance(page, dict) for m in page.get("trackedEmails") or []
                        if isinstance(m, dict) and m.get("id")]
        answer = recorder.answers.get((method, path), {"calls": 0, "statuses": [], "shape": None})
        problems, notes = check(method == "GET", items_at, fields, answer["shape"])
        results[label] = {
            "endpoint": "%s %s" % (method, path), "calls": answer["calls"], "statuses": answer["statuses"],
            "error": error, "mismatches": problems, "notes": notes, "shape": answer["shape"],
        }
    called = [r for r in results.values() if "endpoint" in r]
    return {
        "generated": now.strftime("%Y-%m-%d %H:%M UTC"),
        "endpoints": results,
        "mismatch_count": sum(len(r["mismatches"]) for r in called),
        "error_count": sum(1 for r in called if r["error"]),
        "api_calls": client.api_calls,
    }


def _md(text):
    """Markdown-escape (key names come from the tenant's answers)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~])", r"\\\1", str(text))


def _shape_lines(node, name, depth, out):
    extra = ""
    if node.get("type", "").startswith("array") and "length" in node:
        extra = " (%d items)" % node["length"]
    out.append("%s- %s: %s%s" % ("  " * depth, _md(name), _md(node["type"]), extra))
    for key, child in sorted((node.get("keys") or {}).items()):
        _shape_lines(child, key, depth + 1, out)
    if "items" in node:
        _shape_lines(node["items"], "[]", depth + 1, out)


def markdown(report):
    out = ["# Mimecast smoke run: response shapes", "",
           "Generated %s. Key names and types only: no value of the tenant is in this report." % report["generated"],
           "", "%d mismatches, %d endpoints answered with an error." % (report["mismatch_count"],
                                                                        report["error_count"]), ""]
    for label, result in report["endpoints"].items():
        out.append("## %s" % _md(label))
        out.append("")
        if "skipped" in result:
            out.extend(["Not called: %s." % _md(result["skipped"]), ""])
            continue
        out.append("`%s`: %d calls, HTTP %s." % (result["endpoint"], result["calls"],
                                                 ", ".join(str(s) for s in result["statuses"]) or "none"))
        if result["error"]:
            out.append("Error: code %s, HTTP %s." % (_md(result["error"]["code"]), result["error"]["status"]))
        out.append("")
        for problem in result["mismatches"]:
            out.append("- **Mismatch:** %s" % _md(problem))
        for note in result["notes"]:
            out.append("- Note: %s" % _md(note))
        if result["shape"]:
            out.extend(["", "Shape:", ""])
            _shape_lines(result["shape"], "answer", 0, out)
        out.append("")
    return "\n".join(out)


def as_json(report):
    return json.dumps(report, indent=1, sort_keys=True)
