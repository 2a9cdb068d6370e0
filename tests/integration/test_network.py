# -*- coding: utf-8 -*-
"""Issue 11 item 4: connection details real networks need.

A TLS-intercepting CONNECT proxy with its own CA (generated here) sits between the modules and the
sandbox. The modules are given the public host names (``MIMECAST_BASE_URL=""`` means the default
https://api.services.mimecast.com; empty EXO_URL / EXO_AUTHORITY mean Microsoft's hosts) and reach the
sandbox only through the proxy, which never connects anywhere else.
"""

from __future__ import annotations

import pytest

from conftest import module_task
from tls_proxy import InterceptingProxy

GROUP = "mailsec.mimecast.mimecast_profile_group"
EXO = "mailsec.mimecast.exo_inbound_connector"
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
              "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR", "MIMECAST_CA_BUNDLE", "EXO_CA_BUNDLE")


@pytest.fixture
def proxy(sandbox, tmp_path):
    host, port = sandbox.url.split("//")[1].split(":")
    server = InterceptingProxy(tmp_path, (host, int(port)))
    server.start()
    yield server
    server.stop()


def proxied_env(proxy, **extra):
    env = {name: "" for name in PROXY_VARS}
    env.update(HTTPS_PROXY=proxy.url, https_proxy=proxy.url, MIMECAST_BASE_URL="")
    env.update(extra)
    return env


def test_empty_base_url_env_goes_to_the_default_host_through_a_tls_proxy_with_ca_bundle(sandbox, play, proxy):
    sandbox.clear_requests()
    ok = play([module_task(GROUP, state="gathered")],
              extra_env=proxied_env(proxy, MIMECAST_CA_BUNDLE=str(proxy.paths["ca"])))
    out = ok.task("t")
    assert ok.rc == 0, out
    # The default host was asked for (MIMECAST_BASE_URL=""), through the proxy, and the sandbox answered.
    assert proxy.connects and set(proxy.connects) == {"api.services.mimecast.com:443"}
    assert all(proxy.handshakes) and out["api_calls"]["auth"] == 1 and out["api_calls"]["read"] >= 1
    assert [r for r in sandbox.requests("demo") if r["path"] != "/oauth/token"]


def test_tls_proxy_without_ca_bundle_fails_naming_the_option_and_sends_nothing(sandbox, play, proxy):
    sandbox.clear_requests()
    failed = play([module_task(GROUP, state="gathered")], extra_env=proxied_env(proxy))
    out = failed.task("t")
    assert failed.rc != 0
    assert "set ca_bundle (or MIMECAST_CA_BUNDLE) to the proxy's CA file" in out["msg"], out["msg"]
    assert "certificate" in out["msg"] and out["error"]["code"] == "tls_verify_failed"
    assert "Traceback" not in failed.stdout + failed.stderr and "mc-demo-secret" not in failed.stdout
    # Refused at the handshake, never retried, nothing reached the sandbox.
    assert proxy.handshakes == [False] and sandbox.requests() == []


def test_ssl_cert_file_is_honoured_as_the_system_store(sandbox, play, proxy):
    ok = play([module_task(GROUP, state="gathered")],
              extra_env=proxied_env(proxy, SSL_CERT_FILE=str(proxy.paths["ca"])))
    assert ok.rc == 0, ok.task("t")
    assert proxy.connects == ["api.services.mimecast.com:443"]


def test_bad_ca_bundle_fails_before_any_call(sandbox, play, proxy, tmp_path):
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello\n")
    failed = play([module_task(GROUP, state="gathered")], extra_env=proxied_env(proxy, MIMECAST_CA_BUNDLE=str(bad)))
    out = failed.task("t")
    assert failed.rc != 0 and "ca_bundle %s cannot be read as PEM" % bad in out["msg"]
    assert out["api_calls"]["total"] == 0 and proxy.connects == [] and sandbox.requests() == []


def test_exchange_through_the_tls_proxy_with_its_ca_bundle_and_empty_url_env(sandbox, play, proxy):
    cfg = sandbox.tenants["demo"]
    args = {"tenant": cfg["entra_tenant_id"], "app_id": cfg["entra_client_id"], "name": "Mimecast inbound",
            "sender_ip_addresses": ["205.139.110.0/24"], "comment": "lockdown"}
    env = proxied_env(proxy, EXO_CLIENT_SECRET=cfg["entra_client_secret"], EXO_URL="", EXO_AUTHORITY="",
                      EXO_CERTIFICATE_PATH="", EXO_CERTIFICATE_PASSWORD="")
    failed = play([module_task(EXO, **args)], check=True, extra_env=env)
    assert failed.rc != 0 and "set ca_bundle (or EXO_CA_BUNDLE) to the proxy's CA file" in failed.task("t")["msg"]
    assert proxy.connects == ["login.microsoftonline.com:443"]
    ok = play([module_task(EXO, **args)], check=True, extra_env=dict(env, EXO_CA_BUNDLE=str(proxy.paths["ca"])))
    out = ok.task("t")
    assert ok.rc == 0, out
    assert out["changed"] is True and out["api_calls"]["auth"] == 1
    assert set(proxy.connects) == {"login.microsoftonline.com:443", "outlook.office365.com:443"}
    assert sandbox.writes() == []
