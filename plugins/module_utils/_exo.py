# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Exchange Online cmdlets over the ``/adminapi/beta/{tenant}/InvokeCommand`` REST endpoint.

App-only Entra token (client credentials: a client secret, or a certificate whose key signs
the client assertion), one token per task, refreshed once on 401. The endpoint is the one
the Exchange Online PowerShell module's REST mode uses; Microsoft does not document it as a
public API (its request and answer shapes come from public clients: KelvinTegelaar/CIPP-API
Modules/CIPPCore/Public/GraphHelper/New-ExoRequest.ps1 and GreyCorbel/ExoHelper
Commands/Public/Invoke-ExoCommand.ps1), so unknown answers fail loudly.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    HttpClient,
    MimecastAuthError,
    MimecastError,
    check_url,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._network import env_fallback_set

SCOPE = "https://outlook.office365.com/.default"
SYSTEM_MAILBOX = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

EXO_ARGUMENT_SPEC = dict(
    tenant=dict(type="str", required=True, fallback=(env_fallback_set, ["EXO_TENANT"])),
    app_id=dict(type="str", required=True, fallback=(env_fallback_set, ["EXO_APP_ID"])),
    client_secret=dict(type="str", no_log=True, fallback=(env_fallback_set, ["EXO_CLIENT_SECRET"])),
    certificate_path=dict(type="path", fallback=(env_fallback_set, ["EXO_CERTIFICATE_PATH"])),
    certificate_password=dict(type="str", no_log=True, fallback=(env_fallback_set, ["EXO_CERTIFICATE_PASSWORD"])),
    exo_url=dict(type="str", default="https://outlook.office365.com", fallback=(env_fallback_set, ["EXO_URL"])),
    authority=dict(type="str", default="https://login.microsoftonline.com",
                   fallback=(env_fallback_set, ["EXO_AUTHORITY"])),
    allow_custom_urls=dict(type="bool", default=False, fallback=(env_fallback_set, ["EXO_ALLOW_CUSTOM_URLS"])),
    timeout=dict(type="float", default=60.0),
    validate_certs=dict(type="bool", default=True),
    rate_limit_max_wait=dict(type="float", default=120.0),
    ca_bundle=dict(type="path", fallback=(env_fallback_set, ["EXO_CA_BUNDLE"])),
)
# The public Microsoft cloud's hosts, the only ones the app's secret or signed assertion and its
# token are sent to without allow_custom_urls (or to a loopback test server). The authority:
# https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2 (consent URL on
# login.microsoftonline.com); the InvokeCommand host outlook.office365.com: the Exchange Online
# PowerShell module's REST mode as public clients call it (GreyCorbel/ExoHelper,
# KelvinTegelaar/CIPP-API New-ExoRequest.ps1). Sovereign clouds need allow_custom_urls.
EXO_HOSTS = ("outlook.office365.com",)
AUTHORITY_HOSTS = ("login.microsoftonline.com",)
CUSTOM_URLS_OPTION = "allow_custom_urls (or EXO_ALLOW_CUSTOM_URLS)"
# A tenant is its GUID or a domain name (<name>.onmicrosoft.com); it becomes part of both URL paths.
_TENANT_RE = re.compile(r"^([0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
                        r"|(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$", re.I)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_assertion(pem, password, client_id, audience, now=None):
    """A JWT client assertion signed RS256 with the certificate's key (Entra app-only auth)."""
    # Imported here: cryptography is only needed for certificate credentials.
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import padding  # pylint: disable=import-outside-toplevel

    key = serialization.load_pem_private_key(pem, password.encode("utf-8") if password else None)
    cert = x509.load_pem_x509_certificate(pem)
    now = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5t": _b64url(cert.fingerprint(hashes.SHA1()))}  # nosec - Entra's thumbprint
    payload = {"aud": audience, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
               "nbf": now, "iat": now, "exp": now + 600}
    signing_input = "%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(payload).encode()))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return "%s.%s" % (signing_input, _b64url(signature))


