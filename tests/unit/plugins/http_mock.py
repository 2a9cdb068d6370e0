# -*- coding: utf-8 -*-
"""Ordered HTTP expectations for httpx (community.dns FetchUrlCall style).

Each expected call names method, path, and optionally query, JSON body, form body and
headers; it answers with a canned status, JSON and headers. Any extra, missing or
different call fails the test.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx


class Call:
    def __init__(self, method, path, status=200, json_body=None, query=None, body=None, form=None,
                 headers=None, reply_headers=None, raw=None, error=None):
        self.method = method
        self.path = path
        self.status = status
        self.json_body = json_body
        self.query = query
        self.body = body
        self.form = form
        self.headers = headers or {}
        self.reply_headers = reply_headers or {}
        self.raw = raw
        self.error = error

    def __repr__(self):
        return "%s %s" % (self.method, self.path)


class ExpectedCalls:
    def __init__(self, *calls):
        self.calls = list(calls)
        self.seen = []

    def handler(self, request):
        assert self.calls, "unexpected extra call: %s %s" % (request.method, request.url)
        call = self.calls.pop(0)
        self.seen.append(request)
        where = "call %d (%r)" % (len(self.seen), call)
        assert request.method == call.method, "%s: method %s" % (where, request.method)
        assert request.url.path == call.path, "%s: path %s" % (where, request.url.path)
        if call.query is not None:
            query = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
            assert query == call.query, "%s: query %r" % (where, query)
        if call.body is not None:
            assert json.loads(request.content) == call.body, "%s: body %s" % (where, request.content)
        if call.form is not None:
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            assert form == call.form, "%s: form %r" % (where, form)
        for name, value in call.headers.items():
            assert request.headers.get(name) == value, "%s: header %s=%r" % (
                where, name, request.headers.get(name))
        if call.error is not None:
            raise call.error("boom", request=request)
        if call.raw is not None:
            return httpx.Response(call.status, content=call.raw, headers=call.reply_headers)
        if call.json_body is None:
            return httpx.Response(call.status, headers=call.reply_headers)
        return httpx.Response(call.status, json=call.json_body, headers=call.reply_headers)

    @property
    def transport(self):
        return httpx.MockTransport(self.handler)

    def assert_done(self):
        assert not self.calls, "expected calls not made: %r" % self.calls


TOKEN = Call("POST", "/oauth/token",
             json_body={"access_token": "tok-1", "token_type": "Bearer", "expires_in": 1800},
             form={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "s3cr3t"})
