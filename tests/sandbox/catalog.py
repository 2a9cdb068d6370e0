"""What the sandbox emulates: tenants, field validators, REST collections, classic endpoints.

Everything Mimecast-specific that is *data* lives here as small tables, so a new object
type is one table entry (plus a validator or handler if it needs a new kind of field).
Sources: /work/shared/research/mimecast-api.md (section numbers in comments).
"""

import base64
import datetime
import ipaddress
import os
import re

# --------------------------------------------------------------------------- tenants

# Built-in tenants. Missing keys are derived from the tenant name (see tenant_config).
DEFAULT_TENANTS = {
    "demo": {
        "account": {"accountCode": "CUSA12A345", "accountName": "Demo Corp", "region": "us"},
        "internal_domains": ["corp.example", "corp-mail.example"],
    },
    "acme": {
        "account": {"accountCode": "CUK67B890", "accountName": "Acme Ltd", "region": "uk"},
        "internal_domains": ["acme.example"],
    },
}


def tenant_config(name, cfg):
    """Complete one tenant definition; every credential defaults to a name-derived value."""
    cfg = dict(cfg or {})
    cfg.setdefault("client_id", "mc-%s-client" % name)
    cfg.setdefault("client_secret", "mc-%s-secret" % name)
    cfg.setdefault("app_id", "%s-app-id" % name)
    cfg.setdefault("app_key", "%s-app-key" % name)
    cfg.setdefault("access_key", "%s-access-key" % name)
    cfg.setdefault("secret_key", base64.b64encode(("%s-secret-key-bytes" % name).encode()).decode())
    account = {
        "accountCode": "C%s" % name.upper()[:8], "accountName": name.title(), "region": "us",
        "gateway": True, "archive": False, "adminEmail": "admin@%s.example" % name,
        "packages": ["Email Security Cloud Gateway - Advanced [1093]",
                     "Targeted Threat Protection - URL Protect [1075]",
                     "Targeted Threat Protection - Impersonation Protect [1077]"],
        "userCount": 42, "mimecastId": "01-%04d-00001" % (sum(name.encode()) % 10000),
        "type": "full", "mailPlatform": "office365",
    }
    account.update(cfg.get("account") or {})
    cfg["account"] = account
    cfg.setdefault("internal_domains", ["%s.example" % name])
    return cfg


def new_id(prefix="eNo1", nbytes=90):
    """Opaque, long, never derived from content (like real policy/group ids, research 9.2/12)."""
    return prefix + base64.urlsafe_b64encode(os.urandom(nbytes)).decode().rstrip("=")


DATE_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
ETERNAL_FROM = "1900-01-01T00:00:00+0000"   # research 5.1: what eternal dates read back as
ETERNAL_TO = "2100-01-01T23:59:59+0000"


def now_string():
    return datetime.datetime.now(datetime.timezone.utc).strftime(DATE_FORMAT)


# --------------------------------------------------------------------------- validation

class Invalid(Exception):
    """One field error; code/message/field go into the 400 body unchanged."""

    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def as_dict(self):
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class ValidationErrors(Exception):
    def __init__(self, errors):
        super().__init__("; ".join("%s: %s" % (e.field, e.message) for e in errors))
        self.errors = errors


def v_bool(value, field):
    if not isinstance(value, bool):
        raise Invalid("err_validation_invalid_type", "Must be a boolean", field)
    return value


def v_text(max_len):
    def check(value, field):
        if not isinstance(value, str):
            raise Invalid("err_validation_invalid_type", "Must be a string", field)
        if not value.strip():
            raise Invalid("err_validation_blank",
                          "This field, if present, cannot be blank or empty", field)
        if len(value) > max_len:
            raise Invalid("err_validation_max_length", "At most %d characters" % max_len, field)
        return value
    return check


