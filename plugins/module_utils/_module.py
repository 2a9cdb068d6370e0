# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""The AnsibleModule wrapper every mailsec.mimecast module uses.

One argument spec for the connection (documented in doc fragment
``mailsec.mimecast.connection``), one for the declarative states (fragment
``mailsec.mimecast.declarative``), one client per task, one place that turns errors
into ``fail_json`` with the API call count.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    API1_HOSTS,
    API1_REGIONAL_HOSTS,
    API2_HOSTS,
    HTTPX_IMPORT_ERROR,
    MIMECAST_API_HOSTS,
    MimecastClient,
    TOKEN_PATH,
    MimecastError,
    check_options,
    check_url,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import ON_DUPLICATE, STATES, Engine
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._network import ca_bundle_problem, env_fallback_set
from ansible_collections.mailsec.mimecast.plugins.module_utils._token_cache import TokenCache

DEFAULT_BASE_URL = "https://api.services.mimecast.com"


def api_version_problem(p):
    """Why the credentials and base_url belong to different API generations, or None.

    API 1.0 keys sign classic calls for the account's regional API 1.0 host; API 2.0 client credentials
    get their token from an API 2.0 host. A loopback or custom host is not judged."""
    host = (urlsplit(str(p.get("base_url") or "")).hostname or "").rstrip(".").lower()
    oauth2 = bool(p.get("client_id") and p.get("client_secret"))
    legacy = all(p.get(k) for k in ("app_id", "app_key", "access_key", "secret_key"))
    if legacy and not oauth2 and host in API2_HOSTS:
        return ("base_url %s is an API 2.0 host, but only legacy API 1.0 keys (app_id, app_key, access_key, "
                "secret_key) were given, and API 1.0 calls go to the API 1.0 host of the account's region. Set "
                "base_url to that host: %s (the account code in the Mimecast console shows the region); or give "
                "the API 2.0 client_id and client_secret instead"
                % (host, "; ".join("%s (%s)" % pair for pair in API1_REGIONAL_HOSTS)))
    if oauth2 and host in API1_HOSTS:
        return ("base_url %s is an API 1.0 host, but API 2.0 client_id and client_secret were given, and API 2.0 "
                "tokens come from an API 2.0 host. Set base_url to %s (global), or to https://uk-api.services."
                "mimecast.com or https://us-api.services.mimecast.com (pinned to a region); or give the four API "
                "1.0 keys instead" % (host, DEFAULT_BASE_URL))
    return None


