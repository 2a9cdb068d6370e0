# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The Exchange Online connection options (EXO_ARGUMENT_SPEC in module_utils/_exo.py).
    DOCUMENTATION = r'''
options:
  tenant:
    description:
      - The Microsoft 365 tenant, its GUID or C(<name>.onmicrosoft.com).
      - If not set, the environment variable E(EXO_TENANT) is used.
    type: str
    required: true
  app_id:
    description:
      - Application (client) ID of the Entra app registration. It needs the application permission
        Office 365 Exchange Online C(Exchange.ManageAsApp) with admin consent, and the Entra role
        Exchange Administrator for changes (Global Reader is enough for reads and check mode).
      - If not set, the environment variable E(EXO_APP_ID) is used.
    type: str
    required: true
  client_secret:
    description:
      - A client secret of the app. Microsoft documents only certificates for app-only Exchange access
        (U(https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2)); public REST clients
        use client secrets with this endpoint, and the module accepts either. Prefer a certificate.
      - Give exactly one of O(client_secret) and O(certificate_path); an empty value (or an empty
        certificate file, as an AWX credential injects it) counts as not given.
      - If not set, the environment variable E(EXO_CLIENT_SECRET) is used.
    type: str
  certificate_path:
    description:
      - A PEM file with the app certificate's private key and the certificate (recommended).
      - If not set, the environment variable E(EXO_CERTIFICATE_PATH) is used.
    type: path
  certificate_password:
    description:
      - The password of the private key, if any. Never logged.
      - If not set, the environment variable E(EXO_CERTIFICATE_PASSWORD) is used.
    type: str
  ca_bundle:
    description:
      - A PEM file with extra CA certificates to trust for O(exo_url) and O(authority), for example the CA of
        a TLS-inspecting proxy. Added to the system trust store and certifi, not instead of them.
      - The task fails before any call if the file is missing or holds no PEM certificate, and a certificate
        that is not trusted fails with a message naming this option; nothing is sent then.
      - A proxy is taken from the environment variables E(HTTPS_PROXY), E(HTTP_PROXY), E(ALL_PROXY) and
        E(NO_PROXY) (httpx reads them, U(https://www.python-httpx.org/environment_variables/)); set them
        with the C(environment) keyword or in the AWX job's environment.
      - If not set, the environment variable E(EXO_CA_BUNDLE) is used (an empty value counts as not set).
    type: path
    version_added: 0.3.0
  exo_url:
    description:
      - The Exchange Online host. If not set, the environment variable E(EXO_URL) is used.
      - Only C(https://outlook.office365.com) or a loopback test server is accepted, unless
        O(allow_custom_urls=true). Plain C(http://) is refused except to a loopback address.
    type: str
    default: https://outlook.office365.com
  authority:
    description:
      - The Microsoft Entra authority, which receives the client secret or the signed assertion.
        If not set, the environment variable E(EXO_AUTHORITY) is used.
      - Only C(https://login.microsoftonline.com) or a loopback test server is accepted, unless
        O(allow_custom_urls=true). Plain C(http://) is refused except to a loopback address, always.
    type: str
    default: https://login.microsoftonline.com
  allow_custom_urls:
    description:
      - Accept an O(exo_url) or O(authority) host other than Microsoft's public cloud hosts
        (for example a sovereign cloud or a proxy you run). The credentials are sent to it.
      - If not set, the environment variable E(EXO_ALLOW_CUSTOM_URLS) is used.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for one request, greater than 0 and at most 600.
    type: float
    default: 60
  validate_certs:
    description:
      - Verify TLS certificates. Only turn off against a test server.
      - Trusted are the system trust store (including E(SSL_CERT_FILE) and E(SSL_CERT_DIR) if set), the certifi
        bundle httpx ships with, and O(ca_bundle).
    type: bool
    default: true
  rate_limit_max_wait:
    description:
      - The most seconds to wait in total for Exchange's throttling (HTTP 429) before failing,
        from 0 to 3600.
    type: float
    default: 120
'''
