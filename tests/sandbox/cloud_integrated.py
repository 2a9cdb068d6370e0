"""Mimecast Email Security Cloud Integrated policies in the sandbox (API 2.0 REST).

Only the operations public sources show (Mimecast Terraform provider,
github.com/Scriptception/terraform-provider-mimecast: ``capabilities/api-v2.json`` for the
operations, ``internal/client/misc.go`` and ``internal/client/legacy_resources_test.go`` for
the shapes, ``internal/provider/cloud_integrated_resource.go`` for the allowed values):

* ``POST /email/cloud-integrated/v1/policies`` -> 200 ``{"policyId": ...}``
* ``GET /email/cloud-integrated/v1/policies/{policyId}`` -> the policy object
* ``PATCH /email/cloud-integrated/v1/policies/{policyId}`` -> 204
* ``DELETE /email/cloud-integrated/v1/policies/{policyId}`` -> 204
* ``GET /email/cloud-integrated/v1/policies/default-policy`` -> the Default policy

There is no list call (no source shows one): ``GET .../policies`` answers 405. Invented here
(no source): the error codes, the Default policy's name and settings, refusing to target or
delete the Default policy by id (the console refuses targets on it), and 404 on every path for a
tenant configured with ``cloud_integrated: False``. A seeded policy may carry any
``protectionMode`` (the audit's Disabled case); the API itself accepts only the two known values.
"""

from __future__ import annotations

import copy
import re

from .catalog import new_id

PATH = "/email/cloud-integrated/v1/policies"
DEFAULT = "default-policy"
MODES = ("ACTIVE", "MONITOR_ONLY")
ROUTES = ("ALL", "INTERNAL", "EXTERNAL")
ADDRESS_MATCH = ("HEADER", "ENVELOPE", "BOTH")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def is_ci_path(path):
    return path == PATH or path.startswith(PATH + "/")


def initial_state(cfg):
    """{"default": id, "policies": {id: body}} with the Default policy every installation has."""
    if not cfg.get("cloud_integrated", True):
        return {"default": None, "policies": {}}
    default_id = new_id("ci-", 12)
    body = {"name": "Default Policy", "description": "Default Policy",
            "protectionMode": cfg.get("ci_default_mode", "MONITOR_ONLY"),
            "targets": {"senders": {"route": "ALL"}, "recipients": {"route": "ALL"}, "addressMatch": "BOTH"}}
    return {"default": default_id, "policies": {default_id: body}}


def render(data, policy_id):
    out = {"policyId": policy_id, "accountId": "acc-sandbox"}
    out.update(copy.deepcopy(data["policies"][policy_id]))
    return out


def state(data, builtin=False):
    """The policies as read back with ``default`` set; the Default policy (first) only with builtin=True,
    like the built-in profile groups."""
    return [dict(render(data, pid), default=pid == data["default"]) for pid in data["policies"]
            if builtin or pid != data["default"]]


def error(status, code, message, field=None):
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return status, {"errors": [err]}, {}


