# -*- coding: utf-8 -*-
"""The bad-input catalogue (tests/catalogue/*.yml): every case through a real ansible-playbook.

Each case states its expected outcome:

* ``refused``: the task fails, its message matches ``message`` (what is wrong and the fix), no traceback
  anywhere, and the sandbox saw no write at all (Mimecast or Exchange Online);
* ``accepted``: the play succeeds;
* ``warned``: the play succeeds and one of the warnings matches ``message``.

For every case, no credential of the tenant appears in the play's output or results.
The case format is documented in tests/catalogue/README.md.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml


CATALOGUE = Path(__file__).resolve().parents[1] / "catalogue"
EXPECTATIONS = ("refused", "accepted", "warned")
REQUIRED = ("id", "item", "input", "expect")
OPTIONAL = ("module", "args", "role", "vars", "base", "dns_records", "dns_faults", "check_mode", "message",
            "tenant", "seed")


def load_cases():
    cases = []
    for path in sorted(CATALOGUE.glob("*.yml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            case = dict(case, _file=path.name)
            cases.append(case)
    return cases


CASES = load_cases()


def test_catalogue_is_well_formed():
    """Unique ids, known keys, one target per case; a refusal or warning names what it expects."""
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for case in CASES:
        where = "%s: %s" % (case["_file"], case.get("id"))
        assert all(k in case for k in REQUIRED), where
        unknown = set(case) - set(REQUIRED) - set(OPTIONAL) - {"_file"}
        assert not unknown, "%s: unknown keys %s" % (where, sorted(unknown))
        assert case["expect"] in EXPECTATIONS, where
        assert bool(case.get("module")) != bool(case.get("role")), where + ": give module or role"
        if case["expect"] != "accepted":
            assert case.get("message"), where + ": a refusal or warning names the message it expects"
            re.compile(case["message"])


def _exo_base(sandbox, tenant):
    cfg = sandbox.tenants[tenant]
    return {"tenant": cfg["entra_tenant_id"], "app_id": cfg["entra_client_id"],
            "client_secret": cfg["entra_client_secret"], "exo_url": sandbox.url, "authority": sandbox.url}


def _task(case, sandbox, dns, tenant):
    base = {}
    if case.get("base") == "dns":
        host, port = dns.address
        base = {"nameservers": [host], "dns_port": port, "dns_timeout": 2}
    elif case.get("base") == "exo":
        base = _exo_base(sandbox, tenant)
    elif case.get("base"):
        raise AssertionError("unknown base %r" % case["base"])
    if case.get("module"):
        args = dict(base, **(case.get("args") or {}))
        return {"name": case["id"], case["module"]: args, "register": "out"}
    return {"name": case["id"], "ansible.builtin.include_role": {"name": case["role"]},
            "vars": dict(case.get("vars") or {})}


def _secrets(sandbox, tenant):
    cfg = sandbox.tenants[tenant]
    values = [cfg.get("client_secret"), cfg.get("app_key"), cfg.get("secret_key"), cfg.get("entra_client_secret")]
    return [v for v in values if v and len(v) >= 8]


def _messages(record):
    result = record["result"]
    texts = [str(result.get("msg") or "")]
    for sub in result.get("results") or []:
        if isinstance(sub, dict):
            texts.append(str(sub.get("msg") or ""))
    return texts


def _warnings(records):
    found = []
    for record in records:
        for warning in record["result"].get("warnings") or []:
            found.append(str(warning))
    return found


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, sandbox, play, dns):
    tenant = case.get("tenant") or "demo"
    for name, rtype, values in case.get("dns_records") or []:
        dns.set(name, rtype, values)
    for name, mode in case.get("dns_faults") or []:
        dns.fail(name, mode)
    for collection, items in (case.get("seed") or {}).items():
        sandbox.seed(tenant, collection, items)
    sandbox.clear_requests()
    result = play([_task(case, sandbox, dns, tenant)], tenant=tenant, check=bool(case.get("check_mode")))

    output = result.stdout + result.stderr + json.dumps(result.records, default=str)
    leaked = [s for s in _secrets(sandbox, tenant) if s in output]
    assert not leaked, "a credential of the tenant appears in the output"
    assert "Traceback (most recent call last)" not in output, output[-4000:]
    failed = [r for r in result.records if r["status"] == "failed"]
    for record in failed:
        assert not record["result"].get("module_stderr"), record["result"]
        assert "exception" not in record["result"] or "Traceback" not in str(record["result"]["exception"])

    message = re.compile(case.get("message") or "", re.IGNORECASE | re.DOTALL)
    if case["expect"] == "refused":
        assert result.rc != 0 and failed, "expected a refusal; the play succeeded:\n%s" % result.stdout[-3000:]
        texts = [t for r in failed for t in _messages(r)]
        assert any(message.search(t) for t in texts), "no failure message matches %r: %s" % (case["message"], texts)
        assert sandbox.writes() == [], "a refused input wrote: %s" % sandbox.writes()
        for record in failed:
            calls = record["result"].get("api_calls")
            if isinstance(calls, dict):
                assert calls.get("write", 0) == 0, calls
    else:
        assert result.rc == 0, "expected %s; the play failed:\n%s" % (case["expect"], [
            _messages(r) for r in failed] or result.stdout[-3000:] + result.stderr[-3000:])
        if case["expect"] == "warned":
            warnings = _warnings(result.records)
            assert any(message.search(w) for w in warnings), "no warning matches %r: %s" % (
                case["message"], warnings)
