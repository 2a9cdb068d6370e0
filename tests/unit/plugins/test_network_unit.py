# -*- coding: utf-8 -*-
"""Issue 11 item 4: empty environment values, CA bundle, trust store, TLS errors, loopback start-up."""

from __future__ import annotations

import ssl

import httpx
import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._exo import EXO_ARGUMENT_SPEC, ExoClient
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    DEFAULT_BASE_URL,
    connection_argument_spec,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._network import (
    ca_bundle_problem,
    env_fallback_set,
    needs_tls,
    tls_failure,
    tls_verify,
)

PEM_CA = """-----BEGIN CERTIFICATE-----
MIIBdjCCAR2gAwIBAgIUB2yqY0WcN3bnqz3tiJXeTQU7wI0wCgYIKoZIzj0EAwIw
ETEPMA0GA1UEAwwGdGVzdGNhMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAw
MFowETEPMA0GA1UEAwwGdGVzdGNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
"""


def validated(spec, monkeypatch, env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = ArgumentSpecValidator(spec).validate({})
    return result.validated_parameters, result.errors


# --------------------------------------------------------------------------- empty environment values

def test_env_fallback_set_skips_empty_and_blank_values(monkeypatch):
    monkeypatch.setenv("MAILSEC_T_A", "")
    monkeypatch.setenv("MAILSEC_T_B", "  ")
    monkeypatch.setenv("MAILSEC_T_C", "value")
    assert env_fallback_set("MAILSEC_T_A", "MAILSEC_T_B", "MAILSEC_T_C") == "value"
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_set("MAILSEC_T_A", "MAILSEC_T_B")
    monkeypatch.delenv("MAILSEC_T_C")
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_set("MAILSEC_T_C")


def test_empty_mimecast_env_values_use_the_defaults(monkeypatch):
    # AWX injects every field of a credential; a credential without base_url gives MIMECAST_BASE_URL="".
    env = {name: "" for name in ("MIMECAST_BASE_URL", "MIMECAST_ALLOW_CUSTOM_BASE_URL", "MIMECAST_APP_ID",
                                 "MIMECAST_TIMEOUT", "MIMECAST_VALIDATE_CERTS", "MIMECAST_RATE_LIMIT_MAX_WAIT",
                                 "MIMECAST_MAX_RETRIES", "MIMECAST_READ_ONLY", "MIMECAST_CA_BUNDLE")}
    env.update(MIMECAST_CLIENT_ID="cid", MIMECAST_CLIENT_SECRET="sec")
    params, errors = validated(connection_argument_spec(), monkeypatch, env)
    assert not errors.errors, errors.messages
    assert params["base_url"] == DEFAULT_BASE_URL == "https://api.services.mimecast.com"
    assert params["timeout"] == 30.0 and params["max_retries"] == 3 and params["validate_certs"] is True
    assert params["read_only"] is False and params["allow_custom_base_url"] is False
    assert params["app_id"] is None and params["ca_bundle"] is None
    assert params["client_id"] == "cid"


def test_set_mimecast_env_values_still_win(monkeypatch):
    params, errors = validated(connection_argument_spec(), monkeypatch,
                               {"MIMECAST_BASE_URL": "https://uk-api.services.mimecast.com",
                                "MIMECAST_CA_BUNDLE": "/etc/proxy-ca.pem"})
    assert not errors.errors
    assert params["base_url"] == "https://uk-api.services.mimecast.com"
    assert params["ca_bundle"] == "/etc/proxy-ca.pem"


def test_empty_exchange_env_values_use_the_defaults(monkeypatch):
    env = {"EXO_TENANT": "contoso.onmicrosoft.com", "EXO_APP_ID": "app", "EXO_CLIENT_SECRET": "",
           "EXO_CERTIFICATE_PATH": "/tmp/cert.pem", "EXO_CERTIFICATE_PASSWORD": "", "EXO_URL": "",
           "EXO_AUTHORITY": "", "EXO_ALLOW_CUSTOM_URLS": "", "EXO_CA_BUNDLE": ""}
    params, errors = validated(EXO_ARGUMENT_SPEC, monkeypatch, env)
    assert not errors.errors, errors.messages
    assert params["exo_url"] == "https://outlook.office365.com"
    assert params["authority"] == "https://login.microsoftonline.com"
    assert params["client_secret"] is None and params["certificate_password"] is None
    assert params["allow_custom_urls"] is False and params["ca_bundle"] is None


def test_exchange_certificate_password_read_from_env_and_never_logged(monkeypatch):
    env = {"EXO_TENANT": "contoso.onmicrosoft.com", "EXO_APP_ID": "app", "EXO_CERTIFICATE_PASSWORD": "pem-pass"}
    params, dummy = validated(EXO_ARGUMENT_SPEC, monkeypatch, env)
    assert params["certificate_password"] == "pem-pass"
    assert EXO_ARGUMENT_SPEC["certificate_password"]["no_log"] is True


def test_empty_required_exchange_env_fails_as_missing(monkeypatch):
    dummy, errors = validated(EXO_ARGUMENT_SPEC, monkeypatch, {"EXO_TENANT": "", "EXO_APP_ID": "app"})
    assert "tenant" in str(errors.errors[0])


# --------------------------------------------------------------------------- TLS trust

def test_no_tls_context_for_loopback_http(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a certificate store was loaded for plain http")

    monkeypatch.setattr(ssl, "create_default_context", forbidden)
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", forbidden)
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", forbidden)
    monkeypatch.setattr(ssl.SSLContext, "set_default_verify_paths", forbidden)
    assert tls_verify(["http://127.0.0.1:8080"], True) is False
    client = MimecastClient("http://127.0.0.1:8080", client_id="c", client_secret="s")
    assert client._http._trust_env is False
    client.close()


def test_https_context_trusts_system_store_certifi_and_the_bundle(tmp_path, monkeypatch):
    loaded = []
    real = ssl.SSLContext.load_verify_locations

    def record(self, cafile=None, capath=None, cadata=None):
        loaded.append(cafile)
        return real(self, cafile=cafile, capath=capath, cadata=cadata)

    import certifi

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", record)
    context = tls_verify(["https://api.services.mimecast.com"], True)
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname and certifi.where() in loaded
    bundle = certifi.where()
    loaded.clear()
    tls_verify(["http://127.0.0.1:1", "https://login.microsoftonline.com"], True, bundle)
    assert loaded[-1] == bundle
    assert tls_verify(["https://api.services.mimecast.com"], False) is False


def test_exo_client_builds_tls_for_an_https_authority_even_with_a_loopback_exo_url():
    assert needs_tls(["http://127.0.0.1:1", "https://login.microsoftonline.com"])
    client = ExoClient("contoso.onmicrosoft.com", "app", client_secret="x", exo_url="http://127.0.0.1:1")
    assert client._http._trust_env is True
    client.close()


@pytest.mark.parametrize("content, reason", [(None, "is not a file"), ("not a certificate\n", "cannot be read as PEM"),
                                             (PEM_CA, "cannot be read as PEM")])
def test_bad_ca_bundle_refused_naming_the_option(tmp_path, content, reason):
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content)
    problem = ca_bundle_problem(str(path), "ca_bundle")
    assert problem.startswith("ca_bundle %s " % path) and reason in problem
    with pytest.raises(MimecastError) as err:
        MimecastClient("https://api.services.mimecast.com", client_id="c", client_secret="s", ca_bundle=str(path))
    assert "ca_bundle (or MIMECAST_CA_BUNDLE)" in str(err.value) and reason in str(err.value)
    with pytest.raises(MimecastError) as err:
        ExoClient("contoso.onmicrosoft.com", "app", client_secret="x", ca_bundle=str(path))
    assert "ca_bundle (or EXO_CA_BUNDLE)" in str(err.value)


def untrusted(request):
    try:
        raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    except ssl.SSLCertVerificationError as exc:
        exc.verify_message = "self-signed certificate in certificate chain"
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED]", request=request) from exc


