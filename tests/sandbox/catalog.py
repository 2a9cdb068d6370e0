"""What the sandbox emulates: tenants, field validators, REST collections, classic endpoints.

Everything Mimecast-specific that is *data* lives here as small tables, so a new object
type is one table entry (plus a validator or handler if it needs a new kind of field).
Sources: the public documents and projects listed in tests/sandbox/README.md "Sources"; comments
name them by their tag there ([MC-ep], [TFP], [XSOAR], ...).
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from urllib.parse import urlsplit

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
    cfg["settings"] = dict(DEFAULT_SETTINGS, **(cfg.get("settings") or {}))
    return cfg


# Tenant switches for the delivery simulation (not Mimecast API objects; see Sandbox.settings).
DEFAULT_SETTINGS = {
    "greylisting": False,                             # account-wide greylisting on/off
    "permitted_sender_groups": ["Permitted Senders"],  # groups a console-made Permitted
}                                                     # Senders policy would reference (no public API)


def new_id(prefix="eNo1", nbytes=90):
    """Opaque, long, never derived from content (like real policy/group ids: [Notes], [TFP] CHANGELOG)."""
    return prefix + base64.urlsafe_b64encode(os.urandom(nbytes)).decode().rstrip("=")


DATE_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
ETERNAL_FROM = "1900-01-01T00:00:00+0000"   # [MC-ep] get-policy: what eternal dates read back as
ETERNAL_TO = "2100-01-01T23:59:59+0000"


def now_string():
    return datetime.datetime.now(datetime.timezone.utc).strftime(DATE_FORMAT)


_SEAL_KEY = os.urandom(32)


def _keystream(nonce, length):
    blocks = (hashlib.sha256(_SEAL_KEY + nonce + bytes([i])).digest()
              for i in range(length // 32 + 1))
    return b"".join(blocks)[:length]


def seal(payload):
    """Opaque token carrying `payload`: different every call, tamper-evident (HMAC)."""
    nonce = os.urandom(12)
    body = nonce + bytes(a ^ b for a, b in zip(payload, _keystream(nonce, len(payload))))
    mac = hmac.new(_SEAL_KEY, body, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def unseal(token):
    """The payload of a seal() token, or None when it is not one (garbled, truncated...)."""
    if not isinstance(token, str) or not re.match(r"^[A-Za-z0-9_-]+$", token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    body, mac = raw[:-16], raw[-16:]
    if len(body) < 12 or not hmac.compare_digest(
            mac, hmac.new(_SEAL_KEY, body, hashlib.sha256).digest()[:16]):
        return None
    return bytes(a ^ b for a, b in zip(body[12:], _keystream(body[:12], len(body) - 12)))


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


# Gateway policy target ([MC-ep] create-policy enum, [TFP] REST names: `domain`, not `emailDomain`).
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
    render(stored) -> the read-back object (without id/createTime/lastUpdated) ;
    refs: field -> name of the collection whose item id it must hold (checked by the server,
    which also refuses to delete an item that is still referenced: 409 err_definition_in_use).
    """

    def __init__(self, name, path, list_key, fields, required=(), defaults=None,
                 finish=None, render=None, not_found="err_policy_not_found", refs=None):
        self.name, self.path, self.list_key = name, path, list_key
        self.fields, self.required, self.defaults = fields, tuple(required), defaults or {}
        self.finish, self.render, self.not_found = finish, render or dict, not_found
        self.refs = dict(refs or {})

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
    """Setting a date forces the matching *Eternal to false ([MC-ep] create-policy)."""
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
    if out["type"] == "profile_group":          # v2 read-back quirk ([TFP] ResolvedGroupID)
        out["group"] = {"id": out.pop("groupId")}
    return out


FLAT_VALUE = {"email_domain": "domain", "individual_email_address": "emailAddress",
              "profile_group": "groupId"}


POLICY_FLAGS = ("enabled", "enforced", "override", "bidirectional")


def _policy_render(from_key, to_key, extras, flags=POLICY_FLAGS):
    def render(stored):
        out = {k: stored[k] for k in ("description", "option", "fromPart") if k in stored}
        for side in ("from", "to"):
            target = stored[side]
            out[side] = _render_target(target)
            out[side + "Type"] = target["type"]          # flattened duplicates ([XSOAR] test_data)
            if target["type"] in FLAT_VALUE:
                out[side + "Value"] = target[FLAT_VALUE[target["type"]]]
        for key in flags + ("fromEternal", "toEternal"):
            out[key] = stored[key]
        out[from_key] = stored.get(from_key, ETERNAL_FROM)
        out[to_key] = stored.get(to_key, ETERNAL_TO)
        out.update({k: copy_json(stored[k]) for k in extras if k in stored})
        out["conditions"] = {}
        return out
    return render


