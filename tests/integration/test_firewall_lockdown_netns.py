# -*- coding: utf-8 -*-
"""firewall_lockdown's host-firewall part (tasks/firewall.yml) for real, in throw-away network namespaces.

nftables and iptables+ipset: each test makes its own namespace (loopback only: every address used
lives inside it), starts TCP listeners there, runs firewall.yml in it with
``ip netns exec NS ansible-playbook`` and connects from a "Mimecast" source and from a disallowed
one; state present/absent, idempotency, drift and check mode are checked against ``nft list
ruleset`` / ``iptables -S`` / ``ipset`` taken before the role. Needs root, ``ip`` and ``nft``
(``make system-deps`` installs them on Debian); the iptables tests also need iptables, ip6tables
and ipset. Without them the tests skip and say why.

firewalld needs D-Bus and a running daemon, which a test machine does not have: its tasks run end
to end against a test double of firewall-cmd/firewall-offline-cmd (tests/integration/firewall/
fake_firewalld.py) with /etc overlaid in a private mount namespace, which checks the role's logic
and the XML it writes, not firewalld itself.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import stat
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
NETPROBE = HERE / "firewall" / "netprobe.py"
CALLBACKS = HERE / "callback_plugins"

# Addresses, all on the namespace's loopback.
SERVER4, MIMECAST4, OTHER4 = "192.0.2.1", "205.139.110.10", "198.51.100.20"
SERVER6, MIMECAST6, OTHER6 = "2001:db8:1::1", "2001:db8:25::10", "2001:db8:99::20"
ALLOWED_V4 = ["205.139.110.0/24", "207.211.30.0/24"]
ALLOWED_V6 = ["2001:db8:25::/48"]
SMTP, MGMT = 25, 2222
CONNECT_TIMEOUT = 1.0
PLAY_TIMEOUT = 240
CMD_TIMEOUT = 30
LISTENER_LIFETIME = 600

UNRELATED_TABLE = """\
table inet unrelated_test {
    set blocked { type ipv4_addr; flags interval; elements = { 203.0.113.0/24 } }
    chain input { type filter hook input priority 10; policy accept; ip saddr @blocked drop; }
}
"""


def _missing(*tools):
    return [t for t in tools if shutil.which(t) is None]


def _skip_reason(*tools):
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables); run as root after `make system-deps`"
    missing = _missing("ip", *tools)
    if missing:
        return "missing %s: run `make system-deps` (as root on Debian)" % ", ".join(missing)
    return None


_NFT_SKIP = _skip_reason("nft")
_IPT_SKIP = _skip_reason("nft", "iptables", "ip6tables", "ipset")


def _run(cmd, timeout=CMD_TIMEOUT, check=True, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError("%s failed (rc %s):\n%s\n%s" % (" ".join(map(str, cmd)), proc.returncode,
                                                             proc.stdout, proc.stderr))
    return proc


class Netns:
    """A network namespace with loopback aliases and TCP listeners on SMTP and MGMT."""

    def __init__(self, tmp_path):
        self.name = "mmfw-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.tmp = tmp_path
        self.listener = None
        _run(["ip", "netns", "add", self.name])

    def exec(self, *cmd, **kwargs):
        return _run(["ip", "netns", "exec", self.name, *cmd], **kwargs)

    def setup(self):
        self.exec("ip", "link", "set", "lo", "up")
        for addr in (SERVER4, MIMECAST4, OTHER4):
            self.exec("ip", "addr", "add", addr + "/32", "dev", "lo")
        for addr in (SERVER6, MIMECAST6, OTHER6):
            self.exec("ip", "-6", "addr", "add", addr + "/128", "dev", "lo", "nodad")
        self.listener = subprocess.Popen(
            ["ip", "netns", "exec", self.name, sys.executable, str(NETPROBE), "serve",
             str(LISTENER_LIFETIME), str(SMTP), str(MGMT)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = select.select([self.listener.stdout], [], [], CMD_TIMEOUT)[0]
        line = self.listener.stdout.readline() if ready else ""  # "ready", or EOF when it died
        assert line.strip() == "ready", "listener did not start within %ss" % CMD_TIMEOUT

    def probe(self, *triples):
        args = [str(x) for triple in triples for x in triple]
        timeout = CMD_TIMEOUT + CONNECT_TIMEOUT
        proc = self.exec(sys.executable, str(NETPROBE), "probe", str(CONNECT_TIMEOUT), *args, timeout=timeout)
        return json.loads(proc.stdout)

    def reachable(self):
        """Which of the interesting connections go through, as a dict."""
        names = ["mimecast4_smtp", "other4_smtp", "mimecast6_smtp", "other6_smtp", "other4_mgmt", "other6_mgmt"]
        results = self.probe((MIMECAST4, SERVER4, SMTP), (OTHER4, SERVER4, SMTP),
                             (MIMECAST6, SERVER6, SMTP), (OTHER6, SERVER6, SMTP),
                             (OTHER4, SERVER4, MGMT), (OTHER6, SERVER6, MGMT))
        return dict(zip(names, results))

    def ruleset(self):
        return self.exec("nft", "list", "ruleset").stdout

    def close(self):
        if self.listener is not None and self.listener.poll() is None:
            self.listener.terminate()
            try:
                self.listener.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.listener.kill()
                self.listener.wait(timeout=5)
        if self.listener is not None:
            self.listener.stdout.close()
            self.listener.stderr.close()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=CMD_TIMEOUT, check=False)


@pytest.fixture
def netns(tmp_path):
    ns = Netns(tmp_path)
    try:
        ns.setup()
        yield ns
    finally:
        ns.close()


class Play:
    def __init__(self, proc, records):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.records = records

    @property
    def changed(self):
        return [r["task"] for r in self.records if r["result"].get("changed")]

    @property
    def failed(self):
        return [r for r in self.records if r["status"] == "failed"]


def firewall_vars(backup_dir, **overrides):
    values = {
        "firewall_lockdown_state": "present",
        "firewall_lockdown_backend": "nftables",
        "firewall_lockdown_v4": ALLOWED_V4,
        "firewall_lockdown_v6": ALLOWED_V6,
        "firewall_lockdown_ports": [SMTP],
        "firewall_lockdown_management": [{"port": MGMT, "sources": ["0.0.0.0/0", "::/0"]}],
        "firewall_lockdown_table": "mailsec_mimecast",
        "firewall_lockdown_set": "mimecast",
        "firewall_lockdown_backup_dir": str(backup_dir),
    }
    values.update(overrides)
    return values


def run_role(ns, tmp_path, fw_vars, check=False, name="play", prefix=None, extra_env=None, tasks_from="firewall.yml",
             extra_args=()):
    """Run the role's firewall.yml (or TASKS_FROM) inside the namespace (or under PREFIX, a command list)."""
    playbook = tmp_path / ("%s.yml" % name)
    playbook.write_text(yaml.safe_dump([{
        "name": "firewall lockdown test", "hosts": "localhost", "gather_facts": False,
        "tasks": [{
            "name": "Firewall part of the role",
            "ansible.builtin.include_role": {"name": "mailsec.mimecast.firewall_lockdown",
                                             "tasks_from": tasks_from},
            "vars": fw_vars,
        }],
    }], sort_keys=False))
    record = tmp_path / ("%s.jsonl" % name)
    if record.exists():
        record.unlink()
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "record_results",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "RECORD_RESULTS_FILE": str(record),
    })
    env.update(extra_env or {})
    prefix = prefix if prefix is not None else ["ip", "netns", "exec", ns.name]
    cmd = prefix + [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    if check:
        cmd += ["--check", "--diff"]
    cmd += list(extra_args)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT, check=False)
    print("%s %s%s: %.1fs" % (name, fw_vars.get("firewall_lockdown_state"), " --check" if check else "",
                              time.monotonic() - started))
    records = [json.loads(line) for line in record.read_text().splitlines() if line.strip()] if record.exists() else []
    return Play(proc, records)


