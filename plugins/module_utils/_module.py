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

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    HTTPX_IMPORT_ERROR,
    MIMECAST_API_HOSTS,
    MimecastClient,
    MimecastError,
    check_options,
    check_url,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import STATES, Engine
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError

DEFAULT_BASE_URL = "https://api.services.mimecast.com"


def connection_argument_spec():
    return dict(
        base_url=dict(type="str", default=DEFAULT_BASE_URL,
                      fallback=(env_fallback, ["MIMECAST_BASE_URL"])),
        allow_custom_base_url=dict(type="bool", default=False,
                                   fallback=(env_fallback, ["MIMECAST_ALLOW_CUSTOM_BASE_URL"])),
        client_id=dict(type="str", fallback=(env_fallback, ["MIMECAST_CLIENT_ID"])),
        client_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["MIMECAST_CLIENT_SECRET"])),
        app_id=dict(type="str", fallback=(env_fallback, ["MIMECAST_APP_ID"])),
        app_key=dict(type="str", no_log=True, fallback=(env_fallback, ["MIMECAST_APP_KEY"])),
        access_key=dict(type="str", no_log=True, fallback=(env_fallback, ["MIMECAST_ACCESS_KEY"])),
        secret_key=dict(type="str", no_log=True, fallback=(env_fallback, ["MIMECAST_SECRET_KEY"])),
        timeout=dict(type="float", default=30.0, fallback=(env_fallback, ["MIMECAST_TIMEOUT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["MIMECAST_VALIDATE_CERTS"])),
        rate_limit_max_wait=dict(type="float", default=60.0,
                                 fallback=(env_fallback, ["MIMECAST_RATE_LIMIT_MAX_WAIT"])),
        max_retries=dict(type="int", default=3, fallback=(env_fallback, ["MIMECAST_MAX_RETRIES"])),
    )


def declarative_argument_spec(entry_options):
    return dict(
        config=dict(type="list", elements="dict", default=[], options=entry_options),
        state=dict(type="str", default="merged", choices=list(STATES)),
        owner_tag=dict(type="str", default="[ansible]"),
        adopt=dict(type="bool", default=False),
    )


class MimecastModule:
    """Wraps AnsibleModule: shared argspec, the client, the engine and error reporting."""

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
        try:
            check_url(p["base_url"], "base_url", MIMECAST_API_HOSTS, allow_custom=p["allow_custom_base_url"],
                      custom_option=MimecastClient.custom_url_option, example=DEFAULT_BASE_URL)
        except MimecastError as exc:
            problems.insert(0, str(exc).rstrip("."))
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
            )
        return self._client

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
                                       check_mode=self.check_mode).run(p["state"], p["config"]))
