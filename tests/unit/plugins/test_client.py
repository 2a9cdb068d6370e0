# -*- coding: utf-8 -*-
"""The HTTP layer, with every expected call listed in order."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx
import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    MimecastAuthError,
    MimecastClient,
    MimecastError,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._version import COLLECTION_VERSION
from http_mock import TOKEN, Call, ExpectedCalls

BASE = "https://api.services.mimecast.com"
AS = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
BEARER = {"Authorization": "Bearer tok-1"}


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def make(calls, **kwargs):
    clock = Clock()
    warnings = []
    options = dict(base_url=BASE, client_id="cid", client_secret="s3cr3t", transport=calls.transport,
                   warn=warnings.append, sleep=clock.sleep, clock=clock)
    options.update(kwargs)
    client = MimecastClient(**options)
    return client, clock, warnings


def test_one_token_per_task_and_all_rest_pages_read():
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", AS, query={"pageSize": "100"}, headers=dict(BEARER),
             json_body={"meta": {"nextPageToken": "p2"}, "definitions": [{"id": "a"}]}),
        Call("GET", AS, query={"pageSize": "100", "pageToken": "p2"}, headers=BEARER,
             json_body={"meta": {"pagination": {"next": "p3"}}, "definitions": [{"id": "b"}]}),
        Call("GET", AS, query={"pageSize": "100", "pageToken": "p3"}, headers=BEARER,
             json_body={"meta": {}, "definitions": [{"id": "c"}]}),
        Call("GET", "/x/policies", query={"pageSize": "100"}, headers=BEARER,
             json_body={"meta": {}, "policies": [{"id": "d"}]}),
    )
    client, dummy, warnings = make(calls)
    assert [i["id"] for i in client.rest_list(AS)] == ["a", "b", "c"]
    assert [i["id"] for i in client.rest_list("/x/policies")] == ["d"]
    calls.assert_done()
    assert client.api_calls == {"read": 4, "write": 0, "auth": 1, "total": 5}
    assert calls.seen[1].headers["User-Agent"].startswith("mailsec.mimecast/%s" % COLLECTION_VERSION)
    assert not warnings


def test_unknown_list_shape_fails_instead_of_reading_empty():
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body={"meta": {}, "items": []}))
    client, dummy, dummy2 = make(calls)
    with pytest.raises(MimecastError, match="none of the list keys the collection knows .* holds a list under items"):
        client.rest_list(AS)


def test_unknown_paging_key_fails_instead_of_stopping_early():
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body={"meta": {"cursorNext": "x"}, "definitions": []}))
    client, dummy, dummy2 = make(calls)
    with pytest.raises(MimecastError, match="paging keys the collection does not know"):
        client.rest_list(AS)


def test_429_waits_rate_limit_reset_then_retries_a_write():
    body = {"description": "x"}
    calls = ExpectedCalls(
        TOKEN,
        Call("POST", AS, status=429, reply_headers={"X-RateLimit-Reset": "250"}, json_body={}),
        Call("POST", AS, status=429, reply_headers={"X-RateLimit-Reset": "500"}, json_body={}),
        Call("POST", AS, body=body, json_body={"id": "new-id"}),
    )
    client, clock, warnings = make(calls)
    assert client.rest_create(AS, body)[0] == "new-id"
    calls.assert_done()
    assert clock.slept == [0.25, 0.5]
    assert len(warnings) == 2 and "X-RateLimit-Reset" in warnings[0]
    assert client.api_calls["write"] == 3


def test_429_past_the_wait_bound_fails_clearly():
    calls = ExpectedCalls(
        TOKEN,
        *[Call("GET", AS, status=429, reply_headers={"X-RateLimit-Reset": "4000"}, json_body={})
          for dummy in range(3)]
    )
    client, clock, dummy = make(calls, rate_limit_max_wait=10)
    with pytest.raises(MimecastError) as err:
        client.rest_list(AS)
    assert err.value.status == 429
    assert "beyond the wait bound of 10s" in str(err.value)
    assert "rate_limit_max_wait" in str(err.value)
    assert sum(clock.slept) <= 10
    calls.assert_done()


def test_5xx_and_connection_errors_retried_for_reads_only():
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", AS, status=503, json_body={}),
        Call("GET", AS, error=httpx.ConnectError),
        Call("GET", AS, json_body={"meta": {}, "definitions": []}),
        Call("PATCH", AS + "/id1", status=502, json_body={}),
    )
    client, clock, warnings = make(calls)
    assert client.rest_list(AS) == []
    assert len(warnings) == 2
    with pytest.raises(MimecastError) as err:
        client.rest_update(AS + "/id1", {"enabled": False})
    assert "may or may not have happened" in str(err.value)
    assert err.value.ambiguous is True  # the engine re-reads before deciding (issue 8 item 5)
    calls.assert_done()


def test_write_connection_error_is_not_retried():
    calls = ExpectedCalls(TOKEN, Call("DELETE", AS + "/id1", error=httpx.ReadTimeout))
    client, dummy, warnings = make(calls)
    with pytest.raises(MimecastError, match="may or may not have reached Mimecast") as err:
        client.rest_delete(AS + "/id1")
    calls.assert_done()
    assert not warnings
    assert err.value.ambiguous is True


def test_a_clear_refusal_of_a_write_is_not_ambiguous():
    calls = ExpectedCalls(TOKEN, Call("POST", AS, status=400, json_body={"errors": [
        {"code": "err_validation_invalid_value", "message": "bad", "field": "description"}]}))
    client, dummy, dummy2 = make(calls)
    with pytest.raises(MimecastError) as err:
        client.rest_create(AS, {"description": "x"})
    assert err.value.ambiguous is False and err.value.status == 400
    calls.assert_done()


def test_200_with_fail_carries_mimecast_code():
    calls = ExpectedCalls(
        TOKEN,
        Call("POST", "/api/domain/get-internal-domain", body={"data": [{"domain": "x.example"}]},
             json_body={"meta": {"status": 200}, "data": [], "fail": [
                 {"key": {"domain": "x.example"},
                  "errors": [{"code": "err_domain_not_found", "message": "Not found",
                              "field": "domain", "retryable": False}]}]}),
    )
    client, dummy, dummy2 = make(calls)
    with pytest.raises(MimecastError) as err:
        client.classic("/api/domain/get-internal-domain", [{"domain": "x.example"}])
    assert err.value.code == "err_domain_not_found"
    assert err.value.field == "domain"
    assert "err_domain_not_found" in str(err.value)


def test_classic_pagination_reads_every_page():
    path = "/api/domain/get-internal-domain"
    calls = ExpectedCalls(
        TOKEN,
        Call("POST", path, body={"data": [], "meta": {"pagination": {"pageSize": 100}}},
             json_body={"meta": {"status": 200, "pagination": {"next": "t2"}}, "data": [{"d": 1}], "fail": []}),
        Call("POST", path, body={"data": [], "meta": {"pagination": {"pageSize": 100, "pageToken": "t2"}}},
             json_body={"meta": {"status": 200, "pagination": {}}, "data": [{"d": 2}], "fail": []}),
    )
    client, dummy, dummy2 = make(calls)
    assert client.classic(path, paginate=True) == [{"d": 1}, {"d": 2}]
    calls.assert_done()


def test_wrong_secret_is_a_clear_auth_error_without_the_secret():
    calls = ExpectedCalls(Call("POST", "/oauth/token", status=401,
                               json_body={"error": "invalid_client",
                                          "error_description": "Client authentication failed"}))
    client, dummy, dummy2 = make(calls, client_secret="very-secret-value")
    with pytest.raises(MimecastAuthError) as err:
        client.rest_list(AS)
    text = str(err.value) + repr(err.value.as_dict())
    assert "refused the client credentials" in text and "invalid_client" in text
    assert "very-secret-value" not in text
    assert client.api_calls == {"read": 0, "write": 0, "auth": 1, "total": 1}


def test_expired_token_refreshed_once_on_401():
    unauthorized = {"fail": [{"errors": [{"code": "err_xdk_client_unauthorized", "message": "Unauthorized"}]}]}
    token2 = Call("POST", "/oauth/token", json_body={"access_token": "tok-2", "expires_in": 1800})
    calls = ExpectedCalls(
        TOKEN,
        Call("GET", AS, status=401, json_body=unauthorized, headers=BEARER),
        token2,
        Call("GET", AS, headers={"Authorization": "Bearer tok-2"}, json_body={"meta": {}, "definitions": []}),
        Call("GET", AS, status=401, json_body=unauthorized),
        Call("POST", "/oauth/token", json_body={"access_token": "tok-3", "expires_in": 1800}),
        Call("GET", AS, status=401, json_body=unauthorized),
    )
    client, dummy, dummy2 = make(calls)
    assert client.rest_list(AS) == []
    with pytest.raises(MimecastAuthError, match="err_xdk_client_unauthorized"):
        client.rest_list(AS)
    calls.assert_done()


def test_token_refetched_before_expiry():
    calls = ExpectedCalls(
        Call("POST", "/oauth/token", json_body={"access_token": "tok-1", "expires_in": 120}),
        Call("GET", AS, json_body={"meta": {}, "definitions": []}),
        Call("POST", "/oauth/token", json_body={"access_token": "tok-2", "expires_in": 120}),
        Call("GET", AS, headers={"Authorization": "Bearer tok-2"}, json_body={"meta": {}, "definitions": []}),
    )
    client, clock, dummy = make(calls)
    client.rest_list(AS)
    clock.now += 61  # inside the 60 s early-refresh margin of a 120 s token
    client.rest_list(AS)
    calls.assert_done()


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:8080"])
def test_plain_http_refused_except_loopback(url):
    with pytest.raises(MimecastError, match="plain http"):
        MimecastClient(base_url=url, client_id="a", client_secret="b")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9"])
def test_plain_http_to_loopback_allowed(url):
    MimecastClient(base_url=url, client_id="a", client_secret="b").close()


def test_missing_credentials_named():
    with pytest.raises(MimecastAuthError, match="MIMECAST_CLIENT_ID"):
        MimecastClient(base_url=BASE)


def test_hmac_signing_and_rest_refused_in_legacy_mode():
    secret = base64.b64encode(b"the-secret-key").decode()
    calls = ExpectedCalls(Call("POST", "/api/account/get-account", body={"data": []},
                               json_body={"meta": {"status": 200}, "data": [{"accountCode": "C1"}], "fail": []}))
    client, dummy, dummy2 = make(calls, client_id=None, client_secret=None, app_id="app", app_key="appkey",
                                 access_key="acc", secret_key=secret)
    assert client.classic("/api/account/get-account") == [{"accountCode": "C1"}]
    request = calls.seen[0]
    date, req_id = request.headers["x-mc-date"], request.headers["x-mc-req-id"]
    assert date.endswith(" UTC")
    expected = base64.b64encode(hmac.new(
        b"the-secret-key", ":".join([date, req_id, "/api/account/get-account", "appkey"]).encode(),
        hashlib.sha1).digest()).decode()
    assert request.headers["Authorization"] == "MC acc:" + expected
    assert request.headers["x-mc-app-id"] == "app"
    with pytest.raises(MimecastError, match="API 2.0 endpoint"):
        client.rest_list(AS)
    calls.assert_done()
    assert client.api_calls["auth"] == 0