def connection_argument_spec():
    return dict(
        base_url=dict(type="str", default=DEFAULT_BASE_URL,
                      fallback=(env_fallback_set, ["MIMECAST_BASE_URL"])),
        allow_custom_base_url=dict(type="bool", default=False,
                                   fallback=(env_fallback_set, ["MIMECAST_ALLOW_CUSTOM_BASE_URL"])),
        client_id=dict(type="str", fallback=(env_fallback_set, ["MIMECAST_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback_set, ["MIMECAST_CLIENT_SECRET"])),
        app_id=dict(type="str", fallback=(env_fallback_set, ["MIMECAST_APP_ID"])),
        app_key=dict(type="str", no_log=True, fallback=(env_fallback_set, ["MIMECAST_APP_KEY"])),
        access_key=dict(type="str", no_log=True, fallback=(env_fallback_set, ["MIMECAST_ACCESS_KEY"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback_set, ["MIMECAST_SECRET_KEY"])),
        timeout=dict(type="float", default=30.0, fallback=(env_fallback_set, ["MIMECAST_TIMEOUT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback_set, ["MIMECAST_VALIDATE_CERTS"])),
        rate_limit_max_wait=dict(type="float", default=60.0,
                                 fallback=(env_fallback_set, ["MIMECAST_RATE_LIMIT_MAX_WAIT"])),
        max_retries=dict(type="int", default=3, fallback=(env_fallback_set, ["MIMECAST_MAX_RETRIES"])),
        read_only=dict(type="bool", default=False, fallback=(env_fallback_set, ["MIMECAST_READ_ONLY"])),
        ca_bundle=dict(type="path", fallback=(env_fallback_set, ["MIMECAST_CA_BUNDLE"])),
        token_cache=dict(type="bool", default=True, fallback=(env_fallback_set, ["MIMECAST_TOKEN_CACHE"])),
        token_cache_dir=dict(type="path", fallback=(env_fallback_set, ["MIMECAST_TOKEN_CACHE_DIR"])),
    )


def declarative_argument_spec(entry_options):
    return dict(
        config=dict(type="list", elements="dict", default=[], options=entry_options),
        state=dict(type="str", default="merged", choices=list(STATES)),
        owner_tag=dict(type="str", default="[ansible]"),
        adopt=dict(type="bool", default=False),
        on_duplicate=dict(type="str", default="fail", choices=list(ON_DUPLICATE)),
    )


class MimecastModule:
    """Wraps AnsibleModule: shared argspec, the client, the engine and error reporting."""

    # A module that must never write (the smoke run) sets this: the client refuses every write.
    force_read_only = False
    # Called with (method, path, kind, response) for every answer, or None.
    observe = None

    def __init__(self, argument_spec, **kwargs):
        spec = connection_argument_spec()
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        if HTTPX_IMPORT_ERROR:
            self.module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
        self._client = None
        self.check_connection()

    def check_connection(self):
        """Refuse bad connection options (base_url host, numeric ranges) before any call."""
        p = self.params
        problems = check_options(p)
        bundle = ca_bundle_problem(p.get("ca_bundle"), "ca_bundle") if p.get("validate_certs", True) else None
        if bundle:
            problems.append(bundle)
        try:
            check_url(p["base_url"], "base_url", MIMECAST_API_HOSTS, allow_custom=p["allow_custom_base_url"],
                      custom_option=MimecastClient.custom_url_option, example=DEFAULT_BASE_URL)
        except MimecastError as exc:
            problems.insert(0, str(exc).rstrip("."))
        else:
            mismatch = api_version_problem(p)
            if mismatch:
                problems.insert(0, mismatch)
        if problems:
            self.module.fail_json(msg="; ".join(problems) + ".", api_calls=self.api_calls())

    @property
    def client(self):
        if self._client is None:
            p = self.params
            self._client = MimecastClient(
                base_url=p["base_url"],
                client_id=p["client_id"],
                client_secret=p["client_secret"],
                app_id=p["app_id"],
                app_key=p["app_key"],
                access_key=p["access_key"],
                secret_key=p["secret_key"],
                timeout=p["timeout"],
                validate_certs=p["validate_certs"],
                rate_limit_max_wait=p["rate_limit_max_wait"],
                max_retries=p["max_retries"],
                allow_custom_url=p["allow_custom_base_url"],
                warn=self.module.warn,
                read_only=p["read_only"] or self.force_read_only,
                observe=self.observe,
                ca_bundle=p.get("ca_bundle"),
                token_cache=self.token_cache(),
            )
        return self._client

    def token_cache(self):
        """The encrypted token cache of this tenant's API 2.0 credentials, or None (turned off, API 1.0 keys)."""
        p = self.params
        if not (p["token_cache"] and p["client_id"] and p["client_secret"]):
            return None
        return TokenCache(str(p["base_url"]).rstrip("/") + TOKEN_PATH, p["client_id"], p["client_secret"],
                          directory=p["token_cache_dir"], warn=self.module.warn)

    def api_calls(self):
        if self._client is None:
            return {"read": 0, "write": 0, "auth": 0, "total": 0}
        return self._client.api_calls

    def fail(self, exc, **extra):
        if isinstance(exc, GuardrailError):
            msg = "Refused by a guardrail, nothing was written: " + "; ".join(exc.problems) + "."
            extra["problems"] = exc.problems
        else:
            msg = str(exc)
            if isinstance(exc, MimecastError):
                extra["error"] = exc.as_dict()
        # A write failure after other writes: changed, done, not_done (and restored) tell exactly
        # what the task did before it stopped.
        if hasattr(exc, "result"):
            extra.update(exc.result())
        self.module.fail_json(msg=msg, api_calls=self.api_calls(), **extra)

    def run(self, work):
        """Call ``work(client)`` for the module result, add ``api_calls`` and the diff, and exit."""
        try:
            result = work(self.client)
        except (MimecastError, GuardrailError) as exc:
            self.fail(exc)
        result["api_calls"] = self.api_calls()
        if self.module._diff and "before" in result:
            result["diff"] = {"before": result["before"], "after": result["after"]}
        self.module.exit_json(**result)

    def run_engine(self, spec):
        """Run the declarative engine with the module's config/state and exit."""
        p = self.params
        self.run(lambda client: Engine(client, spec, owner_tag=p["owner_tag"], adopt=p["adopt"],
                                       check_mode=self.check_mode, on_duplicate=p["on_duplicate"],
                                       warn=self.module.warn).run(p["state"], p["config"]))
