# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Connection options shared by every module of the mailsec.mimecast.mimecast action group.
    DOCUMENTATION = r'''
options:
  base_url:
    description:
      - The Mimecast API host of the tenant, for example V(https://api.services.mimecast.com)
        (global, API 2.0), V(https://us-api.services.mimecast.com) or
        V(https://uk-api.services.mimecast.com).
      - Accepted without O(allow_custom_base_url) are Mimecast's API 2.0 hosts
        C(api.services.mimecast.com), C(uk-api.services.mimecast.com) and
        C(us-api.services.mimecast.com), the API 1.0 hosts C(api.mimecast.com),
        C(eu-api.mimecast.com), C(de-api.mimecast.com), C(us-api.mimecast.com),
        C(usb-api.mimecast.com), C(ca-api.mimecast.com), C(za-api.mimecast.com),
        C(au-api.mimecast.com), C(jer-api.mimecast.com), C(je-api.mimecast.com),
        C(uspcom-api.mimecast-pscom-us.com), and loopback test servers. The client secret or
        API keys are never sent to another host without that option.
      - B(API 1.0 keys need the API 1.0 host of the account's region), not the default. Mimecast's
        API 1.0 calls are signed for the regional host, V(https://eu-api.mimecast.com) (Europe except
        Germany, account codes C(CUK)), V(https://de-api.mimecast.com) (Germany, C(CDE)),
        V(https://us-api.mimecast.com) (United States, C(CUSA)), V(https://usb-api.mimecast.com)
        (United States B grid, C(CUSB)), V(https://ca-api.mimecast.com) (Canada, C(CCA)),
        V(https://za-api.mimecast.com) (South Africa, C(CSA)), V(https://au-api.mimecast.com)
        (Australia, C(CAU)), V(https://je-api.mimecast.com) (Offshore/Jersey) or
        V(https://uspcom-api.mimecast-pscom-us.com) (US public sector). The account code is shown
        in the Mimecast console.
      - The task fails before any call when only API 1.0 keys are given with an API 2.0 host
        (C(*.services.mimecast.com)), or API 2.0 O(client_id) and O(client_secret) with an API 1.0
        host, and names the hosts to use instead.
      - Plain C(http://) is refused except to a loopback address (the local sandbox tenant),
        always; so are URLs with user information (C(user@host)), a query or a fragment.
      - If not set, the environment variable E(MIMECAST_BASE_URL) is used.
    type: str
    default: https://api.services.mimecast.com
  allow_custom_base_url:
    description:
      - Accept an https O(base_url) host that is not one of Mimecast's API hosts, for example a
        proxy you run. The credentials are sent to that host.
      - If not set, the environment variable E(MIMECAST_ALLOW_CUSTOM_BASE_URL) is used.
    type: bool
    default: false
    version_added: 0.2.0
  client_id:
    description:
      - Client ID of the API 2.0 application (Integrations Hub).
      - If not set, the environment variable E(MIMECAST_CLIENT_ID) is used.
    type: str
  client_secret:
    description:
      - Client secret of the API 2.0 application. Never logged.
      - If not set, the environment variable E(MIMECAST_CLIENT_SECRET) is used.
    type: str
  app_id:
    description:
      - Legacy API 1.0 application ID, used with O(app_key), O(access_key) and O(secret_key)
        when O(client_id) is not set. API 1.0 reaches only classic C(/api/) paths, so modules
        that need API 2.0 endpoints fail with a clear message in this mode.
      - With API 1.0 keys, set O(base_url) to the API 1.0 host of the account's region (see O(base_url)).
      - If not set, the environment variable E(MIMECAST_APP_ID) is used.
    type: str
  app_key:
    description:
      - Legacy API 1.0 application key. Never logged.
      - If not set, the environment variable E(MIMECAST_APP_KEY) is used.
    type: str
  access_key:
    description:
      - Legacy API 1.0 access key. Never logged.
      - If not set, the environment variable E(MIMECAST_ACCESS_KEY) is used.
    type: str
  secret_key:
    description:
      - Legacy API 1.0 secret key (base64, as Mimecast shows it). Never logged.
      - If not set, the environment variable E(MIMECAST_SECRET_KEY) is used.
    type: str
  timeout:
    description:
      - Seconds to wait for Mimecast to connect and to answer one request. Large tenants
        answer list calls slowly; the httpx default of 5 seconds is too short.
      - Greater than 0 and at most 600.
      - If not set, the environment variable E(MIMECAST_TIMEOUT) is used.
    type: float
    default: 30
  validate_certs:
    description:
      - Verify the TLS certificate of O(base_url). Only turn off against a test server.
      - Trusted are the system trust store (OpenSSL's default paths, which honour E(SSL_CERT_FILE) and
        E(SSL_CERT_DIR)), the certifi bundle httpx ships with, and O(ca_bundle).
      - If not set, the environment variable E(MIMECAST_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_bundle:
    description:
      - A PEM file with extra CA certificates to trust for O(base_url), for example the CA of a
        TLS-inspecting proxy. Added to the system trust store and certifi, not instead of them.
      - The task fails before any call if the file is missing or holds no PEM certificate. A certificate
        that is not trusted fails the task with a message naming this option; nothing is sent then.
      - Not used with O(validate_certs=false) or a plain C(http://) loopback test server (no TLS there,
        so no certificate store is loaded).
      - If not set, the environment variable E(MIMECAST_CA_BUNDLE) is used.
    type: path
    version_added: 0.3.0
  rate_limit_max_wait:
    description:
      - The most seconds one task waits in total for Mimecast's rate limit. On HTTP 429 the
        module waits the X-RateLimit-Reset time Mimecast sends and retries (the call was not
        executed); past this bound the task fails and says so.
      - From 0 to 3600.
      - If not set, the environment variable E(MIMECAST_RATE_LIMIT_MAX_WAIT) is used.
    type: float
    default: 60
  max_retries:
    description:
      - How often a read is retried after a server error (HTTP 5xx) or a connection error,
        with a warning each time. Writes are never retried blindly; re-running the task is
        safe because it reads the current state first.
      - From 0 to 10.
      - If not set, the environment variable E(MIMECAST_MAX_RETRIES) is used.
    type: int
    default: 3
  read_only:
    description:
      - Refuse every write call before it is sent. A task that would change something fails
        with a message naming the refused call; reads, check mode and C(gathered) work as usual.
      - Use it for a first run against a real tenant (the C(playbooks/smoke.yml) playbook always runs read-only).
      - If not set, the environment variable E(MIMECAST_READ_ONLY) is used.
    type: bool
    default: false
    version_added: 0.2.0
  token_cache:
    description:
      - Keep the API 2.0 access token between tasks, so that all tasks of a run for one tenant use one token
        instead of asking C(/oauth/token) once per task. Mimecast documents no limit on tokens, but every
        token call costs time and counts against the application's calls.
      - The token is never written in clear. It is kept encrypted (AES-256-GCM, with a key derived from
        O(client_secret) by HKDF-SHA256) in one file per base URL and client ID, in a directory only the
        user can enter (mode 0700, files 0600). Only someone with the client secret can read it; a file
        written with another secret, for another host, corrupted or expired is ignored, and a token that
        Mimecast refuses (HTTP 401) is dropped and replaced once.
      - Without the Python library C(cryptography), or when the directory is not private to the user,
        the task fetches a token as if this option were off. Not used with API 1.0 keys (they sign each call).
      - If not set, the environment variable E(MIMECAST_TOKEN_CACHE) is used.
    type: bool
    default: true
    version_added: 0.3.0
  token_cache_dir:
    description:
      - The directory of the token cache (see O(token_cache)). Created with mode 0700 if missing.
      - Default C($XDG_CACHE_HOME/mailsec.mimecast/tokens), or C(~/.cache/mailsec.mimecast/tokens) when
        E(XDG_CACHE_HOME) is not set, of the user the module runs as.
      - If not set, the environment variable E(MIMECAST_TOKEN_CACHE_DIR) is used.
    type: path
    version_added: 0.3.0
requirements:
  - httpx
  - cryptography (optional, for O(token_cache))
notes:
  - Mimecast counts API calls per application. The modules read each list once per task
    and write only real differences; with many tenants or forks, use C(throttle) or fewer
    forks if tasks keep waiting for the rate limit.
  - Every module returns RV(api_calls), the number of calls the task made.
  - An environment variable set to an empty value counts as not set, so the option's default applies
    (AWX injects every field of a credential, empty ones included, for example C(MIMECAST_BASE_URL="")).
  - A proxy is taken from the environment variables E(HTTPS_PROXY) (for C(https://) hosts), E(HTTP_PROXY),
    E(ALL_PROXY) and E(NO_PROXY), which httpx reads (U(https://www.python-httpx.org/environment_variables/));
    set them with the C(environment) keyword or in the AWX job's environment. A TLS-inspecting proxy
    needs its CA in O(ca_bundle). Loopback C(http://) test servers are always reached directly.
'''