def gateway_policy(name, path, list_key, options, extras=(), required=(),
                   dates=("fromDateTime", "toDateTime"), flags=POLICY_FLAGS, refs=None):
    """A Cloud Gateway policy collection (anti-spoofing, bypass, greylisting, ...).
    options None: the kind has no `option` field (delivery route policies)."""
    extra_checks = {"sourceIPs": v_list(v_ip), "hostnames": v_list(v_domain),
                    "spfDomains": v_list(v_domain, nonempty="spfDomains" in required),
                    "definitionId": v_text(512)}
    fields = {
        "description": v_text(200),
        "fromPart": v_enum("envelope_from", "header_from", "both"),
        "from": v_target, "to": v_target,
        "fromEternal": v_bool, "toEternal": v_bool, dates[0]: v_date, dates[1]: v_date,
    }
    fields.update({k: v_bool for k in flags})
    if options:
        fields["option"] = v_enum(*options)
    fields.update({k: extra_checks[k] for k in extras})
    defaults = {"fromPart": "envelope_from", "from": {"type": "everyone"},
                "to": {"type": "everyone"}, "enabled": True, "fromEternal": True,
                "toEternal": True}
    defaults.update({k: False for k in flags if k != "enabled"})
    need = ("description", "option") if options else ("description",)
    return Collection(name, path, list_key, fields, need + tuple(required),
                      defaults, _policy_dates(*dates),
                      _policy_render(dates[0], dates[1], extras, flags), refs=refs)


# ---- delivery routes ([TFP], [MC-DR-KB]): definitions (where to) + policies (which mail)

def v_host(value, field):
    """A delivery host: a DNS host name or an IPv4 address (as the console accepts)."""
    try:
        ipaddress.IPv4Address(value)
        return value
    except ValueError:
        pass
    if not isinstance(value, str) or not DOMAIN_RE.match(value):
        raise Invalid("err_validation_invalid_hostname", "Not a valid host name", field)
    return value


def v_port(value, field):
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise Invalid("err_validation_invalid_value", "Port must be an integer 1..65535", field)
    return value


SMTP_AUTH_FIELDS = {"authMechanisms": v_list(v_text(64), nonempty=True), "username": v_text(256),
                    "password": v_text(256), "domain": v_text(256)}


def v_smtp_auth(value, field):
    """{authMechanisms[], username, password, domain?}; the password is write-only."""
    if not isinstance(value, dict):
        raise Invalid("err_validation_invalid_type", "Must be an object", field)
    out = {}
    for key, item in value.items():
        if key not in SMTP_AUTH_FIELDS:
            raise Invalid("err_validation_unknown_field", "Unknown field: %s" % key,
                          "%s.%s" % (field, key))
        if item is not None:
            out[key] = SMTP_AUTH_FIELDS[key](item, "%s.%s" % (field, key))
    for key in ("authMechanisms", "username", "password"):
        if key not in out:
            raise Invalid("err_validation_null", "%s is required" % key, "%s.%s" % (field, key))
    return out


def _render_definition(stored):
    out = {k: copy_json(stored[k]) for k in ("description", "hostname", "port", "alternateRouteId")
           if k in stored}
    if "smtpAuthentication" in stored:          # the password is never read back
        out["smtpAuthentication"] = {k: copy_json(v) for k, v in stored["smtpAuthentication"].items()
                                     if k != "password"}
    return out


def delivery_route_definitions(name, path):
    fields = {"description": v_text(200), "hostname": v_host, "port": v_port,
              "alternateRouteId": v_text(512), "smtpAuthentication": v_smtp_auth}
    return Collection(name, path, "definitions", fields, ("description", "hostname"),
                      {"port": 25}, render=_render_definition,
                      not_found="err_definition_not_found", refs={"alternateRouteId": name})


CG = "/policy-management/cloud-gateway/v1"
COLLECTIONS = [
    # options: only [Veltrix] lists them; sourceIPs/hostnames per [TFP]/[Veltrix]
    gateway_policy("anti-spoofing", CG + "/anti-spoofing/policies", "definitions",
                   ("no_action", "apply", "apply_non_mimecast"), extras=("sourceIPs", "hostnames")),
    # body: [TFP] only (not documented by Mimecast); classic conditions also carry sourceIPs, so accepted here
    gateway_policy("anti-spoofing-bypass", CG + "/anti-spoofing-bypass/policies", "definitions",
                   ("enable_bypass", "disable_bypass"),
                   extras=("spfDomains", "hostnames", "sourceIPs"), required=("spfDomains",)),
    # [TFP] resources.go: fromDate/toDate quirk; `to` disputed ([Veltrix] none, [TFP] yes): accepted
    gateway_policy("greylisting", CG + "/greylisting/policies", "policies",
                   ("apply", "no_action"), extras=("sourceIPs",), dates=("fromDate", "toDate")),
    # [TFP]: API 2.0 REST, options no_action | block_sender ([TFP] reads `definitions`)
    gateway_policy("blocked-senders", CG + "/blocked-senders/policies", "definitions",
                   ("no_action", "block_sender"), extras=("sourceIPs",)),
    # [TFP], [Zach]: API 2.0 only; body per [TFP]/[Veltrix]; the verify action is not emulated
    delivery_route_definitions("delivery-route-definitions",
                               CG + "/delivery-route/definitions"),
    # [TFP] example: no `option`; `enforced` is not in the documented body (unknown field here)
    gateway_policy("delivery-route-policies", CG + "/delivery-route/policies", "policies", None,
                   extras=("definitionId",), required=("definitionId",),
                   flags=("enabled", "override", "bidirectional"),
                   refs={"definitionId": "delivery-route-definitions"}),
]