def v_enum(*allowed):
    def check(value, field):
        if value not in allowed:
            raise Invalid("err_validation_invalid_value",
                          "Must be one of: %s" % ", ".join(allowed), field)
        return value
    return check


DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")


def v_domain(value, field):
    if not isinstance(value, str) or not DOMAIN_RE.match(value):
        raise Invalid("err_validation_invalid_domain", "Not a valid domain name", field)
    return value


def v_email(value, field):
    if (not isinstance(value, str) or not EMAIL_RE.match(value)
            or not DOMAIN_RE.match(value.rsplit("@", 1)[1])):
        raise Invalid("err_validation_invalid_email_address", "Not a valid email address", field)
    return value


def v_ip(value, field):
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise Invalid("err_validation_invalid_ip_address",
                      "Not a valid IP address or CIDR range: %r" % (value,), field)
    return value


def v_date(value, field):
    try:
        if not isinstance(value, str) or not DATE_RE.match(value):
            raise ValueError(value)
        datetime.datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        raise Invalid("err_validation_invalid_date",
                      "Date must look like 2026-01-31T00:00:00+0000", field)
    return value


def v_list(item_check, nonempty=False):
    def check(value, field):
        if not isinstance(value, list):
            raise Invalid("err_validation_invalid_type", "Must be a list", field)
        if nonempty and not value:
            raise Invalid("err_validation_blank", "Must not be empty", field)
        return [item_check(v, field) for v in value]
    return check


def v_attribute(value, field):
    if not isinstance(value, dict) or set(value) - {"id", "value"}:
        raise Invalid("err_validation_invalid_type", "Must be {id, value}", field)
    for key in ("id", "value"):
        v_text(256)(value.get(key), "%s.%s" % (field, key))
    return dict(value)


# Gateway policy target (research 4.1 enum, 4.2 REST names: `domain`, not `emailDomain`).
TARGET_VALUE = {  # type -> (value field it needs, validator) ; None = no value
    "everyone": None, "internal_addresses": None, "external_addresses": None,
    "free_mail_domains": None,
    "email_domain": ("domain", v_domain),
    "individual_email_address": ("emailAddress", v_email),
    "profile_group": ("groupId", v_text(512)),
    "address_attribute_value": ("attribute", v_attribute),
    "header_display_name": ("headerDisplayName", v_text(256)),
}


def v_target(value, field):
    if not isinstance(value, dict):
        raise Invalid("err_validation_invalid_type", "Must be an object with a type", field)
    if "type" not in value:
        raise Invalid("err_validation_null", "type is required", field + ".type")
    kind = v_enum(*TARGET_VALUE)(value["type"], field + ".type")
    need = TARGET_VALUE[kind]
    for key in value:
        if key != "type" and (need is None or key != need[0]):
            raise Invalid("err_validation_unknown_field",
                          "Unknown field for target type %s: %s" % (kind, key),
                          "%s.%s" % (field, key))
    out = {"type": kind}
    if need:
        if need[0] not in value:
            raise Invalid("err_validation_null", "%s is required for type %s" % (need[0], kind),
                          "%s.%s" % (field, need[0]))
        out[need[0]] = need[1](value[need[0]], "%s.%s" % (field, need[0]))
    return out


# --------------------------------------------------------------------------- REST collections

