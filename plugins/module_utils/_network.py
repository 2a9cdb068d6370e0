# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Connection details real networks need, shared by the Mimecast and the Microsoft client.

* ``env_fallback_set``: an argument-spec fallback like ``env_fallback``, except that an empty
  value counts as unset (AWX injects ``MIMECAST_BASE_URL=""`` when a credential has no base_url).
* ``tls_verify``: what httpx gets as ``verify``. For https, one ``ssl.SSLContext`` that trusts the
  system store (``ssl.create_default_context()`` loads OpenSSL's default paths, which honour
  ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``: https://docs.python.org/3/library/ssl.html#ssl.create_default_context,
  https://docs.openssl.org/3.0/man3/SSL_CTX_load_verify_locations/), the certifi bundle httpx uses
  by default (https://www.python-httpx.org/advanced/ssl/), and the caller's CA bundle. For plain
  http to a loopback test server no context is built and no certificate store is read.
* ``trust_env``: httpx reads ``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` when
  ``trust_env`` is true (https://www.python-httpx.org/environment_variables/); loopback http needs none.
* ``tls_failure``: the certificate verification error inside an httpx transport error, if any.
"""

from __future__ import annotations

import os
import ssl
from urllib.parse import urlsplit

from ansible.module_utils.common.parameters import AnsibleFallbackNotFound


def env_fallback_set(*names):
    """The first of the environment variables ``names`` that is set to a non-blank value."""
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip():
            return value
    raise AnsibleFallbackNotFound


def needs_tls(urls):
    """True when any of ``urls`` is https (plain http is only ever accepted to loopback)."""
    return any(urlsplit(url or "").scheme != "http" for url in urls)


def ca_bundle_problem(path, option):
    """Why ``path`` cannot be used as a CA bundle (one line), or None."""
    if not path:
        return None
    if not os.path.isfile(path):
        return "%s %s is not a file; give a PEM file with the CA certificate(s) to trust" % (option, path)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        return ("%s %s cannot be read as PEM CA certificates (%s); give a PEM file with the CA certificate(s) "
                "to trust" % (option, path, type(exc).__name__))
    return None


def tls_verify(urls, validate_certs, ca_bundle=None, option="ca_bundle"):
    """``verify`` for httpx: False (no TLS needed, or checks turned off) or one SSLContext."""
    if not needs_tls(urls) or not validate_certs:
        return False
    problem = ca_bundle_problem(ca_bundle, option)
    if problem:
        raise ValueError(problem)
    context = ssl.create_default_context()
    try:
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:  # pragma: no cover - httpx depends on certifi
        certifi = None
    if certifi is not None:
        context.load_verify_locations(cafile=certifi.where())
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    return context


def tls_failure(exc):
    """The reason text of a certificate verification failure behind ``exc``, or None."""
    chain = []
    while exc is not None and all(exc is not seen for seen in chain):
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return error.verify_message or str(error)
    for error in chain:
        if "CERTIFICATE_VERIFY_FAILED" in str(error):
            return str(error)
    return None