# --------------------------------------------------------------------------- classic endpoints

class ClassicError(Exception):
    """Raise from a classic handler to answer a whole-call error (HTTP status + one fail).
    body: answer this instead of the envelope ("" = empty body)."""

    def __init__(self, status, code, message, body=None):
        super().__init__(message)
        self.status, self.code, self.message, self.body = status, code, message, body


def page(items, meta, page_size, token_codec, max_size=None):
    """Classic meta.pagination paging: returns (slice, pagination meta)."""
    pag = (meta or {}).get("pagination") or {}
    size = pag.get("pageSize", page_size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1 \
            or (max_size and size > max_size):
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
    if not wanted:                       # {"data": []} = all, paged ([MC-ep] get-internal-domain)
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


def fail_item(item, exc):
    """A `fail` element for one data item: key echo + the Invalid as a classic error."""
    return {"key": item, "errors": [dict(exc.as_dict(), retryable=False)]}


def each(data, one):
    """Several items in `data` behave like separate calls ([MC-concepts]): run `one(item)`
    per item; its result goes to `data`, an Invalid to `fail`. ClassicError aborts the call."""
    out, fail = [], []
    for item in data:
        try:
            if not isinstance(item, dict):
                raise Invalid("err_validation_invalid_type", "Each data item must be an object")
            result = one(item)
            if result is not None:
                out.append(result)
        except Invalid as exc:
            fail.append(fail_item(item, exc))
    return out, fail


def required(item, key, check=None):
    if item.get(key) in (None, ""):
        code = "err_validation_null" if item.get(key) is None else "err_validation_blank"
        raise Invalid(code, "%s is required" % key if code.endswith("null") else
                      "This field, if present, cannot be blank or empty", key)
    return check(item[key], key) if check else item[key]


def optional_bool(item, key):
    return v_bool(item[key], key) if item.get(key) is not None else False


def internal_domains_of(state):
    return {d["domain"].lower() for d in state["internal_domains"]}


def domain_of(address):
    return address.rsplit("@", 1)[-1].lower()


# ---- profile groups ([MC-ep] find-groups, [XSOAR]); ids ~250 opaque chars, tamper-evident like real ones

GROUP_PREFIX = "eNoVz"
BUILTIN_GROUPS = ("Permitted Senders", "Blocked Senders")
FORBIDDEN_FOR_ADDRESS = Invalid("err_xdk_operation_forbidden_for_address",
                                "0003 Forbidden To Perform Operation For Address")


def group_id():
    return GROUP_PREFIX + seal(os.urandom(150))          # 243 characters


def new_group(description, parent_id, builtin=False):
    return {"id": group_id(), "description": description, "source": "cloud",
            "parentId": parent_id, "builtin": builtin, "members": []}


def check_group_ids(data, keys=("id",)):
    """[Notes]: a group id that is not well formed (e.g. truncated) -> HTTP 400
    with an EMPTY body, for the whole call (checked before any item is processed)."""
    for item in data:
        for key in keys:
            gid = item.get(key) if isinstance(item, dict) else None
            if gid in (None, ""):
                continue
            if not isinstance(gid, str) or not gid.startswith(GROUP_PREFIX) \
                    or unseal(gid[len(GROUP_PREFIX):]) is None:
                raise ClassicError(400, None, None, body="")


def find_group(ctx, gid, key="id", writable=False):
    """The group `gid` of this tenant (Invalid when unknown; writes to a builtin forbidden)."""
    group = ctx.state["groups"].get(gid)
    if group is None:
        raise Invalid("err_folder_not_found", "Folder not found", key)   # code invented
    if writable and group["builtin"] and not ctx.seeding:
        raise FORBIDDEN_FOR_ADDRESS
    return group


def render_group(state, group):
    return {"id": group["id"], "description": group["description"], "source": group["source"],
            "parentId": group["parentId"],
            "folderCount": sum(1 for g in state["groups"].values()
                               if g["parentId"] == group["id"]),
            "userCount": len(group["members"])}


def render_member(member):
    return {k: member[k] for k in ("emailAddress", "domain", "name", "internal", "type", "notes")}


def find_groups(ctx, data, meta):
    pages = []

    def one(item):
        query, source = item.get("query"), item.get("source")
        if query is not None and not isinstance(query, str):
            raise Invalid("err_validation_invalid_type", "Must be a string", "query")
        if source is not None:
            v_enum("cloud", "ldap")(source, "source")
        folders = [render_group(ctx.state, g) for g in ctx.state["groups"].values()
                   if (not query or query.lower() in g["description"].lower())
                   and source in (None, g["source"])]
        folders, pagination = page(folders, meta, ctx.page_size, ctx.tokens)
        pages.append(pagination)
        return dict({"source": source} if source else {}, folders=folders)
    out, fail = each(data or [{}], one)
    return out, fail, (pages[0] if pages else None)


def parent_of(ctx, item):
    if item.get("parentId") in (None, ""):
        return ctx.state["root_group"]
    if item["parentId"] == ctx.state["root_group"]:
        return item["parentId"]
    return find_group(ctx, item["parentId"], "parentId")["id"]


def create_group(ctx, data, meta):
    check_group_ids(data, ("parentId",))

    def one(item):
        description = required(item, "description", v_text(200))
        group = new_group(description, parent_of(ctx, item))    # duplicates allowed (not documented)
        ctx.state["groups"][group["id"]] = group
        return render_group(ctx.state, group)
    return each(data, one) + (None,)


def update_group(ctx, data, meta):
    check_group_ids(data, ("id", "parentId"))

    def one(item):
        group = find_group(ctx, required(item, "id"), writable=True)
        description = group["description"]
        if item.get("description") is not None:
            description = v_text(200)(item["description"], "description")
        parent = group["parentId"] if "parentId" not in item else parent_of(ctx, item)
        ancestor = parent
        while ancestor in ctx.state["groups"]:              # no cycles
            if ancestor == group["id"]:
                raise Invalid("err_validation_invalid_value",
                              "A group cannot be moved below itself", "parentId")
            ancestor = ctx.state["groups"][ancestor]["parentId"]
        group["description"], group["parentId"] = description, parent
        return render_group(ctx.state, group)
    return each(data, one) + (None,)


def delete_group(ctx, data, meta):
    check_group_ids(data)

    def one(item):
        group = find_group(ctx, required(item, "id"), writable=True)
        doomed, grew = {group["id"]}, True
        while grew:                                         # subgroups go too (not documented)
            more = {g["id"] for g in ctx.state["groups"].values() if g["parentId"] in doomed}
            grew = not more <= doomed
            doomed |= more
        for gid in doomed:
            del ctx.state["groups"][gid]
    return each(data, one) + (None,)


def get_group_members(ctx, data, meta):
    check_group_ids(data)
    pages = []

    def one(item):
        group = find_group(ctx, required(item, "id"))
        members, pagination = page([render_member(m) for m in group["members"]], meta,
                                   ctx.page_size, ctx.tokens, max_size=500)
        pages.append(pagination)
        return {"groupMembers": members}
    out, fail = each(data, one)
    return out, fail, (pages[0] if pages else None)


def member_of(ctx, item):
    """(kind, value) of the member named by item: emailAddress xor domain, lower-cased."""
    if item.get("emailAddress") is not None and item.get("domain") is not None:
        raise Invalid("err_validation_invalid_value", "Give emailAddress or domain, not both",
                      "domain")
    if item.get("domain") is not None:
        return "domain", required(item, "domain", v_domain).lower()
    return "emailAddress", required(item, "emailAddress", v_email).lower()


def _member_match(member, kind, value):
    if kind == "domain":                    # a domain entry, not an address on that domain
        return not member["emailAddress"] and member["domain"] == value
    return member["emailAddress"] == value


def _seed_group_ref(ctx, item):
    """Seeding convenience: {"group": "<description>"} instead of {"id"}."""
    if ctx.seeding and "group" in item and "id" not in item:
        item = dict(item)
        name = item.pop("group")
        item["id"] = next((g["id"] for g in ctx.state["groups"].values() if g["description"] == name), None)
    return item


def add_group_member(ctx, data, meta):
    data = [_seed_group_ref(ctx, i) if isinstance(i, dict) else i for i in data]
    check_group_ids(data)

    def one(item):
        group = find_group(ctx, required(item, "id"))
        kind, value = member_of(ctx, item)
        find_group(ctx, group["id"], writable=True)
        if any(_member_match(m, kind, value) for m in group["members"]):
            raise Invalid("err_folder_group_member_already_exists", "Group member already exists")
        notes = item.get("notes") or ""
        if not isinstance(notes, str):
            raise Invalid("err_validation_invalid_type", "Must be a string", "notes")
        internal = domain_of(value) in internal_domains_of(ctx.state)
        member = {"id": new_id("eNoVz", 120), "emailAddress": value if kind == "emailAddress"
                  else "", "domain": domain_of(value), "name": "", "internal": internal,
                  "type": "created_manually", "notes": notes}
        group["members"].append(member)
        return {"id": member["id"], "folderId": group["id"], kind: value, "internal": internal}
    return each(data, one) + (None,)


def remove_group_member(ctx, data, meta):
    check_group_ids(data)

    def one(item):
        group = find_group(ctx, required(item, "id"))
        kind, value = member_of(ctx, item)
        find_group(ctx, group["id"], writable=True)
        member = next((m for m in group["members"] if _member_match(m, kind, value)), None)
        if member is None:
            raise Invalid("err_folder_email_address_not_found", "Error email address not found")
        group["members"].remove(member)
        return {"id": member["id"], "folderId": group["id"], kind: value,
                "internal": member["internal"]}
    return each(data, one) + (None,)


def in_group(group, address):
    address = address.lower()
    return any(m["emailAddress"].lower() == address if m["emailAddress"]
               else m["domain"] == domain_of(address) for m in group["members"])


# ---- managed URLs ([MC-ep] create-managed-url, [TFP] CHANGELOG): stored decomposed; ids are fresh opaque
# tokens per read

URL_FIELDS = ("scheme", "domain", "port", "path", "queryString")


def decompose_url(url, field="url"):
    if not isinstance(url, str) or not url.strip():
        raise Invalid("err_validation_blank", "This field, if present, cannot be blank or empty",
                      field)
    bad = Invalid("err_validation_invalid_url", "Not a valid URL", field)       # code invented
    if "#" in url:
        raise Invalid(bad.code, "The URL must not contain #", field)
    url = url.strip()
    parts = urlsplit(url if "://" in url else "http://" + url)   # bare host: http (not documented)
    try:
        port = parts.port
    except ValueError:
        raise bad
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not DOMAIN_RE.match(host):
            raise bad
    if parts.scheme.lower() not in ("http", "https"):
        raise bad
    return {"scheme": parts.scheme.lower(), "domain": host, "port": -1 if port is None else port,
            "path": parts.path, "queryString": parts.query}


def compose_url(entry):
    port = "" if entry["port"] == -1 else ":%d" % entry["port"]
    query = "?" + entry["queryString"] if entry["queryString"] else ""
    return "%s://%s%s%s%s" % (entry["scheme"], entry["domain"], port, entry["path"], query)


def managed_url_id(entry_id):
    return seal(bytes.fromhex(entry_id) + os.urandom(32))


def render_managed_url(entry_id, entry):
    return dict({"id": managed_url_id(entry_id)}, **entry)


def create_managed_url(ctx, data, meta):
    def one(item):
        action = required(item, "action", v_enum("block", "permit"))
        parts = decompose_url(required(item, "url"))
        match_type = v_enum("explicit", "domain")(item.get("matchType") or "explicit",
                                                  "matchType")
        comment = item.get("comment") or ""
        if not isinstance(comment, str):
            raise Invalid("err_validation_invalid_type", "Must be a string", "comment")
        if len(comment) > 200:      # no public limit is known; the sandbox enforces the collection's 200
            raise Invalid("err_validation_invalid_length", "At most 200 characters", "comment")
        flags = {k: optional_bool(item, k) and (action == "permit" or k == "disableLogClick")
                 for k in ("disableUserAwareness", "disableRewrite", "disableLogClick")}
        for entry in ctx.state["managed_urls"].values():
            if entry["matchType"] == match_type and all(entry[k] == parts[k] for k in URL_FIELDS):
                raise Invalid("err_managed_url_exists_code",
                              "The managed URL already exists; to update it, delete and recreate")
        entry = dict(parts, matchType=match_type, action=action, comment=comment, **flags)
        entry_id = secrets.token_hex(16)
        ctx.state["managed_urls"][entry_id] = entry
        return render_managed_url(entry_id, entry)
    return each(data, one) + (None,)


def get_all_managed_urls(ctx, data, meta):
    entries = ctx.state["managed_urls"]
    filters = [i for i in data if isinstance(i, dict) and i.get("domainOrUrl")]
    wanted = []
    for entry_id, entry in entries.items():
        url = compose_url(entry).lower()
        for item in filters or [None]:
            value = str(item["domainOrUrl"]).lower() if item else ""
            if not item or (value in (url, entry["domain"]) if item.get("exactMatch")
                            else value in url):
                wanted.append(render_managed_url(entry_id, entry))
                break
    items, pagination = page(wanted, meta, ctx.page_size, ctx.tokens)
    return items, [], pagination


def delete_managed_url(ctx, data, meta):
    def one(item):
        raw = unseal(item.get("id"))
        entry_id = raw[:16].hex() if raw and len(raw) == 48 else None
        if entry_id not in ctx.state["managed_urls"]:
            raise Invalid("err_managed_url_not_found", "Managed URL not found")
        del ctx.state["managed_urls"][entry_id]
    return each(data, one) + (None,)


REWRITE_HOST = "protect-us.mimecast.com"


def decode_url(ctx, data, meta):
    def one(item):
        url = required(item, "url")
        parts = urlsplit(url) if isinstance(url, str) else None
        token = parts.path[3:] if parts and parts.hostname == REWRITE_HOST \
            and parts.path.startswith("/s/") else None
        if token not in ctx.state["rewrites"]:
            raise Invalid("err_url_decode_failed", "The URL could not be decoded")   # invented
        return {"url": ctx.state["rewrites"][token], "success": True}
    return each(data, one) + (None,)


# ---- message tracking ([MC-ep] message-finder search, [XSOAR] test_data)

TRACKING_DAYS = 30
SEARCH_FIELDS = ("id", "status", "info", "fromEnv", "fromHdr", "to", "subject", "received",
                 "sent", "senderIP", "attachments", "route", "spamScore", "detectionLevel")
# htmlBody/textBody: the copy as delivered; receivedHtmlBody/receivedTextBody: as received
# (default: the same); policyInfo: served inside each delivered copy only.
MESSAGE_EXTRAS = {"cc": [], "htmlBody": "", "textBody": "", "receivedHtmlBody": None,
                  "receivedTextBody": None, "messageId": "", "remoteHost": "",
                  "policyInfo": [], "permittedSender": False}


def _parse_date(value, field):
    return datetime.datetime.strptime(v_date(value, field), DATE_FORMAT)


def search_messages(ctx, data, meta):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)

    def one(item):
        start = _parse_date(item["start"], "start") if item.get("start") else None
        end = _parse_date(item["end"], "end") if item.get("end") else None
        if start and start < now - datetime.timedelta(days=TRACKING_DAYS):
            raise Invalid("err_track_and_trace_invalid_start_date", "Invalid start date",
                          "start")
        if start and end and end < start:
            raise Invalid("err_validation_invalid_date_range", "end is before start", "end")
        opts = item.get("advancedTrackAndTraceOptions") or {}
        if not isinstance(opts, dict):
            raise Invalid("err_validation_invalid_type", "Must be an object",
                          "advancedTrackAndTraceOptions")
        if opts and item.get("messageId"):
            raise Invalid("err_validation_invalid_combination", "Use either messageId or "
                          "advancedTrackAndTraceOptions, not both", "messageId")
        if opts.get("route") is not None:
            v_enum("internal", "outbound", "inbound")(opts["route"], "route")
        low = {k: str(v).lower() for k, v in opts.items() if v not in (None, "")}
        lower = start or now - datetime.timedelta(days=TRACKING_DAYS)
        found = []
        for rec in ctx.state["messages"].values():
            received = datetime.datetime.strptime(rec["received"], DATE_FORMAT)
            if received < lower or (end and received > end):
                continue
            if item.get("messageId") and rec["messageId"] != item["messageId"]:
                continue
            if "from" in low and rec["fromEnv"]["emailAddress"].lower() != low["from"]:
                continue
            if "to" in low and low["to"] not in [t["emailAddress"].lower() for t in rec["to"]]:
                continue
            if "subject" in low and low["subject"] not in rec["subject"].lower():
                continue
            if "senderIP" in low and rec["senderIP"].lower() != low["senderIP"]:
                continue
            if "route" in low and rec["route"] != low["route"]:
                continue
            found.append({k: copy_json(rec[k]) for k in SEARCH_FIELDS})
        return {"trackedEmails": found}
    return each(data or [{}], one) + (None,)


