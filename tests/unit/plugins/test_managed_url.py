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
