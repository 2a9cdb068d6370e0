# -*- coding: utf-8 -*-
"""The encrypted per-user token cache (_token_cache) and its use by the client."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils import _token_cache
from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient
from ansible_collections.mailsec.mimecast.plugins.module_utils._token_cache import TokenCache, default_dir
from http_mock import TOKEN, Call, ExpectedCalls

BASE = "https://api.services.mimecast.com"
TOKEN_URL = BASE + "/oauth/token"
AS = "/policy-management/cloud-gateway/v1/anti-spoofing/policies"
EMPTY = {"meta": {}, "definitions": []}
UNAUTHORIZED = {"fail": [{"errors": [{"code": "err_xdk_client_unauthorized", "message": "Unauthorized"}]}]}


class Now:
    def __init__(self):
        self.value = 1_700_000_000.0

    def __call__(self):
        return self.value


def cache(tmp_path, secret="s3cr3t", url=TOKEN_URL, client_id="cid", now=None, warn=None):
    return TokenCache(url, client_id, secret, directory=str(tmp_path / "tokens"), now=now or Now(), warn=warn)


def client(calls, token_cache):
    return MimecastClient(base_url=BASE, client_id="cid", client_secret="s3cr3t", transport=calls.transport,
                          token_cache=token_cache)


def test_second_client_uses_the_cached_token_without_a_token_call(tmp_path):
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body=EMPTY, headers={"Authorization": "Bearer tok-1"}))
    first = client(calls, cache(tmp_path))
    assert first.rest_list(AS) == []
    assert first.api_calls["auth"] == 1
    calls.assert_done()
    calls = ExpectedCalls(Call("GET", AS, json_body=EMPTY, headers={"Authorization": "Bearer tok-1"}))
    second = client(calls, cache(tmp_path))
    assert second.rest_list(AS) == []
    assert second.api_calls["auth"] == 0
    calls.assert_done()


def test_file_and_directory_are_private_and_hold_no_token_in_clear(tmp_path):
    token = "tok-visible-%s" % ("x" * 40)
    assert cache(tmp_path).store(token, 1800)
    directory = tmp_path / "tokens"
    files = list(directory.iterdir())
    assert len(files) == 1 and files[0].name.endswith(".token")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    blob = files[0].read_bytes()
    for clear in (token, "cid", "s3cr3t", "api.services.mimecast.com", "tok-visible"):
        assert clear.encode() not in blob
        assert clear not in files[0].name
    assert cache(tmp_path).load()[0] == token


def test_a_cache_written_with_another_secret_is_not_used(tmp_path):
    assert cache(tmp_path, secret="old-secret").store("tok-old", 1800)
    assert cache(tmp_path, secret="new-secret").load() is None
    # and the client then fetches a token as without a cache (and replaces the file)
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body=EMPTY, headers={"Authorization": "Bearer tok-1"}))
    assert client(calls, cache(tmp_path)).rest_list(AS) == []
    calls.assert_done()
    assert cache(tmp_path).load()[0] == "tok-1"


def test_a_token_is_never_used_for_another_host_or_client(tmp_path):
    assert cache(tmp_path).store("tok-1", 1800)
    assert cache(tmp_path, url="https://uk-api.services.mimecast.com/oauth/token").load() is None
    assert cache(tmp_path, client_id="other").load() is None
    # a file copied over another host's name does not open either (the URL is sealed in the key and the data)
    mine = cache(tmp_path)
    other = cache(tmp_path, url="https://us-api.services.mimecast.com/oauth/token")
    os.replace(mine.path, other.path)
    assert other.load() is None


@pytest.mark.parametrize("garbage", [b"", b"MMTC1", b"MMTC1" + b"\0" * 60, b"not a cache file at all", b"\xff" * 300])
def test_a_corrupted_file_is_ignored(tmp_path, garbage):
    one = cache(tmp_path)
    assert one.store("tok-1", 1800)
    with open(one.path, "wb") as handle:
        handle.write(garbage)
    assert cache(tmp_path).load() is None
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body=EMPTY))
    assert client(calls, cache(tmp_path)).rest_list(AS) == []
    calls.assert_done()


def test_a_flipped_byte_is_ignored(tmp_path):
    one = cache(tmp_path)
    one.store("tok-1", 1800)
    blob = bytearray(open(one.path, "rb").read())
    blob[-1] ^= 1
    open(one.path, "wb").write(bytes(blob))
    assert cache(tmp_path).load() is None


def test_an_expiring_token_is_not_used(tmp_path):
    now = Now()
    cache(tmp_path, now=now).store("tok-1", 1800)
    now.value += 1800 - _token_cache.MIN_REMAINING + 1
    assert cache(tmp_path, now=now).load() is None
    now.value -= 10
    assert cache(tmp_path, now=now).load()[0] == "tok-1"


def test_401_on_a_cached_token_drops_it_and_fetches_exactly_one_new_token(tmp_path):
    cache(tmp_path).store("tok-stale", 1800)
    calls = ExpectedCalls(
        Call("GET", AS, status=401, json_body=UNAUTHORIZED, headers={"Authorization": "Bearer tok-stale"}),
        TOKEN,
        Call("GET", AS, json_body=EMPTY, headers={"Authorization": "Bearer tok-1"}),
    )
    one = client(calls, cache(tmp_path))
    assert one.rest_list(AS) == []
    assert one.api_calls["auth"] == 1
    calls.assert_done()
    assert cache(tmp_path).load()[0] == "tok-1"


def test_a_directory_open_to_others_is_not_used(tmp_path):
    directory = tmp_path / "tokens"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    warnings = []
    one = cache(tmp_path, warn=warnings.append)
    assert one.store("tok-1", 1800) is False and one.load() is None
    assert list(directory.iterdir()) == []
    assert len(warnings) == 1 and "not private" in warnings[0] and "tok-1" not in warnings[0]


def test_a_file_readable_by_others_is_not_used(tmp_path):
    one = cache(tmp_path)
    one.store("tok-1", 1800)
    os.chmod(one.path, 0o644)
    assert cache(tmp_path).load() is None


def test_unwritable_directory_still_fetches_tokens(tmp_path):
    (tmp_path / "tokens").write_text("a file, not a directory")
    calls = ExpectedCalls(TOKEN, Call("GET", AS, json_body=EMPTY))
    assert client(calls, cache(tmp_path)).rest_list(AS) == []
    calls.assert_done()


def test_without_cryptography_the_cache_is_off(tmp_path, monkeypatch):
    monkeypatch.setattr(_token_cache, "_crypto", lambda: None)
    one = cache(tmp_path)
    assert one.store("tok-1", 1800) is False and one.load() is None
    assert not (tmp_path / "tokens").exists()


def test_default_directory_follows_xdg_cache_home(tmp_path):
    assert default_dir({"XDG_CACHE_HOME": str(tmp_path)}) == str(tmp_path / "mailsec.mimecast" / "tokens")
    assert default_dir({"XDG_CACHE_HOME": "relative/ignored"}).endswith(
        os.path.join(".cache", "mailsec.mimecast", "tokens"))


def test_hmac_keys_never_use_the_cache(tmp_path):
    calls = ExpectedCalls()
    legacy = MimecastClient(base_url="https://eu-api.mimecast.com", app_id="a", app_key="k", access_key="x",
                            secret_key="c2VjcmV0", transport=calls.transport, token_cache=cache(tmp_path))
    assert legacy._token_cache is None