def copy_json(value):
    return [copy_json(v) for v in value] if isinstance(value, list) else (
        {k: copy_json(v) for k, v in value.items()} if isinstance(value, dict) else value)


RECEIPT_EVENTS = {"held": "Email Received - Held", "deferred": "Email Deferred - Greylisting"}


def message_info(rec):
    """The get-message-info item in the real shape: what was received (recipientInfo) apart from
    what was delivered to each recipient (deliveredMessage.<address>{messageInfo, policyInfo,
    deliveryMetaInfo}); policyInfo entries are {policyType, policyName, inherited}, no action,
    and there is no top-level policyInfo. Sources: Mimecast's endpoint reference
    https://integrations.mimecast.com/documentation/endpoint-reference/message-finder-formerly-tracking/get-message-info
    and the recorded response in demisto/content
    Packs/Mimecast/Integrations/MimecastV2/test_data/get_message_info_response.json."""
    addresses = [t["emailAddress"] for t in rec["to"]]
    body = {"fromEnvelope": rec["fromEnv"]["emailAddress"],
            "fromHeader": rec["fromHdr"]["emailAddress"], "to": addresses, "cc": list(rec["cc"]),
            "subject": rec["subject"], "sent": rec["sent"], "processed": rec["received"],
            "htmlBody": rec["receivedHtmlBody"], "textBody": rec["receivedTextBody"],
            "attachments": [],
            "transmissionInfo": "<pre>\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n</pre>" % (
                rec["fromHdr"]["emailAddress"], ", ".join(addresses), rec["subject"])}
    server = "us-mta-1.us.mimecast.lan"
    delivered = {} if rec["status"] not in ("delivered", "archived") else {
        a: {"messageInfo": dict(copy_json(body), htmlBody=rec["htmlBody"], textBody=rec["textBody"],
                                route=rec["route"]),
            "policyInfo": copy_json(rec["policyInfo"]),
            "deliveryMetaInfo": {"deliveryEvent": "Email Delivered", "emailAddress": a,
                                 "processingServer": server, "encryptionInfo": "TLS"}}
        for a in addresses}
    return {
        "id": rec["id"], "status": rec["status"],
        "recipientInfo": {"messageInfo": body, "recipientMetaInfo": {
            "receiptEvent": RECEIPT_EVENTS.get(rec["status"], "Email Received"),
            "spamEvent": "na", "remoteIp": rec["senderIP"], "remoteHost": rec["remoteHost"],
            "encryptionInfo": "TLS", "processingServer": server, "messageExpiresIn": 7}},
        "deliveredMessage": delivered,
        "retentionInfo": {"purgeBasedOn": "original"},
        "spamInfo": {"spamScore": rec["spamScore"], "detectionLevel": rec["detectionLevel"],
                     "spamProcessingDetail": {"permittedSender": {
                         "allow": True,
                         "info": "Permitted Senders" if rec["permittedSender"] else "none"}}}}


