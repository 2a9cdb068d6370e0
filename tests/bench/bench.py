# -*- coding: utf-8 -*-
"""`make bench`: calls, wall time and CPU time of the phish-sim allowlist, against `uri` baselines.

Starts the Mimecast sandbox (page size 100) and, in front of it, a small HTTP proxy on 127.0.0.1
that adds a fixed delay to every API call (default 150 ms, standing for the round trip to
Mimecast) and counts the calls by kind (token / read / write). Then, on one tenant with the
bench's 50-entry vendor set (tests/bench/vendor_set.yml), each run kind on a fresh tenant:

- the role phish_sim_allowlist (playbooks/phish_sim_allowlist.yml, vendor 'custom'),
- the single modules, one task per object type (tests/bench/modules.yml),
- two hand-written ansible.builtin.uri baselines (tests/bench/uri_baseline.yml): per item and
  batched,

each as check mode (fresh tenant), first run, and no-op re-run; then the role's first run over
1, 10 and 50 tenants, and Ansible's own CPU cost of one module task. Every run is checked: it
must succeed, check mode and the no-op re-run must write nothing, and every approach must leave
the same objects in the tenant. Prints a table and writes build/bench/results.json and
build/bench/results.md. CPU time is the children's user + sys time (resource.RUSAGE_CHILDREN) of
each ansible-playbook run; the sandbox and the proxy run as threads of this process and are not
counted.

    python tests/bench/bench.py [--quick] [--delay 0.15] [--forks 10] [--tenants 1,10,50] [--output DIR]
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

from sandbox import Sandbox  # noqa: E402  pylint: disable=wrong-import-position
from sandbox.server import TOKEN_PATH, is_write  # noqa: E402  pylint: disable=wrong-import-position

BIN = Path(sys.executable).parent
ROLE_PLAYBOOK = ROOT / "playbooks" / "phish_sim_allowlist.yml"
MODULES_PLAYBOOK = HERE / "modules.yml"
URI_PLAYBOOK = HERE / "uri_baseline.yml"
VENDOR_SET = HERE / "vendor_set.yml"
RUN_KINDS = ("first", "noop", "check")
# What --quick runs (a smoke test that the bench still works, about 28 CPU-s): every playbook's
# first run (each checked for the objects it leaves), and one no-op re-run of a uri baseline (its
# lookups of what exists are the bench's own code; the collection's are tested elsewhere).
QUICK_PLAN = {"role": ("first",), "modules": ("first",), "uri_per_item": ("first",),
              "uri_batched": ("first", "noop")}
PARTS = ("single", "scaling", "overhead")
RUN_LABELS = {"first": "first run", "noop": "no-op re-run", "check": "check mode"}
APPROACHES = ("role", "modules", "uri_per_item", "uri_batched")
APPROACH_LABELS = {"role": "role phish_sim_allowlist", "modules": "single modules (4 tasks)",
                   "uri_per_item": "uri baseline, per item", "uri_batched": "uri baseline, batched"}
PLAYBOOK_TIMEOUT = 1800
QUICK_ENTRIES = {"source_ips": 1, "link_domains": 2, "sender_addresses": 1}


class BenchError(Exception):
    """A run failed or did not do what it must: the message says which and why."""


# ---------------------------------------------------------------- the latency proxy

class LatencyProxy:
    """HTTP proxy on 127.0.0.1: waits `delay` seconds, forwards the call, counts it by kind."""

    def __init__(self, upstream, delay):
        self.upstream = upstream.split("//", 1)[1]
        self.delay = delay
        self.lock = threading.Lock()
        self.counts = {"token": 0, "read": 0, "write": 0}
        self._server = self._thread = None
        self.url = None

    def kind(self, method, path):
        if path == TOKEN_PATH:
            return "token"
        return "write" if is_write(method, path) else "read"

    def take_counts(self):
        """The counts since the last call, and zero them."""
        with self.lock:
            counts, self.counts = self.counts, {"token": 0, "read": 0, "write": 0}
        counts["total"] = sum(counts.values())
        return counts

    def start(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = self.path.split("?", 1)[0]
                with proxy.lock:
                    proxy.counts[proxy.kind(self.command, path)] += 1
                time.sleep(proxy.delay)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "keep-alive", "proxy-connection")}
                conn = http.client.HTTPConnection(proxy.upstream, timeout=120)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    payload = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="latency-proxy")
        self._thread.start()
        self.url = "http://127.0.0.1:%d" % self._server.server_address[1]
        return self.url

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None


# ---------------------------------------------------------------- running playbooks

def run_playbook(playbook, inventory, extra_vars, workdir, check=False, forks=None, label=""):
    """Run ansible-playbook; return (wall seconds, CPU seconds of the children). A failure raises
    BenchError with the end of its output. The playbook runs in its own process group, which is
    killed whatever happens (timeout, Ctrl-C), so no worker is left behind."""
    cmd = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    for value in extra_vars:
        cmd += ["-e", value]
    if check:
        cmd.append("--check")
    if forks:
        cmd += ["-f", str(forks)]
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / "build" / "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false", "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_LOCAL_TEMP": str(Path(workdir) / "ansible-tmp"),
        # The modules' token cache (one token per tenant across tasks and runs) lives with this bench run:
        # tokens of an earlier bench's sandbox would only cost a 401 and a new token.
        "MIMECAST_TOKEN_CACHE_DIR": str(Path(workdir) / "token-cache"),
    })
    log = Path(workdir) / "last-run.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(workdir),
                                start_new_session=True)
        try:
            proc.wait(timeout=PLAYBOOK_TIMEOUT)
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            _kill_group(proc, only_leftovers=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
        raise BenchError("%s: ansible-playbook %s failed (exit %d); the end of its output:\n%s"
                         % (label, playbook.name, proc.returncode, tail))
    return wall, cpu


def _kill_group(proc, only_leftovers=False):
    """SIGTERM, then SIGKILL, to the playbook's process group (workers it left behind too)."""
    if not only_leftovers and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait()


