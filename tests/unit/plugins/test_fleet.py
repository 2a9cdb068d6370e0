# -*- coding: utf-8 -*-
"""Issue 11 item 2: the tenants inventory plugin and the tenant_credentials lookup."""

from __future__ import annotations

import json

import pytest
import yaml

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible.plugins.loader import inventory_loader, lookup_loader

SECRET = "s3cr3t-value-never-shown"


def inventory(tmp_path, config, name="fleet.mimecast_tenants.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": "mailsec.mimecast.tenants"}, **config)))
    plugin = inventory_loader.get("mailsec.mimecast.tenants")
    data = InventoryData()
    plugin.parse(data, DataLoader(), str(path), cache=False)
    return data


def refused(tmp_path, config, *expected):
    with pytest.raises(AnsibleParserError) as info:
        inventory(tmp_path, config)
    for text in expected:
        assert text in str(info.value)
    return str(info.value)


def hostvars(data, host):
    return data.get_host(host).get_vars()


def test_verify_file_wants_the_registry_suffix(tmp_path):
    plugin = inventory_loader.get("mailsec.mimecast.tenants")
    for name, wanted in (("a.mimecast_tenants.yml", True), ("a.mimecast_tenants.yaml", True),
                         ("hosts.yml", False), ("a.mimecast_tenants.yml.bak", False)):
        (tmp_path / name).write_text("plugin: mailsec.mimecast.tenants\n")
        assert plugin.verify_file(str(tmp_path / name)) is wanted, name
    assert plugin.verify_file(str(tmp_path / "missing.mimecast_tenants.yml")) is False


def test_one_host_per_tenant_with_region_hosts_and_groups(tmp_path):
    data = inventory(tmp_path, {"defaults": {"api_host": "global"}, "tenants": [
        {"name": "contoso", "account_code": "CUSA12A345", "labels": ["retail", "pilot-1"]},
        {"name": "fabrikam", "region": "eu", "api_host": "uk", "vars": {"phish_sim_allowlist_valid_to": "2026-12-20"}},
        {"name": "northwind", "account_code": "cau99z001"},
        {"name": "lab", "base_url": "http://127.0.0.1:8080"},
        {"name": "proxied", "base_url": "https://mimecast-proxy.corp.example", "allow_custom_base_url": True}]})
    assert sorted(h.name for h in data.groups["mimecast_tenants"].get_hosts()) == [
        "contoso", "fabrikam", "lab", "northwind", "proxied"]
    assert [h.name for h in data.groups["region_us"].get_hosts()] == ["contoso"]
    assert [h.name for h in data.groups["region_au"].get_hosts()] == ["northwind"]
    assert [h.name for h in data.groups["label_pilot_1"].get_hosts()] == ["contoso"]
    contoso = hostvars(data, "contoso")
    assert contoso["mimecast_base_url"] == "https://api.services.mimecast.com"
    assert contoso["mimecast_region"] == "us" and contoso["mimecast_api1_base_url"] == "https://us-api.mimecast.com"
    assert contoso["ansible_connection"] == "local" and contoso["mimecast_tenant"] == "contoso"
    fabrikam = hostvars(data, "fabrikam")
    assert fabrikam["mimecast_base_url"] == "https://uk-api.services.mimecast.com"
    assert fabrikam["mimecast_api1_base_url"] == "https://eu-api.mimecast.com"
    assert fabrikam["phish_sim_allowlist_valid_to"] == "2026-12-20"
    assert hostvars(data, "lab")["mimecast_base_url"] == "http://127.0.0.1:8080"
    assert "mimecast_region" not in hostvars(data, "lab")
    assert hostvars(data, "proxied")["mimecast_base_url"] == "https://mimecast-proxy.corp.example"