class Invalid(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def _target(value, field, with_route=True):
    if not isinstance(value, dict):
        raise Invalid(field, "Must be an object")
    unknown = set(value) - {"route", "emails", "groups", "domains"} - (set() if with_route else {"route"})
    if unknown or (not with_route and "route" in value):
        raise Invalid(field, "Unknown field(s): %s" % ", ".join(sorted(unknown or {"route"})))
    if with_route and value.get("route") not in ROUTES:
        raise Invalid(field + ".route", "Must be one of %s" % ", ".join(ROUTES))
    for email in value.get("emails") or []:
        if not isinstance(email, str) or not EMAIL_RE.match(email):
            raise Invalid(field + ".emails", "Not an email address")
    for domain in value.get("domains") or []:
        if not isinstance(domain, str) or not DOMAIN_RE.match(domain):
            raise Invalid(field + ".domains", "Not a domain")
    for group in value.get("groups") or []:
        if not isinstance(group, dict) or not isinstance(group.get("id"), str) or not group["id"]:
            raise Invalid(field + ".groups", "Each group must be {id}")
    return copy.deepcopy(value)


def validate(body):
    """The stored body of a create / update (the whole write body, as the provider sends it)."""
    if not isinstance(body, dict):
        raise Invalid(None, "Body must be a JSON object")
    for field in ("policyId", "accountId"):
        if field in body:
            raise Invalid(field, "Read-only field")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise Invalid("name", "Required")
    if body.get("protectionMode") not in MODES:
        raise Invalid("protectionMode", "Must be one of %s" % ", ".join(MODES))
    targets = body.get("targets")
    if not isinstance(targets, dict):
        raise Invalid("targets", "Required")
    stored_targets = {}
    for side in ("senders", "recipients"):
        if side in targets:
            stored_targets[side] = _target(targets[side], "targets." + side)
    if "exceptions" in targets:
        stored_targets["exceptions"] = _target(targets["exceptions"], "targets.exceptions", with_route=False)
    if "addressMatch" in targets:
        if targets["addressMatch"] not in ADDRESS_MATCH:
            raise Invalid("targets.addressMatch", "Must be one of %s" % ", ".join(ADDRESS_MATCH))
        stored_targets["addressMatch"] = targets["addressMatch"]
    out = {"name": body["name"], "protectionMode": body["protectionMode"], "targets": stored_targets}
    if body.get("description") is not None:
        if not isinstance(body["description"], str):
            raise Invalid("description", "Must be a string")
        out["description"] = body["description"]
    return out


def handle(method, path, body, data, malformed):
    """(status, JSON body or None, headers) for one Cloud Integrated request."""
    if data["default"] is None:
        return error(404, "err_cloud_integrated_not_enabled", "Cloud Integrated is not enabled for this account")
    if path == PATH:
        if method != "POST":
            return error(405, "method_not_allowed", "Use POST")
        if body is malformed:
            return error(400, "err_validation_malformed_json", "Body is not JSON")
        try:
            stored = validate(body)
        except Invalid as exc:
            return error(400, "err_validation_invalid_value", str(exc), exc.field)
        policy_id = new_id("ci-", 12)
        data["policies"][policy_id] = stored
        return 200, {"policyId": policy_id}, {}
    policy_id = path[len(PATH) + 1:]
    if "/" in policy_id:
        return error(404, "not_found", "No resource at %s" % path)
    if policy_id == DEFAULT:
        if method != "GET":
            return error(405, "method_not_allowed", "The sandbox serves only GET for the Default policy")
        return 200, render(data, data["default"]), {}
    if policy_id not in data["policies"]:
        return error(404, "err_policy_not_found", "No Cloud Integrated policy with id %s" % policy_id)
    if method == "GET":
        return 200, render(data, policy_id), {}
    is_default = policy_id == data["default"]
    if method == "DELETE":
        if is_default:
            return error(400, "err_default_policy_delete", "The Default policy cannot be deleted")
        del data["policies"][policy_id]
        return 204, None, {}
    if method == "PATCH":
        if body is malformed:
            return error(400, "err_validation_malformed_json", "Body is not JSON")
        try:
            stored = validate(body)
        except Invalid as exc:
            return error(400, "err_validation_invalid_value", str(exc), exc.field)
        if is_default and stored["targets"] != data["policies"][policy_id]["targets"]:
            return error(400, "err_default_policy_targets", "The Default policy cannot be targeted", "targets")
        data["policies"][policy_id] = stored
        return 204, None, {}
    return error(405, "method_not_allowed", "Use GET, PATCH or DELETE")


def seed(data, bodies):
    """Store API-shaped bodies as they are (any protectionMode); returns their ids."""
    ids = []
    for body in bodies:
        policy_id = new_id("ci-", 12)
        data["policies"][policy_id] = copy.deepcopy(body)
        ids.append(policy_id)
    return ids