def parse_exo_error(payload):
    """(code, type, message) from Exchange's error shapes (details 'code|type|message' first)."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None, None, None
    for detail in error.get("details") or []:
        message = (detail or {}).get("message") or ""
        parts = message.split("|", 2)
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if message:
            return detail.get("code"), None, message
    inner = ((error.get("innererror") or {}).get("internalException") or {}).get("message")
    return error.get("code"), None, inner or error.get("message")


class ExoClient(HttpClient):
    service = "Exchange Online"
    url_option = "exo_url"
    url_example = "https://outlook.office365.com"
    known_hosts = EXO_HOSTS
    custom_url_option = CUSTOM_URLS_OPTION
    ca_option = "ca_bundle (or EXO_CA_BUNDLE)"
    throttle_fix = "Raise rate_limit_max_wait or run fewer tenants at once (Exchange limits concurrent requests per tenant)."

    def __init__(self, tenant, app_id, client_secret=None, certificate_path=None, certificate_password=None,
                 exo_url="https://outlook.office365.com", authority="https://login.microsoftonline.com",
                 allow_custom_urls=False, **options):
        # The authority receives the secret or the signed assertion: checked like exo_url.
        authority = check_url(authority, "authority", AUTHORITY_HOSTS, allow_custom=allow_custom_urls,
                              custom_option=CUSTOM_URLS_OPTION, example="https://" + AUTHORITY_HOSTS[0])
        if not isinstance(tenant, str) or not _TENANT_RE.fullmatch(tenant):
            raise MimecastError("tenant %r is neither a tenant GUID nor a domain name." % (tenant,),
                                fix="Give the tenant's GUID or its <name>.onmicrosoft.com domain.")
        # The token request goes to the authority through the same httpx client: its TLS counts too.
        super().__init__(exo_url, allow_custom_url=allow_custom_urls, other_urls=(authority,), **options)
        if not client_secret and not certificate_path:
            raise MimecastAuthError("No Entra credential was given for app %s." % app_id,
                                    fix="Set certificate_path (recommended) or client_secret (EXO_CLIENT_SECRET).")
        self.tenant = tenant
        self.app_id = app_id
        self._client_secret = client_secret
        self._certificate_path = certificate_path
        self._certificate_password = certificate_password
        self.token_url = "%s/%s/oauth2/v2.0/token" % (authority, tenant)
        self._token = None
        self._token_expires = 0.0

    @property
    def label(self):
        return "tenant %s (app %s)" % (self.tenant, self.app_id)

    def _refresh_auth(self):
        self._token = None
        return True

    def _fetch_token(self):
        form = {"grant_type": "client_credentials", "client_id": self.app_id, "scope": SCOPE}
        if self._certificate_path:
            try:
                with open(self._certificate_path, "rb") as handle:
                    pem = handle.read()
                form["client_assertion_type"] = ASSERTION_TYPE
                form["client_assertion"] = client_assertion(pem, self._certificate_password, self.app_id, self.token_url)
            except (OSError, ValueError, TypeError) as exc:
                raise MimecastAuthError(
                    "The certificate %s cannot be used: %s." % (self._certificate_path, type(exc).__name__),
                    fix="Give a PEM file holding the private key and the certificate, and its password if any.")
        else:
            form["client_secret"] = self._client_secret
        response = self._send("POST", self.token_url, kind="auth", data=form, authenticate=False, retry_reads=True)
        payload = self._json(response, self.token_url)
        if response.status_code >= 400 or not payload.get("access_token"):
            raise MimecastAuthError(
                "Microsoft Entra refused the app-only credentials for %s: %s (%s)."
                % (self.label, (payload.get("error_description") or "no token").split("\r\n")[0],
                   payload.get("error") or response.status_code),
                code=payload.get("error"), status=response.status_code, path="/oauth2/v2.0/token",
                fix="Check tenant, app_id and the secret or certificate of the Entra app registration.")
        self._token = payload["access_token"]
        self._token_expires = self._clock() + max(float(payload.get("expires_in") or 3599) - 60, 1.0)

    def _auth_headers(self, path):
        if self._token is None or self._clock() >= self._token_expires:
            self._fetch_token()
        return {"Authorization": "Bearer %s" % self._token,
                "X-AnchorMailbox": "APP:%s@%s" % (SYSTEM_MAILBOX, self.tenant)}

    def invoke(self, cmdlet, parameters=None, write=False):
        """Run one cmdlet; returns its ``value`` objects (all pages), without @odata keys."""
        path = "/adminapi/beta/%s/InvokeCommand" % self.tenant
        body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters or {}}}
        headers = {"X-CmdletName": cmdlet, "Prefer": "odata.maxpagesize=1000"}
        items = []
        url = path
        while url:
            response = self._send("POST", url, kind="write" if write else "read", json=body, headers=headers)
            payload = self._json(response, path)
            if response.status_code >= 400:
                self._raise(cmdlet, response.status_code, payload)
            value = payload.get("value")
            if value is None and payload:
                value = []
            if not isinstance(value, list):
                raise MimecastError("Exchange Online answered %s without a value list." % cmdlet, path=path)
            items.extend({k: v for k, v in obj.items() if "@odata" not in k} for obj in value)
            url = payload.get("@odata.nextLink")
        return items

    def _raise(self, cmdlet, status, payload):
        code, kind, message = parse_exo_error(payload)
        fix = None
        if status == 401:
            fix = ("Grant the app the application permission Office 365 Exchange Online > Exchange.ManageAsApp "
                   "with admin consent.")
        elif status == 403:
            fix = ("Assign the app's service principal the Entra role Exchange Administrator (connector "
                   "changes) or Global Reader (read-only checks).")
        elif kind and "NotFound" in kind:
            fix = "Check the connector name."
        text = "Exchange Online %s: %s failed with HTTP %d" % (self.label, cmdlet, status)
        if code or message:
            text += ": %s%s" % (code + " " if code else "", message or "")
        raise MimecastError(text.rstrip(".") + ".", code=code, status=status, field=kind, path=cmdlet, fix=fix)