class Collection:
    """One REST collection: `GET|POST path`, `GET|PATCH|DELETE path/{id}`.

    fields: name -> validator(value, field) ; required: names ; defaults: name -> value ;
    finish(stored, request_body): cross-field rules, may raise Invalid ;
    render(stored) -> the read-back object (without id/createTime/lastUpdated).
    """

    def __init__(self, name, path, list_key, fields, required=(), defaults=None,
                 finish=None, render=None, not_found="err_policy_not_found"):
        self.name, self.path, self.list_key = name, path, list_key
        self.fields, self.required, self.defaults = fields, tuple(required), defaults or {}
        self.finish, self.render, self.not_found = finish, render or dict, not_found

    def validate(self, body, base=None):
        """Return the stored form of `body` (merged over `base` for PATCH) or raise."""
        if not isinstance(body, dict):
            raise ValidationErrors([Invalid("err_validation_invalid_body",
                                            "Body must be a JSON object")])
        errors, stored = [], dict(base or {})
        for key, value in body.items():
            if key not in self.fields:
                errors.append(Invalid("err_validation_unknown_field",
                                      "Unknown field: %s" % key, key))
            elif value is None:
                stored.pop(key, None)            # null = back to the default
            else:
                try:
                    stored[key] = self.fields[key](value, key)
                except Invalid as exc:
                    errors.append(exc)
        if not errors:
            for key, value in self.defaults.items():
                stored.setdefault(key, value)
            errors = [Invalid("err_validation_null", "%s is required" % key, key)
                      for key in self.required if key not in stored]
        if not errors and self.finish:
            try:
                self.finish(stored, body)
            except Invalid as exc:
                errors.append(exc)
        if errors:
            raise ValidationErrors(errors)
        return stored


def _policy_dates(from_key, to_key):
    """Setting a date forces the matching *Eternal to false (research 4.1)."""
    def finish(stored, body):
        for side, key in (("from", from_key), ("to", to_key)):
            eternal = side + "Eternal"
            if key in body and body[key] is not None:
                stored[eternal] = False
            elif body.get(eternal) is True:
                stored.pop(key, None)
            if stored[eternal]:
                stored.pop(key, None)
            elif key not in stored:
                raise Invalid("err_validation_null",
                              "%s is required when %s is false" % (key, eternal), key)
        if from_key in stored and to_key in stored and stored[to_key] < stored[from_key]:
            raise Invalid("err_validation_invalid_date_range",
                          "%s is before %s" % (to_key, from_key), to_key)
    return finish


def _render_target(target):
    out = dict(target)
    if out["type"] == "profile_group":          # v2 read-back quirk (research 12)
        out["group"] = {"id": out.pop("groupId")}
    return out


FLAT_VALUE = {"email_domain": "domain", "individual_email_address": "emailAddress",
              "profile_group": "groupId"}


def _policy_render(from_key, to_key, extras):
    def render(stored):
        out = {k: stored[k] for k in ("description", "option", "fromPart") if k in stored}
        for side in ("from", "to"):
            target = stored[side]
            out[side] = _render_target(target)
            out[side + "Type"] = target["type"]          # flattened duplicates (research 4.1)
            if target["type"] in FLAT_VALUE:
                out[side + "Value"] = target[FLAT_VALUE[target["type"]]]
        for key in ("enabled", "enforced", "override", "bidirectional",
                    "fromEternal", "toEternal"):
            out[key] = stored[key]
        out[from_key] = stored.get(from_key, ETERNAL_FROM)
        out[to_key] = stored.get(to_key, ETERNAL_TO)
        out.update({k: list(stored[k]) for k in extras if k in stored})
        out["conditions"] = {}
        return out
    return render


def gateway_policy(name, path, list_key, options, extras=(), required=(),
                   dates=("fromDateTime", "toDateTime")):
    """A Cloud Gateway policy collection (anti-spoofing, bypass, greylisting, ...)."""
    extra_checks = {"sourceIPs": v_list(v_ip), "hostnames": v_list(v_domain),
                    "spfDomains": v_list(v_domain, nonempty="spfDomains" in required)}
    fields = {
        "description": v_text(200), "option": v_enum(*options),
        "fromPart": v_enum("envelope_from", "header_from", "both"),
        "from": v_target, "to": v_target,
        "enabled": v_bool, "enforced": v_bool, "override": v_bool, "bidirectional": v_bool,
        "fromEternal": v_bool, "toEternal": v_bool, dates[0]: v_date, dates[1]: v_date,
    }
    fields.update({k: extra_checks[k] for k in extras})
    defaults = {"fromPart": "envelope_from", "from": {"type": "everyone"},
                "to": {"type": "everyone"}, "enabled": True, "enforced": False,
                "override": False, "bidirectional": False, "fromEternal": True,
                "toEternal": True}
    return Collection(name, path, list_key, fields, ("description", "option") + tuple(required),
                      defaults, _policy_dates(*dates), _policy_render(dates[0], dates[1], extras))


