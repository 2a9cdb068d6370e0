# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils file is PRIVATE to mailsec.mimecast: it may change in any release.
# Do not import it from other collections.

"""One HTTP client for every Mimecast call the collection makes.

* API 2.0: OAuth2 client credentials against ``{base_url}/oauth/token``; one token
  per client object (one per task); refreshed once when an API call answers 401.
* API 1.0 (legacy): HMAC-SHA1 request signing, for the classic ``/api/...`` paths only.
* Classic envelope (``meta``/``data``/``fail``) with ``meta.pagination.next`` paging,
  and REST collections with cursor paging; every list page is read by ``_shapes.read_page``
  (the one place that knows the accepted list and paging shapes).
* 429: waits ``X-RateLimit-Reset`` milliseconds (the call was not executed), bounded
  by ``rate_limit_max_wait`` seconds in total, then retries any verb.
* 5xx and connection errors: retried only for reads, with a warning each time.
* A 200 whose ``fail`` array is not empty is an error carrying Mimecast's code.
* Counts every call: ``api_calls`` = {"read", "write", "auth", "total"}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import time
import sys
import traceback
from urllib.parse import urlsplit

# httpx's __init__ loads its command-line client (click, rich, pygments: about a quarter of a module's
# start-up when they are installed) unless importing httpx._main fails, in which case it defines a stub
# (httpx/__init__.py, https://github.com/encode/httpx). A None entry in sys.modules makes that import fail
# (https://docs.python.org/3/reference/import.html#the-module-cache). Modules never use the CLI.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)

try:
    import httpx
except ImportError:  # pragma: no cover - exercised by the sanity import test
    HTTPX_IMPORT_ERROR = traceback.format_exc()
    httpx = None
else:
    HTTPX_IMPORT_ERROR = None

from ansible_collections.mailsec.mimecast.plugins.module_utils._network import needs_tls, tls_failure, tls_verify
from ansible_collections.mailsec.mimecast.plugins.module_utils._shapes import CLASSIC, REST, ShapeError, read_page
from ansible_collections.mailsec.mimecast.plugins.module_utils._version import COLLECTION_VERSION

TOKEN_PATH = "/oauth/token"
# Refresh a token this many seconds before Mimecast says it expires.
TOKEN_EARLY_REFRESH = 60
REST_PAGE_SIZE = 100
LOOPBACK_NAMES = ("localhost",)

# Mimecast's API hosts; the client secret (or the API 1.0 keys) is sent only to these, to a
# loopback test server, or to another host with allow_custom_base_url.
# API 2.0 (global with failover, UK and US pinned), Mimecast's "Enhancing API Gateway Resilience":
# https://mimecastsupport.zendesk.com/hc/en-us/articles/41019270938643 (June 2025)
# API 1.0 regional hosts and the global discovery host: https://docs.swimlane.com/authentication-guides/mimecast
# and https://www.mimecast.com/developer/documentation/ (usb, ca, je and uspcom come from the region
# tables of public Mimecast API scripts; Jersey is spelt both jer- and je-, so both are accepted).
API2_HOSTS = ("api.services.mimecast.com", "uk-api.services.mimecast.com", "us-api.services.mimecast.com")
# API 1.0 (HMAC-signed classic calls) goes to the regional host of the account, with the region / account-code
# table of Mimecast's "Identifying Mimecast Regions", https://mimecastsupport.zendesk.com/hc/en-us/articles/34000632786067;
# public clients do the same (Cortex XSOAR's MimecastV2 integration, demisto/content
# Packs/Mimecast/Integrations/MimecastV2/MimecastV2.py, signs calls to the configured regional base URL).
API1_REGIONAL_HOSTS = (
    ("https://eu-api.mimecast.com", "Europe except Germany, account codes CUK..."),
    ("https://de-api.mimecast.com", "Germany, CDE..."),
    ("https://us-api.mimecast.com", "United States, CUSA..."),
    ("https://usb-api.mimecast.com", "United States B grid, CUSB..."),
    ("https://ca-api.mimecast.com", "Canada, CCA..."),
    ("https://za-api.mimecast.com", "South Africa, CSA..."),
    ("https://au-api.mimecast.com", "Australia, CAU..."),
    ("https://je-api.mimecast.com", "Offshore/Jersey; also spelt jer-api"),
    ("https://uspcom-api.mimecast-pscom-us.com", "US public sector"),
)
API1_HOSTS = tuple(urlsplit(url).hostname for url, dummy in API1_REGIONAL_HOSTS) + (
    "jer-api.mimecast.com", "api.mimecast.com")
MIMECAST_API_HOSTS = API2_HOSTS + API1_HOSTS
# Numeric connection options: (lowest, highest, lowest allowed itself?, unit). Checked before any call.
OPTION_RANGES = {
    "timeout": (0, 600, False, "seconds"),
    "rate_limit_max_wait": (0, 3600, True, "seconds"),
    "max_retries": (0, 10, True, "retries"),
}


class MimecastError(Exception):
    """An error to show the user: what failed, Mimecast's code, and the fix."""

    def __init__(self, msg, code=None, status=None, field=None, path=None, fix=None, ambiguous=False):
        super().__init__(msg)
        self.msg = msg
        # True when a write may or may not have been executed (timeout, connection lost after
        # sending, HTTP 5xx): the caller must re-read before deciding anything.
        self.ambiguous = ambiguous
        self.code = code
        self.status = status
        self.field = field
        self.path = path
        self.fix = fix

    def __str__(self):
        parts = [self.msg]
        if self.fix:
            parts.append("Fix: " + self.fix)
        return " ".join(parts)

    def as_dict(self):
        return {
            "code": self.code,
            "status": self.status,
            "field": self.field,
            "path": self.path,
        }


