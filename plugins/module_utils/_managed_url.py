# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""TTP URL Protect managed URLs (classic ``/api/ttp/url/*``; Mimecast API reference,
https://integrations.mimecast.com/documentation/endpoint-reference/targeted-threat-protection-url-protect/).

No update call exists: a change is delete + create. Reads come back decomposed
(scheme, domain, port (-1 when none), path, queryString) with no ``url`` field, and the
opaque ids may differ between reads; the natural key is the URL rebuilt and normalised
on both sides. Ownership is recorded in ``comment`` (the only free-text field).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import ClassicCollection, Spec
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    GuardrailError,
    normalise_domain,
    shared_mail_domain,
)

MANAGED_URL = "managed-url"
DEFAULT_PORTS = {"http": 80, "https": 443}
EXISTS_CODE = "err_managed_url_exists_code"

# Whole-domain permits of shared platforms let anyone's page on them through unrewritten.
SHARED_HOSTING_DOMAINS = (
    "sharepoint.com", "onedrive.live.com", "1drv.ms", "live.com", "office.com", "microsoft.com",
    "windows.net", "azurewebsites.net", "google.com", "googleusercontent.com", "goo.gl",
    "web.app", "firebaseapp.com", "appspot.com", "amazonaws.com", "cloudfront.net",
    "github.io", "githubusercontent.com", "dropbox.com", "box.com", "wetransfer.com",
    "bit.ly", "tinyurl.com", "t.co", "linkedin.com", "facebook.com", "notion.site",
    "wixsite.com", "weebly.com", "wordpress.com", "blogspot.com", "netlify.app", "vercel.app",
    "pages.dev", "workers.dev", "herokuapp.com", "ngrok.io", "ngrok-free.app",
    # Shared object storage: anyone can host a page there (each is in the private section of
    # https://publicsuffix.org/list/public_suffix_list.dat).
    "googleapis.com", "storage.googleapis.com", "s3.amazonaws.com", "blob.core.windows.net",
    "web.core.windows.net", "digitaloceanspaces.com", "r2.dev", "backblazeb2.com",
)

# Multi-label public suffixes (ICANN section of https://publicsuffix.org/list/public_suffix_list.dat)
# for the countries Mimecast serves and the largest others. No public-suffix library ships with
# Ansible, so this is a subset: a domain match needs at least one label more than its suffix, and
# every single-label TLD (com, uk, ...) is a suffix too.
PUBLIC_SUFFIXES = (
    "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "ac.uk", "gov.uk", "sch.uk", "nhs.uk", "police.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au",
    "co.za", "org.za", "net.za", "gov.za", "ac.za", "web.za",
    "co.nz", "org.nz", "net.nz", "govt.nz", "ac.nz",
    "gc.ca", "qc.ca", "on.ca", "bc.ca", "ab.ca",
    "co.at", "or.at", "gv.at", "gov.ie",
    "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "co.in", "net.in", "org.in", "gov.in",
    "com.cn", "net.cn", "org.cn", "gov.cn", "com.hk", "com.tw", "com.sg", "com.my", "com.ph", "co.id",
    "co.th", "com.vn", "com.br", "net.br", "gov.br", "com.mx", "gob.mx", "com.ar", "com.co", "com.tr",
    "co.il", "org.il", "com.sa", "com.eg", "co.ke", "com.ng", "com.pl", "com.es", "com.pt", "com.gr",
    "com.ua",
)


# "javascript:alert(1)", "data:text/html,..", "mailto:x": a scheme without "//". A host:port
# ("a.example:8080/x") is not one.
_SCHEME_ONLY = re.compile(r"^([a-z][a-z0-9+-]*):(?!\d*(?:[/?]|$))", re.I)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def split_url(text):
    """(scheme, host, port, path, query) of a user URL; a bare host gets no scheme.

    Raises ValueError (with a reason) for what urlsplit itself cannot take: a bad port or a
    bracketed host that is not an IP address.
    """
    text = text.strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    return parts.scheme.lower() or None, normalise_domain(parts.hostname or ""), parts.port, parts.path, parts.query


