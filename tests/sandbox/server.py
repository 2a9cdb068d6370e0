"""A local, stateful stand-in for the Mimecast API (several tenants at once). Test use only.

Library:  from sandbox import Sandbox  (tests/ on sys.path)
Script:   python tests/sandbox/server.py --port 8765 [--page-size 3] [--tenants FILE.json]
See tests/sandbox/README.md.
"""

if __name__ == "__main__" and not __package__:      # run as a script: import as a package
    import os as _os
    import sys as _sys
    _sys.path.insert(0, _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    from sandbox.server import main as _main
    _sys.exit(_main())

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import json
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote, urlsplit

from .catalog import (
    CLASSIC, COLLECTIONS, DEFAULT_SETTINGS, DEFAULT_TENANTS, SEEDERS, WRITE_PREFIXES,
    ClassicError, Invalid, ValidationErrors, copy_json, deliver, internal_domain, new_id,
    now_string, render_group, render_member, tenant_config, tenant_state, tracked_email,
)
from . import cloud_integrated as ci
from .microsoft import Microsoft, entra_defaults, is_microsoft_path
from .microsoft import is_write as is_exo_write

TOKEN_PATH = "/oauth/token"
CONTROL_PREFIX = "/_sandbox/"
REST_MAX_PAGE_SIZE = 100
RATE_WINDOW = 60.0
SECRET_KEYS = ("client_secret", "password", "secret_key", "secretKey", "access_token",
               "client_assertion")
MALFORMED = object()

UNAUTHORIZED = (401, "err_xdk_client_unauthorized", "Unauthorized")
BAD_SIGNATURE = (401, "err_xdk_invalid_signature", "0004 Invalid Signature")
BAD_DEVELOPER_KEY = (401, "err_developer_key", "Developer key is invalid")
APP_FORBIDDEN = (403, "app_forbidden", "Resource or method requested does not exist in any "
                 "product assigned to the application")
# Codes for injected faults without an explicit body (invented: no public source shows them).
FAULT_CODES = {429: "err_rate_limit_exceeded", 500: "err_internal_server_error",
               502: "err_bad_gateway", 503: "err_service_unavailable",
               504: "err_gateway_timeout"}


def envelope(status, code, message, retryable=False):
    """The classic error reply (also used for 401 on every API path)."""
    return {"meta": {"status": status}, "data": [],
            "fail": [{"errors": [{"code": code, "message": message, "retryable": retryable}]}]}


def rest_error(code, message, field=None):
    err = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"errors": [err]}


def redact(value):
    if isinstance(value, dict):
        return {k: ("<redacted>" if k in SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def is_write(method, path):
    if path == TOKEN_PATH:
        return False
    if path.startswith("/api/"):
        return method != "GET" and path.rsplit("/", 1)[-1].startswith(WRITE_PREFIXES)
    return method in ("POST", "PATCH", "PUT", "DELETE")


# Alternative REST list shapes the sandbox can answer with (Sandbox(shapes=...), the control
# endpoint POST /_sandbox/shapes, or --shapes): each is a shape public clients accept or one
# real Mimecast answer shows, so the collection's one shape layer is tested against them.
# The default (no shape) is unchanged.
#  wrapped      items as {"id", "option", "policy": {...}}: the classic get-policy item shape
#               (integrations.mimecast.com endpoint reference policies/antispoofing-spf-bypass/get-policy).
#  top_token    the next-page token as a top-level "nextToken" (the Akonis Mimecast library,
#               github.com/Akonis-cybersecurity/Mimecast-Akonis-automation-library,
#               mimecast_modules/actions/action_get_blocked_sender_policies.py).
#  both_keys    the other list key ("definitions" / "policies") present and empty next to the
#               filled one (the Terraform provider reads the filled one:
#               github.com/Scriptception/terraform-provider-mimecast internal/client/resources.go).
#  omit_empty   an empty page leaves out its list key (both public clients above read that as empty).
#  empty_page   the first page of a list is empty and points at the real first page.
#  other_dates  policy read-backs name the validity dates the other way (fromDate/toDate <->
#               fromDateTime/toDateTime; the Terraform provider decodes both, internal/client/types.go).
LIST_SHAPES = ("wrapped", "top_token", "both_keys", "omit_empty", "empty_page", "other_dates")
DATE_SWAP = {"fromDateTime": "fromDate", "toDateTime": "toDate", "fromDate": "fromDateTime",
             "toDate": "toDateTime"}


def check_shapes(shapes):
    """The shape names as a frozenset; "alternative" means all of them."""
    names = {shapes} if isinstance(shapes, str) else set(shapes or ())
    if "alternative" in names:
        names = (names - {"alternative"}) | set(LIST_SHAPES)
    unknown = sorted(names - set(LIST_SHAPES))
    if unknown:
        raise ValueError("unknown list shape(s) %s; known: %s, alternative"
                         % (", ".join(unknown), ", ".join(LIST_SHAPES)))
    return frozenset(names)


def swap_dates(item):
    """A read-back item with its validity dates under the other naming."""
    return {DATE_SWAP.get(k, k): v for k, v in item.items()}


def wrap_item(item):
    """The classic get-policy shape: id and option outside, everything else under "policy"."""
    outside = {k: item[k] for k in ("id", "option") if k in item}
    return dict(outside, policy={k: v for k, v in item.items() if k not in outside})


class PageTokens:
    """Opaque page tokens; a token only works for the list (scope) that issued it."""

    def encode(self, offset, scope):
        raw = json.dumps({"s": scope, "o": offset, "n": secrets.token_hex(4)}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, token, scope):
        """Offset for `token` (0 when absent), or None when the token is not ours."""
        if token in (None, ""):
            return 0
        try:
            raw = json.loads(base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)))
            return raw["o"] if raw["s"] == scope and isinstance(raw["o"], int) else None
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None


