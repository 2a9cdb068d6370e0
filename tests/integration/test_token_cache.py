# -*- coding: utf-8 -*-
"""One token per tenant across the tasks of a run (the encrypted token cache), against the sandbox."""

from __future__ import annotations

import stat

from conftest import module_task

MODULE = "mailsec.mimecast.mimecast_url_bypass"
CONFIG = [{"url": "https://sim.example.com/landing", "comment": "Sim landing"}]


def token_calls(sandbox):
    return [r for r in sandbox.requests() if r["path"] == "/oauth/token"]


def gathered(name="t"):
    return dict(module_task(MODULE, state="gathered"), name=name)


def test_tasks_of_a_run_share_one_token(sandbox, play, tmp_path):
    result = play([gathered("one"), module_task(MODULE, task_name="two", config=CONFIG), gathered("three")])
    assert result.rc == 0, result.stdout
    assert [result.task(n)["api_calls"]["auth"] for n in ("one", "two", "three")] == [1, 0, 0]
    assert len(token_calls(sandbox)) == 1
    # a second run in the same test: no token call at all
    sandbox.clear_requests()
    again = play([gathered("one")])
    assert again.rc == 0 and again.task("one")["api_calls"]["auth"] == 0
    assert token_calls(sandbox) == []
    files = list((tmp_path / "token-cache").iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    blob = files[0].read_bytes()
    assert b"mc-demo-secret" not in blob and b"mc-demo-client" not in blob and b"127.0.0.1" not in blob


def test_token_never_in_output_or_cache_file(sandbox, play, tmp_path):
    result = play([gathered("one"), gathered("two")], extra_args=("-vvv",))
    assert result.rc == 0
    tokens = list(sandbox._tokens)  # every token the sandbox issued
    assert tokens
    blob = b"".join(f.read_bytes() for f in (tmp_path / "token-cache").iterdir())
    for token in tokens:
        assert token not in result.stdout and token not in result.stderr
        assert token.encode() not in blob


def test_other_secret_does_not_use_the_cache(sandbox, play):
    assert play([gathered("one")]).rc == 0
    sandbox.clear_requests()
    wrong = play([gathered("one")], secret="not-the-secret")
    assert wrong.rc != 0
    assert "Mimecast refused the client credentials" in wrong.task("one")["msg"]
    assert len(token_calls(sandbox)) == 1


def test_revoked_cached_token_recovers_with_exactly_one_token_call(sandbox, play):
    assert play([gathered("one")]).rc == 0
    sandbox.expire_tokens()
    sandbox.clear_requests()
    result = play([gathered("one"), gathered("two")])
    assert result.rc == 0, result.stdout
    assert [result.task(n)["api_calls"]["auth"] for n in ("one", "two")] == [1, 0]
    assert len(token_calls(sandbox)) == 1
    assert [r["status"] for r in sandbox.requests()].count(401) == 1


def test_token_cache_off(sandbox, play):
    result = play([gathered("one"), gathered("two")], extra_env={"MIMECAST_TOKEN_CACHE": "false"})
    assert result.rc == 0
    assert [result.task(n)["api_calls"]["auth"] for n in ("one", "two")] == [1, 1]