# ---------------------------------------------------------------- the bench

def tenant_names(count):
    return ["t%02d" % (i + 1) for i in range(count)]


def write_inventory(path, url, tenants):
    hosts = {name: {"mimecast_base_url": url, "mimecast_client_id": "mc-%s-client" % name,
                    "mimecast_client_secret": "mc-%s-secret" % name} for name in tenants}
    path.write_text(yaml.safe_dump({"mimecast_tenants": {"hosts": hosts}}, sort_keys=True), encoding="utf-8")


def vendor_set(quick):
    data = yaml.safe_load(VENDOR_SET.read_text(encoding="utf-8"))
    if quick:
        profile = data["phish_sim_allowlist_custom_profile"]
        for key, count in QUICK_ENTRIES.items():
            profile[key] = profile[key][:count]
    return data


def expected_state(vendor):
    profile = vendor["phish_sim_allowlist_custom_profile"]
    return {"anti-spoofing": 1, "greylisting": 1, "managed_urls": len(profile["link_domains"]),
            "groups": 1, "members": len(profile["sender_addresses"])}


def state_summary(sandbox, tenant):
    state = sandbox.state(tenant)
    return {"anti-spoofing": len(state["anti-spoofing"]), "greylisting": len(state["greylisting"]),
            "managed_urls": len(state["managed_urls"]), "groups": len(state["groups"]),
            "members": sum(len(g.get("members", [])) for g in state["groups"])}