# How long a rendezvous fault holds a call waiting for the others (seconds).
RENDEZVOUS_TIMEOUT = 120


class Fault:
    def __init__(self, method=None, path=None, status=None, times=1, headers=None, delay=0.0,
                 body=None, fail_code=None, tenant=None, skip=0, late=False, expire_tokens=False,
                 rendezvous=0, refuse_item=None):
        if not path:
            raise ValueError("add_fault needs path= (exact, or a prefix ending with *)")
        self.method = method.upper() if method else None
        self.path, self.status, self.times = path, status, int(times)
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}
        self.delay, self.body, self.fail_code, self.tenant = float(delay), body, fail_code, tenant
        # skip: let that many matching calls through first; late: execute the call, then sleep
        # `delay` before answering (a lost answer to a write that happened); expire_tokens: every
        # token expires once this call has been answered (token expiry in the middle of a run).
        self.skip, self.late, self.expire_tokens = int(skip), bool(late), bool(expire_tokens)
        # rendezvous: hold each matching call until that many have arrived (at most
        # RENDEZVOUS_TIMEOUT seconds), then let them all go on together: two runs that read the
        # same list at the same moment, whatever the load on the machine.
        self.rendezvous = int(rendezvous)
        # refuse_item={"field": value}: the classic call runs, but its data items carrying those values are
        # answered with a per-item `fail` entry (err_injected_item, the item echoed in "key") instead.
        self.refuse_item = dict(refuse_item) if refuse_item else None
        self.barrier = threading.Barrier(self.rendezvous) if self.rendezvous > 1 else None

    def matches(self, tenant, method, path):
        if self.method and self.method != method:
            return False
        if self.tenant and self.tenant != tenant:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    @property
    def executes(self):
        """A delay-only fault answers normally (slowly); any other fault replaces the call."""
        return self.status is None and self.fail_code is None and self.body is None

    def reply(self, path):
        headers = dict(self.headers)
        if self.fail_code:
            return 200, envelope(200, self.fail_code, "Injected failure (sandbox fault)"), headers
        status = self.status or 200
        if status == 429 and not is_microsoft_path(path):
            headers.setdefault("X-RateLimit-Remaining", "0")
            headers.setdefault("X-RateLimit-Reset", "1000")
        body = self.body
        if body is None and is_microsoft_path(path):
            return self.microsoft_reply(path, status, headers)
        if body is None:
            code = FAULT_CODES.get(status, "err_injected_%d" % status)
            message = "Injected HTTP %d (sandbox fault)" % status
            if path.startswith("/api/") or path == TOKEN_PATH:
                body = envelope(status, code, message, retryable=status in (429, 502, 503, 504))
            else:
                body = rest_error(code, message)
        return status, body, headers

    @staticmethod
    def microsoft_reply(path, status, headers):
        """Default fault bodies on Entra / Exchange Online paths (429: Retry-After 1 s)."""
        message = "Injected HTTP %d (sandbox fault)" % status
        if status == 429:
            headers.setdefault("Retry-After", "1")
            message = ("You have reached the maximum number of concurrent requests per tenant. "
                       "Please wait and try again")
        if path.startswith("/adminapi/"):
            code = {429: "TooManyRequests", 503: "ServiceUnavailable"}.get(status, "InternalServerError")
            return status, {"error": {"code": code, "message": message}}, headers
        return status, {"error": "temporarily_unavailable" if status in (429, 503) else "server_error",
                        "error_description": message}, headers

    def as_dict(self):
        keys = ("method", "path", "status", "times", "headers", "delay", "body", "fail_code", "tenant", "skip",
                "late", "expire_tokens", "rendezvous")
        return {k: getattr(self, k) for k in keys}


