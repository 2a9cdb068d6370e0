# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""One API 2.0 token per tenant across the tasks of a run: an encrypted, per-user token cache.

Every module task is its own process, so without a cache every task asks ``/oauth/token`` for a
new token. The cache keeps the token between tasks on the controller (or wherever the module
runs), never in clear:

* one file per (token URL, client_id), named by a SHA-256 of both (no id or host in the name);
* the token and its expiry are sealed with AES-256-GCM under a key derived (HKDF-SHA256, a fresh
  random salt per write) from the client secret and the token URL, so only someone who holds the
  client secret can read it, and a cache written with another secret or for another host does not
  open (``cryptography``: https://cryptography.io/en/latest/hazmat/primitives/aead/ and
  https://cryptography.io/en/latest/hazmat/primitives/key-derivation-functions/#hkdf);
* the token URL is also sealed inside and compared on load: a token is never sent to another host;
* the directory is created 0700 and used only when it belongs to the user and nobody else can
  enter it; files are written 0600 through a temporary file and an atomic rename;
* anything unusable (missing, unreadable, corrupted, expired, another secret, no ``cryptography``)
  means "no cached token": the client fetches one as without the cache. The cache never fails a task.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import time

MAGIC = b"MMTC1"
SALT_BYTES = 16
NONCE_BYTES = 12
INFO = b"mailsec.mimecast token cache v1"
# A cached token is used only while it has at least this many seconds left.
MIN_REMAINING = 60
SUFFIX = ".token"


def default_dir(environ=None):
    """$XDG_CACHE_HOME/mailsec.mimecast/tokens, else ~/.cache/mailsec.mimecast/tokens (XDG Base
    Directory Specification, https://specifications.freedesktop.org/basedir-spec/latest/)."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mailsec.mimecast", "tokens")


def _crypto():
    """(AESGCM, HKDF, hashes) or None when the cryptography library is missing (imported only here:
    HMAC-key tasks and tasks with the cache off never load it)."""
    try:
        # pylint: disable=import-outside-toplevel
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    except ImportError:
        return None
    return AESGCM, HKDF, hashes


class TokenCache:
    """The cached token of one (token URL, client_id, client secret)."""

    def __init__(self, token_url, client_id, client_secret, directory=None, now=time.time, warn=None):
        self.token_url = token_url
        self.directory = os.path.abspath(os.path.expanduser(directory)) if directory else default_dir()
        ident = hashlib.sha256(("%s\n%s" % (token_url, client_id)).encode("utf-8")).hexdigest()
        self.path = os.path.join(self.directory, ident + SUFFIX)
        self._aad = ident.encode("ascii")
        self._secret = (client_secret or "").encode("utf-8")
        self._now = now
        self._warn = warn or (lambda msg: None)
        self._warned = False
        self.loaded_from_cache = False

    # ------------------------------------------------------------------ crypto
    def _key(self, crypto, salt):
        aesgcm, hkdf, hashes = crypto
        derive = hkdf(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO + b"\n" + self._aad)
        return aesgcm(derive.derive(self._secret))

    def _seal(self, crypto, payload):
        salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
        return MAGIC + salt + nonce + self._key(crypto, salt).encrypt(nonce, payload, self._aad)

    def _open(self, crypto, blob):
        head = len(MAGIC) + SALT_BYTES + NONCE_BYTES
        if not blob.startswith(MAGIC) or len(blob) <= head:
            return None
        salt = blob[len(MAGIC):len(MAGIC) + SALT_BYTES]
        nonce = blob[len(MAGIC) + SALT_BYTES:head]
        try:
            return self._key(crypto, salt).decrypt(nonce, blob[head:], self._aad)
        except Exception:  # pylint: disable=broad-exception-caught
            # cryptography's InvalidTag: another secret, or a corrupted file. Either way: not usable.
            return None

    # ------------------------------------------------------------------ directory
    def _say_once(self, msg):
        if not self._warned:
            self._warned = True
            self._warn(msg)

    def _safe_dir(self, create):
        """True when the directory is ours and closed to others (created 0700 if ``create``)."""
        try:
            if create and not os.path.isdir(self.directory):
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
            info = os.lstat(self.directory)
        except OSError:
            return False
        if not stat.S_ISDIR(info.st_mode):
            return False
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            self._say_once("The token cache directory %s is not private to this user (owner or mode); the "
                           "token cache is not used. Make it mode 0700 and owned by the user, or set "
                           "token_cache_dir." % self.directory)
            return False
        return True

    # ------------------------------------------------------------------ API
    def load(self):
        """(token, seconds left) of a usable cached token, or None."""
        crypto = _crypto()
        if crypto is None or not self._secret or not self._safe_dir(create=False):
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                    return None
                with os.fdopen(fd, "rb") as handle:
                    fd = None
                    blob = handle.read(65536)
            finally:
                if fd is not None:
                    os.close(fd)
        except OSError:
            return None
        plain = self._open(crypto, blob)
        if plain is None:
            return None
        try:
            record = json.loads(plain.decode("utf-8"))
            token, expires, url = record["token"], float(record["expires"]), record["url"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        if url != self.token_url or not isinstance(token, str) or not token:
            return None
        left = expires - self._now()
        if left < MIN_REMAINING:
            return None
        self.loaded_from_cache = True
        return token, left

    def store(self, token, expires_in):
        """Keep ``token`` (valid ``expires_in`` seconds from now). Failures are ignored."""
        crypto = _crypto()
        if crypto is None or not self._secret or not token or not self._safe_dir(create=True):
            return False
        record = json.dumps({"token": token, "expires": self._now() + float(expires_in), "url": self.token_url})
        blob = self._seal(crypto, record.encode("utf-8"))
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.directory)  # mode 0600
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
            tmp = None
        except OSError:
            return False
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        return True

    def drop(self):
        """Forget the cached token (Mimecast refused it)."""
        self.loaded_from_cache = False
        try:
            os.unlink(self.path)
        except OSError:
            pass
