# -*- coding: utf-8 -*-
"""Connection safety: where credentials may be sent, numeric option ranges, Exchange ranges
and the connector ownership marker. Every refusal here happens before any HTTP request."""

from __future__ import annotations

import time

import httpx
import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    MIMECAST_API_HOSTS,
    MimecastClient,
    MimecastError,
    check_options,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import ExoClient
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule, api_version_problem
from ansible_collections.mailsec.mimecast.plugins.modules.exo_inbound_connector import (
    MARKER,
    absent_refusal,
    current_properties,
    desired_properties,
    exchange_ranges,
    read_back_ranges,
    with_marker,
)
from http_mock import Call, ExpectedCalls

TENANT = "11111111-1111-1111-1111-111111111111"


class Recorder:
    """A transport that records every request (and fails the test if one is made)."""

    def __init__(self):
        self.seen = []

    def handler(self, request):
        self.seen.append(str(request.url))
        return httpx.Response(500)

    @property
    def transport(self):
        return httpx.MockTransport(self.handler)


def exo(recorder, **kwargs):
    options = dict(tenant=TENANT, app_id="app", client_secret="entra-secret-value",
                   transport=recorder.transport, sleep=lambda s: None)
    options.update(kwargs)
    return ExoClient(**options)


# --------------------------------------------------------------------------- item 4: authority

@pytest.mark.parametrize("authority", ["http://login.microsoftonline.com", "http://10.0.0.5:8080",
                                       "http://login.example.net/"])
def test_plain_http_authority_refused_before_any_request(authority):
    recorder = Recorder()
    with pytest.raises(MimecastError, match="authority .* plain http") as err:
        exo(recorder, authority=authority)
    assert recorder.seen == []
    assert "entra-secret-value" not in str(err.value)


def test_plain_http_authority_refused_even_with_allow_custom_urls():
    recorder = Recorder()
    with pytest.raises(MimecastError, match="plain http"):
        exo(recorder, authority="http://login.example.net", allow_custom_urls=True)
    assert recorder.seen == []


def test_token_goes_to_the_public_authority():
    calls = ExpectedCalls(
        Call("POST", "/%s/oauth2/v2.0/token" % TENANT, json_body={"access_token": "t", "expires_in": 3599}),
        Call("POST", "/adminapi/beta/%s/InvokeCommand" % TENANT, json_body={"value": []}),
    )
    client = ExoClient(TENANT, "app", client_secret="x", transport=calls.transport)
    assert client.token_url == "https://login.microsoftonline.com/%s/oauth2/v2.0/token" % TENANT
    assert client.invoke("Get-InboundConnector") == []
    calls.assert_done()
    assert calls.seen[0].url.host == "login.microsoftonline.com"
    assert calls.seen[1].url.host == "outlook.office365.com"


# --------------------------------------------------------------------------- item 15: hosts

@pytest.mark.parametrize("url", ["https://api.services.mimecast.com.evil.example", "https://evil.example",
                                 "https://mimecast.com", "https://api-services-mimecast.com"])
def test_unknown_base_url_host_refused_naming_hosts_and_option(url):
    with pytest.raises(MimecastError) as err:
        MimecastClient(base_url=url, client_id="a", client_secret="b")
    text = str(err.value)
    assert "not a known host" in text and "allow_custom_base_url" in text
    assert "us-api.services.mimecast.com" in text and "s3cr3t" not in text


def test_custom_base_url_host_only_with_the_option():
    client = MimecastClient(base_url="https://mimecast-proxy.example.net/", client_id="a", client_secret="b",
                            allow_custom_url=True)
    assert client.base_url == "https://mimecast-proxy.example.net"
    client.close()


@pytest.mark.parametrize("host", MIMECAST_API_HOSTS)
def test_every_mimecast_api_host_accepted(host):
    MimecastClient(base_url="https://%s/" % host.upper(), client_id="a", client_secret="b").close()