def test_group_option_and_keyed_groups(tmp_path):
    data = inventory(tmp_path, {"group": "fleet", "keyed_groups": [{"key": "mimecast_labels", "prefix": "tag"}],
                                "tenants": [{"name": "a1", "region": "de", "labels": ["gold"]}]})
    assert [h.name for h in data.groups["fleet"].get_hosts()] == ["a1"]
    assert [h.name for h in data.groups["tag_gold"].get_hosts()] == ["a1"]


def test_unknown_region_names_the_known_ones(tmp_path):
    msg = refused(tmp_path, {"tenants": [{"name": "contoso", "region": "mars"}]},
                  "tenant 'contoso'", "unknown region 'mars'", "eu, de, us, usb, ca, za, au, je, uspcom")
    assert "Traceback" not in msg
    refused(tmp_path, {"tenants": [{"name": "contoso", "account_code": "CXX123"}]},
            "cannot be read from account_code 'CXX123'", "CUSA", "set 'region'")
    refused(tmp_path, {"tenants": [{"name": "contoso", "api_host": "eu"}]},
            "unknown api_host 'eu'", "global, uk, us")


def test_duplicate_tenant_names_are_refused(tmp_path):
    refused(tmp_path, {"tenants": [{"name": "contoso"}, {"name": "fabrikam"}, {"name": "Contoso"}]},
            "tenant name 'Contoso' is listed twice (entries 1 and 3)", "unique")


@pytest.mark.parametrize("config, expected", [
    ({"tenants": "contoso"}, "tenants"),
    ({"tenants": ["contoso"]}, "tenant entry 1: expected a mapping"),
    ({"tenants": [{"region": "us"}]}, "name None is not a valid tenant name"),
    ({"tenants": [{"name": "../etc"}]}, "name '../etc' is not a valid tenant name"),
    ({"tenants": [{"name": "a", "labels": "gold"}]}, "'labels' must be a list"),
    ({"tenants": [{"name": "a", "labels": ["go ld"]}]}, "label 'go ld' is not a valid label"),
    ({"tenants": [{"name": "a", "colour": "red"}]}, "unknown key 'colour'"),
    ({"tenants": [{"name": "a", "vars": ["x"]}]}, "'vars' must be a mapping"),
    ({"tenants": [{"name": "a", "base_url": "https://evil.example"}]}, "is not a known host"),
    ({"tenants": [{"name": "a", "base_url": "http://mimecast.corp.example", "allow_custom_base_url": True}]},
     "plain http://"),
])
def test_bad_registry_is_refused_cleanly(tmp_path, config, expected):
    refused(tmp_path, config, expected)


@pytest.mark.parametrize("entry", [
    {"name": "a", "client_secret": SECRET},
    {"name": "a", "client_id": "id"},
    {"name": "a", "vars": {"mimecast_client_secret": SECRET}},
    {"name": "a", "vars": {"mimecast_secret_key": SECRET}},
])
def test_credentials_in_the_registry_are_refused_without_echoing_them(tmp_path, entry):
    msg = refused(tmp_path, {"tenants": [entry]}, "is a credential and is refused", "docs/awx.md")
    assert SECRET not in msg


def test_a_file_that_is_not_a_registry(tmp_path):
    path = tmp_path / "x.mimecast_tenants.yml"
    path.write_text("plugin: [unclosed\n")
    with pytest.raises(AnsibleParserError):
        inventory_loader.get("mailsec.mimecast.tenants").parse(InventoryData(), DataLoader(), str(path))
    with pytest.raises(AnsibleParserError, match="Incorrect plugin name"):
        path.write_text("plugin: something.else\ntenants: []\n")
        inventory_loader.get("mailsec.mimecast.tenants").parse(InventoryData(), DataLoader(), str(path))


# ---------------------------------------------------------------- lookup tenant_credentials
CREDS = {"contoso": {"client_id": "cid-contoso", "client_secret": SECRET},
         "fabrikam": {"client_id": "cid-fabrikam", "client_secret": "fab-" + SECRET}}