def get_message_info(ctx, data, meta):
    def one(item):
        rec = ctx.state["messages"].get(required(item, "id"))
        if rec is None:
            raise Invalid("err_message_not_found", "Message not found")          # invented
        return message_info(rec)
    return each(data, one) + (None,)


def tracked_email(tracked, received=None):
    """A full stored record from a (partial) trackedEmails item; see Sandbox.seed_message."""
    rec = {"id": new_id("eNpN", 140), "status": "delivered", "info": "Delivered",
           "fromEnv": {"emailAddress": ""}, "to": [], "subject": "",
           "received": received or now_string(), "senderIP": "", "attachments": False,
           "route": "inbound", "spamScore": 0, "detectionLevel": "relaxed"}
    rec.update(copy_json(MESSAGE_EXTRAS))
    rec.update(copy_json(tracked))
    v_date(rec["received"], "received")
    rec.setdefault("sent", rec["received"])
    for part in ("htmlBody", "textBody"):
        received_part = "received" + part[0].upper() + part[1:]
        if rec[received_part] is None:
            rec[received_part] = rec[part]
    rec.setdefault("fromHdr", {"displayableName": "",
                               "emailAddress": rec["fromEnv"]["emailAddress"]})
    return rec


# ---- delivery simulation (Sandbox.deliver): the tenant's current state decides the outcome