LOCKED = {"mimecast4_smtp": True, "other4_smtp": False, "mimecast6_smtp": True, "other6_smtp": False,
          "other4_mgmt": True, "other6_mgmt": True}
OPEN = dict.fromkeys(LOCKED, True)


# ------------------------------------------------------------------------------ nftables

@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
class TestNftables:
    def test_apply_idempotent_drift_absent(self, netns, tmp_path):
        backup = tmp_path / "backup"
        netns.exec("nft", "-f", "-", input=UNRELATED_TABLE)
        before = netns.ruleset()
        assert "unrelated_test" in before
        assert netns.reachable() == OPEN

        first = run_role(netns, tmp_path, firewall_vars(backup))
        assert first.rc == 0, first.output
        assert first.changed, first.output
        assert netns.reachable() == LOCKED
        after = netns.ruleset()
        assert "table inet mailsec_mimecast" in after
        # The unrelated table is exactly as it was.
        unrelated = netns.exec("nft", "list", "table", "inet", "unrelated_test").stdout
        assert unrelated.strip() in before
        assert (backup / "mailsec_mimecast.nft").exists()
        assert oct((backup / "mailsec_mimecast.nft").stat().st_mode & 0o777) == "0o600"

        second = run_role(netns, tmp_path, firewall_vars(backup))
        assert second.rc == 0, second.output
        assert second.changed == [], second.output
        assert netns.ruleset() == after

        # Drift: an element added by hand, then the whole table deleted by hand.
        netns.exec("nft", "add", "element", "inet", "mailsec_mimecast", "mimecast_v4", "{ 198.51.100.0/24 }")
        assert netns.reachable()["other4_smtp"] is True
        fixed = run_role(netns, tmp_path, firewall_vars(backup))
        assert fixed.rc == 0 and fixed.changed, fixed.output
        assert netns.ruleset() == after
        netns.exec("nft", "delete", "table", "inet", "mailsec_mimecast")
        fixed = run_role(netns, tmp_path, firewall_vars(backup))
        assert fixed.rc == 0 and fixed.changed, fixed.output
        assert netns.ruleset() == after
        assert netns.reachable() == LOCKED

        # New ranges: the table is replaced, the other source is let in.
        wider = firewall_vars(backup, firewall_lockdown_v4=ALLOWED_V4 + ["198.51.100.0/24"])
        widened = run_role(netns, tmp_path, wider)
        assert widened.rc == 0 and widened.changed, widened.output
        assert netns.reachable() == dict(LOCKED, other4_smtp=True)

        # Check mode of absent: reports the delete, does it not.
        locked = netns.ruleset()
        checked = run_role(netns, tmp_path, firewall_vars(backup, firewall_lockdown_state="absent"), check=True)
        assert checked.rc == 0 and checked.changed, checked.output
        assert netns.ruleset() == locked and (backup / "mailsec_mimecast.nft").exists()

        removed = run_role(netns, tmp_path, firewall_vars(backup, firewall_lockdown_state="absent"))
        assert removed.rc == 0 and removed.changed, removed.output
        assert netns.ruleset() == before
        assert netns.reachable() == OPEN
        assert not (backup / "mailsec_mimecast.nft").exists()
        assert not (backup / "mailsec_mimecast.applied").exists()
        again = run_role(netns, tmp_path, firewall_vars(backup, firewall_lockdown_state="absent"))
        assert again.rc == 0 and again.changed == [], again.output
        assert netns.ruleset() == before

    def test_check_mode_changes_nothing(self, netns, tmp_path):
        backup = tmp_path / "backup"
        netns.exec("nft", "-f", "-", input=UNRELATED_TABLE)
        before = netns.ruleset()
        checked = run_role(netns, tmp_path, firewall_vars(backup), check=True)
        assert checked.rc == 0, checked.output
        assert "Nftables | Replace the table in one transaction" in " ".join(checked.changed), checked.output
        assert netns.ruleset() == before
        assert not backup.exists()
        assert netns.reachable() == OPEN

    def test_empty_v6_blocks_all_ipv6(self, netns, tmp_path):
        backup = tmp_path / "backup"
        result = run_role(netns, tmp_path, firewall_vars(backup, firewall_lockdown_v6=[]))
        assert result.rc == 0, result.output
        assert netns.reachable() == dict(LOCKED, mimecast6_smtp=False)

    @pytest.mark.parametrize("overrides, message", [
        ({"firewall_lockdown_ports": [SMTP, MGMT]}, "are both in firewall_lockdown_ports and in firewall_lockdown_management"),
        ({"firewall_lockdown_v4": [], "firewall_lockdown_v6": []}, "both empty"),
        ({"firewall_lockdown_v4": ["205.139.110.0/24", "not-a-cidr"]}, "not-a-cidr"),
        ({"firewall_lockdown_management": [{"port": MGMT, "sources": ["anywhere"]}]}, "anywhere"),
    ], ids=["management-port", "no-ranges", "bad-cidr", "bad-management-source"])
    def test_refuses_bad_input(self, netns, tmp_path, overrides, message):
        before = netns.ruleset()
        result = run_role(netns, tmp_path, firewall_vars(tmp_path / "backup", **overrides))
        assert result.rc != 0
        assert message in result.output, result.output
        assert netns.ruleset() == before
        assert not (tmp_path / "backup").exists()

    def test_refuses_foreign_table(self, netns, tmp_path):
        netns.exec("nft", "add", "table", "inet", "mailsec_mimecast")
        before = netns.ruleset()
        for state in ("present", "absent"):
            result = run_role(netns, tmp_path, firewall_vars(tmp_path / "backup", firewall_lockdown_state=state))
            assert result.rc != 0
            assert "did not make it" in result.output, result.output
            assert netns.ruleset() == before


