# -*- coding: utf-8 -*-
"""Many tenants in one job: AWX-rendered credentials, the tenants inventory plugin, one playbook run."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from awx_harness import HIDDEN_PASSWORD, job_environment, load_credential_type
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AWX = ROOT / "extensions" / "awx"
TENANTS = ["fleet%02d" % n for n in range(1, 21)]
REGIONS = ["us", "eu", "de", "au"]
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
CAMPAIGN = {
    "phish_sim_allowlist_vendor": "dune_security",
    "phish_sim_allowlist_valid_from": (TODAY - datetime.timedelta(days=1)).isoformat(),
    "phish_sim_allowlist_valid_to": (TODAY + datetime.timedelta(days=30)).isoformat(),
    "phish_sim_allowlist_sender_addresses": ["simulations@dune-sim.example"],
    # The check-mode preflight doubles the module runs; it is tested in test_phish_sim_allowlist.py,
    # here the point is credentials per tenant, so the 20-tenant job stays within a few minutes.
    "phish_sim_allowlist_preflight": False,
}


def credential(name):
    """Distinct, greppable credentials per tenant (not the sandbox's name-derived defaults)."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return "cid-%s-%s" % (name, digest[:8]), "csecret-%s-%s" % (name, digest[8:40])


@pytest.fixture(scope="module")
def fleet():
    server = Sandbox(tenants={name: dict(zip(("client_id", "client_secret"), credential(name)))
                              for name in TENANTS}, page_size=50)
    server.base_url = server.start()
    yield server
    server.stop()


def link_domain(name):
    return "training-%s.dune-sim.example" % name


def write_registry(path, base_url, tenants=TENANTS):
    registry = {
        "plugin": "mailsec.mimecast.tenants",
        "defaults": {"base_url": base_url},
        "tenants": [{"name": name, "region": REGIONS[i % len(REGIONS)], "labels": ["wave%d" % (i % 2)],
                     "vars": {"phish_sim_allowlist_link_domains": [link_domain(name)]}}
                    for i, name in enumerate(tenants)],
    }
    path.write_text(yaml.safe_dump(registry, sort_keys=False))
    return path


def base_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIMECAST_", "ANSIBLE_"))}
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PIPELINING": "true",
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
    })
    return env


def run(cmd, env):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def recap(output):
    """{host: {ok, changed, unreachable, failed, ...}} from the PLAY RECAP."""
    return {m.group(1): {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
            for m in re.finditer(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M)}


def campaign_file(tmp_path, **extra):
    path = tmp_path / "campaign.yml"
    path.write_text(yaml.safe_dump(dict(CAMPAIGN, phish_sim_allowlist_runbook_dir=str(tmp_path / "runbooks"),
                                        **extra)))
    return path


def many_credential(tenants=TENANTS):
    mapping = {name: dict(zip(("client_id", "client_secret"), credential(name))) for name in tenants}
    return load_credential_type(AWX / "credential_type_mimecast_tenants.yml"), {"tenants": yaml.safe_dump(mapping)}


def test_harness_renders_injectors_like_awx(tmp_path):
    """The harness itself: env, safe env, file templates (single and named) and extra vars."""
    single = load_credential_type(AWX / "credential_type_mimecast.yml")
    env, safe_env, args = job_environment([(single, {"client_id": "cid", "client_secret": "sec"})], str(tmp_path))
    # an input left empty is not in AWX's namespace: the template renders "" (issue 11 item 4)
    assert env == {"MIMECAST_BASE_URL": "", "MIMECAST_CLIENT_ID": "cid", "MIMECAST_CLIENT_SECRET": "sec"}
    assert safe_env["MIMECAST_CLIENT_SECRET"] == HIDDEN_PASSWORD and args == []
    exo = load_credential_type(AWX / "credential_type_exchange_online.yml")
    env, safe_env, args = job_environment([(exo, {"tenant": "t.onmicrosoft.com", "app_id": "a",
                                                  "certificate": "PEM"})], str(tmp_path / "exo"))
    assert Path(env["EXO_CERTIFICATE_PATH"]).read_text() == "PEM" and env["EXO_CLIENT_SECRET"] == ""
    custom = {"name": "x", "inputs": {"fields": [{"id": "token", "type": "string", "secret": True},
                                                 {"id": "flag", "type": "boolean"}]},
              "injectors": {"extra_vars": {"api_token": "{{ token }}", "flag": "{{ flag }}"},
                            "env": {"PATH": "/evil", "X_FILE": "{{ tower.filename }}"},
                            "file": {"template": "t={{ token }}"}}}
    env, safe_env, args = job_environment([(custom, {"token": "tok"})], str(tmp_path / "custom"))
    assert "PATH" not in env and Path(env["X_FILE"]).read_text() == "t=tok"
    assert args[0] == "-e" and yaml.safe_load(Path(args[1][1:]).read_text()) == {"api_token": "tok", "flag": "False"}
    with pytest.raises(ValueError, match="one credential per credential type"):
        job_environment([(single, {"client_id": "a", "client_secret": "b"})] * 2, str(tmp_path / "two"))
    with pytest.raises(ValueError, match="required"):
        job_environment([(many_credential()[0], {"tenants": ""})], str(tmp_path / "empty"))


def test_inventory_plugin_builds_one_host_per_tenant(fleet, tmp_path):
    registry = write_registry(tmp_path / "fleet.mimecast_tenants.yml", fleet.base_url)
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(registry), "--list"], env=base_env(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    inventory = json.loads(proc.stdout)
    assert sorted(inventory["mimecast_tenants"]["hosts"]) == TENANTS
    assert sorted(inventory["region_eu"]["hosts"]) == TENANTS[1::4]
    assert sorted(inventory["label_wave1"]["hosts"]) == TENANTS[1::2]
    text = proc.stdout
    for name in TENANTS:
        for value in credential(name):
            assert value not in text
    hostvars = inventory["_meta"]["hostvars"]["fleet02"]
    assert "client_secret" not in json.dumps(hostvars)
    # the example registry shipped for users parses too
    example = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(AWX / "fleet.mimecast_tenants.yml"),
                              "--list"], env=base_env(tmp_path), capture_output=True, text=True, timeout=120,
                             check=False)
    assert example.returncode == 0 and "northwind" in example.stdout, example.stderr