URL_IN_HTML = re.compile(r"https?://[^\s\"'<>]+", re.I)


def target_matches(state, target, address):
    kind, domain = target["type"], domain_of(address)
    if kind == "everyone":
        return True
    if kind in ("internal_addresses", "external_addresses"):
        return (domain in internal_domains_of(state)) == (kind == "internal_addresses")
    if kind == "email_domain":
        return domain == target["domain"].lower()
    if kind == "individual_email_address":
        return address.lower() == target["emailAddress"].lower()
    if kind == "profile_group":
        group = state["groups"].get(target["groupId"])
        return bool(group) and in_group(group, address)
    return False                 # free mail, attributes, display names: not simulated


def matching_policies(state, collection, options, sender, recipients, ip, when):
    """Enabled policies of `collection` with an option in `options` that apply to this
    message: validity window, sourceIPs (absent = any IP), from and to targets."""
    out = []
    for rec in state["collections"][collection].values():
        body = rec["body"]
        start = body.get("fromDateTime", body.get("fromDate"))
        stop = body.get("toDateTime", body.get("toDate"))
        if not body["enabled"] or body["option"] not in options \
                or (start and when < start) or (stop and when > stop):
            continue
        if body.get("sourceIPs") and not any(
                ipaddress.ip_address(ip) in ipaddress.ip_network(n, strict=False)
                for n in body["sourceIPs"]):
            continue
        if target_matches(state, body["from"], sender) and any(
                target_matches(state, body["to"], r) for r in recipients):
            out.append(body)
    return out