# ------------------------------------------------------------------------------ iptables + ipset

UNRELATED_IPTABLES = ["-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "ACCEPT"]


def iptables_state(ns):
    """Everything the iptables backend could touch, as text."""
    return {
        "iptables": ns.exec("iptables", "-w", "10", "-S").stdout,
        "ip6tables": ns.exec("ip6tables", "-w", "10", "-S").stdout,
        "ipsets": sorted(ns.exec("ipset", "list", "-n").stdout.split()),
        "unrelated_set": ns.exec("ipset", "list", "unrelated_test").stdout.split("Members:")[-1],
    }


def iptables_vars(backup_dir, **overrides):
    return firewall_vars(backup_dir, firewall_lockdown_backend="iptables", **overrides)


@pytest.fixture
def ipt_netns(netns):
    """The namespace with rules and a set that were there before the role (and must stay)."""
    netns.exec("iptables", "-w", "10", *UNRELATED_IPTABLES)
    netns.exec("ip6tables", "-w", "10", *UNRELATED_IPTABLES)
    netns.exec("ipset", "create", "unrelated_test", "hash:ip")
    netns.exec("ipset", "add", "unrelated_test", "203.0.113.7")
    return netns


@pytest.mark.skipif(_IPT_SKIP is not None, reason=_IPT_SKIP or "")
class TestIptables:
    def test_apply_idempotent_drift_absent(self, ipt_netns, tmp_path):
        ns, backup = ipt_netns, tmp_path / "backup"
        before = iptables_state(ns)
        assert ns.reachable() == OPEN

        first = run_role(ns, tmp_path, iptables_vars(backup))
        assert first.rc == 0, first.output
        assert first.changed, first.output
        assert ns.reachable() == LOCKED
        after = iptables_state(ns)
        for tool in ("iptables", "ip6tables"):
            lines = after[tool].splitlines()
            jumps = [line for line in lines if line.startswith("-A INPUT") and "-j MAILSEC-MIMECAST" in line]
            unrelated = [line for line in lines if line.startswith("-A INPUT") and "--dport 8080" in line]
            # One jump, ahead of the host's own rules.
            assert len(jumps) == 1 and lines.index(jumps[0]) < lines.index(unrelated[0]), after[tool]
            assert "--dports 25 " in jumps[0]
            chain = [line for line in lines if line.startswith("-A MAILSEC-MIMECAST")]
            assert [line.split()[-1] for line in chain] == ["RETURN", "RETURN", "RETURN", "DROP"], chain
            assert "--match-set mimecast_v%s src" % ("4" if tool == "iptables" else "6") in chain[2]
        assert "unrelated_test" in after["ipsets"] and after["unrelated_set"] == before["unrelated_set"]
        assert "add mimecast_v4 205.139.110.0/24" in ns.exec("ipset", "save", "mimecast_v4").stdout

        second = run_role(ns, tmp_path, iptables_vars(backup))
        assert second.rc == 0, second.output
        assert second.changed == [], second.output
        assert iptables_state(ns) == after

        # Drift: the DROP deleted by hand, the set emptied by hand.
        ns.exec("iptables", "-w", "10", "-D", "MAILSEC-MIMECAST", "4")
        ns.exec("ipset", "flush", "mimecast_v6")
        assert ns.reachable()["other4_smtp"] is True and ns.reachable()["mimecast6_smtp"] is False
        fixed = run_role(ns, tmp_path, iptables_vars(backup))
        assert fixed.rc == 0 and fixed.changed, fixed.output
        assert iptables_state(ns) == after
        assert ns.reachable() == LOCKED

        # Other ports: the old jump is replaced, not kept next to the new one.
        # and no IPv6 range: the IPv6 set is empty, no IPv6 source reaches the port.
        more = run_role(ns, tmp_path, iptables_vars(backup, firewall_lockdown_ports=[SMTP, 2525], firewall_lockdown_v6=[]))
        assert more.rc == 0 and more.changed, more.output
        jumps = [line for line in ns.exec("iptables", "-S", "INPUT").stdout.splitlines() if "MAILSEC-MIMECAST" in line]
        assert len(jumps) == 1 and "--dports 25,2525" in jumps[0], jumps
        assert ns.exec("ipset", "save", "mimecast_v6").stdout.count("add ") == 0
        assert ns.reachable() == dict(LOCKED, mimecast6_smtp=False)

        # Check mode of absent: reports, does not remove.
        locked = iptables_state(ns)
        checked = run_role(ns, tmp_path, iptables_vars(backup, firewall_lockdown_state="absent"), check=True)
        assert checked.rc == 0 and checked.changed, checked.output
        assert iptables_state(ns) == locked

        removed = run_role(ns, tmp_path, iptables_vars(backup, firewall_lockdown_state="absent"))
        assert removed.rc == 0 and removed.changed, removed.output
        assert iptables_state(ns) == before
        assert ns.reachable() == OPEN
        assert not (backup / "mimecast.ipset").exists()
        again = run_role(ns, tmp_path, iptables_vars(backup, firewall_lockdown_state="absent"))
        assert again.rc == 0 and again.changed == [], again.output
        assert iptables_state(ns) == before

    def test_refuses_foreign_set(self, ipt_netns, tmp_path):
        ipt_netns.exec("ipset", "create", "mimecast_v4", "hash:ip")
        before = iptables_state(ipt_netns)
        result = run_role(ipt_netns, tmp_path, iptables_vars(tmp_path / "backup"))
        assert result.rc != 0
        assert "so this role did not make it" in result.output, result.output
        assert iptables_state(ipt_netns) == before

    def test_check_mode_changes_nothing(self, ipt_netns, tmp_path):
        ns, backup = ipt_netns, tmp_path / "backup"
        before = iptables_state(ns)
        checked = run_role(ns, tmp_path, iptables_vars(backup), check=True)
        assert checked.rc == 0, checked.output
        assert checked.changed, checked.output
        assert iptables_state(ns) == before
        assert not backup.exists()
        assert ns.reachable() == OPEN


# ------------------------------------------------------------------------------ firewalld (test double)

PUBLIC_ZONE = """<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <service name="ssh"/>
  <service name="dhcpv6-client"/>
  <service name="smtp"/>
  <port protocol="tcp" port="25"/>
  <port protocol="tcp" port="8080"/>
</zone>
"""


def _fwd_skip_reason():
    if os.geteuid() != 0:
        return "needs root (a private mount namespace with an overlay over /etc)"
    if shutil.which("unshare") is None:
        return "missing unshare (util-linux)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay filesystem"
    return None


_FWD_SKIP = _fwd_skip_reason()


class OverlayEtc:
    """/etc as an overlay (changes land in ``upper``) in a private mount namespace, with the
    firewall-cmd/firewall-offline-cmd test double first on PATH."""

    def __init__(self, tmp_path):
        self.upper, self.work, self.bin = tmp_path / "etc-upper", tmp_path / "etc-work", tmp_path / "fake-bin"
        self.log = tmp_path / "firewalld.log"
        for path in (self.upper / "firewalld" / "zones", self.upper / "firewalld" / "ipsets", self.work, self.bin):
            path.mkdir(parents=True)
        (self.upper / "firewalld" / "zones" / "public.xml").write_text(PUBLIC_ZONE)
        for tool in ("firewall-cmd", "firewall-offline-cmd"):
            wrapper = self.bin / tool
            wrapper.write_text('#!/bin/sh\nexec %s %s %s "$@"\n' % (sys.executable, HERE / "firewall" / "fake_firewalld.py", tool))
            wrapper.chmod(0o755)
        self.prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                       'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0,workdir=$1" /etc && shift && exec "$@"',
                       str(self.upper), str(self.work)]
        self.env = {"PATH": "%s:%s" % (self.bin, os.environ.get("PATH", "")), "FAKE_FIREWALLD_LOG": str(self.log)}

    def path(self, relative):
        """The file under /etc/firewalld as the overlay shows it, or None (absent or deleted)."""
        path = self.upper / "firewalld" / relative
        if not path.exists() or stat.S_ISCHR(path.stat().st_mode):
            return None
        return path

    def tree(self):
        return {str(p.relative_to(self.upper)): (p.read_bytes() if p.is_file() else None)
                for p in sorted(self.upper.rglob("*"))}

    def zone(self, name):
        root = ET.parse(self.path("zones/%s.xml" % name)).getroot()
        return ({s.get("name") for s in root.findall("service")},
                {"%s/%s" % (p.get("port"), p.get("protocol")) for p in root.findall("port")})