def lookup(loader=None, terms=("contoso",), variables=None, **kwargs):
    plugin = lookup_loader.get("mailsec.mimecast.tenant_credentials", loader=loader or DataLoader(), templar=None)
    return plugin.run(list(terms), variables=variables or {}, **kwargs)


def lookup_error(*args, **kwargs):
    with pytest.raises(AnsibleError) as info:
        lookup(*args, **kwargs)
    msg = str(info.value)
    assert SECRET not in msg and "cid-contoso" not in msg
    return msg


def test_lookup_reads_yaml_and_json(tmp_path, monkeypatch):
    path = tmp_path / "creds.yml"
    path.write_text(yaml.safe_dump(CREDS))
    assert lookup(terms=["contoso", "fabrikam"], file=str(path)) == [CREDS["contoso"], CREDS["fabrikam"]]
    assert lookup(file=str(path), field="client_secret") == [SECRET]
    path.write_text(json.dumps(CREDS))
    monkeypatch.setenv("MIMECAST_TENANT_CREDENTIALS_FILE", str(path))
    assert lookup(terms=["fabrikam"], field="client_id") == ["cid-fabrikam"]
    monkeypatch.delenv("MIMECAST_TENANT_CREDENTIALS_FILE")
    assert lookup(variables={"mimecast_tenant_credentials_file": str(path)}, field="client_id") == ["cid-contoso"]


def test_lookup_missing_tenant_names_it_and_the_fix(tmp_path):
    path = tmp_path / "creds.yml"
    path.write_text(yaml.safe_dump(CREDS))
    msg = lookup_error(terms=["northwind"], file=str(path), field="client_secret")
    assert "Tenant 'northwind' has no entry in the tenant credentials file" in msg
    assert "Add 'northwind: {client_id: ..., client_secret: ...}'" in msg and "AWX credential" in msg


def test_lookup_without_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv("MIMECAST_TENANT_CREDENTIALS_FILE", raising=False)
    assert lookup(terms=["a", "b"], optional=True) == [None, None]
    assert "No tenant credentials file" in lookup_error()
    monkeypatch.setenv("MIMECAST_TENANT_CREDENTIALS_FILE", "")   # an empty AWX value counts as unset
    assert lookup(optional=True) == [None]
    # configured but missing is an error even when optional
    assert "does not exist" in lookup_error(file=str(tmp_path / "nope.yml"), optional=True)


@pytest.mark.parametrize("text, expected", [
    ("contoso: {client_id: cid-contoso, client_secret: %s\n" % SECRET, "not valid YAML or JSON (line"),
    ("- %s\n" % SECRET, "must be a mapping of tenant name"),
    ("", "got nothing"),
    ("contoso: %s\n" % SECRET, "Tenant 'contoso' in the tenant credentials file"),
    ("contoso: {client_id: cid-contoso}\n", "has no client_secret"),
    ("contoso: {client_id: cid-contoso, client_secret: '  '}\n", "has no client_secret"),
    ("contoso: {client_id: cid-contoso, client_secret: %s, password: x}\n" % SECRET, "unknown keys password"),
])
def test_lookup_bad_files_never_show_a_value(tmp_path, text, expected):
    path = tmp_path / "creds.yml"
    path.write_text(text)
    assert expected in lookup_error(file=str(path))


def test_lookup_reads_a_vaulted_file(tmp_path):
    secrets = [("default", VaultSecret(b"vault-pass"))]
    path = tmp_path / "creds.vault.yml"
    path.write_bytes(VaultLib(secrets).encrypt(yaml.safe_dump(CREDS)))
    assert SECRET.encode() not in path.read_bytes()
    loader = DataLoader()
    loader.set_vault_secrets(secrets)
    assert lookup(loader=loader, file=str(path), field="client_secret") == [SECRET]
    msg = lookup_error(loader=DataLoader(), file=str(path))
    assert "Could not decrypt the tenant credentials file" in msg and "--ask-vault-pass" in msg