def parse_user_url(raw):
    """split_url for user input: every malformed URL becomes a GuardrailError naming it.

    Refuses schemes other than http/https, credentials (userinfo) in the URL, bad ports,
    IP literals that are not IPv4, and host names that are not valid DNS names; converts
    unicode (IDN) host names to their punycode (xn--) form, as browsers do.
    """
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in raw) or "\\" in raw:
        raise GuardrailError(["url %r contains white space, a control character or a backslash; give the URL "
                              "exactly as it appears in the link" % raw])
    if "#" in raw:
        raise GuardrailError(["url %r contains '#', which Mimecast refuses; leave the fragment out" % raw])
    scheme_only = _SCHEME_ONLY.match(raw)
    if "://" not in raw and scheme_only:
        raise GuardrailError(["url %r: only http and https URLs can be managed (%s: is not a web link); "
                              "give the link as https://host/path" % (raw, scheme_only.group(1).lower())])
    try:
        netloc = urlsplit(raw if "://" in raw else "//" + raw).netloc
    except ValueError as exc:  # http://[zz]/ : urlsplit checks bracketed hosts itself
        raise GuardrailError(["url %r is not a valid URL (%s); give a host name such as www.example.com"
                              % (raw, exc)])
    if "@" in netloc:
        # https://trusted.example@evil.example/ goes to evil.example: the part before @ is a user name.
        raise GuardrailError(["url %r contains credentials (user info before '@'): the link really goes to "
                              "%r. Give the real host without user name or password"
                              % (raw, netloc.rsplit("@", 1)[-1])])
    try:
        scheme, host, port, path, query = split_url(raw)
    except ValueError as exc:
        raise GuardrailError(["url %r is not a valid URL (%s); give a port from 1 to 65535 and a host name "
                              "such as www.example.com" % (raw, exc)])
    if scheme and scheme not in DEFAULT_PORTS:
        raise GuardrailError(["url %r: only http and https URLs can be managed" % raw])
    if port == 0:
        raise GuardrailError(["url %r: port 0 is not a port; give a port from 1 to 65535 or none" % raw])
    if ":" in host or "[" in netloc:
        raise GuardrailError(["url %r has an IPv6 address as host, which managed URLs do not take; give the "
                              "host name" % raw])
    if host and not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise GuardrailError(["url %r: the host name %r cannot be converted to punycode (IDNA); give "
                                  "its xn-- form" % (raw, host)])
    if not host or "." not in host:
        raise GuardrailError(["url %r has no host name" % raw])
    if not _IPV4.match(host) and not all(_LABEL.match(label) for label in host.split(".")):
        raise GuardrailError(["url %r: %r is not a valid host name (letters, digits and '-' per label, "
                              "no empty labels)" % (raw, host)])
    if _IPV4.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise GuardrailError(["url %r: %r is not an IPv4 address" % (raw, host)])
    return scheme, host, port, path, query


def public_suffix(host):
    """The public suffix (from PUBLIC_SUFFIXES, else the last label) that host ends in."""
    for suffix in PUBLIC_SUFFIXES:
        if host == suffix or host.endswith("." + suffix):
            return suffix
    return host.rsplit(".", 1)[-1]


def url_key(scheme, host, port, path, query, match_type):
    """The natural key: the host for domain matches, the normalised URL for explicit ones."""
    if match_type == "domain":
        return host
    scheme = scheme or "http"
    if port in (None, -1, DEFAULT_PORTS.get(scheme)):
        netloc = host
    else:
        netloc = "%s:%d" % (host, port)
    return "%s://%s%s%s" % (scheme, netloc, path or "/", "?" + query if query else "")


def shared_hosting_domain(host):
    for name in SHARED_HOSTING_DOMAINS:
        if host == name or host.endswith("." + name):
            return name
    shared = shared_mail_domain(host)
    return shared[1] if shared else None


class ManagedUrlCollection(ClassicCollection):
    """Managed URLs, with Mimecast's duplicate-create error turned into a match."""

    # Mimecast refuses a second entry for one URL (err_managed_url_exists_code, rapid7/insightconnect-plugins
    # plugins/mimecast/komand_mimecast/util/constants.py):
    # a change is delete + create of that one entry, restored if the create fails.
    key_unique = True
    # New and removed managed URLs go up to 20 per call. Mimecast documents that several items in one
    # "data" array are processed as if each were sent alone, with per-item refusals in "fail"
    # (https://integrations.mimecast.com/documentation/api-overview/api-concepts); Netskope's Mimecast plugin
    # sends create-managed-url in batches of 20 and counts the per-item "fail" entries
    # (netskopeoss/ta_cloud_exchange_plugins mimecast/main.py, MAX_CREATE_URL = 20). The same bound is used
    # for delete-managed-url, which takes one {"id"} per item in the same way.
    batch_size = 20

    def __init__(self, spec):
        super().__init__(MANAGED_URL, "managed URL", "/api/ttp/url/get-all-managed-urls",
                         "/api/ttp/url/create-managed-url", "/api/ttp/url/delete-managed-url")
        self.spec = spec

    def list(self, client):
        return client.classic(self.path, None, paginate=True)

    def create(self, client, body):
        try:
            return super().create(client, body)
        except MimecastError as exc:
            if exc.code != EXISTS_CODE:
                raise
        # Mimecast already has this URL although the read before did not show it as ours
        # (filtered or stale reads are a known quirk). Find it; if it is what we want, done.
        key = self.spec.key_of_body(body)
        for item in self.list(client):
            entry = self.spec.from_api(MANAGED_URL, item)
            if entry["url"] == key:
                wanted = self.spec.from_api(MANAGED_URL, dict(body, **self.spec.decompose(body)))
                if all(entry[f] == wanted[f] for f in self.spec.fields):
                    return item.get("id")
                raise MimecastError(
                    "Mimecast says the managed URL %s already exists (%s) but it differs from the "
                    "entry (action/match type/flags). Nothing else was changed." % (key, EXISTS_CODE),
                    code=EXISTS_CODE,
                    fix="Delete the existing entry in the console (Targeted Threat Protection > URL "
                    "Protection > Managed URLs) or set adopt: true, then re-run.",
                )
        raise MimecastError(
            "Mimecast refused to create the managed URL %s as a duplicate (%s) but does not list "
            "it." % (key, EXISTS_CODE), code=EXISTS_CODE,
            fix="Check the Managed URLs list in the console; re-run the task.",
        )