@pytest.mark.skipif(_FWD_SKIP is not None, reason=_FWD_SKIP or "")
class TestFirewalldWithTestDouble:
    """The firewalld tasks end to end, against a test double of firewall-(offline-)cmd: a real
    firewalld needs D-Bus and a running daemon, so this checks the role's logic (record, close,
    restore, idempotency, check mode) and the XML it writes, not firewalld itself."""

    def run(self, etc, tmp_path, backup, check=False, **overrides):
        fw_vars = firewall_vars(backup, firewall_lockdown_backend="firewalld", **overrides)
        return run_role(None, tmp_path, fw_vars, check=check, prefix=etc.prefix, extra_env=etc.env)

    def test_cycle(self, tmp_path):
        etc, backup = OverlayEtc(tmp_path), tmp_path / "backup"
        pristine = etc.tree()
        original = etc.zone("public")

        checked = self.run(etc, tmp_path, backup, check=True)
        assert checked.rc == 0 and checked.changed, checked.output
        assert etc.tree() == pristine and not backup.exists()

        first = self.run(etc, tmp_path, backup)
        assert first.rc == 0 and first.changed, first.output
        zone = ET.parse(etc.path("zones/mailsec_mimecast.xml")).getroot()
        assert [s.get("ipset") for s in zone.findall("source")] == ["mimecast_v4", "mimecast_v6"]
        assert [(p.get("port"), p.get("protocol")) for p in zone.findall("port")] == [("25", "tcp")]
        rules = [(r.get("family"), r.find("source").get("address"), r.find("port").get("port"),
                  r.find("accept") is not None) for r in zone.findall("rule")]
        assert rules == [("ipv4", "0.0.0.0/0", str(MGMT), True), ("ipv6", "::/0", str(MGMT), True)]
        for family, option, cidrs in (("v4", "inet", ALLOWED_V4), ("v6", "inet6", ALLOWED_V6)):
            ipset = ET.parse(etc.path("ipsets/mimecast_%s.xml" % family)).getroot()
            assert ipset.get("type") == "hash:net"
            assert ipset.find("option").attrib == {"name": "family", "value": option}
            assert [e.text for e in ipset.findall("entry")] == cidrs
        assert etc.zone("public") == ({"ssh", "dhcpv6-client"}, {"8080/tcp"})
        record = json.loads((backup / "firewalld-mailsec_mimecast.json").read_text())
        assert record == {"zone": "public", "services": ["smtp"], "ports": ["25/tcp"]}
        calls = etc.log.read_text()
        assert "firewall-offline-cmd --check-config" in calls and "--reload" not in calls

        second = self.run(etc, tmp_path, backup)
        assert second.rc == 0 and second.changed == [], second.output

        # Empty IPv6 list: an ipset without entries, still valid.
        no_v6 = self.run(etc, tmp_path, backup, firewall_lockdown_v6=[])
        assert no_v6.rc == 0 and no_v6.changed, no_v6.output
        assert ET.parse(etc.path("ipsets/mimecast_v6.xml")).getroot().findall("entry") == []

        removed = self.run(etc, tmp_path, backup, firewall_lockdown_state="absent")
        assert removed.rc == 0 and removed.changed, removed.output
        assert etc.zone("public") == original
        for relative in ("zones/mailsec_mimecast.xml", "ipsets/mimecast_v4.xml", "ipsets/mimecast_v6.xml"):
            assert etc.path(relative) is None, relative
        assert not (backup / "firewalld-mailsec_mimecast.json").exists()
        again = self.run(etc, tmp_path, backup, firewall_lockdown_state="absent")
        assert again.rc == 0 and again.changed == [], again.output


