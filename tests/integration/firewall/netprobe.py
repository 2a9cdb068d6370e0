# -*- coding: utf-8 -*-
"""TCP listener and connect probes for the firewall_lockdown network-namespace tests.

Run inside the namespace (``ip netns exec NS python netprobe.py ...``); standard library only.

  serve LIFETIME PORT [PORT...]   accept-and-close on every port, IPv4 and IPv6 wildcard,
                                  prints "ready" once listening, exits after LIFETIME seconds
  probe TIMEOUT SRC DST PORT [SRC DST PORT ...]
                                  one TCP connect per triple from SRC (bound) to DST:PORT,
                                  prints a JSON list of true (connected) / false
  sessions WAIT DST PORT SRC [SRC...]
                                  echo server on DST:PORT; one TCP session per SRC, each with one
                                  round trip; prints "ready", waits for a line on stdin, sends one
                                  more line on every session and prints a JSON list: true when its
                                  echo came back within WAIT seconds
"""

from __future__ import annotations

import concurrent.futures
import json
import selectors
import socket
import sys
import threading
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
        for key, _events in sel.select(timeout=min(1.0, max(0.0, deadline - time.monotonic()))):
            try:
                conn = key.fileobj.accept()[0]
                conn.close()
            except OSError:
                pass


def _connect(timeout, src, dst, port):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.bind((src, 0))
        sock.connect((dst, int(port)))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def probe(timeout, triples):
    """All connects at once (each bounded by TIMEOUT), results in the order given."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(triples))) as pool:
        results = list(pool.map(lambda triple: _connect(timeout, *triple), triples))
    print(json.dumps(results))


def _echo(listener):
    while True:
        try:
            conn = listener.accept()[0]
        except OSError:
            return
        threading.Thread(target=_echo_one, args=(conn,), daemon=True).start()


def _echo_one(conn):
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                return
            conn.sendall(data)


def _round_trip(sock, wait):
    sock.settimeout(wait)
    try:
        sock.sendall(b"ping\n")
        return sock.recv(16) == b"ping\n"
    except OSError:
        return False


def sessions(wait, dst, port, sources):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((dst, port))
    listener.listen(16)
    threading.Thread(target=_echo, args=(listener,), daemon=True).start()
    socks = []
    for src in sources:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((src, 0))
        sock.settimeout(wait)
        sock.connect((dst, port))
        assert _round_trip(sock, wait), "no echo before the lockdown"
        socks.append(sock)
    print("ready", flush=True)
    sys.stdin.readline()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(socks)) as pool:
        print(json.dumps(list(pool.map(lambda sock: _round_trip(sock, wait), socks))), flush=True)


def main(argv):
    if argv[:1] == ["serve"]:
        serve(float(argv[1]), [int(p) for p in argv[2:]])
    elif argv[:1] == ["sessions"]:
        sessions(float(argv[1]), argv[2], int(argv[3]), argv[4:])
    elif argv[:1] == ["probe"]:
        rest = argv[2:]
        probe(float(argv[1]), [tuple(rest[i:i + 3]) for i in range(0, len(rest), 3)])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