# The entry options of mimecast_url_bypass's config and mimecast_allowlist's managed_urls.
URL_ENTRY_OPTIONS = dict(
    url=dict(type="str", required=True),
    match_type=dict(type="str", choices=["explicit", "domain"]),
    action=dict(type="str", choices=["permit", "block"]),
    disable_rewrite=dict(type="bool"),
    disable_user_awareness=dict(type="bool"),
    disable_log_click=dict(type="bool"),
    comment=dict(type="str"),
)


class ManagedUrlSpec(Spec):
    key = "url"
    tag_field = "comment"
    fields = ("action", "match_type", "disable_rewrite", "disable_user_awareness", "disable_log_click")

    def __init__(self, allow_shared_domains=False):
        self.allow_shared_domains = allow_shared_domains
        self.collections = {MANAGED_URL: ManagedUrlCollection(self)}

    def prepare(self, entry, state):
        match_type = entry.get("match_type") or "explicit"
        raw = (entry.get("url") or "").strip()
        scheme, host, port, path, query = parse_user_url(raw)
        if match_type == "domain" and (path not in ("", "/") or query):
            raise GuardrailError([
                "url %r: match_type domain matches every URL on %s, so a path or query here is "
                "misleading; give the host only, or use match_type explicit" % (raw, host)])
        entry["url"] = url_key(scheme, host, port, path, query, match_type)
        if state in ("deleted", "gathered"):
            return entry
        entry["_collection"] = MANAGED_URL
        entry["match_type"] = match_type
        suffix = public_suffix(host)
        if match_type == "domain" and host.count(".") <= suffix.count("."):
            raise GuardrailError([
                "url %r: %s is a public suffix (publicsuffix.org): match_type domain would cover every site "
                "registered under it. Give the organisation's own domain (at least one label more, such as "
                "example.%s)" % (raw, host, suffix)])
        shared = shared_hosting_domain(host)
        if (shared and match_type == "domain" and (entry.get("action") or "permit") == "permit"
                and not self.allow_shared_domains):
            raise GuardrailError([
                "url %r: %s is a shared platform; permitting the whole domain lets any page on it "
                "through (unrewritten if disable_rewrite is set). Permit the exact URLs with "
                "match_type explicit, or set allow_shared_domains: true" % (raw, shared)])
        if entry.get("action") == "block":
            for flag in ("disable_rewrite", "disable_user_awareness"):
                if entry.get(flag):
                    raise GuardrailError(["url %r: %s applies only to action permit" % (raw, flag)])
        return entry

    def defaults(self, collection):
        return {"action": "permit", "match_type": "explicit", "disable_rewrite": False,
                "disable_user_awareness": False, "disable_log_click": False, "comment": None}

    @staticmethod
    def decompose(body):
        scheme, host, port, path, query = split_url(body["url"])
        return {"scheme": scheme or "http", "domain": host, "port": port if port is not None else -1,
                "path": path, "queryString": query}

    def key_of_body(self, body):
        parts = self.decompose(body)
        return url_key(parts["scheme"], parts["domain"], parts["port"], parts["path"], parts["queryString"],
                       body.get("matchType", "explicit"))

    def from_api(self, collection, item):
        match_type = item.get("matchType") or "explicit"
        try:
            port = int(item.get("port", -1))
        except (TypeError, ValueError):
            port = -1
        return {
            "url": url_key((item.get("scheme") or "").lower() or None, normalise_domain(item.get("domain") or ""),
                           port, item.get("path") or "", item.get("queryString") or "", match_type),
            "action": item.get("action"),
            "match_type": match_type,
            "disable_rewrite": bool(item.get("disableRewrite")),
            "disable_user_awareness": bool(item.get("disableUserAwareness")),
            "disable_log_click": bool(item.get("disableLogClick")),
            "comment": item.get("comment") or None,
        }

    def to_api(self, collection, desired):
        body = {
            # The normalised URL; for domain matches the host name alone.
            "url": desired["url"],
            "action": desired["action"],
            "matchType": desired["match_type"],
            "disableLogClick": desired["disable_log_click"],
        }
        if desired["action"] == "permit":
            body["disableRewrite"] = desired["disable_rewrite"]
            body["disableUserAwareness"] = desired["disable_user_awareness"]
        if desired.get("comment"):
            body["comment"] = desired["comment"]
        return body