def test_bad_registry_fails_the_inventory_update(fleet, tmp_path):
    """AWX inventory updates run with ANSIBLE_INVENTORY_UNPARSED_FAILED=True (github.com/ansible/awx
    awx/main/constants.py STANDARD_INVENTORY_UPDATE_ENV): a bad registry fails the update, naming the value."""
    registry = tmp_path / "bad.mimecast_tenants.yml"
    registry.write_text(yaml.safe_dump({"plugin": "mailsec.mimecast.tenants", "tenants": [
        {"name": "contoso", "region": "mars"}]}))
    env = dict(base_env(tmp_path), ANSIBLE_INVENTORY_UNPARSED_FAILED="True")
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", str(registry), "--list"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0
    assert "tenant 'contoso': unknown region 'mars'; the known regions are eu, de, us" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_twenty_tenants_one_job_twenty_credentials(fleet, tmp_path):
    """The Done-when of issue 11 item 2: one AWX-like job, 20 tenants, 20 credentials, -vvv without secrets."""
    fleet.reset()
    registry = write_registry(tmp_path / "fleet.mimecast_tenants.yml", fleet.base_url)
    private = tmp_path / "private_data_dir"
    env, safe_env, args = job_environment([many_credential()], str(private))
    cred_file = Path(env["MIMECAST_TENANT_CREDENTIALS_FILE"])
    assert cred_file.parent == private / "env" and stat.S_IMODE(cred_file.stat().st_mode) == 0o600
    assert safe_env == env  # the only injected variable is a path
    job_env = base_env(tmp_path)
    job_env.update(env)
    cmd = [str(BIN / "ansible-playbook"), "-i", str(registry), str(ROOT / "playbooks" / "phish_sim_allowlist.yml"),
           "-e", "@%s" % campaign_file(tmp_path), "-f", "8", "-vvv"] + args
    proc = run(cmd, job_env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]

    for name in TENANTS:
        client_id, client_secret = credential(name)
        assert client_secret not in output, "client secret of %s in the job output" % name
        requests = fleet.requests(name)
        tokens = [r for r in requests if r["path"].endswith("/oauth/token")]
        # every token this tenant's calls used was issued to its own client id, and to no other
        assert tokens and {r["body"]["client_id"] for r in tokens} == {client_id}
        assert all(r["status"] < 400 for r in requests), [r for r in requests if r["status"] >= 400]
        state = fleet.state(name)
        assert [u["domain"] for u in state["managed_urls"]] == [link_domain(name)]
        assert len(state["anti-spoofing"]) == 1 and len(state["greylisting"]) == 1
        assert len(fleet.writes(name)) == 5
        assert (tmp_path / "runbooks" / ("%s-dune_security.md" % name)).exists()
    assert [r for r in fleet.requests() if r["tenant"] is None] == []
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output  # -vvv printed the invocation, censored
    hosts = recap(proc.stdout)
    assert sorted(hosts) == TENANTS and all(h["failed"] == 0 and h["changed"] > 0 for h in hosts.values())