# ------------------------------------------------------------------------------ the whole role

@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
def test_whole_role_with_the_mimecast_snapshot(netns, tmp_path):
    """main.yml end to end: Mimecast's US ranges (offline snapshot) -> nftables lockdown -> absent."""
    before = netns.ruleset()
    fw_vars = {"firewall_lockdown_region": ["us"], "firewall_lockdown_range_source": "snapshot",
               "firewall_lockdown_ports": [SMTP],
               "firewall_lockdown_management": [{"port": MGMT, "sources": ["0.0.0.0/0", "::/0"]}],
               "firewall_lockdown_backup_dir": str(tmp_path / "backup")}
    playbook = tmp_path / "whole.yml"
    playbook.write_text(yaml.safe_dump([{"name": "whole role", "hosts": "localhost", "gather_facts": False,
                                         "roles": [{"role": "mailsec.mimecast.firewall_lockdown", "vars": fw_vars}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")
    cmd = ["ip", "netns", "exec", netns.name, str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT, check=False)
    assert first.returncode == 0, first.stdout[-3000:]
    reach = netns.reachable()
    # 205.139.110.0/24 is in the US snapshot; the US records list no IPv6, so IPv6 port 25 is closed.
    assert reach["mimecast4_smtp"] is True and reach["other4_smtp"] is False
    assert reach["mimecast6_smtp"] is False and reach["other4_mgmt"] is True
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT, check=False)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout[-3000:]
    absent = subprocess.run(cmd + ["-e", "firewall_lockdown_state=absent"], env=env, capture_output=True, text=True,
                            timeout=PLAY_TIMEOUT, check=False)
    assert absent.returncode == 0, absent.stdout[-3000:]
    assert netns.ruleset() == before


# ------------------------------------------------------------------------------ issue 8: check mode, guards

def _same_changes(run, label):
    """Check mode then the real run: the same changed tasks (issue 8 item 13)."""
    checked = run(True)
    real = run(False)
    assert checked.rc == 0 and real.rc == 0, checked.output + real.output
    assert checked.changed == real.changed, "%s: check mode %s, real run %s" % (label, checked.changed, real.changed)
    return real


@pytest.mark.skipif(_IPT_SKIP is not None, reason=_IPT_SKIP or "")
@pytest.mark.parametrize("backend", ["nftables", "iptables"])
def test_check_mode_predicts_the_real_run(netns, tmp_path, backend):
    backup = tmp_path / "backup"

    def run(state, **overrides):
        return lambda check: run_role(netns, tmp_path, firewall_vars(backup, firewall_lockdown_backend=backend,
                                                                     firewall_lockdown_state=state, **overrides),
                                      check=check)

    first = _same_changes(run("present"), "first apply")
    assert first.changed
    assert _same_changes(run("present"), "no-op").changed == []
    assert _same_changes(run("present", firewall_lockdown_v4=["205.139.110.0/24"]), "new ranges").changed
    assert _same_changes(run("absent"), "absent").changed
    assert _same_changes(run("absent"), "absent again").changed == []


@pytest.mark.skipif(_FWD_SKIP is not None, reason=_FWD_SKIP or "")
def test_check_mode_predicts_the_real_run_firewalld(tmp_path):
    etc, backup = OverlayEtc(tmp_path), tmp_path / "backup"

    def run(state):
        fw_vars = firewall_vars(backup, firewall_lockdown_backend="firewalld", firewall_lockdown_state=state)
        return lambda check: run_role(None, tmp_path, fw_vars, check=check, prefix=etc.prefix, extra_env=etc.env)

    assert _same_changes(run("present"), "first apply").changed
    assert _same_changes(run("present"), "no-op").changed == []
    assert _same_changes(run("absent"), "absent").changed


UNSAFE = {"firewall_lockdown_v4": ["205.139.110.0/24", "0.0.0.0/0", "10.0.0.0/8", "127.0.0.0/8"],
          "firewall_lockdown_v6": ["::/0", "fd00::/64"],
          "firewall_lockdown_ports": [SMTP, 22], "firewall_lockdown_management": []}
UNSAFE_MESSAGES = ["0.0.0.0/0 is broader than /20", "10.0.0.0/8 is in 10.0.0.0/8, private", "127.0.0.0/8 is in",
                   "::/0 is broader than /32", "fd00::/64 is in fc00::/7", "22 (SSH)",
                   "firewall_lockdown_unsafe_restrict_management_ports", "Refused, nothing was changed"]


@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
@pytest.mark.parametrize("tasks_from", ["firewall.yml", "firewall_nftables.yml", "firewall_iptables.yml",
                                        "firewall_firewalld.yml"])
def test_every_entry_point_refuses_lockout_and_non_mimecast_ranges(netns, tmp_path, tasks_from):
    """Issue 8 item 2: the guard is where every path passes, before the first change."""
    before = netns.ruleset()
    result = run_role(netns, tmp_path, firewall_vars(tmp_path / "backup", **UNSAFE), tasks_from=tasks_from)
    assert result.rc != 0
    for message in UNSAFE_MESSAGES:
        assert message in result.output, (message, result.output)
    assert "Traceback" not in result.output
    assert netns.ruleset() == before and not (tmp_path / "backup").exists()
    assert netns.reachable() == OPEN


@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
def test_string_false_from_extra_vars_is_false(netns, tmp_path):
    """Issue 8 item 12: -e x=false arrives as the string "false"; it must not switch an opt-in on."""
    before = netns.ruleset()
    fw_vars = firewall_vars(tmp_path / "backup", firewall_lockdown_ports=[SMTP, 22], firewall_lockdown_management=[])
    result = run_role(netns, tmp_path, fw_vars,
                      extra_args=["-e", "firewall_lockdown_unsafe_restrict_management_ports=false",
                                  "-e", "firewall_lockdown_unsafe_allow_any_range=false"])
    assert result.rc != 0 and "22 (SSH)" in result.output, result.output
    assert netns.ruleset() == before
    # The loud opt-in works, and only it: port 22 is then Mimecast-only, the play was told so.
    allowed = run_role(netns, tmp_path, fw_vars,
                       extra_args=["-e", "firewall_lockdown_unsafe_restrict_management_ports=true"])
    assert allowed.rc == 0, allowed.output
    assert "tcp dport { 22, 25 }" in netns.ruleset()


@pytest.mark.skipif(_IPT_SKIP is not None, reason=_IPT_SKIP or "")
def test_iptables_absent_keeps_a_same_named_set_it_did_not_make(ipt_netns, tmp_path):
    """Issue 8 item 15: a hash:net set of the same name, made by someone else, is neither replaced nor destroyed."""
    ns = ipt_netns
    ns.exec("ipset", "create", "mimecast_v4", "hash:net", "family", "inet")
    ns.exec("ipset", "add", "mimecast_v4", "203.0.113.0/24")
    before = iptables_state(ns)
    for state in ("absent", "present"):
        result = run_role(ns, tmp_path, iptables_vars(tmp_path / "backup", firewall_lockdown_state=state))
        assert result.rc != 0 and "so this role did not make it" in result.output, result.output
        assert iptables_state(ns) == before
        assert "add mimecast_v4 203.0.113.0/24" in ns.exec("ipset", "save", "mimecast_v4").stdout
    # The role's own sets carry the marker comment on every member, and absent removes them.
    ns.exec("ipset", "destroy", "mimecast_v4")
    made = run_role(ns, tmp_path, iptables_vars(tmp_path / "backup"))
    assert made.rc == 0, made.output
    saved = ns.exec("ipset", "save", "mimecast_v4").stdout
    assert 'add mimecast_v4 205.139.110.0/24 comment "managed by mailsec.mimecast.firewall_lockdown"' in saved, saved
    (tmp_path / "backup" / "mimecast.ipset").unlink()  # the marker alone proves ownership
    removed = run_role(ns, tmp_path, iptables_vars(tmp_path / "backup", firewall_lockdown_state="absent"))
    assert removed.rc == 0, removed.output
    assert "mimecast_v4" not in ns.exec("ipset", "list", "-n").stdout


SESSION_PORT, SESSION_MGMT = 2525, 2223
PRE_TRACKING = """\
table inet host_tracking_test {
    chain input { type filter hook input priority 10; policy accept; ct state established,related accept; }
}
"""


@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
@pytest.mark.parametrize("tracked", [False, True], ids=["no-tracking-before", "tracking-before"])
def test_sessions_open_at_lockdown_time(netns, tmp_path, tracked):
    """Issue 8 item 15, as documented: Mimecast's and management sessions go on; another source's SMTP
    session goes on only when connection tracking was loaded before the lockdown, else it is cut."""
    if tracked:
        netns.exec("nft", "-f", "-", input=PRE_TRACKING)
    wait = 15.0
    helpers = []
    try:
        for port in (SESSION_PORT, SESSION_MGMT):
            helper = subprocess.Popen(["ip", "netns", "exec", netns.name, sys.executable, str(NETPROBE), "sessions",
                                       str(wait if port == SESSION_MGMT or tracked else 8.0), SERVER4, str(port),
                                       MIMECAST4, OTHER4],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            helpers.append(helper)
            ready = select.select([helper.stdout], [], [], CMD_TIMEOUT)[0]
            assert ready and helper.stdout.readline().strip() == "ready", helper.stderr.read() if not ready else ""
        fw_vars = firewall_vars(tmp_path / "backup", firewall_lockdown_ports=[SMTP, SESSION_PORT],
                                firewall_lockdown_management=[{"port": SESSION_MGMT, "sources": ["0.0.0.0/0"]}])
        result = run_role(netns, tmp_path, fw_vars)
        assert result.rc == 0, result.output
        outcomes = []
        for helper in helpers:
            out, err = helper.communicate("go\n", timeout=CMD_TIMEOUT + 2 * wait)
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for helper in helpers:
            if helper.poll() is None:
                helper.kill()
                helper.communicate(timeout=CMD_TIMEOUT)
    smtp, management = outcomes
    assert smtp == [True, tracked], smtp          # [Mimecast, another source]
    assert management == [True, True], management


class NetnsDns:
    """tests/sandbox/dns_server.py inside the namespace (the role's look-up runs there), with ZONE."""

    def __init__(self, ns, tmp_path, zone, name):
        records = tmp_path / ("%s.json" % name)
        records.write_text(json.dumps([{"name": n, "type": t, "values": v} for (n, t), v in zone.items()]))
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable,
                                      str(ROOT / "tests" / "sandbox" / "dns_server.py"), "--port", "0",
                                      "--records", str(records)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = select.select([self.proc.stdout], [], [], CMD_TIMEOUT)[0]
        line = self.proc.stdout.readline().strip() if ready else ""
        assert line.startswith("DNS_SERVER="), "DNS server did not start within %ss" % CMD_TIMEOUT
        self.host, port = line.split("=", 1)[1].rsplit(":", 1)
        self.port = int(port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=CMD_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate(timeout=CMD_TIMEOUT)


def run_whole_role(ns, tmp_path, role_vars, name):
    playbook = tmp_path / ("%s.yml" % name)
    playbook.write_text(yaml.safe_dump([{"name": "whole role", "hosts": "localhost", "gather_facts": False,
                                         "roles": [{"role": "mailsec.mimecast.firewall_lockdown",
                                                    "vars": role_vars}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")
    cmd = ["ip", "netns", "exec", ns.name, str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
           str(playbook)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=PLAY_TIMEOUT, check=False)


@pytest.mark.skipif(_NFT_SKIP is not None, reason=_NFT_SKIP or "")
def test_dns_answer_that_widens_leaves_the_firewall_unchanged(netns, tmp_path):
    """Issue 8 item 1, end to end: a DNS answer adding 198.51.100.0/24 (OTHER4's range) or 128.0.0.0/1
    fails the role before the firewall is touched; once reviewed, the addition is applied."""
    sys.path.insert(0, str(ROOT / "tests"))
    from sandbox.dns_server import mimecast_netblock_zone  # pylint: disable=import-outside-toplevel
    zone = mimecast_netblock_zone()
    us = ("us._netblocks.mimecast.com", "TXT")
    servers = {"honest": NetnsDns(netns, tmp_path, zone, "honest")}
    try:
        for added in ("198.51.100.0/24", "128.0.0.0/1"):
            widened = dict(zone)
            widened[us] = [zone[us][0].replace(" ~all", " ip4:%s ~all" % added)]
            servers[added] = NetnsDns(netns, tmp_path, widened, "dns-%d" % len(servers))

        def role_vars(server, **more):
            values = {"firewall_lockdown_region": ["us"], "firewall_lockdown_range_source": "auto",
                      "firewall_lockdown_nameservers": [server.host], "firewall_lockdown_dns_port": server.port,
                      "firewall_lockdown_ports": [SMTP],
                      "firewall_lockdown_management": [{"port": MGMT, "sources": ["0.0.0.0/0", "::/0"]}],
                      "firewall_lockdown_backup_dir": str(tmp_path / "backup")}
            values.update(more)
            return values

        first = run_whole_role(netns, tmp_path, role_vars(servers["honest"]), "honest")
        assert first.returncode == 0, first.stdout[-3000:]
        locked = netns.ruleset()
        assert netns.reachable()["other4_smtp"] is False
        for added, message in (("198.51.100.0/24", "nobody reviewed: 198.51.100.0/24"),
                               ("128.0.0.0/1", "128.0.0.0/1 is broader than /20")):
            refused = run_whole_role(netns, tmp_path, role_vars(servers[added]), "widened")
            assert refused.returncode != 0 and message in refused.stdout, refused.stdout[-3000:]
            assert netns.ruleset() == locked
            assert netns.reachable()["other4_smtp"] is False
        reviewed = run_whole_role(netns, tmp_path, role_vars(servers["198.51.100.0/24"],
                                                             firewall_lockdown_accept_additions=["198.51.100.0/24"]),
                                  "reviewed")
        assert reviewed.returncode == 0, reviewed.stdout[-3000:]
        assert netns.reachable()["other4_smtp"] is True
    finally:
        for server in servers.values():
            server.stop()


@pytest.mark.skipif(_IPT_SKIP is not None, reason=_IPT_SKIP or "")
def test_iptables_takes_over_its_own_sets_from_before_the_marker(ipt_netns, tmp_path):
    """Sets made by 0.1.x (no comments) are the role's when its restore file is in the backup directory:
    they are converted to marked sets, and the runs after converge."""
    ns, backup = ipt_netns, tmp_path / "backup"
    for family, inet in (("v4", "inet"), ("v6", "inet6")):
        ns.exec("ipset", "create", "mimecast_" + family, "hash:net", "family", inet)
    ns.exec("ipset", "add", "mimecast_v4", "205.139.110.0/24")
    backup.mkdir()
    (backup / "mimecast.ipset").write_text("# managed by mailsec.mimecast.firewall_lockdown (0.1.x)\n")
    first = run_role(ns, tmp_path, iptables_vars(backup))
    assert first.rc == 0, first.output
    saved = ns.exec("ipset", "save", "mimecast_v4").stdout
    assert " comment" in saved.splitlines()[0] and 'comment "managed by mailsec.mimecast.firewall_lockdown"' in saved
    assert ns.reachable() == LOCKED
    run_role(ns, tmp_path, iptables_vars(backup))
    last = run_role(ns, tmp_path, iptables_vars(backup))
    assert last.rc == 0 and last.changed == [], last.output