def test_untrusted_certificate_names_the_option_and_is_not_retried():
    seen = []

    def handler(request):
        seen.append(request)
        untrusted(request)

    client = MimecastClient("https://api.services.mimecast.com", client_id="c", client_secret="super-secret",
                            transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(MimecastError) as err:
        client.rest_list("/policy/blockedsenders")
    text = str(err.value)
    assert "set ca_bundle (or MIMECAST_CA_BUNDLE) to the proxy's CA file" in text
    assert "self-signed certificate in certificate chain" in text and "super-secret" not in text
    assert err.value.code == "tls_verify_failed" and len(seen) == 1


def test_exo_untrusted_certificate_names_its_option():
    client = ExoClient("contoso.onmicrosoft.com", "app", client_secret="x",
                       transport=httpx.MockTransport(untrusted), sleep=lambda s: None)
    with pytest.raises(MimecastError) as err:
        client.invoke("Get-InboundConnector")
    assert "ca_bundle (or EXO_CA_BUNDLE)" in str(err.value)


def test_other_transport_errors_are_not_tls_failures():
    request = httpx.Request("GET", "https://api.services.mimecast.com/")
    assert tls_failure(httpx.ConnectError("refused", request=request)) is None
    assert tls_failure(None) is None


def test_exchange_credential_type_carries_the_certificate_password():
    import pathlib

    import yaml

    path = pathlib.Path(__file__).resolve().parents[3] / "extensions" / "awx" / "credential_type_exchange_online.yml"
    credential = yaml.safe_load(path.read_text())
    fields = {f["id"]: f for f in credential["inputs"]["fields"]}
    assert fields["certificate_password"]["secret"] is True
    assert credential["injectors"]["env"]["EXO_CERTIFICATE_PASSWORD"] == "{{ certificate_password }}"
    for name in credential["injectors"]["env"]:
        assert name in str(EXO_ARGUMENT_SPEC), name