class MimecastAuthError(MimecastError):
    pass


def _is_loopback_host(host):
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_key(host):
    return (host or "").lower().rstrip(".")


def check_options(values):
    """Problems (one line each) with the numeric connection options in ``values`` (a dict;
    missing or None values are skipped): each must be a finite number inside OPTION_RANGES."""
    problems = []
    for name, (low, high, low_ok, unit) in OPTION_RANGES.items():
        value = values.get(name)
        if value is None:
            continue
        if low_ok:
            valid = "from %s to %s %s" % (low, high, unit)
        else:
            valid = "greater than %s and at most %s %s" % (low, high, unit)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        inside = (low <= number if low_ok else low < number) and number <= high
        if not math.isfinite(number) or not inside:
            problems.append("%s %r is out of range; give a value %s" % (name, value, valid))
    return problems


def check_url(url, option, known_hosts, allow_custom=False, custom_option=None, example=None):
    """Return ``url`` without its trailing slash if credentials may be sent there, else raise.

    Refused: anything but an absolute http(s) URL with a host; user information, query or
    fragment (``https://api.services.mimecast.com@evil.example`` goes to evil.example);
    plain http to a host that is not loopback (never overridable); a host not in
    ``known_hosts`` and not loopback, unless ``allow_custom``.
    """
    example = example or "https://" + known_hosts[0]
    text = url if isinstance(url, str) else ""
    fix = "Use the service's API host, for example %s." % example
    if not text or any(c.isspace() or ord(c) < 32 or c == "\\" for c in text):
        raise MimecastError("%s %r is not an http(s) URL." % (option, url), fix=fix)
    text = text.rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port out of range
        host = httpx.URL(text).host if httpx is not None else parts.hostname
    except (ValueError, TypeError) + ((httpx.InvalidURL,) if httpx is not None else ()):
        port, host = -1, None
    if port == -1 or host is None:
        raise MimecastError("%s %r is not a valid URL (bad host or port)." % (option, url), fix=fix)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise MimecastError("%s %r is not an http(s) URL." % (option, url), fix=fix)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise MimecastError("%s %r carries user information before the host; the request would go to %s."
                            % (option, url, parts.hostname), fix=fix)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise MimecastError("%s %r has a query or fragment." % (option, url), fix=fix)
    if _host_key(host) != _host_key(parts.hostname):
        raise MimecastError("%s %r is ambiguous (its host reads differently to different parsers)."
                            % (option, url), fix=fix)
    loopback = _is_loopback_host(parts.hostname)
    if parts.scheme == "http" and not loopback:
        raise MimecastError(
            "%s %r uses plain http:// to a host that is not loopback; credentials would cross "
            "the network unencrypted." % (option, text),
            fix="Use https:// (plain http is only accepted for 127.0.0.1/localhost test servers).",
        )
    if not loopback and _host_key(parts.hostname) not in known_hosts and not allow_custom:
        if custom_option:
            fix = ("Use one of the accepted hosts, or set %s: true if %s really is the service (for "
                   "example a proxy you run)." % (custom_option, parts.hostname))
        raise MimecastError(
            "%s %r is not a known host for it (accepted: %s, or a loopback test server); the "
            "credentials will not be sent to %s." % (option, text, ", ".join(known_hosts), parts.hostname),
            fix=fix)
    return text


