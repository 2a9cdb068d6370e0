# -*- coding: utf-8 -*-
"""Integration fixtures: a sandbox tenant and real ansible-playbook runs against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox import Sandbox
from sandbox.dns_server import DnsServer, mimecast_netblock_zone

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CREDENTIALS = {"demo": ("mc-demo-client", "mc-demo-secret"), "acme": ("mc-acme-client", "mc-acme-secret")}


@pytest.fixture(autouse=True)
def _own_caches(tmp_path, monkeypatch):
    """Every test's ansible-playbook runs get their own per-user cache directory (the modules' token cache
    lives there by default), so no test sees another test's tokens, whichever way it builds the environment."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="session")
def sandbox_server():
    server = Sandbox(page_size=3)
    server.base_url = server.start()
    yield server
    server.stop()


@pytest.fixture
def dns():
    """A local DNS server with Mimecast's netblock zone; ``dns.address`` is (host, port)."""
    server = DnsServer(mimecast_netblock_zone())
    server.address = server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


class PlayResult:
    def __init__(self, proc, records):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.records = records

    def task(self, name):
        found = [r for r in self.records if r["status"] != "skipped"
                 and (r["task"] == name or r["task"].endswith(" : " + name))]
        assert found, "no result for task %r; output:\n%s\n%s" % (name, self.stdout, self.stderr)
        return found[-1]["result"]

    @property
    def changed_count(self):
        return sum(1 for r in self.records if r["result"].get("changed"))


@pytest.fixture
def play(sandbox, tmp_path):
    """Run tasks (a list of dicts) as a playbook on localhost against the sandbox."""

    def run(tasks, tenant="demo", check=False, diff=False, secret=None, extra_env=None, playbook=None,
            extra_args=()):
        client_id, client_secret = CREDENTIALS[tenant]
        if playbook is None:
            playbook = tmp_path / "play.yml"
            playbook.write_text(yaml.safe_dump([{
                "name": "test play", "hosts": "localhost", "gather_facts": False, "tasks": tasks,
            }], sort_keys=False))
        record = tmp_path / "records.jsonl"
        if record.exists():
            record.unlink()
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
            "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).parent / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "RECORD_RESULTS_FILE": str(record),
            "MIMECAST_BASE_URL": sandbox.base_url,
            "MIMECAST_CLIENT_ID": client_id,
            "MIMECAST_CLIENT_SECRET": secret if secret is not None else client_secret,
            # The token cache of this test only: plays of one test share tokens, tests never do.
            "MIMECAST_TOKEN_CACHE_DIR": str(tmp_path / "token-cache"),
        })
        env.update(extra_env or {})
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        cmd.extend(extra_args)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
        records = []
        if record.exists():
            records = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
        return PlayResult(proc, records)

    return run


def module_task(module, task_name="t", **args):
    return {"name": task_name, module: args, "register": "out"}


def assert_declarative_cycle(play, sandbox, module, config, tenant="demo"):
    """check mode -> independent read -> apply -> re-apply (no write) -> diff. Returns the apply result."""
    before_state = sandbox.state(tenant)
    checked = play([module_task(module, config=config)], check=True, tenant=tenant)
    predicted = checked.task("t")
    assert checked.rc == 0, predicted
    assert predicted["changed"] is True and predicted["api_calls"]["write"] == 0
    assert sandbox.writes(tenant) == []
    assert sandbox.state(tenant) == before_state
    applied = play([module_task(module, config=config)], tenant=tenant)
    real = applied.task("t")
    assert applied.rc == 0, real
    assert [dict(a, id=None) for a in predicted["actions"]] == [dict(a, id=None) for a in real["actions"]]
    assert {k: dict(v, id=None) for k, v in predicted["after"].items()} == {
        k: dict(v, id=None) for k, v in real["after"].items()}
    assert len(sandbox.writes(tenant)) == real["api_calls"]["write"] > 0
    sandbox.clear_requests()
    again = play([module_task(module, config=config)], diff=True, tenant=tenant)
    result = again.task("t")
    assert again.rc == 0 and result["changed"] is False and result["actions"] == []
    assert sandbox.writes(tenant) == [] and result["api_calls"]["write"] == 0
    assert result["diff"]["before"] == result["diff"]["after"]
    return real


# ---------------------------------------------------------------- safety counts
# The bad-input catalogue (test_catalogue.py) and the fault suite (test_fault_suite.py) are
# counted at the end of the run (also under xdist: the controller sees every report) and the
# counts are kept in build/safety-counts.json for `make test` to print last.
SAFETY_SUITES = {"test_catalogue.py::test_case": "bad-input catalogue", "test_fault_suite.py::": "fault suite"}
SAFETY_COUNTS = ROOT / "build" / "safety-counts.json"


def _safety_suite(nodeid):
    for marker, suite in SAFETY_SUITES.items():
        if marker in nodeid:
            return suite
    return None


SAFETY = {}


def pytest_runtest_logreport(report):
    suite = _safety_suite(report.nodeid)
    if suite is None or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return
    counts = SAFETY.setdefault(suite, {"passed": 0, "failed": 0, "skipped": 0})
    counts[report.outcome] += 1


def pytest_terminal_summary(terminalreporter, config):
    if not SAFETY or hasattr(config, "workerinput"):
        return
    terminalreporter.section("safety suites")
    for suite, numbers in sorted(SAFETY.items()):
        total = sum(numbers.values())
        terminalreporter.write_line("%s: %d cases, %d as expected, %d not, %d skipped"
                                    % (suite, total, numbers["passed"], numbers["failed"], numbers["skipped"]))
    SAFETY_COUNTS.parent.mkdir(parents=True, exist_ok=True)
    SAFETY_COUNTS.write_text(json.dumps(SAFETY, indent=1, sort_keys=True))
