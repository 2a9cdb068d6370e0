"""A small authoritative DNS server on 127.0.0.1 (UDP and TCP, same port), for tests only.

Library:  from sandbox.dns_server import DnsServer, mimecast_netblock_zone  (tests/ on sys.path)
Script:   python tests/sandbox/dns_server.py --port 0 [--records FILE.json]
          prints DNS_SERVER=127.0.0.1:PORT first (serves mimecast_netblock_zone() by default).
See tests/sandbox/README.md. Uses dnspython (a project requirement) for the wire format.
"""

if __name__ == "__main__" and not __package__:      # run as a script: import as a package
    import os as _os
    import sys as _sys
    _sys.path.insert(0, _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))))
    from sandbox.dns_server import main as _main
    _sys.exit(_main())

import argparse
import json
import signal
import socket
import struct
import sys
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset

UDP_LIMIT = 512          # RFC 1035: without EDNS a UDP answer is at most 512 bytes
TTL = 300
FAULT_MODES = ("servfail", "timeout", "refused")


def normalise_name(name):
    """Record keys: lower case, no trailing dot ("us._netblocks.mimecast.com")."""
    return str(name).strip().rstrip(".").lower()


def txt_chunks(value):
    """A TXT value as DNS character-strings of at most 255 bytes (long SPF records are split
    like this in real zones; a resolver joins them back)."""
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return [raw[i:i + 255] for i in range(0, len(raw), 255)] or [b""]


def make_rdata(rtype, value):
    rdtype = dns.rdatatype.from_text(rtype)
    if rdtype == dns.rdatatype.TXT:
        return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, rdtype, txt_chunks(value))
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(value))