def _first_error(payload):
    """Return (code, message, field) from any of Mimecast's error shapes, or Nones."""
    if not isinstance(payload, dict):
        return None, None, None
    fails = payload.get("fail") or []
    for fail in fails:
        if not isinstance(fail, dict):
            continue
        errors = fail.get("errors") or [fail]
        for err in errors:
            if isinstance(err, dict) and (err.get("code") or err.get("message")):
                return err.get("code"), err.get("message"), err.get("field")
    for err in payload.get("errors") or []:
        if isinstance(err, dict):
            return err.get("code"), err.get("message"), err.get("field")
    if payload.get("error"):
        return payload.get("error"), payload.get("error_description"), None
    return None, None, None


class HttpClient:
    """What every HTTP API client of the collection shares: one httpx client per task,
    plain-http refusal except to loopback, call accounting, 429 waits bounded by
    ``rate_limit_max_wait``, read-only retries of 5xx and connection errors with a warning
    each time, and one credential refresh on 401. Subclasses add auth and error shapes.

    ``warn`` is a callable taking one string (the module's ``warn``); ``transport`` is an
    optional httpx transport (unit tests use ``httpx.MockTransport``).
    """

    service = "Mimecast"
    url_option = "base_url"
    url_example = "https://api.services.mimecast.com"
    known_hosts = MIMECAST_API_HOSTS
    custom_url_option = "allow_custom_base_url (or MIMECAST_ALLOW_CUSTOM_BASE_URL)"
    ca_option = "ca_bundle (or MIMECAST_CA_BUNDLE)"
    throttle_fix = ("Raise rate_limit_max_wait, lower the number of forks or add 'throttle: 1' "
                    "(Mimecast counts calls per application).")

    def __init__(self, base_url, timeout=30.0, validate_certs=True, rate_limit_max_wait=60.0, max_retries=3,
                 retry_backoff=0.5, warn=None, transport=None, sleep=time.sleep, clock=time.monotonic,
                 allow_custom_url=False, read_only=False, observe=None, ca_bundle=None, other_urls=()):
        if httpx is None:
            raise MimecastError("The Python library httpx is required.", fix="pip install httpx")
        self.base_url = check_url(base_url, self.url_option, self.known_hosts, allow_custom=allow_custom_url,
                                  custom_option=self.custom_url_option, example=self.url_example)
        problems = check_options(dict(timeout=timeout, rate_limit_max_wait=rate_limit_max_wait,
                                      max_retries=max_retries))
        if problems:
            raise MimecastError("; ".join(problems) + ".")
        self.rate_limit_max_wait = float(rate_limit_max_wait)
        self.max_retries = int(max_retries)
        self.retry_backoff = float(retry_backoff)
        self._warn = warn or (lambda msg: None)
        self._sleep = sleep
        self._clock = clock
        self.calls = {"read": 0, "write": 0, "auth": 0}
        self.rate_limit_waited = 0.0
        # Read-only mode (the smoke run): every write call is refused in _send, before it is sent.
        self.read_only = bool(read_only)
        # observe(method, path, kind, response): called with every answer (the smoke run's shape report).
        self._observe = observe
        # TLS and proxies (_network): system trust store + certifi + ca_bundle for https; nothing for loopback http.
        urls = (self.base_url,) + tuple(other_urls)
        try:
            verify = tls_verify(urls, bool(validate_certs), ca_bundle, self.ca_option)
        except ValueError as exc:
            raise MimecastError(str(exc) + ".")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=float(timeout),
            verify=verify,
            trust_env=needs_tls(urls),
            transport=transport,
            headers={
                "User-Agent": "mailsec.mimecast/%s httpx/%s" % (COLLECTION_VERSION, httpx.__version__),
                "Accept": "application/json",
            },
        )

    # ------------------------------------------------------------------ accounting
    @property
    def api_calls(self):
        calls = dict(self.calls)
        calls["total"] = calls["read"] + calls["write"] + calls["auth"]
        return calls

    def close(self):
        self._http.close()

    # ------------------------------------------------------------------ transport
    def _send(self, method, path, kind, authenticate=True, retry_reads=None, **kwargs):
        """Send one logical request: rate-limit waits, read retries, one 401 refresh."""
        if kind == "write" and self.read_only:
            raise MimecastError(
                "Read-only mode: refused the write %s %s to %s; nothing was sent." % (method, path, self.base_url),
                code="read_only", path=path,
                fix="Unset read_only (or MIMECAST_READ_ONLY) to let this task write.")
        if retry_reads is None:
            retry_reads = kind == "read"
        attempt = 0
        refreshed = False
        extra_headers = dict(kwargs.pop("headers", None) or {})
        while True:
            headers = dict(extra_headers)
            if authenticate:
                headers.update(self._auth_headers(path))
            self.calls[kind] += 1
            try:
                response = self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                self._raise_tls_failure(exc, method, path)
                attempt += 1
                what = type(exc).__name__
                if retry_reads and attempt <= self.max_retries:
                    self._warn(
                        "%s %s to %s failed (%s); retry %d of %d."
                        % (method, path, self.base_url, what, attempt, self.max_retries)
                    )
                    self._sleep(self.retry_backoff * (2 ** (attempt - 1)))
                    continue
                fix = "Check %s, network access and the timeout option." % self.url_option
                if isinstance(exc, httpx.ProxyError):
                    fix = "Check the proxy in HTTPS_PROXY / HTTP_PROXY / ALL_PROXY (or exempt the host in NO_PROXY)."
                if not retry_reads:
                    fix += (" The write may or may not have reached %s; re-run the task "
                            "(it reads the current state before writing)." % self.service)
                # A write that failed in transit is never retried blindly: it may have been
                # executed (the answer was lost). The declarative engine re-reads and reconciles.
                raise MimecastError(
                    "%s %s to %s failed: %s." % (method, path, self.base_url, what), path=path, fix=fix,
                    ambiguous=not retry_reads,
                )
            status = response.status_code
            if status == 429:
                wait, header = self._rate_limit_wait(response)
                if self.rate_limit_waited + wait > self.rate_limit_max_wait:
                    raise MimecastError(
                        "%s kept rate-limiting %s %s (HTTP 429) beyond the wait bound of %gs "
                        "(waited %.1fs in total)."
                        % (self.service, method, path, self.rate_limit_max_wait, self.rate_limit_waited),
                        code="rate_limited",
                        status=429,
                        path=path,
                        fix=self.throttle_fix,
                    )
                self._warn(
                    "%s rate limit (HTTP 429) on %s %s: waiting %.2fs as %s says."
                    % (self.service, method, path, wait, header)
                )
                self.rate_limit_waited += wait
                self._sleep(wait)
                continue
            if status >= 500 and retry_reads and attempt < self.max_retries:
                attempt += 1
                self._warn(
                    "%s %s answered HTTP %d; retry %d of %d." % (method, path, status, attempt, self.max_retries)
                )
                self._sleep(self.retry_backoff * (2 ** (attempt - 1)))
                continue
            if status == 401 and authenticate and not refreshed and self._refresh_auth():
                refreshed = True
                continue
            if self._observe is not None:
                self._observe(method, path, kind, response)
            return response

    def _raise_tls_failure(self, exc, method, path):
        """A certificate the client does not trust: never retried, nothing was sent."""
        reason = tls_failure(exc)
        if reason is None:
            return
        raise MimecastError(
            "%s %s to %s failed: the TLS certificate was not trusted (%s); nothing was sent."
            % (method, path, self.base_url, reason), code="tls_verify_failed", path=path,
            fix="If a TLS-inspecting proxy sits in between (HTTPS_PROXY), set %s to the proxy's CA file "
            "(PEM); otherwise check the host name. The system trust store and certifi are already trusted."
            % self.ca_option)

    @staticmethod
    def _rate_limit_wait(response):
        """(seconds to wait, the header that said so) for a 429 answer."""
        for header, scale in (("X-RateLimit-Reset", 1000.0), ("X-Mimecast-RateLimit-Reset", 1000.0),
                              ("Retry-After", 1.0)):
            value = response.headers.get(header)
            if value:
                try:
                    return max(float(value), 0.0) / scale, header
                except ValueError:
                    pass
        return 1.0, "the default of 1 s"

    def _json(self, response, path):
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            if response.status_code >= 400:
                return {}
            raise MimecastError(
                "%s answered %s with HTTP %d and a body that is not JSON."
                % (self.service, path, response.status_code),
                status=response.status_code,
                path=path,
                fix="Check that %s is the API host, not a console URL." % self.url_option,
            )

    def _auth_headers(self, path):
        return {}

    def _refresh_auth(self):
        """Forget the credential after a 401; True when a fresh one can be fetched."""
        return False