CG = "/policy-management/cloud-gateway/v1"
COLLECTIONS = [
    # research 7: options UNCERTAIN ([Veltrix]); sourceIPs/hostnames per [TFP]/[Veltrix]
    gateway_policy("anti-spoofing", CG + "/anti-spoofing/policies", "definitions",
                   ("no_action", "apply", "apply_non_mimecast"), extras=("sourceIPs", "hostnames")),
    # research 4.2: body UNCERTAIN; classic conditions also carry sourceIPs, so accepted here
    gateway_policy("anti-spoofing-bypass", CG + "/anti-spoofing-bypass/policies", "definitions",
                   ("enable_bypass", "disable_bypass"),
                   extras=("spfDomains", "hostnames", "sourceIPs"), required=("spfDomains",)),
    # research 7: fromDate/toDate quirk; `to` UNCERTAIN ([Veltrix] none, [TFP] yes): accepted
    gateway_policy("greylisting", CG + "/greylisting/policies", "policies",
                   ("apply", "no_action"), extras=("sourceIPs",), dates=("fromDate", "toDate")),
]


# --------------------------------------------------------------------------- classic endpoints

class ClassicError(Exception):
    """Raise from a classic handler to answer a whole-call error (HTTP status + one fail)."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def page(items, meta, page_size, token_codec):
    """Classic meta.pagination paging: returns (slice, pagination meta)."""
    pag = (meta or {}).get("pagination") or {}
    size = pag.get("pageSize", page_size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ClassicError(400, "err_validation_invalid_page_size", "Invalid pageSize")
    size = min(size, page_size)
    start = token_codec.decode(pag.get("pageToken"), "classic")
    if start is None:
        raise ClassicError(400, "err_validation_invalid_page_token", "Invalid pageToken")
    out = {"pageSize": size}
    if start + size < len(items):
        out["next"] = token_codec.encode(start + size, "classic")
    if start > 0:
        out["previous"] = token_codec.encode(max(0, start - size), "classic")
    return items[start:start + size], out


def get_account(ctx, data, meta):
    return [dict(ctx.tenant_cfg["account"])], [], None


def get_internal_domain(ctx, data, meta):
    domains = ctx.state["internal_domains"]
    wanted = [d for d in data if isinstance(d, dict) and d.get("domain")]
    if not wanted:                       # {"data": []} = all, paged (research 9.1)
        items, pagination = page(domains, meta, ctx.page_size, ctx.tokens)
        return [dict(d) for d in items], [], pagination
    found, fail = [], []
    for item in wanted:                  # several items behave like several calls (2.1)
        hits = [dict(d) for d in domains if d["domain"].lower() == str(item["domain"]).lower()]
        if hits:
            found.extend(hits)
        else:
            fail.append({"key": {"domain": item["domain"]}, "errors": [{
                "code": "err_domain_not_found", "message": "Domain not found",
                "retryable": False}]})
    return found, fail, None


def internal_domain(domain, inbound_type="any"):
    return {"id": new_id("eNo1", 30), "domain": domain, "sendOnly": False, "local": False,
            "inboundType": inbound_type}


# path -> handler(ctx, data_items, meta) -> (data, fail, pagination or None)
CLASSIC = {
    "/api/account/get-account": get_account,
    "/api/domain/get-internal-domain": get_internal_domain,
}

# Classic functions that change state (for the request log's `write` flag).
WRITE_PREFIXES = ("create", "update", "delete", "add", "remove")
