# -*- coding: utf-8 -*-
"""`make demo`: the main job against local sandbox tenants, run twice.

Starts the sandbox (two tenants, "demo" and "acme"), writes a two-tenant inventory,
runs playbooks/phish_sim_allowlist.yml (a Dune Security campaign) twice with real
ansible-playbook, and shows that the first run changes both tenants while the second
reports changed=0 and makes no write. The console runbooks land in build/demo-runbooks/.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

from sandbox import Sandbox  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = ROOT / "playbooks" / "phish_sim_allowlist.yml"
EXTRA_VARS = ROOT / "playbooks" / "vars" / "phish_sim_example.yml"
RUNBOOKS = ROOT / "build" / "demo-runbooks"
# The role refuses a campaign without an end date or one that already ended: the demo's
# campaign runs from today for 30 days (the same dates on both runs).
TODAY = datetime.datetime.now(datetime.timezone.utc).date()
WINDOW = (TODAY.isoformat(), (TODAY + datetime.timedelta(days=30)).isoformat())
TENANTS = {"demo": ("mc-demo-client", "mc-demo-secret"), "acme": ("mc-acme-client", "mc-acme-secret")}


def inventory(base_url):
    lines = ["mimecast_tenants:", "  hosts:"]
    for name, (client_id, secret) in TENANTS.items():
        lines += [
            "    %s:" % name,
            "      mimecast_base_url: %s" % base_url,
            "      mimecast_client_id: %s" % client_id,
            "      mimecast_client_secret: %s" % secret,
        ]
    return "\n".join(lines) + "\n"


def run_playbook(inventory_file, label, token_cache):
    env = dict(os.environ)
    env["MIMECAST_TOKEN_CACHE_DIR"] = str(token_cache)  # this demo's sandbox only
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / "build" / "collections"))
    env.update({"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false"})
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory_file), str(PLAYBOOK),
           "-e", "@%s" % EXTRA_VARS, "-e", "phish_sim_allowlist_runbook_dir=%s" % RUNBOOKS,
           "-e", "phish_sim_allowlist_valid_from=%s" % WINDOW[0], "-e", "phish_sim_allowlist_valid_to=%s" % WINDOW[1]]
    print("\n=== %s: %s" % (label, " ".join(Path(c).name if c.startswith("/") else c for c in cmd)), flush=True)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    print(proc.stdout)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit("ansible-playbook failed (%d)" % proc.returncode)
    recap = {host: int(changed)
             for host, changed in re.findall(r"^(\w+)\s+: ok=\d+\s+changed=(\d+)", proc.stdout, re.M)}
    return recap


def main():
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as tmp:
        base_url = sandbox.url
        if not base_url:
            raise SystemExit("sandbox did not start")
        inv = Path(tmp) / "tenants.yml"
        inv.write_text(inventory(base_url))
        print("Local sandbox tenants at %s: %s" % (base_url, ", ".join(TENANTS)))
        first = run_playbook(inv, "First run", Path(tmp) / "token-cache")
        writes_first = len(sandbox.writes())
        sandbox.clear_requests()
        second = run_playbook(inv, "Second run (same input)", Path(tmp) / "token-cache")
        writes_second = len(sandbox.writes())
        reads_second = len([r for r in sandbox.requests() if not r["write"]])
        print("Summary")
        print("  first run : changed tasks per tenant %s, %d write call(s) to Mimecast" % (first, writes_first))
        print("  second run: changed tasks per tenant %s, %d write call(s), %d call(s) in all (tokens and reads)"
              % (second, writes_second, reads_second))
        for name in TENANTS:
            state = sandbox.state(name)
            print("  tenant %-5s: %d anti-spoofing, %d greylisting, %d managed URL(s), %d group(s); runbook %s"
                  % (name, len(state["anti-spoofing"]), len(state["greylisting"]), len(state["managed_urls"]),
                     len(state["groups"]), (RUNBOOKS / ("%s-dune_security.md" % name)).relative_to(ROOT)))
        steps = [line[3:] for line in (RUNBOOKS / "demo-dune_security.md").read_text().splitlines()
                 if line.startswith("## Step")]
        print("  console steps left (no Mimecast API): %s" % "; ".join(steps))
        ok = all(first.get(t) for t in TENANTS) and not any(second.values()) and writes_second == 0
        print("  result    : %s" % ("OK - idempotent: the second run changed nothing" if ok else "FAILED"))
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