def policy_entry(name, kind):
    """One policyInfo entry as Mimecast reports it: type and name, no action (see message_info)."""
    return {"policyType": kind, "policyName": name, "inherited": False}


def deliver(state, sender, recipients, subject, sender_ip, html, received=None):
    """Simulate Mimecast receiving one inbound message; returns the stored tracked record."""
    v_email(sender, "sender")
    recipients = [recipients] if isinstance(recipients, str) else list(recipients)
    v_list(v_email, nonempty=True)(recipients, "recipients")
    ipaddress.ip_address(sender_ip)
    if isinstance(received, datetime.datetime):
        received = received.astimezone(datetime.timezone.utc).strftime(DATE_FORMAT)
    when = v_date(received or now_string(), "received")
    settings, policy = state["settings"], []
    args = (sender, recipients, sender_ip, when)
    status, info = "delivered", "Delivered"
    # 1. greylisting happens at SMTP time: a deferred message has no content.
    grey_skip = matching_policies(state, "greylisting", ("no_action",), *args)
    grey_apply = matching_policies(state, "greylisting", ("apply",), *args)
    if grey_skip:
        policy.append(policy_entry(grey_skip[0]["description"], "Greylisting"))
    elif settings["greylisting"] or grey_apply:
        triplet = (sender_ip, sender.lower(), tuple(sorted(r.lower() for r in recipients)))
        if triplet not in state["greylist_seen"]:
            state["greylist_seen"].add(triplet)
            status, info = "deferred", "Greylisting"
            name = grey_apply[0]["description"] if grey_apply else "Greylisting"
            policy.append(policy_entry(name, "Greylisting"))
    permitted, body = False, ""
    if status != "deferred":
        # 2. anti-spoofing: an internal sender domain from outside is held unless no_action.
        spoof_skip = matching_policies(state, "anti-spoofing", ("no_action",), *args)
        if spoof_skip:
            policy.append(policy_entry(spoof_skip[0]["description"], "Anti-Spoofing"))
        elif domain_of(sender) in internal_domains_of(state):
            applied = matching_policies(state, "anti-spoofing", ("apply", "apply_non_mimecast"),
                                        *args)
            name = applied[0]["description"] if applied else "Default Anti-Spoofing Policy"
            policy.append(policy_entry(name, "Anti-Spoofing"))
            status, info = "held", "Anti-Spoofing"
        # 3. Permitted Senders: the console-made policy over the configured groups.
        permitted = any(g["description"] in settings["permitted_sender_groups"]
                        and in_group(g, sender) for g in state["groups"].values())
        if permitted:
            policy.append(policy_entry("Permitted Senders", "Permitted Senders"))
        # 4. URL Protect: rewrite every link unless a permit + disableRewrite entry matches.
        body = URL_IN_HTML.sub(lambda m: rewrite_link(state, m.group(0)), html or "")
    rec = tracked_email({
        "status": status, "info": info, "fromEnv": {"emailAddress": sender},
        "fromHdr": {"displayableName": "", "emailAddress": sender},
        "to": [{"displayableName": "", "emailAddress": r} for r in recipients],
        "subject": subject or "", "senderIP": sender_ip, "htmlBody": body,
        "textBody": re.sub(r"<[^>]+>", "", body), "policyInfo": policy,
        "receivedHtmlBody": "" if status == "deferred" else html or "",
        "receivedTextBody": "" if status == "deferred" else re.sub(r"<[^>]+>", "", html or ""),
        "permittedSender": permitted, "messageId": "<%s@sandbox.example>" % secrets.token_hex(8)},
        when)
    state["messages"][rec["id"]] = rec
    return rec