class Sandbox:
    """Mimecast stand-in. Use as a context manager or start()/stop()."""

    def __init__(self, tenants=None, page_size=3, token_ttl=1800, rate_limit=1000,
                 entra_token_ttl=3599, exo_page_size=3, shapes=()):
        tenants = DEFAULT_TENANTS if tenants is None else tenants
        self.tenants = {name: entra_defaults(name, tenant_config(name, cfg))
                        for name, cfg in tenants.items()}
        self.page_size, self.token_ttl, self.rate_limit = int(page_size), token_ttl, rate_limit
        self.page_tokens = PageTokens()
        self.shapes = self._initial_shapes = check_shapes(shapes)
        self.ms = Microsoft(self, entra_token_ttl, exo_page_size)
        self.verbose = False
        self.url = None
        self._lock = threading.RLock()
        self._tokens = {}            # access token -> [tenant, expiry epoch]
        self._server = self._thread = None
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def start(self, port=0):
        """Listen on 127.0.0.1 (0 = a free port) and return the URL. The socket is bound and
        listening before this returns (connections wait in the backlog until the serving thread
        runs), so a caller may connect at once; stop() is safe even before that thread ran."""
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._server = _HTTPServer(("127.0.0.1", port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="mimecast-sandbox")
        self._thread.start()
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        return self.url

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = self._thread = None

    def __enter__(self):
        if not self._server:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ test control
    def reset(self):
        """Every tenant back to its initial state; request log and faults cleared; list shapes
        back to the constructor's. Issued tokens stay valid (use expire_tokens() for that)."""
        with self._lock:
            self.shapes = self._initial_shapes
            self._data = {name: dict(tenant_state(cfg), cloud_integrated=ci.initial_state(cfg),
                                     **self.ms.initial_state(cfg))
                          for name, cfg in self.tenants.items()}
            self._log, self._faults, self._windows = [], [], {}

    def state(self, tenant=None, builtin=False):
        """{collection: [items as read back], "internal_domains": [...], "groups": [...],
        "managed_urls": [...], "messages": [...]} for one tenant, or {tenant: that} for all
        when tenant is None. builtin=True adds the built-in groups and the tenant settings."""
        with self._lock:
            if tenant is None:
                return {name: self.state(name, builtin) for name in self._data}
            data = self._tenant_data(tenant)
            out = {c.name: [self._readback(c, i, r) for i, r in data["collections"][c.name].items()]
                   for c in COLLECTIONS}
            out["internal_domains"] = copy.deepcopy(data["internal_domains"])
            out["groups"] = [dict(render_group(data, g), builtin=g["builtin"],
                                  members=[render_member(m) for m in g["members"]])
                             for g in data["groups"].values() if builtin or not g["builtin"]]
            out["managed_urls"] = [dict({"entryId": i}, **e)
                                   for i, e in data["managed_urls"].items()]
            out["messages"] = copy_json(list(data["messages"].values()))
            out["exo_connectors"] = self.ms.connectors(tenant)
            out.update(self.ms.mail_flow_state(tenant))
            out["cloud_integrated"] = ci.state(data["cloud_integrated"], builtin)
            if builtin:
                out["settings"] = copy_json(data["settings"])
                out["entra"] = self.ms.settings(tenant, {})
            return out

    def seed(self, tenant, collection, items):
        """Create objects from API-shaped create bodies without logging requests; returns ids.
        collection "internal_domains" takes {"domain", "inboundType"} items; "groups",
        "group_members" and "managed_urls" take create-group / add-group-member (built-in
        groups allowed; {"group": "<description>"} may replace "id") / create-managed-url items."""
        with self._lock:
            data = self._tenant_data(tenant)
            if collection == "exo_connectors":
                return self.ms.seed_connectors(tenant, list(items))
            if collection in ("exo_transport_rules", "exo_arc_sealers", "exo_outbound_connectors"):
                return self.ms.seed_mail_flow(tenant, collection, list(items))
            if collection == "cloud_integrated":
                return ci.seed(data["cloud_integrated"], list(items))
            if collection == "internal_domains":
                made = [internal_domain(i["domain"], i.get("inboundType", "any")) for i in items]
                data["internal_domains"].extend(made)
                return [d["id"] for d in made]
            if collection in SEEDERS:
                backup = copy.deepcopy(data)                        # all or nothing
                try:
                    out, fail, dummy = CLASSIC[SEEDERS[collection]](self._ctx(tenant, True),
                                                                    list(items), {})
                except ClassicError as exc:
                    fail = [{"errors": [{"code": exc.code or "malformed id",
                                         "status": exc.status}]}]
                if fail:
                    self._data[tenant] = backup
                    raise ValueError("seed %s failed: %s" % (collection, json.dumps(fail)))
                return [o["id"] for o in out]
            coll = self._collection(collection)
            stored = [coll.validate(item) for item in items]   # all or nothing
            for body in stored:
                self._check_refs(data, coll, body)
            return [self._store(data, coll, body) for body in stored]

    def requests(self, tenant=None):
        with self._lock:
            return [copy.deepcopy(r) for r in self._log if tenant is None or r["tenant"] == tenant]

    def writes(self, tenant=None):
        return [r for r in self.requests(tenant) if r["write"]]

    def clear_requests(self):
        with self._lock:
            self._log = []

    def add_fault(self, method=None, path=None, status=None, times=1, headers=None, delay=0.0,
                  body=None, fail_code=None, tenant=None, skip=0, late=False, expire_tokens=False,
                  rendezvous=0, refuse_item=None):
        """Answer the next `times` matching calls (after `skip` untouched ones) with a fault
        instead of executing them. delay only (no status/body/fail_code): answer normally after
        `delay` seconds (with late=True: execute first, then wait before answering).
        expire_tokens=True: every token expires after the faulted call. rendezvous=N: each
        matching call waits until N of them have arrived, then all go on together."""
        fault = Fault(method, path, status, times, headers, delay, body, fail_code, tenant, skip, late,
                      expire_tokens, rendezvous, refuse_item)
        with self._lock:
            self._faults.append(fault)
        return fault

    def faults(self):
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def clear_faults(self):
        with self._lock:
            self._faults = []

    def expire_tokens(self):
        """Every issued token (Mimecast and Entra) becomes invalid."""
        with self._lock:
            for entry in self._tokens.values():
                entry[1] = 0
            self.ms.expire_tokens()

    def set_shapes(self, shapes):
        """Answer REST lists in the alternative shapes named (see LIST_SHAPES); () = default."""
        names = check_shapes(shapes)
        with self._lock:
            self.shapes = names
        return sorted(names)

    def set_page_size(self, n):
        if int(n) < 1:
            raise ValueError("page size must be >= 1")
        self.page_size = int(n)

    def deliver(self, tenant, sender, recipients, subject, sender_ip, html, received=None):
        """Simulate Mimecast processing one inbound message with the tenant's current state
        (greylisting, anti-spoofing, Permitted Senders groups, URL rewriting) and record a
        tracked email; returns its id (for message-finder search / get-message-info)."""
        with self._lock:
            try:
                return deliver(self._tenant_data(tenant), sender, recipients, subject,
                               sender_ip, html, received)["id"]
            except Invalid as exc:
                raise ValueError("%s: %s" % (exc.field, exc.message))

    def seed_message(self, tenant, tracked_email_dict):
        """Store a tracked email exactly as given (trackedEmails item shape; missing fields
        defaulted; extras htmlBody, textBody (delivered copy), receivedHtmlBody,
        receivedTextBody (as received), cc, messageId, remoteHost, policyInfo (served in each
        delivered copy), permittedSender feed get-message-info); returns its id."""
        with self._lock:
            data = self._tenant_data(tenant)
            try:
                rec = tracked_email(tracked_email_dict)
            except Invalid as exc:
                raise ValueError("%s: %s" % (exc.field, exc.message))
            data["messages"][rec["id"]] = rec
            return rec["id"]

    def settings(self, tenant, **changes):
        """Read (and change) the tenant's simulation settings: greylisting (bool),
        permitted_sender_groups (group descriptions). Returns the settings."""
        with self._lock:
            current = self._tenant_data(tenant)["settings"]
            unknown = set(changes) - set(DEFAULT_SETTINGS)
            if unknown:
                raise KeyError("unknown setting(s): %s" % ", ".join(sorted(unknown)))
            current.update(copy_json(changes))
            return copy_json(current)

    def issue_token(self, tenant):
        """A valid bearer token for `tenant` without calling /oauth/token (not logged)."""
        with self._lock:
            self._tenant_data(tenant)
            token = secrets.token_urlsafe(32)
            self._tokens[token] = [tenant, time.time() + self.token_ttl]
            return token

    # ------------------------------------------------------------------ Microsoft side
    def entra(self, tenant, **changes):
        """Read (and change) the tenant's Entra app / Exchange Online settings: ids, and the
        changeable entra_client_secret, exo_permission (Exchange.ManageAsApp granted, bool),
        exo_role ("Exchange Administrator", "Global Administrator", "Global Reader",
        "Security Reader", None, ...). reset() restores the configured values."""
        with self._lock:
            self._tenant_data(tenant)
            return self.ms.settings(tenant, changes)

    def entra_certificate(self, tenant):
        """The app certificate Entra accepts for `tenant`: {key_pem, cert_pem, pem (key then
        certificate, one file), thumbprint (SHA-1 hex), x5t}; generated on first use."""
        with self._lock:
            self._tenant_data(tenant)
            cert = self.ms.certificate(tenant)
            if cert is None:
                raise KeyError("tenant %r has no Entra certificate credential" % tenant)
            return {k: v for k, v in cert.items() if k != "public_key"}

    def issue_entra_token(self, tenant, roles=None):
        """A valid Exchange Online bearer for `tenant` without calling the token endpoint
        (roles default to what the tenant's app has been granted)."""
        with self._lock:
            self._tenant_data(tenant)
            return self.ms.issue(tenant, roles)

    def set_exo_page_size(self, n):
        if int(n) < 1:
            raise ValueError("page size must be >= 1")
        self.ms.page_size = int(n)

    def tenant_data(self, tenant):
        """The live internal state of one tenant (for the Microsoft side; tests use state())."""
        return self._tenant_data(tenant)

    # ------------------------------------------------------------------ internals
    def _tenant_data(self, tenant):
        if tenant not in self._data:
            raise KeyError("unknown tenant %r (known: %s)" % (tenant, ", ".join(self._data)))
        return self._data[tenant]

    @staticmethod
    def _collection(name):
        for coll in COLLECTIONS:
            if coll.name == name:
                return coll
        raise KeyError("unknown collection %r (known: %s)"
                       % (name, ", ".join(c.name for c in COLLECTIONS)))

    @staticmethod
    def _check_refs(data, coll, body, oid=None):
        """Reference fields must hold the id of an existing item of this tenant (not itself)."""
        errors = [Invalid("err_validation_invalid_value", "%s must be the id of an existing %s"
                          % (field, target), field)
                  for field, target in coll.refs.items()
                  if field in body and (body[field] == oid
                                        or body[field] not in data["collections"][target])]
        if errors:
            raise ValidationErrors(errors)

    @staticmethod
    def _referrers(data, coll, oid):
        """(collection name, id) of every item whose reference fields hold `oid`."""
        return [(other.name, rid) for other in COLLECTIONS
                for field, target in other.refs.items() if target == coll.name
                for rid, rec in data["collections"][other.name].items()
                if rec["body"].get(field) == oid]

    @staticmethod
    def _store(data, coll, body):
        oid, stamp = new_id(), now_string()
        data["collections"][coll.name][oid] = {"body": body, "createTime": stamp,
                                               "lastUpdated": stamp}
        return oid

    @staticmethod
    def _readback(coll, oid, rec):
        item = {"id": oid}
        item.update(copy.deepcopy(coll.render(rec["body"])))
        item.update(createTime=rec["createTime"], lastUpdated=rec["lastUpdated"])
        return item

    def _ctx(self, tenant, seeding=False):
        """What a classic handler sees: the tenant, its state, paging; seeding bypasses the
        built-in group write protection."""
        return SimpleNamespace(tenant=tenant, tenant_cfg=self.tenants[tenant],
                               state=self._data[tenant], page_size=self.page_size,
                               tokens=self.page_tokens, seeding=seeding)

    def _tenant_by(self, key, value):
        for name, cfg in self.tenants.items():
            if value is not None and hmac.compare_digest(str(cfg[key]), str(value)):
                return name
        return None

    def _rate(self, tenant):
        """Fixed-window quota per tenant: (exceeded, X-RateLimit-* headers)."""
        now = time.monotonic()
        window = self._windows.get(tenant)
        if not window or now >= window[0]:
            window = self._windows[tenant] = [now + RATE_WINDOW, 0]
        window[1] += 1
        headers = {"X-RateLimit-Limit": str(self.rate_limit),
                   "X-RateLimit-Remaining": str(max(0, self.rate_limit - window[1])),
                   "X-RateLimit-Reset": str(int((window[0] - now) * 1000))}
        return window[1] > self.rate_limit, headers

    # ------------------------------------------------------------------ request handling
    def handle(self, method, target, headers, raw):
        """One HTTP exchange -> (status, body object/str/None, extra headers)."""
        url = urlsplit(target)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
            return self._control(method, path, query, raw)
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        if ctype == "application/x-www-form-urlencoded":
            body = form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        elif not raw.strip():
            body = None
        else:
            try:
                body = json.loads(raw)
            except ValueError:
                body = MALFORMED
        microsoft = is_microsoft_path(path)
        with self._lock:
            if microsoft:
                tenant, auth_error = self.ms.identify(path), None
            else:
                tenant, auth_error = self._identify(path, headers, form)
            fault = next((f for f in self._faults if f.matches(tenant, method, path)), None)
            if fault and fault.skip > 0:
                fault.skip -= 1
                fault = None
            if fault:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        if fault and fault.barrier is not None:
            try:
                fault.barrier.wait(RENDEZVOUS_TIMEOUT)
            except threading.BrokenBarrierError:
                pass          # the others never came: answer anyway (the test then fails on its assertions)
        if fault and fault.delay and not fault.late:
            time.sleep(fault.delay)
        with self._lock:
            exceeded, rate_headers = (False, {}) if microsoft else self._rate(tenant)
            if fault and not fault.executes:
                status, out, extra = fault.reply(path)
            elif microsoft:
                status, out, extra = self.ms.route(method, path, query, headers, body, ctype)
            elif exceeded:
                status, out, extra = 429, envelope(429, FAULT_CODES[429], "Rate limit exceeded",
                                                   True), {"X-RateLimit-Remaining": "0"}
            elif fault and fault.refuse_item and isinstance(body, dict) and isinstance(body.get("data"), list):
                wanted = fault.refuse_item.items()
                refused = [i for i in body["data"] if isinstance(i, dict) and all(i.get(k) == v for k, v in wanted)]
                status, out, extra = self._route(method, path, query, dict(body, data=[
                    i for i in body["data"] if not any(i is r for r in refused)]), ctype, tenant, auth_error)
                if status == 200 and isinstance(out, dict):
                    out["fail"] = list(out.get("fail") or []) + [{"key": i, "errors": [{
                        "code": "err_injected_item", "message": "Injected item refusal (sandbox fault)",
                        "retryable": False}]} for i in refused]
            else:
                status, out, extra = self._route(method, path, query, body, ctype, tenant,
                                                 auth_error)
            self._log.append({
                "tenant": tenant, "method": method, "path": path, "query": query,
                "body": "<malformed>" if body is MALFORMED else redact(copy.deepcopy(body)),
                "status": status, "fault": bool(fault),
                "write": is_exo_write(path, body) if microsoft else is_write(method, path),
                "time": time.time()})
            if fault and fault.expire_tokens:
                for entry in self._tokens.values():
                    entry[1] = 0
        if fault and fault.delay and fault.late:
            time.sleep(fault.delay)
        rate_headers.update(extra)
        return status, out, rate_headers

    def _identify(self, path, headers, form):
        """(tenant or None, None or an auth error triple) from the credentials."""
        if path == TOKEN_PATH:
            return self._tenant_by("client_id", form.get("client_id")), None
        scheme, dummy, cred = (headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            entry = self._tokens.get(cred.strip())
            if not entry:
                return None, UNAUTHORIZED
            return entry[0], (UNAUTHORIZED if time.time() >= entry[1] else None)
        if scheme == "MC":                        # API 1.0 HMAC ([MC-auth], README Sources)
            access_key, dummy, signature = cred.partition(":")
            tenant = self._tenant_by("access_key", access_key)
            if not path.startswith("/api/"):
                return tenant, UNAUTHORIZED       # REST is API 2.0 only
            app_id = headers.get("x-mc-app-id")
            if self._tenant_by("app_id", app_id) is None:
                return tenant, BAD_DEVELOPER_KEY
            if tenant is None:
                return None, BAD_SIGNATURE
            cfg = self.tenants[tenant]
            date, req_id = headers.get("x-mc-date"), headers.get("x-mc-req-id")
            if cfg["app_id"] != app_id:
                return tenant, BAD_DEVELOPER_KEY
            if not date or not req_id:
                return tenant, BAD_SIGNATURE
            to_sign = ":".join([date, req_id, path, cfg["app_key"]]).encode()
            expected = base64.b64encode(hmac.new(base64.b64decode(cfg["secret_key"]), to_sign,
                                                 hashlib.sha1).digest()).decode()
            ok = hmac.compare_digest(expected, signature.strip())
            return tenant, (None if ok else BAD_SIGNATURE)
        return None, UNAUTHORIZED

    def _route(self, method, path, query, body, ctype, tenant, auth_error):
        if path == TOKEN_PATH:
            return self._token(method, ctype, body if isinstance(body, dict) else {})
        if auth_error:
            status, code, message = auth_error
            return status, envelope(status, code, message), {}
        if path.startswith("/api/"):
            return self._classic(method, path, body, tenant)
        return self._rest(method, path, query, body, tenant)

    def _token(self, method, ctype, form):
        def oauth_error(status, error, description):
            return status, {"error": error, "error_description": description}, {}
        if method != "POST":
            return oauth_error(405, "invalid_request", "Method not allowed")
        if ctype != "application/x-www-form-urlencoded":
            return oauth_error(400, "invalid_request",
                               "Content-Type must be application/x-www-form-urlencoded")
        if not form.get("grant_type"):
            return oauth_error(400, "invalid_request", "grant_type is required")
        if form["grant_type"] != "client_credentials":
            return oauth_error(400, "unsupported_grant_type",
                               "Only client_credentials is supported")
        tenant = self._tenant_by("client_id", form.get("client_id"))
        if tenant is None or not hmac.compare_digest(
                str(form.get("client_secret", "")), self.tenants[tenant]["client_secret"]):
            return oauth_error(401, "invalid_client", "Client authentication failed")
        token = secrets.token_urlsafe(32)
        self._tokens[token] = [tenant, time.time() + self.token_ttl]
        return 200, {"access_token": token, "token_type": "Bearer",
                     "expires_in": int(self.token_ttl)}, {}

    def _classic(self, method, path, body, tenant):
        handler = CLASSIC.get(path)
        if handler is None:
            status, code, message = APP_FORBIDDEN
            return status, envelope(status, code, message), {"X-Sandbox-Unhandled": "1"}
        if method != "POST":
            return 405, envelope(405, "err_method_not_allowed", "Only POST is allowed"), {}
        body = {} if body is None else body
        if body is MALFORMED or not isinstance(body, dict) \
                or not isinstance(body.get("data", []), list) \
                or not isinstance(body.get("meta", {}), dict):
            return 400, envelope(400, "err_request_malformed",
                                 "Body must be {\"meta\": {...}, \"data\": [...]}"), {}
        try:
            data, fail, pagination = handler(self._ctx(tenant), body.get("data", []),
                                             body.get("meta", {}))
        except ClassicError as exc:
            if exc.body is not None:
                return exc.status, exc.body, {}
            return exc.status, envelope(exc.status, exc.code, exc.message), {}
        meta = {"status": 200}
        if pagination:
            meta["pagination"] = pagination
        return 200, {"meta": meta, "data": data, "fail": fail}, {}

    def _rest(self, method, path, query, body, tenant):
        if ci.is_ci_path(path):
            return ci.handle(method, path, body, self._data[tenant]["cloud_integrated"], MALFORMED)
        for coll in COLLECTIONS:
            if path == coll.path:
                if method == "GET":
                    return self._rest_list(coll, query, tenant)
                if method == "POST":
                    return self._rest_create(coll, body, tenant)
                return 405, rest_error("method_not_allowed", "Use GET or POST"), {}
            oid = path[len(coll.path) + 1:] if path.startswith(coll.path + "/") else ""
            if oid and "/" not in oid:
                if method in ("GET", "PATCH", "DELETE"):
                    return self._rest_item(coll, method, oid, body, tenant)
                return 405, rest_error("method_not_allowed", "Use GET, PATCH or DELETE"), {}
        return 404, rest_error("not_found", "No resource at %s" % path), {"X-Sandbox-Unhandled": "1"}

    def _rest_list(self, coll, query, tenant):
        size = self.page_size
        if "pageSize" in query:
            try:
                size = int(query["pageSize"])
                if not 1 <= size <= REST_MAX_PAGE_SIZE:
                    raise ValueError(size)
            except ValueError:
                return 400, rest_error("err_validation_invalid_page_size", "pageSize must be "
                                       "1..%d" % REST_MAX_PAGE_SIZE, "pageSize"), {}
        size = min(size, self.page_size)
        start = self.page_tokens.decode(query.get("pageToken"), coll.name)
        if start is None:
            return 400, rest_error("err_validation_invalid_page_token", "Invalid pageToken",
                                   "pageToken"), {}
        items = list(self._data[tenant]["collections"][coll.name].items())
        shapes = self.shapes
        meta = {"pageSize": size}
        following = start + size if start + size < len(items) else None
        listed = [self._readback(coll, i, r) for i, r in items[start:start + size]]
        if "empty_page" in shapes and items and not query.get("pageToken"):
            listed, following = [], 0
        if following is not None:
            token = self.page_tokens.encode(following, coll.name)
            if "top_token" in shapes:
                body = {"nextToken": token}
            else:
                body, meta["nextPageToken"] = {}, token
        else:
            body = {}
        listed = [self._shaped(coll, item) for item in listed]
        body["meta"] = meta
        if listed or "omit_empty" not in shapes:
            body[coll.list_key] = listed
        if "both_keys" in shapes:
            body[{"definitions": "policies", "policies": "definitions"}[coll.list_key]] = []
        return 200, body, {}

    def _shaped(self, coll, item, listed=True):
        """One read-back item in the alternative shapes switched on."""
        if "other_dates" in self.shapes and "fromEternal" in item:
            item = swap_dates(item)
        if listed and "wrapped" in self.shapes:
            item = wrap_item(item)
        return item

    def _rest_create(self, coll, body, tenant):
        if body is MALFORMED:
            return 400, rest_error("err_validation_malformed_json", "Body is not JSON"), {}
        try:
            stored = coll.validate(body)
            self._check_refs(self._data[tenant], coll, stored)
        except ValidationErrors as exc:
            return 400, {"errors": [e.as_dict() for e in exc.errors]}, {}
        return 200, {"id": self._store(self._data[tenant], coll, stored)}, {}

    def _rest_item(self, coll, method, oid, body, tenant):
        items = self._data[tenant]["collections"][coll.name]
        if oid not in items:
            return 404, rest_error(coll.not_found, "No %s with id %s" % (coll.name, oid)), {}
        rec = items[oid]
        if method == "DELETE":
            users = self._referrers(self._data[tenant], coll, oid)
            if users:                                   # invented code (README)
                return 409, rest_error("err_definition_in_use", "%s %s is still referenced by %s"
                                       % (coll.name, oid, ", ".join("%s %s" % u for u in users))), {}
            del items[oid]
            return 204, None, {}
        if method == "PATCH":
            if body is MALFORMED:
                return 400, rest_error("err_validation_malformed_json", "Body is not JSON"), {}
            try:
                stored = coll.validate({} if body is None else body, base=rec["body"])
                self._check_refs(self._data[tenant], coll, stored, oid)
            except ValidationErrors as exc:
                return 400, {"errors": [e.as_dict() for e in exc.errors]}, {}
            if stored != rec["body"]:
                rec["body"], rec["lastUpdated"] = stored, now_string()
        return 200, self._shaped(coll, self._readback(coll, oid, rec), listed=False), {}

    # ------------------------------------------------------------------ HTTP control API
    def _control(self, method, path, query, raw):
        name = path[len(CONTROL_PREFIX):].strip("/")
        try:
            args = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return 400, {"error": "body is not JSON"}, {}
        routes = {}
        routes.update({
            ("GET", ""): lambda: {"endpoints": sorted("%s /_sandbox/%s" % r for r in routes),
                                  "tenants": sorted(self.tenants)},
            ("GET", "state"): lambda: self.state(query.get("tenant") or None,
                                                 query.get("builtin") in ("1", "true")),
            ("GET", "requests"): lambda: (self.writes if query.get("writes") in ("1", "true")
                                          else self.requests)(query.get("tenant") or None),
            ("GET", "faults"): self.faults,
            ("POST", "reset"): lambda: self.reset() or {"ok": True},
            ("POST", "seed"): lambda: {"ids": self.seed(args["tenant"], args["collection"],
                                                        args["items"])},
            ("POST", "faults"): lambda: {"ok": True, "added": len([
                self.add_fault(**f) for f in (args if isinstance(args, list) else [args])])},
            ("POST", "clear-faults"): lambda: self.clear_faults() or {"ok": True},
            ("POST", "expire-tokens"): lambda: self.expire_tokens() or {"ok": True},
            ("POST", "clear-requests"): lambda: self.clear_requests() or {"ok": True},
            ("POST", "page-size"): lambda: self.set_page_size(args["page_size"]) or {"ok": True},
            ("GET", "shapes"): lambda: {"shapes": sorted(self.shapes), "known": list(LIST_SHAPES)},
            ("POST", "shapes"): lambda: {"shapes": self.set_shapes(args.get("shapes") or ())},
            ("POST", "deliver"): lambda: {"id": self.deliver(
                args["tenant"], args["sender"], args["recipients"], args.get("subject", ""),
                args["sender_ip"], args.get("html", ""), args.get("received"))},
            ("POST", "seed-message"): lambda: {"id": self.seed_message(args["tenant"],
                                                                       args["message"])},
            ("GET", "settings"): lambda: self.settings(query["tenant"]),
            ("POST", "settings"): lambda: self.settings(args.pop("tenant"), **args),
            ("GET", "entra"): lambda: self.entra(query["tenant"]),
            ("POST", "entra"): lambda: self.entra(args.pop("tenant"), **args),
            ("GET", "entra-certificate"): lambda: self.entra_certificate(query["tenant"]),
            ("POST", "exo-page-size"): lambda: self.set_exo_page_size(args["page_size"]) or {"ok": True},
        })
        if (method, name) not in routes:
            return 404, {"error": "unknown control endpoint %s %s" % (method, path)}, {}
        try:
            return 200, routes[(method, name)](), {}
        except ValidationErrors as exc:
            return 400, {"errors": [e.as_dict() for e in exc.errors]}, {}
        except (KeyError, TypeError, ValueError) as exc:
            return 400, {"error": "%s: %s" % (type(exc).__name__, exc)}, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MimecastSandbox/1.0"
    sandbox = None   # set per server by Sandbox.start

    def _serve(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, body, headers = self.sandbox.handle(self.command, self.path, self.headers, raw)
        if body is None or status == 204:
            data = b""
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            data = str(body).encode()
            headers.setdefault("Content-Type", "text/plain")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, fmt, *args):
        if self.sandbox.verbose:
            sys.stderr.write("sandbox: %s\n" % (fmt % args))


class _HTTPServer(ThreadingHTTPServer):
    # The socketserver default backlog of 5 drops connections (clients then wait a 1-second SYN
    # retransmit, or time out under load) when many ansible forks connect at once.
    request_queue_size = 128
    daemon_threads = True


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local Mimecast API stand-in (test use only).")
    parser.add_argument("--port", type=int, default=8765, help="0 = pick a free port")
    parser.add_argument("--page-size", type=int, default=3, help="server-side page size cap")
    parser.add_argument("--token-ttl", type=int, default=1800, help="token lifetime (s)")
    parser.add_argument("--rate-limit", type=int, default=1000, help="calls per minute per tenant")
    parser.add_argument("--tenants", help="JSON file {name: {client_id, client_secret, ...}}")
    parser.add_argument("--entra-token-ttl", type=int, default=3599, help="Entra token lifetime (s)")
    parser.add_argument("--exo-page-size", type=int, default=3,
                        help="Exchange Online Get-* page size (then @odata.nextLink)")
    parser.add_argument("--shapes", default="",
                        help="comma-separated alternative REST list shapes (%s) or 'alternative' for all"
                        % ", ".join(LIST_SHAPES))
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    opts = parser.parse_args(argv)
    tenants = None
    if opts.tenants:
        with open(opts.tenants, encoding="utf-8") as handle:
            tenants = json.load(handle)
    try:
        shapes = check_shapes([n.strip() for n in opts.shapes.split(",") if n.strip()])
    except ValueError as exc:
        parser.error(str(exc))
    sandbox = Sandbox(tenants, opts.page_size, opts.token_ttl, opts.rate_limit,
                      opts.entra_token_ttl, opts.exo_page_size, shapes)
    sandbox.verbose = opts.verbose
    # Stop on SIGINT/SIGTERM from before the address is printed: a caller that reads the
    # address and stops the server at once must get a clean exit, not -15.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    url = sandbox.start(opts.port)
    print("SANDBOX_URL=%s" % url, flush=True)
    print("Mimecast sandbox (test only) for tenants %s; control API at %s/_sandbox/; "
          "Ctrl-C to stop" % (", ".join(sorted(sandbox.tenants)), url), flush=True)
    for name, cfg in sorted(sandbox.tenants.items()):
        print("Entra/Exchange Online tenant %s: tenant %s (%s), app %s; authority and exo_url = %s"
              % (name, cfg["entra_tenant_id"], cfg["entra_domain"], cfg["entra_client_id"], url),
              flush=True)

    while not stop.wait(0.5):
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":          # python -m sandbox.server (from tests/)
    sys.exit(main())
