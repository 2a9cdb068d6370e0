# -*- coding: utf-8 -*-
"""Managed URL keys: the user's URL and Mimecast's decomposed read-back meet in one form."""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import MANAGED_URL, ManagedUrlSpec

SPEC = ManagedUrlSpec()


def prepared(url, match_type="explicit", **extra):
    return SPEC.prepare(dict(url=url, match_type=match_type, **extra), "merged")["url"]


@pytest.mark.parametrize("user, item, match_type", [
    ("https://Train.Vendor.Example/Landing?x=1",
     {"scheme": "https", "domain": "train.vendor.example", "port": -1, "path": "/Landing", "queryString": "x=1"},
     "explicit"),
    ("https://train.vendor.example:443",
     {"scheme": "https", "domain": "train.vendor.example", "port": 443, "path": "", "queryString": ""},
     "explicit"),
    ("http://train.vendor.example:8080/a",
     {"scheme": "http", "domain": "train.vendor.example", "port": 8080, "path": "/a", "queryString": ""},
     "explicit"),
    ("Train.Vendor.Example",
     {"scheme": "http", "domain": "train.vendor.example", "port": -1, "path": "", "queryString": ""},
     "domain"),
    ("https://train.vendor.example/",
     {"scheme": "https", "domain": "train.vendor.example", "port": -1, "path": "/", "queryString": ""},
     "domain"),
])
def test_user_url_and_decomposed_readback_share_a_key(user, item, match_type):
    entry = SPEC.from_api(MANAGED_URL, dict(item, matchType=match_type, action="permit"))
    assert prepared(user, match_type) == entry["url"]


@pytest.mark.parametrize("url, match_type, reason", [
    ("https://x.example/a#frag", "explicit", "contains '#'"),
    ("docs.google.com", "domain", "shared platform"),
    ("contoso.sharepoint.com", "domain", "shared platform"),
    ("https://x.example/path", "domain", "give the host only"),
    ("ftp://x.example/", "explicit", "only http and https"),
])
def test_refused(url, match_type, reason):
    with pytest.raises(GuardrailError, match=reason):
        prepared(url, match_type)


def test_shared_platform_allowed_explicitly_or_when_told():
    assert prepared("https://docs.google.com/forms/d/abc", "explicit") == "https://docs.google.com/forms/d/abc"
    assert ManagedUrlSpec(allow_shared_domains=True).prepare(
        {"url": "docs.google.com", "match_type": "domain"}, "merged")["url"] == "docs.google.com"
    with pytest.raises(GuardrailError, match="applies only to action permit"):
        prepared("https://x.example/", action="block", disable_rewrite=True)


def test_shared_platform_refused_when_action_left_to_default():
    with pytest.raises(GuardrailError, match="shared platform"):
        SPEC.prepare({"url": "docs.google.com", "match_type": "domain", "action": None}, "merged")


@pytest.mark.parametrize("url, match_type, reason", [
    # issue 8 item 7: these crashed with a traceback
    ("javascript:alert(1)", "explicit", "only http and https"),
    ("data:text/html,<script>alert(1)</script>", "explicit", "only http and https"),
    ("https://a.example:99999/", "explicit", "port from 1 to 65535"),
    ("a.example:65536", "explicit", "port from 1 to 65535"),
    ("https://a.example:abc/", "explicit", "port from 1 to 65535"),
    ("https://a.example:-1/", "explicit", "port from 1 to 65535"),
    ("http://[zz]/", "explicit", "not a valid URL"),
    # issue 8 item 13: credentials in the URL point the permit at another host
    ("https://trusted.example@evil.example/", "explicit", "credentials.*'evil.example'"),
    ("https://user:pass@evil.example/x", "explicit", "credentials"),
    ("trusted.example@evil.example", "domain", "credentials"),
    # public suffixes and shared storage as whole-domain permits
    ("co.uk", "domain", "public suffix"),
    ("com.au", "domain", "public suffix"),
    ("storage.googleapis.com", "domain", "shared platform"),
    ("s3.amazonaws.com", "domain", "shared platform"),
    ("blob.core.windows.net", "domain", "shared platform"),
    # malformed hosts, whitespace, IPv6 literals, port 0
    ("http://[::1]/", "explicit", "IPv6"),
    ("http://a..example/", "explicit", "not a valid host name"),
    ("http://-a.example/", "explicit", "not a valid host name"),
    ("https://exa mple.com/", "explicit", "white space"),
    ("https://a.example\\@b.example/", "explicit", "backslash"),
    ("http://999.1.1.1/", "explicit", "not an IPv4 address"),
    ("http://1.2.3.4:0/", "explicit", "port 0"),
    ("", "explicit", "no host name"),
])
def test_bad_urls_refused_cleanly(url, match_type, reason):
    with pytest.raises(GuardrailError, match=reason):
        SPEC.prepare({"url": url, "match_type": match_type, "action": "permit"}, "merged")


def test_idn_host_becomes_punycode_and_suffix_plus_one_is_fine():
    assert prepared("https://Bücher.example/Kat?x=1") == "https://xn--bcher-kva.example/Kat?x=1"
    assert prepared("partner.co.uk", match_type="domain") == "partner.co.uk"
    assert prepared("1.2.3.4:8443/x") == "http://1.2.3.4:8443/x"
    # a block of a whole public suffix is refused too: it would block every site under it
    with pytest.raises(GuardrailError, match="public suffix"):
        SPEC.prepare({"url": "co.uk", "match_type": "domain", "action": "block"}, "merged")