def rewrite_link(state, url):
    try:
        parts = decompose_url(url.split("#", 1)[0])
    except Invalid:
        return url
    for entry in state["managed_urls"].values():
        if entry["action"] != "permit" or not entry["disableRewrite"]:
            continue
        if entry["matchType"] == "domain":
            host = parts["domain"]
            if host == entry["domain"] or host.endswith("." + entry["domain"]):
                return url
        elif all(entry[k] == parts[k] for k in URL_FIELDS):
            return url
    token = secrets.token_urlsafe(18)
    state["rewrites"][token] = url
    return "https://%s/s/%s?domain=%s" % (REWRITE_HOST, token, parts["domain"])


def tenant_state(cfg):
    """The initial per-tenant state (see Sandbox.reset)."""
    root = group_id()                         # hidden root folder: parentId of top-level groups
    groups = [new_group(name, root, builtin=True) for name in BUILTIN_GROUPS]
    return {"internal_domains": [internal_domain(d) for d in cfg["internal_domains"]],
            "collections": {c.name: {} for c in COLLECTIONS},
            "root_group": root, "groups": {g["id"]: g for g in groups},
            "managed_urls": {}, "rewrites": {}, "messages": {}, "greylist_seen": set(),
            "settings": copy_json(cfg["settings"])}


# path -> handler(ctx, data_items, meta) -> (data, fail, pagination or None)
CLASSIC = {
    "/api/account/get-account": get_account,
    "/api/domain/get-internal-domain": get_internal_domain,
    "/api/directory/find-groups": find_groups,
    "/api/directory/create-group": create_group,
    "/api/directory/update-group": update_group,
    "/api/directory/delete-group": delete_group,
    "/api/directory/get-group-members": get_group_members,
    "/api/directory/add-group-member": add_group_member,
    "/api/directory/remove-group-member": remove_group_member,
    "/api/ttp/url/create-managed-url": create_managed_url,
    "/api/ttp/url/get-all-managed-urls": get_all_managed_urls,
    "/api/ttp/url/delete-managed-url": delete_managed_url,
    "/api/ttp/url/decode-url": decode_url,
    "/api/message-finder/search": search_messages,
    "/api/message-finder/get-message-info": get_message_info,
}

# Sandbox.seed() collections served by a classic create/add function (builtin groups allowed).
SEEDERS = {"groups": "/api/directory/create-group",
           "group_members": "/api/directory/add-group-member",
           "managed_urls": "/api/ttp/url/create-managed-url"}

# Classic functions that change state (for the request log's `write` flag).
WRITE_PREFIXES = ("create", "update", "delete", "add", "remove")