def test_missing_tenant_fails_that_tenant_only_naming_it(fleet, tmp_path):
    fleet.reset()
    present = TENANTS[:2]
    registry = write_registry(tmp_path / "fleet.mimecast_tenants.yml", fleet.base_url, tenants=present + ["fleet20"])
    env, dummy, args = job_environment([many_credential(present)], str(tmp_path / "private"))
    job_env = base_env(tmp_path)
    job_env.update(env)
    cmd = [str(BIN / "ansible-playbook"), "-i", str(registry), str(ROOT / "playbooks" / "phish_sim_allowlist.yml"),
           "-e", "@%s" % campaign_file(tmp_path), "-f", "4"] + args
    proc = run(cmd, job_env)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert {host for host, counts in recap(proc.stdout).items() if counts["failed"]} == {"fleet20"}
    assert "Tenant 'fleet20' has no entry in the tenant credentials file" in output
    assert fleet.writes("fleet20") == [] and fleet.requests("fleet20") == []
    for name in present:
        assert len(fleet.writes(name)) == 5
        assert credential(name)[1] not in output


def test_single_tenant_credential_type_still_works(fleet, tmp_path):
    """Single-tenant users: the one-tenant credential type's env, no inventory plugin, same playbook."""
    fleet.reset()
    name = TENANTS[4]
    client_id, client_secret = credential(name)
    single = load_credential_type(AWX / "credential_type_mimecast.yml")
    env, safe_env, args = job_environment(
        [(single, {"base_url": fleet.base_url, "client_id": client_id, "client_secret": client_secret})],
        str(tmp_path / "private"))
    assert safe_env["MIMECAST_CLIENT_SECRET"] == "*" * 10 and env["MIMECAST_CLIENT_SECRET"] == client_secret
    job_env = base_env(tmp_path)
    job_env.update(env)
    cmd = [str(BIN / "ansible-playbook"), "-i", "%s," % name, "-e", "mimecast_hosts=%s" % name, "-c", "local",
           str(ROOT / "playbooks" / "phish_sim_allowlist.yml"), "-e", "@%s" % campaign_file(
               tmp_path, phish_sim_allowlist_link_domains=[link_domain(name)])] + args
    proc = run(cmd, job_env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert len(fleet.writes(name)) == 5 and client_secret not in proc.stdout + proc.stderr
    assert [u["domain"] for u in fleet.state(name)["managed_urls"]] == [link_domain(name)]


def test_ansible_playbook_with_a_vaulted_credentials_file(fleet, tmp_path):
    """ansible-playbook users: the same mapping in an Ansible Vault-encrypted file, named by a variable
    (a missing vault password is tested in tests/unit/plugins/test_fleet.py)."""
    fleet.reset()
    tenants = TENANTS[6:7]
    registry = write_registry(tmp_path / "fleet.mimecast_tenants.yml", fleet.base_url, tenants=tenants)
    mapping = {name: dict(zip(("client_id", "client_secret"), credential(name))) for name in tenants}
    password = tmp_path / "vault-pass"
    password.write_text("fleet-vault-password\n")
    vaulted = tmp_path / "tenant-credentials.vault.yml"
    vaulted.write_bytes(VaultLib([("default", VaultSecret(b"fleet-vault-password"))]).encrypt(yaml.safe_dump(mapping)))
    cmd = [str(BIN / "ansible-playbook"), "-i", str(registry), str(ROOT / "playbooks" / "phish_sim_allowlist.yml"),
           "-e", "@%s" % campaign_file(tmp_path), "-e", "mimecast_tenant_credentials_file=%s" % vaulted,
           "--vault-password-file", str(password)]
    proc = run(cmd, base_env(tmp_path))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    for name in tenants:
        assert len(fleet.writes(name)) == 5
        tokens = [r for r in fleet.requests(name) if r["path"].endswith("/oauth/token")]
        assert tokens and {r["body"]["client_id"] for r in tokens} == {credential(name)[0]}