class DnsServer:
    """Serves `records` {(name, rtype): [values]} over UDP and TCP on one 127.0.0.1 port.

    TXT values are strings (split into 255-byte character-strings on the wire), MX values
    "10 host.example.", A values "192.0.2.1"; any other type is taken in zone-file text form.
    Unknown name -> NXDOMAIN; a known name (or an empty non-terminal above one) without
    that type -> NOERROR with no answer. UDP answers that do not fit (512 bytes, or the
    client's EDNS size) come back truncated (TC) and empty, so resolvers retry over TCP.
    """

    def __init__(self, records=None, udp_limit=UDP_LIMIT, ttl=TTL):
        self._lock = threading.RLock()
        self._records = {}
        self._faults = {}
        self._queries = []
        self.udp_limit, self.ttl = int(udp_limit), int(ttl)
        self.host, self.port = "127.0.0.1", None
        self._udp = self._tcp = None
        self._threads = []
        self._stopping = threading.Event()
        for (name, rtype), values in (records or {}).items():
            self.set(name, rtype, values)

    # ------------------------------------------------------------------ records
    @property
    def records(self):
        """A copy of {(name, RTYPE): [values]} (names lower case, no trailing dot)."""
        with self._lock:
            return {key: list(values) for key, values in self._records.items()}

    def set(self, name, rtype, values):
        """Replace the values of (name, rtype); a single string counts as one value."""
        values = [values] if isinstance(values, (str, bytes)) else list(values)
        rtype = dns.rdatatype.to_text(dns.rdatatype.from_text(str(rtype).upper()))
        for value in values:
            make_rdata(rtype, value)               # fail now on a bad value, not at query time
        with self._lock:
            self._records[(normalise_name(name), rtype)] = values

    def delete(self, name, rtype=None):
        """Remove (name, rtype), or every type of `name` when rtype is None."""
        name = normalise_name(name)
        with self._lock:
            for key in [k for k in self._records if k[0] == name
                        and (rtype is None or k[1] == str(rtype).upper())]:
                del self._records[key]

    def fail(self, name, mode):
        """Fault for queries of `name` (any type): "servfail", "timeout" (never answered),
        "refused", or None to clear it."""
        if mode is not None and mode not in FAULT_MODES:
            raise ValueError("mode must be one of %s or None" % ", ".join(FAULT_MODES))
        with self._lock:
            if mode is None:
                self._faults.pop(normalise_name(name), None)
            else:
                self._faults[normalise_name(name)] = mode

    def clear_faults(self):
        with self._lock:
            self._faults = {}

    @property
    def faults(self):
        with self._lock:
            return dict(self._faults)

    @property
    def queries(self):
        """[{name, rtype, transport: udp|tcp, rcode (None = not answered), truncated, time}]"""
        with self._lock:
            return [dict(q) for q in self._queries]

    def clear_queries(self):
        with self._lock:
            self._queries = []

    # ------------------------------------------------------------------ lifecycle
    def start(self, port=0):
        """Bind UDP and TCP on the same 127.0.0.1 port (0 = a free one); returns (host, port)."""
        for dummy in range(20):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if port:
                    raise
                continue
            break
        else:
            raise OSError("no port free for both UDP and TCP")
        tcp.listen(16)
        udp.settimeout(0.2)
        tcp.settimeout(0.2)
        self._udp, self._tcp, self.port = udp, tcp, udp.getsockname()[1]
        self._stopping.clear()
        # Each loop gets its socket (not self._udp/_tcp): stop() clears those, and a loop still
        # running after its join timed out (heavy load) must end on the closed socket, not on None.
        self._threads = [threading.Thread(target=loop, args=(sock,), daemon=True, name="sandbox-dns-" + kind)
                         for kind, loop, sock in (("udp", self._serve_udp, udp), ("tcp", self._serve_tcp, tcp))]
        for thread in self._threads:
            thread.start()
        return self.host, self.port

    def stop(self):
        self._stopping.set()
        for thread in self._threads:
            thread.join(5)
        for sock in (self._udp, self._tcp):
            if sock:
                sock.close()
        self._udp = self._tcp = None
        self._threads = []

    def __enter__(self):
        if not self._udp:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ serving
    def _serve_udp(self, udp):
        while not self._stopping.is_set():
            try:
                wire, peer = udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            answer = self.answer(wire, "udp")
            if answer is not None:
                try:
                    udp.sendto(answer, peer)
                except OSError:
                    pass

    def _serve_tcp(self, tcp):
        while not self._stopping.is_set():
            try:
                conn, dummy = tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve_conn, args=(conn,), daemon=True).start()

    def _serve_conn(self, conn):
        conn.settimeout(0.2)
        buf = b""
        try:
            while not self._stopping.is_set():
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    size = struct.unpack("!H", buf[:2])[0]
                    wire, buf = buf[2:2 + size], buf[2 + size:]
                    answer = self.answer(wire, "tcp")
                    if answer is not None:          # a "timeout" fault keeps the line silent
                        conn.sendall(struct.pack("!H", len(answer)) + answer)
        except OSError:
            pass
        finally:
            conn.close()

    def answer(self, wire, transport="udp"):
        """The response bytes for one query message, or None for no answer at all."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return self._formerr(wire)
        if len(query.question) != 1:
            return self._respond(query, dns.rcode.FORMERR, [], transport, None, None)
        question = query.question[0]
        name = normalise_name(question.name.to_text())
        rtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            fault = self._faults.get(name)
            values = list(self._records.get((name, rtype), []))
            known = any(key[0] == name or key[0].endswith("." + name) for key in self._records)
        if fault == "timeout":
            self._log(name, rtype, transport, None, False)
            return None
        if fault:
            rcode = dns.rcode.SERVFAIL if fault == "servfail" else dns.rcode.REFUSED
            return self._respond(query, rcode, [], transport, name, rtype)
        if not values:
            rcode = dns.rcode.NOERROR if known else dns.rcode.NXDOMAIN
            return self._respond(query, rcode, [], transport, name, rtype)
        rrset = dns.rrset.RRset(question.name, dns.rdataclass.IN, question.rdtype)
        for value in values:
            rrset.add(make_rdata(rtype, value), self.ttl)
        return self._respond(query, dns.rcode.NOERROR, [rrset], transport, name, rtype)

    def _respond(self, query, rcode, answers, transport, name, rtype):
        response = dns.message.make_response(query, recursion_available=True)
        response.flags |= dns.flags.AA
        response.set_rcode(rcode)
        response.answer = list(answers)
        limit = 65535
        if transport == "udp":
            limit = max(self.udp_limit, query.payload) if query.edns >= 0 else self.udp_limit
        wire = response.to_wire(max_size=65535)
        truncated = len(wire) > limit
        if truncated:                     # TC and no records: the client must retry over TCP
            response.answer = []
            response.flags |= dns.flags.TC
            wire = response.to_wire(max_size=65535)
        if name is not None:
            self._log(name, rtype, transport, dns.rcode.to_text(rcode), truncated)
        return wire

    def _formerr(self, wire):
        if len(wire) < 12:
            return None
        flags = struct.unpack("!H", wire[2:4])[0]
        return wire[:2] + struct.pack("!HHHHH", 0x8000 | (flags & 0x7900) | dns.rcode.FORMERR,
                                      0, 0, 0, 0)

    def _log(self, name, rtype, transport, rcode, truncated):
        with self._lock:
            self._queries.append({"name": name, "rtype": rtype, "transport": transport,
                                  "rcode": rcode, "truncated": truncated, "time": time.time()})


# --------------------------------------------------------------------------- Mimecast data

# The SPF netblock tree as recorded in the README.md of the public project apiverve/spfvalidator.Python-API
# (commit of 2025-04-23); region names per https://mimecastsupport.zendesk.com/hc/en-us/articles/34000792642963.
NETBLOCKS = {
    "us": ["207.211.31.0/25", "205.139.110.0/24", "216.205.24.0/24", "170.10.129.0/24",
           "63.128.21.0/24", "170.10.133.0/24", "185.58.84.93/32", "207.211.41.113/32",
           "207.211.30.64/26", "207.211.30.128/25", "216.145.221.0/24", "170.10.128.0/24",
           "170.10.132.56/29", "170.10.132.64/29"],
    "eu": ["195.130.217.0/24", "91.220.42.0/24", "146.101.78.0/24", "207.82.80.0/24",
           "213.167.81.0/25", "193.7.207.0/25", "213.167.75.0/25", "185.58.85.0/24",
           "185.58.86.0/24", "193.7.206.0/25", "147.28.36.0/24"],
    "de": ["51.163.158.0/24", "194.104.109.0/24", "194.104.111.0/24", "194.104.110.21/32",
           "194.104.110.240/28", "62.140.10.21/32", "62.140.7.0/24", "194.104.108.240/29",
           "194.104.108.21/32"],
    "za": ["41.74.192.0/22", "41.74.200.0/23", "41.74.196.0/22", "41.74.204.0/23",
           "41.74.206.0/24"],
    "au": ["103.13.69.0/24", "124.47.150.0/24", "124.47.189.0/24", "103.96.23.0/24",
           "103.96.21.0/24", "180.189.28.0/24", "216.145.217.0/24", "103.96.22.96/28",
           "103.96.22.22/32", "103.96.20.22/32", "103.96.20.96/28"],
    "ca": ["170.10.145.0/24", "170.10.147.0/24", "170.10.144.126/32", "170.10.146.126/32",
           "170.10.144.240/29", "170.10.146.240/29", "216.145.216.0/24"],
}
GLOBAL_ORDER = ("eu", "us", "za", "de", "au", "ca")   # include order of _netblocks.mimecast.com
MIMECAST_MX = ["10 us-smtp-inbound-1.mimecast.com.", "20 us-smtp-inbound-2.mimecast.com."]


def mimecast_netblock_zone():
    """{(name, rtype): [values]}: the Mimecast SPF netblocks as published on 2025-04-23 plus
    example customer domains (corp.example locked down to Mimecast; leftover.example still
    has a Google MX next to Mimecast's)."""
    zone = {("_netblocks.mimecast.com", "TXT"): ["v=spf1 %s ~all" % " ".join(
        "include:%s._netblocks.mimecast.com" % r for r in GLOBAL_ORDER)]}
    for region, cidrs in NETBLOCKS.items():
        zone[("%s._netblocks.mimecast.com" % region, "TXT")] = [
            "v=spf1 %s ~all" % " ".join("ip4:" + c for c in cidrs)]
    zone.update({
        ("corp.example", "MX"): list(MIMECAST_MX),
        ("corp.example", "TXT"): ["v=spf1 include:us._netblocks.mimecast.com -all"],
        ("_dmarc.corp.example", "TXT"): ["v=DMARC1; p=reject; rua=mailto:d@corp.example"],
        ("leftover.example", "MX"): MIMECAST_MX + ["30 aspmx.l.google.com."],
    })
    return zone


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local DNS server for tests (127.0.0.1 only).")
    parser.add_argument("--port", type=int, default=5353, help="0 = pick a free port")
    parser.add_argument("--records", help='JSON file [{"name", "type", "values": [...]}, ...] '
                                          "(default: mimecast_netblock_zone())")
    parser.add_argument("--udp-limit", type=int, default=UDP_LIMIT,
                        help="UDP answer size limit without EDNS (default 512)")
    opts = parser.parse_args(argv)
    records = mimecast_netblock_zone()
    if opts.records:
        with open(opts.records, encoding="utf-8") as handle:
            records = {(r["name"], r["type"]): r["values"] for r in json.load(handle)}
    # Stop on SIGINT/SIGTERM from before the address is printed: a caller that reads the
    # address and stops the server at once must get a clean exit, not -15.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *args: stop.set())
    server = DnsServer(records, udp_limit=opts.udp_limit)
    host, port = server.start(opts.port)
    print("DNS_SERVER=%s:%d" % (host, port), flush=True)
    print("Test DNS server (UDP+TCP) with %d record sets; Ctrl-C to stop" % len(records),
          flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