class Bench:
    def __init__(self, opts, sandbox, proxy, workdir):
        self.opts, self.sandbox, self.proxy, self.workdir = opts, sandbox, proxy, Path(workdir)
        self.vendor = vendor_set(opts.quick)
        self.vendor_file = self.workdir / "vendor_set.yml"
        self.vendor_file.write_text(yaml.safe_dump(self.vendor, sort_keys=False), encoding="utf-8")
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.window = (today.isoformat(), (today + datetime.timedelta(days=30)).isoformat())
        self.results = {"runs": [], "scaling": [], "overhead": []}

    def extra_vars(self, approach):
        extra = ["@%s" % self.vendor_file, "phish_sim_allowlist_valid_from=%s" % self.window[0],
                 "phish_sim_allowlist_valid_to=%s" % self.window[1]]
        if approach == "role":
            extra.append("phish_sim_allowlist_runbook_dir=%s" % (self.workdir / "runbooks"))
        if approach.startswith("uri_"):
            extra.append(json.dumps({"bench_batched": approach == "uri_batched"}))
        return extra

    def playbook(self, approach):
        return {"role": ROLE_PLAYBOOK, "modules": MODULES_PLAYBOOK}.get(approach, URI_PLAYBOOK)

    def one(self, approach, kind, tenants, forks=None):
        """One run over `tenants` (inventory of that many sandbox tenants): a result row."""
        inventory = self.workdir / ("inventory-%d.yml" % len(tenants))
        write_inventory(inventory, self.proxy.url, tenants)
        label = "%s, %s, %d tenant(s)" % (APPROACH_LABELS[approach], RUN_LABELS[kind], len(tenants))
        print("  %-62s" % label, end="", flush=True)
        self.sandbox.clear_requests()
        self.proxy.take_counts()
        wall, cpu = run_playbook(self.playbook(approach), inventory, self.extra_vars(approach), self.workdir,
                                 check=kind == "check", forks=forks, label=label)
        calls = self.proxy.take_counts()
        writes = len(self.sandbox.writes())
        print(" %6.1f s wall, %6.2f CPU-s, %s calls" % (wall, cpu, calls["total"]), flush=True)
        if kind in ("check", "noop") and writes:
            raise BenchError("%s wrote to Mimecast (%d write call(s)): %s must write nothing"
                             % (label, writes, RUN_LABELS[kind]))
        if calls["write"] != writes:
            raise BenchError("%s: the proxy counted %d write(s), the sandbox logged %d"
                             % (label, calls["write"], writes))
        return {"approach": approach, "run": kind, "tenants": len(tenants), "forks": forks,
                "calls": calls, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                "cpu_s_per_tenant": round(cpu / len(tenants), 2),
                "calls_per_tenant": round(calls["total"] / len(tenants), 1)}

    def single_tenant(self):
        print("One tenant, %s; %d ms added to every API call" % (self.describe_set(), self.opts.delay * 1000))
        tenant = tenant_names(1)
        want = expected_state(self.vendor)
        for approach in APPROACHES:
            kinds = QUICK_PLAN[approach] if self.opts.quick else RUN_KINDS
            self.sandbox.reset()
            rows = {}
            if "check" in kinds:          # on the fresh tenant, before the first run
                rows["check"] = self.one(approach, "check", tenant)
                if any(state_summary(self.sandbox, tenant[0]).values()):
                    raise BenchError("%s: check mode changed the tenant: %s"
                                     % (APPROACH_LABELS[approach], state_summary(self.sandbox, tenant[0])))
            rows["first"] = self.one(approach, "first", tenant)
            got = state_summary(self.sandbox, tenant[0])
            if got != want:
                raise BenchError("%s: after the first run the tenant has %s, expected %s"
                                 % (APPROACH_LABELS[approach], got, want))
            if "noop" in kinds:
                rows["noop"] = self.one(approach, "noop", tenant)
            self.results["runs"].extend(rows[kind] for kind in RUN_KINDS if kind in rows)

    def scaling(self):
        for count in self.opts.tenants:
            self.sandbox.reset()
            names = tenant_names(count)
            row = self.one("role", "first", names, forks=self.opts.forks)
            for name in names:
                got = state_summary(self.sandbox, name)
                if got != expected_state(self.vendor):
                    raise BenchError("role over %d tenants: tenant %s has %s" % (count, name, got))
            self.results["scaling"].append(row)

    def overhead(self):
        """CPU of one more module task: N tasks minus 1 task, divided by N - 1."""
        many = self.opts.overhead_tasks
        for module, args in (("mailsec.mimecast.mimecast_antispoof_bypass", {
                "base_url": "http://127.0.0.1:9", "client_id": "bench", "client_secret": "bench",
                "config": [{"source_ips": ["52.201.210.10/32"]}]}), ("ansible.builtin.ping", {})):
            cpu = {}
            for count in (1, many):
                playbook = self.workdir / "overhead.yml"
                task = {"name": "fast", module: args, "register": "bench_fast",
                        "failed_when": "bench_fast.msg | default('') is not search('missing required arguments')"
                        if module.startswith("mailsec.") else "bench_fast is failed"}
                playbook.write_text(yaml.safe_dump([{
                    "name": "overhead", "hosts": "localhost", "connection": "local", "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                    "tasks": [dict(task, name="fast %d" % i) for i in range(count)]}], sort_keys=False),
                    encoding="utf-8")
                cpu[count] = run_playbook(playbook, "localhost,", [], self.workdir,
                                          label="overhead %s x%d" % (module, count))[1]
            per_task = (cpu[many] - cpu[1]) / (many - 1)
            print("  one more %s task: %.2f CPU-s (%d tasks %.2f CPU-s, 1 task %.2f CPU-s)"
                  % (module, per_task, many, cpu[many], cpu[1]), flush=True)
            self.results["overhead"].append({"module": module, "tasks": many, "cpu_s_many": round(cpu[many], 2),
                                             "cpu_s_one": round(cpu[1], 2), "cpu_s_per_task": round(per_task, 3)})

    def describe_set(self):
        profile = self.vendor["phish_sim_allowlist_custom_profile"]
        return "%d source IPs, %d link domains, %d permitted senders" % (
            len(profile["source_ips"]), len(profile["link_domains"]), len(profile["sender_addresses"]))


# ---------------------------------------------------------------- report

def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from ansible.release import __version__ as ansible_version  # pylint: disable=import-outside-toplevel
    except ImportError:
        ansible_version = "unknown"
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "cpu_model": model or platform.processor() or "unknown",
            "python": platform.python_version(), "ansible_core": ansible_version,
            "memory": _meminfo(),
            "load_average_at_start": [round(x, 2) for x in load]}


def _meminfo():
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return "%.1f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def ratio(value, base):
    return round(value / base, 2) if base else None


def add_ratios(results):
    base = {(r["approach"], r["run"]): r for r in results["runs"]}
    for row in results["runs"]:
        for name in ("uri_per_item", "uri_batched"):
            other = base.get((name, row["run"]))
            if other:
                row["vs_" + name] = {"calls": ratio(row["calls"]["total"], other["calls"]["total"]),
                                     "wall": ratio(row["wall_s"], other["wall_s"]),
                                     "cpu": ratio(row["cpu_s"], other["cpu_s"])}


def calls_text(calls):
    return "%d (%d/%d/%d)" % (calls["total"], calls["token"], calls["read"], calls["write"])


def ratio_text(row, name):
    r = row.get("vs_" + name)
    if not r:
        return "-"
    return "%s× calls, %s× wall" % (r["calls"], r["wall"])


def markdown(results):
    meta = results["meta"]
    lines = [
        "Machine: %d CPU(s), %s, %s memory; Python %s, ansible-core %s; load average (1/5/15 min) %s at "
        "the start, %s at the end; the bench took %s s." % (
            meta["machine"]["cpus"], meta["machine"]["cpu_model"], meta["machine"]["memory"],
            meta["machine"]["python"], meta["machine"]["ansible_core"],
            " ".join(str(x) for x in meta["machine"]["load_average_at_start"]),
            " ".join(str(x) for x in meta["machine"]["load_average_at_end"]), meta["bench_wall_s"]),
        "Setup: sandbox page size 100, %d ms added to every API call, %s%s." % (
            meta["delay_ms"], meta["vendor_set"], ", quick mode" if meta["quick"] else ""),
    ]
    if results["runs"]:
        lines += ["", "Ratios are this run / the baseline's run of the same kind: below 1 is fewer calls or less time.",
                  "", "| approach | run | calls (token/read/write) | wall s | CPU s per tenant | vs uri per item "
                  "| vs uri batched |", "|---|---|---|---|---|---|---|"]
    for row in results["runs"]:
        lines.append("| %s | %s | %s | %.1f | %.2f | %s | %s |" % (
            APPROACH_LABELS[row["approach"]], RUN_LABELS[row["run"]], calls_text(row["calls"]), row["wall_s"],
            row["cpu_s_per_tenant"], ratio_text(row, "uri_per_item"), ratio_text(row, "uri_batched")))
    if results["scaling"]:
        lines += ["", "| role, first run | forks | calls (token/read/write) | calls per tenant | wall s "
                  "| CPU s | CPU s per tenant |", "|---|---|---|---|---|---|---|"]
        for row in results["scaling"]:
            lines.append("| %d tenant(s) | %s | %s | %s | %.1f | %.1f | %.2f |" % (
                row["tenants"], row["forks"], calls_text(row["calls"]), row["calls_per_tenant"], row["wall_s"],
                row["cpu_s"], row["cpu_s_per_tenant"]))
    if results["overhead"]:
        lines += ["", "| module task (refused before any API call) | CPU s of one more task |", "|---|---|"]
        for row in results["overhead"]:
            lines.append("| `%s` | %.2f (%d tasks: %.2f, 1 task: %.2f) |" % (
                row["module"], row["cpu_s_per_task"], row["tasks"], row["cpu_s_many"], row["cpu_s_one"]))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 tenant, %s entries, first runs (and the uri baselines' re-runs) only, "
                        "no tenant scaling, no overhead measurement" % sum(QUICK_ENTRIES.values()))
    parser.add_argument("--delay", type=float, default=None,
                        help="seconds added to every API call (default 0.15; 0.02 with --quick)")
    parser.add_argument("--forks", type=int, default=10, help="ansible forks for the multi-tenant runs (default 10)")
    parser.add_argument("--tenants", default=None,
                        help="comma-separated tenant counts for the role's scaling runs "
                        "(default 1,10,50; none with --quick)")
    parser.add_argument("--overhead-tasks", type=int, default=None,
                        help="module tasks for the per-task overhead (default 10; 0 = skip, the default with --quick)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="which parts to run, comma-separated: %s (default all)" % ", ".join(PARTS))
    parser.add_argument("--output", default=str(ROOT / "build" / "bench"), help="where results.json/.md go")
    opts = parser.parse_args(argv)
    if opts.delay is None:
        opts.delay = 0.02 if opts.quick else 0.15
    if opts.tenants is None:
        opts.tenants = "" if opts.quick else "1,10,50"
    try:
        opts.tenants = [int(n) for n in opts.tenants.split(",") if n.strip()]
    except ValueError:
        parser.error("--tenants takes numbers separated by commas, not %r" % opts.tenants)
    if any(n < 1 or n > 99 for n in opts.tenants):
        parser.error("--tenants: each count must be 1..99")
    opts.parts = [p.strip() for p in opts.parts.split(",") if p.strip()]
    if not opts.parts or set(opts.parts) - set(PARTS):
        parser.error("--parts takes %s, not %r" % (", ".join(PARTS), ",".join(opts.parts)))
    if opts.overhead_tasks is None:
        opts.overhead_tasks = 0 if opts.quick else 10
    if opts.overhead_tasks == 1 or opts.overhead_tasks < 0 or opts.forks < 1 or opts.delay < 0:
        parser.error("--overhead-tasks must be 0 (skip) or at least 2, --forks at least 1, --delay not negative")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    out_dir = Path(opts.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    tenants = tenant_names(max(opts.tenants + [1]))
    results = None
    with tempfile.TemporaryDirectory(prefix="mimecast-bench-") as workdir, \
            Sandbox(tenants={name: {} for name in tenants}, page_size=100, rate_limit=100000) as sandbox:
        proxy = LatencyProxy(sandbox.url, opts.delay)
        try:
            proxy.start()
            bench = Bench(opts, sandbox, proxy, workdir)
            bench.results["meta"] = {
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "machine": machine(), "delay_ms": round(opts.delay * 1000), "quick": opts.quick,
                "forks": opts.forks, "vendor_set": bench.describe_set(), "page_size": 100}
            started = time.monotonic()
            if "single" in opts.parts:
                bench.single_tenant()
            if opts.tenants and "scaling" in opts.parts:
                print("The role's first run over %s tenants, %d forks"
                      % (", ".join(str(n) for n in opts.tenants), opts.forks))
                bench.scaling()
            if opts.overhead_tasks and "overhead" in opts.parts:
                print("Ansible's own CPU time per module task")
                bench.overhead()
            results = bench.results
            results["meta"]["bench_wall_s"] = round(time.monotonic() - started, 1)
            results["meta"]["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        except BenchError as exc:
            print("\nBENCH FAILED: %s" % exc, file=sys.stderr)
            return 1
        finally:
            proxy.stop()
    add_ratios(results)
    table = markdown(results)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / "results.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    print("Written: %s, %s" % (out_dir / "results.json", out_dir / "results.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