@pytest.mark.parametrize("url, message", [
    ("https://api.services.mimecast.com@evil.example", "user information"),
    ("https://user:pw@api.services.mimecast.com", "user information"),
    ("https://api.services.mimecast.com\\@evil.example", "not an http"),
    ("https://api.services.mimecast.com:99999", "bad host or port"),
    ("https://[::1", "bad host or port"),
    ("https://api.services.mimecast.com/?x=1", "query or fragment"),
    (" https://api.services.mimecast.com", "not an http"),
    ("ftp://api.services.mimecast.com", "not an http"),
    ("", "not an http"),
])
def test_malformed_base_url_refused(url, message):
    with pytest.raises(MimecastError, match=message):
        MimecastClient(base_url=url, client_id="a", client_secret="b", allow_custom_url=True)


@pytest.mark.parametrize("kwargs, message", [
    (dict(exo_url="https://outlook.office365.us"), "exo_url .* not a known host"),
    (dict(authority="https://login.microsoftonline.us"), "authority .* not a known host"),
    (dict(authority="https://login.microsoftonline.com@evil.example"), "user information"),
    (dict(tenant="../../evil"), "tenant"),
    (dict(tenant="contoso.onmicrosoft.com/x?"), "tenant"),
    (dict(tenant="x\n"), "tenant"),
])
def test_exo_hosts_and_tenant_refused_before_any_request(kwargs, message):
    recorder = Recorder()
    with pytest.raises(MimecastError, match=message) as err:
        exo(recorder, **kwargs)
    assert recorder.seen == []
    if "not a known host" in message:
        assert "allow_custom_urls" in str(err.value)


def test_exo_sovereign_hosts_only_with_allow_custom_urls():
    client = exo(Recorder(), exo_url="https://outlook.office365.us", authority="https://login.microsoftonline.us",
                 allow_custom_urls=True, tenant="contoso.onmicrosoft.com")
    assert client.token_url == "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"


# --------------------------------------------------------------------------- item 15: numbers

@pytest.mark.parametrize("name, value", [
    ("timeout", 0), ("timeout", -1), ("timeout", 601), ("timeout", float("nan")), ("timeout", float("inf")),
    ("max_retries", -1), ("max_retries", 11), ("rate_limit_max_wait", -0.5),
    ("rate_limit_max_wait", 3601), ("rate_limit_max_wait", float("nan")), ("timeout", "soon"),
])
def test_numeric_option_out_of_range_named_with_its_range(name, value):
    problems = check_options({name: value})
    assert len(problems) == 1 and problems[0].startswith(name) and "give a value" in problems[0]
    with pytest.raises(MimecastError, match=name):
        MimecastClient(base_url="https://api.services.mimecast.com", client_id="a", client_secret="b",
                       **{name: value})


def test_numeric_option_bounds_accepted():
    assert check_options(dict(timeout=600, max_retries=0, rate_limit_max_wait=0)) == []
    assert check_options(dict(timeout=0.5, max_retries=10, rate_limit_max_wait=3600)) == []


def test_exo_numeric_options_checked():
    with pytest.raises(MimecastError, match="timeout"):
        exo(Recorder(), timeout=0)
    with pytest.raises(MimecastError, match="rate_limit_max_wait"):
        exo(Recorder(), rate_limit_max_wait=-1)


# --------------------------------------------------------------------------- item 13: Exchange ranges

def test_broad_exchange_range_refused_without_expansion():
    started = time.monotonic()
    with pytest.raises(GuardrailError) as err:
        exchange_ranges(["10.0.0.0/8", "128.0.0.0/1", "52.0.0.0/16"])
    assert time.monotonic() - started < 5  # refused, not split into millions of /24s
    text = "; ".join(err.value.problems)
    assert "10.0.0.0/8 is broader than /21" in text and "65536" in text
    assert "128.0.0.0/1" in text and "52.0.0.0/16" in text