class MimecastClient(HttpClient):
    """The Mimecast API for one tenant during one task (API 2.0 OAuth2 or API 1.0 HMAC)."""

    def __init__(self, base_url, client_id=None, client_secret=None, app_id=None, app_key=None, access_key=None,
                 secret_key=None, token_cache=None, **options):
        super().__init__(base_url, **options)
        if client_id and client_secret:
            self.auth_mode = "oauth2"
        elif app_id and app_key and access_key and secret_key:
            self.auth_mode = "hmac"
        else:
            raise MimecastAuthError(
                "No complete set of Mimecast credentials was given.",
                fix="Set client_id and client_secret (API 2.0; or MIMECAST_CLIENT_ID and "
                "MIMECAST_CLIENT_SECRET), or all four legacy API 1.0 keys app_id, app_key, "
                "access_key and secret_key.",
            )
        self.client_id = client_id
        self._client_secret = client_secret
        self.app_id = app_id
        self._app_key = app_key
        self.access_key = access_key
        self._secret_key = secret_key
        self._token = None
        self._token_expires = 0.0
        # A _token_cache.TokenCache (or None): one API 2.0 token per tenant across the tasks of a run.
        self._token_cache = token_cache if self.auth_mode == "oauth2" else None
        self._cache_loads = True

    def _refresh_auth(self):
        if self.auth_mode != "oauth2":
            return False
        self._token = None
        if self._token_cache is not None:
            # Mimecast refused the token (maybe the cached one): forget it, fetch a new one once.
            self._token_cache.drop()
            self._cache_loads = False
        return True

    @property
    def tenant_label(self):
        who = self.client_id if self.auth_mode == "oauth2" else self.app_id
        return "%s (client %s)" % (self.base_url, who)

    # ------------------------------------------------------------------ auth
    def _fetch_token(self):
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        response = self._send(
            "POST", TOKEN_PATH, kind="auth", data=form, authenticate=False, retry_reads=True
        )
        payload = self._json(response, TOKEN_PATH)
        if response.status_code in (400, 401, 403):
            code, message, dummy = _first_error(payload)
            raise MimecastAuthError(
                "Mimecast refused the client credentials for %s: %s (%s)."
                % (self.tenant_label, message or "authentication failed", code or response.status_code),
                code=code,
                status=response.status_code,
                path=TOKEN_PATH,
                fix="Check client_id/client_secret of the API 2.0 application in Integrations Hub, "
                "and that base_url is the host the application belongs to.",
            )
        self._raise_for_status(response, payload, TOKEN_PATH)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not token:
            raise MimecastAuthError(
                "The token endpoint of %s answered without an access_token." % self.base_url,
                path=TOKEN_PATH,
                status=response.status_code,
                fix="Check that base_url points at the Mimecast API 2.0 host.",
            )
        expires_in = payload.get("expires_in") or 1800
        try:
            expires_in = float(expires_in)
        except (TypeError, ValueError):
            expires_in = 1800.0
        self._token = token
        self._token_expires = self._clock() + max(expires_in - TOKEN_EARLY_REFRESH, 1.0)
        if self._token_cache is not None:
            self._token_cache.store(token, expires_in)

    def _cached_token(self):
        """Take a usable token from the token cache, if there is one; True when taken."""
        cached = self._token_cache.load() if self._token_cache is not None and self._cache_loads else None
        if not cached:
            return False
        self._token, left = cached
        self._token_expires = self._clock() + max(left - TOKEN_EARLY_REFRESH, 1.0)
        return True

    def _auth_headers(self, path):
        if self.auth_mode == "oauth2":
            if self._token is None and self._cached_token():
                pass
            elif self._token is None or self._clock() >= self._token_expires:
                self._fetch_token()
            return {"Authorization": "Bearer %s" % self._token}
        if not path.startswith("/api/"):
            raise MimecastError(
                "%s is an API 2.0 endpoint; legacy API 1.0 keys can only call classic /api/ paths."
                % path,
                path=path,
                fix="Create an API 2.0 application in Integrations Hub and set client_id/client_secret.",
            )
        # Imported here: only API 1.0 (HMAC) calls need them.
        import uuid  # pylint: disable=import-outside-toplevel
        from email.utils import formatdate  # pylint: disable=import-outside-toplevel

        date = formatdate(usegmt=True).replace("GMT", "UTC")
        req_id = str(uuid.uuid4())
        data = ":".join([date, req_id, path, self._app_key]).encode("utf-8")
        try:
            key = base64.b64decode(self._secret_key)
        except (ValueError, TypeError):
            raise MimecastAuthError(
                "secret_key is not valid base64.", fix="Paste the Secret Key exactly as Mimecast showed it."
            )
        signature = base64.b64encode(hmac.new(key, data, hashlib.sha1).digest()).decode("ascii")
        return {
            "x-mc-date": date,
            "x-mc-req-id": req_id,
            "x-mc-app-id": self.app_id,
            "Authorization": "MC %s:%s" % (self.access_key, signature),
        }

    _STATUS_FIXES = {
        400: "Mimecast rejected the request as malformed; check the values named above (Mimecast "
        "answers a truncated or wrong object id with HTTP 400 and an empty body).",
        401: "Check the credentials and that base_url is the API host of the application's region.",
        403: "Give the API application the product and role permission this call needs "
        "(Integrations Hub > the application > Products / Application Role).",
        404: "The object or endpoint does not exist on this tenant.",
        409: "The object changed meanwhile; re-run the task.",
        418: "The API 1.0 key binding expired; log in again to get new keys, or move to API 2.0.",
    }

    def _raise_for_status(self, response, payload, path):
        status = response.status_code
        code, message, field = _first_error(payload)
        if status < 300 and not code:
            return
        if status == 401:
            cls = MimecastAuthError
        else:
            cls = MimecastError
        text = "Mimecast %s answered %s with HTTP %d" % (self.tenant_label, path, status)
        if code or message:
            text += ": %s%s" % (code + " " if code else "", "(%s)" % message if message else "")
        if field:
            text += " [field %s]" % field
        fix = self._STATUS_FIXES.get(status)
        if status >= 500:
            fix = ("Mimecast had a server error. Reads are retried automatically; a write may or may "
                   "not have happened, so re-run the task (it reads the current state first).")
        # HTTP 5xx: the call may have been executed before the server failed (ambiguous for a write).
        raise cls(text + ".", code=code, status=status, field=field, path=path, fix=fix, ambiguous=status >= 500)

    # ------------------------------------------------------------------ classic envelope
    def classic(self, path, data=None, write=False, paginate=False, page_size=100, tolerate=()):
        """Call a classic ``/api/...`` function and return its ``data`` list (all pages).

        Several items in ``data`` are processed by Mimecast one by one; a ``fail`` entry whose
        code is in ``tolerate`` (e.g. "already exists" on an add) is skipped, any other fails.
        """
        items = []
        token = None
        seen_tokens = set()
        while True:
            body = {"data": list(data) if data is not None else []}
            if paginate:
                pagination = {"pageSize": page_size}
                if token:
                    pagination["pageToken"] = token
                body["meta"] = {"pagination": pagination}
            response = self._send("POST", path, kind="write" if write else "read", json=body)
            payload = self._json(response, path)
            if tolerate and response.status_code < 300 and isinstance(payload, dict):
                payload = dict(payload, fail=[f for f in payload.get("fail") or []
                                              if _first_error({"fail": [f]})[0] not in tolerate])
            self._raise_for_status(response, payload, path)
            if paginate:
                page, token = self._page(payload, path, CLASSIC, response)
                if token and token in seen_tokens:
                    raise MimecastError(
                        "Mimecast returned the same page token twice for %s; stopping to avoid a loop. "
                        "Nothing was changed." % path, path=path)
                seen_tokens.add(token)
            else:
                page, token = payload.get("data") or [], None
                if not isinstance(page, list):
                    raise MimecastError("Mimecast answered %s with a data field that is not a list." % path,
                                        path=path)
            items.extend(page)
            if not token:
                return items

    def classic_batch(self, path, data):
        """One classic write call carrying several items: (data, fail) as Mimecast answered.

        Mimecast processes the items of one ``data`` array as if each were sent alone ("When multiple items
        are contained in the 'data' array, the result is equivalent to calling the same endpoint with each
        item individually", https://integrations.mimecast.com/documentation/api-overview/api-concepts), so a
        per-item refusal in ``fail`` is returned to the caller, not raised; an error of the whole call is.
        """
        response = self._send("POST", path, kind="write", json={"data": list(data)})
        payload = self._json(response, path)
        if not isinstance(payload, dict):
            payload = {}
        fails = [f for f in payload.get("fail") or [] if isinstance(f, dict)]
        self._raise_for_status(response, payload if response.status_code >= 300 else dict(payload, fail=[]), path)
        page = payload.get("data") or []
        if not isinstance(page, list):
            raise MimecastError("Mimecast answered %s with a data field that is not a list." % path, path=path,
                                ambiguous=True)
        return [item for item in page if isinstance(item, dict)], fails

    # ------------------------------------------------------------------ REST
    def rest_list(self, path, page_size=REST_PAGE_SIZE):
        """Every item of a REST collection, all pages."""
        items = []
        token = None
        seen_tokens = set()
        while True:
            params = {"pageSize": page_size}
            if token:
                params["pageToken"] = token
            response = self._send("GET", path, kind="read", params=params)
            payload = self._json(response, path)
            self._raise_for_status(response, payload, path)
            page, token = self._page(payload, path, REST, response)
            items.extend(page)
            if not token:
                return items
            if token in seen_tokens:
                raise MimecastError(
                    "Mimecast returned the same page token twice for %s; stopping to avoid a loop. "
                    "Nothing was changed." % path,
                    path=path,
                )
            seen_tokens.add(token)

    def _page(self, payload, path, shape, response):
        """(items, next token) of one list page, through the one shape layer (``_shapes``)."""
        try:
            if response.status_code == 204 or not response.content:
                raise ShapeError("the body is empty", "no body")
            return read_page(payload, shape)
        except ShapeError as exc:
            # An answer the collection does not understand must never read as "no objects":
            # the declarative engine would then create duplicates. Keys and types only, no values.
            raise MimecastError(
                "Mimecast answered %s with a %s the collection does not understand: %s. Its keys "
                "(values left out): %s. Nothing was changed." % (path, shape.name, exc.problem, exc.keys),
                path=path,
                fix="Report this response shape (the message holds no values) to the mailsec.mimecast "
                "maintainers; the run refuses to guess rather than create duplicates.",
            )

    def rest_get(self, path):
        """One REST object (GET by id); its shape is checked by the caller through ``_shapes``."""
        response = self._send("GET", path, kind="read")
        payload = self._json(response, path)
        self._raise_for_status(response, payload, path)
        return payload

    def rest_create(self, path, body):
        response = self._send("POST", path, kind="write", json=body)
        payload = self._json(response, path)
        self._raise_for_status(response, payload, path)
        new_id = (payload.get("id") or payload.get("policyId")) if isinstance(payload, dict) else None
        if not new_id:
            raise MimecastError(
                "Mimecast created an object at %s but answered without its id." % path,
                path=path, ambiguous=True,
                fix="Re-run the task: it will find the object by its description.",
            )
        return new_id, payload

    def rest_update(self, path, body):
        response = self._send("PATCH", path, kind="write", json=body)
        payload = self._json(response, path)
        self._raise_for_status(response, payload, path)
        return payload

    def rest_delete(self, path):
        response = self._send("DELETE", path, kind="write")
        payload = self._json(response, path)
        self._raise_for_status(response, payload, path)
