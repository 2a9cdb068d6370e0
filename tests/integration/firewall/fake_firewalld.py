# -*- coding: utf-8 -*-
"""Test double for firewall-cmd / firewall-offline-cmd (firewalld not running), for the
firewall_lockdown firewalld tests only: a real firewalld needs D-Bus and a daemon.

``fake_firewalld.py firewall-cmd|firewall-offline-cmd ARGS...``. Implements the subset the role
uses, on the XML files under /etc/firewalld (the tests run it under an overlay of /etc in a private
mount namespace): --version, --state (not running, 252), --get-default-zone, --zone=Z with
--list-services, --list-ports, --add-service=, --remove-service= (firewall-cmd) or
--remove-service-from-zone= (firewall-offline-cmd), --add-/--remove-port= (one kind, several times, per call),
--check-config (well-formed XML; ipsets hash:net with entries of their family; zone sources naming
existing ipsets). --permanent is accepted and ignored. Every call is appended to $FAKE_FIREWALLD_LOG.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ETC = Path("/etc/firewalld")


def zone_file(zone):
    return ETC / "zones" / ("%s.xml" % zone)


def check_config():
    ipsets = {}
    for path in sorted((ETC / "ipsets").glob("*.xml")):
        root = ET.parse(path).getroot()
        if root.tag != "ipset" or root.get("type") != "hash:net":
            return "%s: not a hash:net ipset" % path
        family = {o.get("name"): o.get("value") for o in root.findall("option")}.get("family", "inet")
        version = 6 if family == "inet6" else 4
        for entry in root.findall("entry"):
            if ipaddress.ip_network(entry.text, strict=True).version != version:
                return "%s: %s is not %s" % (path, entry.text, family)
        ipsets[path.stem] = family
    for path in sorted((ETC / "zones").glob("*.xml")):
        root = ET.parse(path).getroot()
        if root.tag != "zone":
            return "%s: not a zone" % path
        for source in root.findall("source"):
            if source.get("ipset") is not None and source.get("ipset") not in ipsets:
                return "%s: unknown ipset %s" % (path, source.get("ipset"))
        for rule in root.findall("rule"):
            address = rule.find("source").get("address")
            if ipaddress.ip_network(address).version != (6 if rule.get("family") == "ipv6" else 4):
                return "%s: rule family %s with %s" % (path, rule.get("family"), address)
    return None


def main(argv):
    name, args = argv[0], [a for a in argv[1:] if a != "--permanent"]
    if os.environ.get("FAKE_FIREWALLD_LOG"):
        with open(os.environ["FAKE_FIREWALLD_LOG"], "a", encoding="utf-8") as log:
            log.write(" ".join([name] + argv[1:]) + "\n")
    if args == ["--version"]:
        print("1.3.0")
        return 0
    if args == ["--state"]:
        print("not running")
        return 252
    if name == "firewall-cmd":
        print("FirewallD is not running", file=sys.stderr)
        return 252
    if args == ["--get-default-zone"]:
        print("public")
        return 0
    if args == ["--check-config"]:
        problem = check_config()
        if problem:
            print("Error: INVALID: %s" % problem, file=sys.stderr)
            return 111
        return 0
    zone = next((a.split("=", 1)[1] for a in args if a.startswith("--zone=")), "public")
    path = zone_file(zone)
    tree = ET.parse(path)
    root = tree.getroot()
    ops = [a for a in args if not a.startswith("--zone=")]
    if len({op.partition("=")[0] for op in ops}) > 1:
        print("fake firewalld: different options in one call: %s" % " ".join(ops), file=sys.stderr)
        return 2
    if name == "firewall-offline-cmd" and any(op.startswith("--remove-service=") for op in ops):
        # Like the real one: --remove-service is the lokkit option (default zone, not with --zone).
        print("Error: --remove-service with --zone: use --remove-service-from-zone", file=sys.stderr)
        return 2
    if ops == ["--list-services"]:
        print(" ".join(s.get("name") for s in root.findall("service")))
        return 0
    if ops == ["--list-ports"]:
        print(" ".join("%s/%s" % (p.get("port"), p.get("protocol")) for p in root.findall("port")))
        return 0
    for op in ops:
        action, _sep, value = op.partition("=")
        if action in ("--add-service", "--remove-service", "--remove-service-from-zone"):
            found = [s for s in root.findall("service") if s.get("name") == value]
            if action == "--add-service" and not found:
                ET.SubElement(root, "service", name=value)
            for element in found if action != "--add-service" else []:
                root.remove(element)
        elif action in ("--add-port", "--remove-port"):
            port, protocol = value.split("/")
            found = [p for p in root.findall("port") if (p.get("port"), p.get("protocol")) == (port, protocol)]
            if action == "--add-port" and not found:
                ET.SubElement(root, "port", protocol=protocol, port=port)
            for element in found if action == "--remove-port" else []:
                root.remove(element)
        else:
            print("fake firewalld: unsupported %s" % op, file=sys.stderr)
            return 2
    tree.write(path, encoding="utf-8", xml_declaration=True)
    print("success")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