def test_exchange_ranges_split_a_22_and_refuse_private_and_microsoft():
    ranges, split = exchange_ranges(["41.74.192.0/22", "41.74.192.0/24", "205.139.110.7"])
    assert split == {"41.74.192.0/22": ["41.74.%d.0/24" % i for i in range(192, 196)]}
    assert ranges == ["41.74.%d.0/24" % i for i in range(192, 196)] + ["205.139.110.7/32"]
    assert len(exchange_ranges(["41.74.192.0/21"])[0]) == 8
    for bad, message in (("41.74.192.0/20", "broader than /21"), ("192.168.0.0/22", "private"),
                         ("100.64.0.0/24", "private"),
                         ("40.107.0.0/22", "Microsoft 365"), ("0.0.0.0/0", "broader")):
        with pytest.raises(GuardrailError, match=message):
            exchange_ranges([bad])


# --------------------------------------------------------------------------- issue 9 item 4: ranges

# Short fixture: SenderIPAddresses as Exchange may return it, a single address, a CIDR and an address
# range in the "192.168.0.1-192.168.0.254" form of Microsoft's Exchange cmdlet pages
# (https://learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector and
# .../set-hostedconnectionfilterpolicy). Addresses are Mimecast's published US/ZA ranges.
READ_BACK = ["205.139.110.7", "207.211.31.0/25", "41.74.192.0-41.74.195.255", "216.205.24.0-216.205.24.255"]


def test_read_back_range_is_compared_by_its_addresses():
    assert read_back_ranges(READ_BACK) == sorted(
        ["205.139.110.7/32", "207.211.31.0/25", "216.205.24.0/24"] + ["41.74.%d.0/24" % i for i in range(192, 196)])
    # the same addresses declared as CIDRs: no change is planned
    desired, dummy = exchange_ranges(["205.139.110.7", "207.211.31.0/25", "41.74.192.0/22", "216.205.24.0/24"])
    p = params(sender_ip_addresses=["x"])
    assert current_properties(connector(SenderIPAddresses=READ_BACK))["SenderIPAddresses"] == \
        desired_properties(p, desired)["SenderIPAddresses"]


def test_read_back_uneven_range_becomes_its_exact_cidrs():
    assert read_back_ranges(["41.74.192.5-41.74.192.9"]) == ["41.74.192.5/32", "41.74.192.6/31", "41.74.192.8/31"]


@pytest.mark.parametrize("value", ["41.74.192.9-41.74.192.5", "1.2.3.4-", "not-an-ip", "0.0.0.0-255.255.255.255",
                                   "2001:db8::/32", "1.2.3.4-2001:db8::1", "", None, 17])
def test_read_back_never_raises_and_keeps_unknown_entries_visible(value):
    out = read_back_ranges(["205.139.110.0/24", value])
    assert "205.139.110.0/24" in out and len(out) == 2  # bounded: a /0 range is not split into /24s


def test_declared_range_is_split_checked_and_refused_like_a_cidr():
    assert exchange_ranges(["41.74.192.0-41.74.193.255"])[0] == ["41.74.192.0/24", "41.74.193.0/24"]
    for bad, message in (("10.0.0.0-10.0.0.255", "private"), ("1.0.0.0-1.255.255.255", "broader than /21"),
                         ("41.74.192.9-41.74.192.5", "range a.b.c.d-e.f.g.h")):
        with pytest.raises(GuardrailError, match=message):
            exchange_ranges([bad])


# --------------------------------------------------------------------------- item 15: exo absent

def params(**extra):
    base = dict(name="Mimecast inbound", force=False, comment=None, connector_type="Partner", sender_domains=["*"],
                sender_ip_addresses=None, restrict_domains_to_ip_addresses=False,
                restrict_domains_to_certificate=False, require_tls=True, tls_sender_certificate_name=None,
                enabled=True)
    base.update(extra)
    return base


def connector(**extra):
    base = {"Name": "Mimecast inbound", "ConnectorType": "Partner", "SenderDomains": ["smtp:*;1"],
            "SenderIPAddresses": ["205.139.110.0/24"], "RestrictDomainsToIPAddresses": False,
            "RestrictDomainsToCertificate": False, "RequireTls": True, "TlsSenderCertificateName": None,
            "Enabled": True, "Comment": "made by the mail team"}
    base.update(extra)
    return base


