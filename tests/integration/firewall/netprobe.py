# -*- coding: utf-8 -*-
"""TCP listener and connect probes for the firewall_lockdown network-namespace tests.

Run inside the namespace (``ip netns exec NS python netprobe.py ...``); standard library only.

  serve LIFETIME PORT [PORT...]   accept-and-close on every port, IPv4 and IPv6 wildcard,
                                  prints "ready" once listening, exits after LIFETIME seconds
  probe TIMEOUT SRC DST PORT [SRC DST PORT ...]
                                  one TCP connect per triple from SRC (bound) to DST:PORT,
                                  prints a JSON list of true (connected) / false
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import time


def serve(lifetime, ports):
    sel = selectors.DefaultSelector()
    for port in ports:
        for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((host, port))
            sock.listen(64)
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
    print("ready", flush=True)
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        for key, _ in sel.select(timeout=min(1.0, max(0.0, deadline - time.monotonic()))):
            try:
                conn, _ = key.fileobj.accept()
                conn.close()
            except OSError:
                pass


def probe(timeout, triples):
    results = []
    for src, dst, port in triples:
        family = socket.AF_INET6 if ":" in dst else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.bind((src, 0))
            sock.connect((dst, int(port)))
            results.append(True)
        except OSError:
            results.append(False)
        finally:
            sock.close()
    print(json.dumps(results))


def main(argv):
    if argv[:1] == ["serve"]:
        serve(float(argv[1]), [int(p) for p in argv[2:]])
    elif argv[:1] == ["probe"]:
        rest = argv[2:]
        probe(float(argv[1]), [tuple(rest[i:i + 3]) for i in range(0, len(rest), 3)])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
