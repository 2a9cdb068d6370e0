# -*- coding: utf-8 -*-
"""Issue 11 item 3: outputs that survive. Reports and runbooks go to a directory the caller chooses
(default ~/mailsec-mimecast-output, never inside the collection) and come back in set_stats too.

The audit runs by FQCN from an installed, read-only copy of the collection."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from conftest import ROOT

SHIPPED = ("galaxy.yml", "meta", "plugins", "roles", "playbooks")


def custom_stats(stdout):
    """The custom stats the default callback prints with ANSIBLE_SHOW_CUSTOM_STATS (one JSON line)."""
    for line in stdout.splitlines():
        if line.strip().startswith("RUN: "):
            return json.loads(line.strip()[len("RUN: "):])
    raise AssertionError("no custom stats in the output:\n" + stdout[-3000:])


@pytest.fixture
def installed(tmp_path):
    """A read-only copy of the collection in its own collections path."""
    base = tmp_path / "collections"
    target = base / "ansible_collections" / "mailsec" / "mimecast"
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for folder, dirs, files in os.walk(base):
        for name in dirs + files + [""]:
            path = os.path.join(folder, name)
            os.chmod(path, os.stat(path).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield base
    for folder, dirs, dummy in os.walk(base):
        os.chmod(folder, os.stat(folder).st_mode | stat.S_IWUSR)


def tenants_inventory(sandbox, tmp_path):
    inventory = tmp_path / "tenants.yml"
    lines = ["mimecast_tenants:", "  hosts:"]
    for tenant in ("demo", "acme"):
        lines += ["    %s:" % tenant, "      mimecast_base_url: %s" % sandbox.url,
                  "      mimecast_client_id: mc-%s-client" % tenant,
                  "      mimecast_client_secret: mc-%s-secret" % tenant]
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def test_audit_by_fqcn_from_a_read_only_collection_writes_to_the_chosen_dir_and_set_stats(
        sandbox, play, dns, installed, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    host, port = dns.address
    args = ("-i", str(tenants_inventory(sandbox, tmp_path)),
            "-e", json.dumps({"audit_nameservers": [host], "audit_dns_port": port}))
    env = {"ANSIBLE_COLLECTIONS_PATH": str(installed), "ANSIBLE_SHOW_CUSTOM_STATS": "1", "HOME": str(home),
           "MAILSEC_MIMECAST_OUTPUT_DIR": ""}
    # The default: ~/mailsec-mimecast-output/audit (an empty MAILSEC_MIMECAST_OUTPUT_DIR counts as unset).
    result = play([], playbook="mailsec.mimecast.audit", extra_args=args, extra_env=env)
    assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
    reports = home / "mailsec-mimecast-output" / "audit"
    for tenant in ("demo", "acme"):
        for ext in ("json", "md", "html"):
            assert (reports / ("%s.%s" % (tenant, ext))).is_file()
    assert (reports / "summary.md").is_file() and len(list((reports / "history").glob("*.json"))) == 2
    stats = custom_stats(result.stdout)
    summary = stats["mailsec_mimecast_audit"]
    assert set(summary) == {"demo", "acme"}
    for tenant in ("demo", "acme"):
        on_disk = json.loads((reports / ("%s.json" % tenant)).read_text())
        assert summary[tenant]["score"] == on_disk["score"] and summary[tenant]["counts"] == on_disk["counts"]
        assert summary[tenant]["findings"] == {f["id"]: f["severity"] for f in on_disk["findings"]}
        assert summary[tenant]["report"] == str(reports / ("%s.html" % tenant))
    assert stats["mailsec_mimecast_audit_summary"]["report_dir"] == str(reports)
    assert stats["mailsec_mimecast_audit_summary"]["tenants"] == 2
    assert "mc-demo-secret" not in result.stdout and "report_html" not in json.dumps(stats)
    assert len(json.dumps(stats)) < 20000
    # Nothing was written into the installed collection.
    assert not list(installed.rglob("reports")) and not list(installed.rglob("*.html"))

    # The environment variable, then the variable, choose the directory.
    chosen = tmp_path / "chosen"
    result = play([], playbook="mailsec.mimecast.audit", extra_args=args,
                  extra_env=dict(env, MAILSEC_MIMECAST_OUTPUT_DIR=str(chosen)))
    assert result.rc == 0 and (chosen / "audit" / "summary.html").is_file()
    other = tmp_path / "other"
    result = play([], playbook="mailsec.mimecast.audit", extra_env=env,
                  extra_args=args + ("-e", "mailsec_mimecast_output_dir=%s" % other))
    assert result.rc == 0 and (other / "audit" / "demo.md").is_file()
    assert custom_stats(result.stdout)["mailsec_mimecast_audit_summary"]["report_dir"] == str(other / "audit")
    assert sandbox.writes() == []


def test_phish_role_runbook_goes_to_the_output_dir_and_set_stats(sandbox, play, tmp_path):
    from test_phish_sim_allowlist import role

    home = tmp_path / "home"
    home.mkdir()
    tasks = role(tmp_path / "unused")
    del tasks[0]["vars"]["phish_sim_allowlist_runbook_dir"]
    result = play(tasks, extra_env={"HOME": str(home), "ANSIBLE_SHOW_CUSTOM_STATS": "1",
                                    "MAILSEC_MIMECAST_OUTPUT_DIR": ""})
    assert result.rc == 0, result.stdout[-3000:]
    runbook = home / "mailsec-mimecast-output" / "runbooks" / "demo-dune_security.md"
    assert runbook.is_file()
    entry = custom_stats(result.stdout)["mailsec_mimecast_runbooks"]["demo"]["phish_sim_allowlist"]
    assert entry["file"] == str(runbook) and entry["profile"] == "dune_security" and entry["state"] == "present"
    assert entry["markdown"].strip() == runbook.read_text().strip() and "## Step 1" in entry["markdown"]
    # The same text is in the task result (AWX job events).
    assert result.task("Return the runbook (task result and set_stats, for AWX without file access)")[
        "ansible_stats"]["data"]["mailsec_mimecast_runbooks"]["demo"]["phish_sim_allowlist"]["file"] == str(runbook)

    chosen = tmp_path / "chosen"
    again = play(tasks, extra_env={"HOME": str(home), "MAILSEC_MIMECAST_OUTPUT_DIR": str(chosen)})
    assert again.rc == 0 and (chosen / "runbooks" / "demo-dune_security.md").read_text() == runbook.read_text()


def test_firewall_role_google_runbook_in_set_stats(sandbox, play, dns, tmp_path):
    host, port = dns.address
    variables = {"firewall_lockdown_firewall": False, "firewall_lockdown_region": ["za"],
                 "firewall_lockdown_nameservers": [host], "firewall_lockdown_dns_port": port,
                 "firewall_lockdown_google": True, "firewall_lockdown_google_domains": ["corp.example"],
                 "firewall_lockdown_mx_check": False, "firewall_lockdown_tenant": "demo",
                 "mailsec_mimecast_output_dir": str(tmp_path / "out")}
    tasks = [{"name": "role", "ansible.builtin.include_role": {"name": "mailsec.mimecast.firewall_lockdown"},
              "vars": variables}]
    result = play(tasks, extra_env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert result.rc == 0, result.stdout[-3000:]
    runbook = tmp_path / "out" / "runbooks" / "demo-google-inbound-gateway.md"
    entry = custom_stats(result.stdout)["mailsec_mimecast_runbooks"]["demo"]["firewall_lockdown_google"]
    assert entry["file"] == str(runbook) and entry["markdown"].strip() == runbook.read_text().strip()
    assert "`41.74.192.0/21`" in entry["markdown"]