def test_absent_refuses_a_foreign_connector_that_only_shares_the_name():
    p = params()
    refusal = absent_refusal(p, connector(), desired_properties(p, []))
    assert "not made by mailsec.mimecast" in refusal and "force: true" in refusal and MARKER in refusal
    p = params(sender_ip_addresses=["1.2.3.0/24"])
    refusal = absent_refusal(p, connector(), desired_properties(p, ["1.2.3.0/24"]))
    assert "SenderIPAddresses" in refusal


def test_absent_removes_marked_matching_or_forced_connectors():
    p = params()
    assert absent_refusal(p, connector(Comment=with_marker("x")), desired_properties(p, [])) is None
    assert absent_refusal(params(force=True), connector(), desired_properties(p, [])) is None
    p = params(sender_ip_addresses=["205.139.110.0/24"])
    assert absent_refusal(p, connector(), desired_properties(p, ["205.139.110.0/24"])) is None


def test_marker_added_once():
    assert with_marker(None) == MARKER
    assert with_marker("Lockdown") == "Lockdown " + MARKER
    assert with_marker(with_marker("Lockdown")) == "Lockdown " + MARKER


# --------------------------------------------------------------------------- issue 9 item 5: API 1.0 hosts

LEGACY = dict(app_id="app", app_key="app-key-value", access_key="access-key-value", secret_key="c2VjcmV0")
OAUTH2 = dict(client_id="client", client_secret="client-secret-value")


def connection(base_url, **credentials):
    p = dict(base_url=base_url, allow_custom_base_url=False, client_id=None, client_secret=None, app_id=None,
             app_key=None, access_key=None, secret_key=None, timeout=30.0, validate_certs=True,
             rate_limit_max_wait=60.0, max_retries=3)
    p.update(credentials)
    return p


class Failed(Exception):
    pass


class FakeAnsibleModule:
    def fail_json(self, **kwargs):
        raise Failed(kwargs)


def checked(p):
    """MimecastModule.check_connection on ``p``, without AnsibleModule or any HTTP client."""
    wrapper = MimecastModule.__new__(MimecastModule)
    wrapper.module, wrapper.params, wrapper._client = FakeAnsibleModule(), p, None
    wrapper.check_connection()


@pytest.mark.parametrize("host", ["api.services.mimecast.com", "uk-api.services.mimecast.com",
                                  "US-API.services.mimecast.com."])
def test_legacy_keys_with_an_api2_host_refused_naming_the_regional_hosts(host):
    with pytest.raises(Failed) as err:
        checked(connection("https://%s" % host, **LEGACY))
    msg = err.value.args[0]["msg"]
    assert "API 2.0 host" in msg and "https://eu-api.mimecast.com" in msg and "https://us-api.mimecast.com" in msg
    assert "CUSA" in msg and "client_id and client_secret" in msg
    assert err.value.args[0]["api_calls"]["total"] == 0
    assert not any(v in msg for v in LEGACY.values() if v not in ("app",))


@pytest.mark.parametrize("host", ["eu-api.mimecast.com", "jer-api.mimecast.com", "uspcom-api.mimecast-pscom-us.com"])
def test_api2_credentials_with_an_api1_host_refused(host):
    with pytest.raises(Failed) as err:
        checked(connection("https://%s" % host, **OAUTH2))
    msg = err.value.args[0]["msg"]
    assert "API 1.0 host" in msg and "https://api.services.mimecast.com" in msg and "client-secret-value" not in msg


@pytest.mark.parametrize("base_url, credentials", [
    ("https://eu-api.mimecast.com", LEGACY), ("https://api.mimecast.com", LEGACY),
    ("https://api.services.mimecast.com", OAUTH2), ("https://us-api.services.mimecast.com", dict(OAUTH2, **LEGACY)),
    ("http://127.0.0.1:8080", LEGACY), ("http://127.0.0.1:8080", OAUTH2)])
def test_matching_api_generation_or_loopback_accepted(base_url, credentials):
    assert api_version_problem(connection(base_url, **credentials)) is None
    checked(connection(base_url, **credentials))
