# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: firewall_lockdown_problems
short_description: Why a host-firewall lockdown must be refused (lock-out, non-Mimecast ranges)
version_added: 0.2.0
description:
  - "The guard of the C(mailsec.mimecast.firewall_lockdown) role's firewall task files. Every entry
    point (the role, C(tasks_from: firewall), each backend file) runs it before the first change."
  - Returns one sentence per problem; an empty list means the lockdown may go ahead.
  - Refuses a restricted port that is a management port (22, 5985, 5986, the play's C(ansible_port),
    or a port in C(management)) unless C(unsafe_restrict_management_ports); ranges in
    C(v4)/C(v6) that are not IPv4/IPv6, not public or broader than /20 (IPv4) or /32
    (IPv6) unless C(unsafe_allow_any_range); and empty ranges for V(present).
author:
  - Mailsec Mimecast developers (@mailsec)
options:
  _input:
    description:
      - A dictionary with the keys C(state), C(v4), C(v6), C(ports), C(management),
        C(unsafe_allow_any_range), C(unsafe_restrict_management_ports) and C(connection_port).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Refuse before the first change
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: >-
      {{ {'state': 'present', 'v4': ['205.139.110.0/24'], 'v6': [], 'ports': [25],
          'management': [{'port': 22, 'sources': ['0.0.0.0/0']}]} | mailsec.mimecast.firewall_lockdown_problems }}
'''

RETURN = r'''
_value:
  description: One sentence per problem, each naming the offending value and what to do instead.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import parse, unsafe_reason

# Ports that reach a host's management: SSH (RFC 4251, IANA port 22) and WinRM (HTTP 5985, HTTPS 5986,
# https://learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management).
MANAGEMENT_PORTS = {22: "SSH", 5985: "WinRM", 5986: "WinRM over HTTPS"}
MAX_PORTS = 15  # iptables' multiport match takes at most 15 ports (iptables-extensions(8), multiport)


def _port(value):
    """The port as an int, or None when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return port if 1 <= port <= 65535 else None


def _flag(value):
    try:
        return boolean(value, strict=False)
    except TypeError:
        return False


def _ranges(problems, name, version, cidrs, unsafe_ok):
    if not isinstance(cidrs, (list, tuple)):
        problems.append("%s must be a list of IPv%d CIDRs, not %r." % (name, version, cidrs))
        return []
    good = []
    for cidr in cidrs:
        try:
            net = parse(cidr)
        except ValueError:
            net = None
        if net is None or net.version != version:
            problems.append("%s: %r is not an IPv%d CIDR; give ranges such as %s." % (
                name, cidr, version, "205.139.110.0/24" if version == 4 else "2001:db8::/48"))
            continue
        reason = None if unsafe_ok else unsafe_reason(net)
        if reason:
            problems.append("%s: %s, never a Mimecast range; remove it (or set "
                            "firewall_lockdown_unsafe_allow_any_range: true if you really mean it)." % (name, reason))
        good.append(net)
    return good


def firewall_lockdown_problems(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError("firewall_lockdown_problems expects a dictionary, got %r" % type(data).__name__)
    problems = []
    unsafe_ok = _flag(data.get("unsafe_allow_any_range", False))
    v4 = _ranges(problems, "firewall_lockdown_v4", 4, data.get("v4", []), unsafe_ok)
    v6 = _ranges(problems, "firewall_lockdown_v6", 6, data.get("v6", []), unsafe_ok)
    if data.get("state", "present") == "present" and not v4 and not v6 and not problems:
        problems.append("firewall_lockdown_v4 and firewall_lockdown_v6 are both empty: locking down would close the "
                        "ports to every source, Mimecast included. Check the range look-up.")

    raw_ports = data.get("ports", [])
    if not isinstance(raw_ports, (list, tuple)) or not 1 <= len(raw_ports) <= MAX_PORTS:
        problems.append("firewall_lockdown_ports %r must be a list of 1 to %d TCP ports." % (raw_ports, MAX_PORTS))
        raw_ports = raw_ports if isinstance(raw_ports, (list, tuple)) else []
    ports = []
    for value in raw_ports:
        port = _port(value)
        if port is None:
            problems.append("firewall_lockdown_ports: %r is not a TCP port (1-65535)." % (value,))
        else:
            ports.append(port)

    management = data.get("management", [])
    if not isinstance(management, (list, tuple)):
        problems.append("firewall_lockdown_management must be a list of {port, sources}, not %r." % (management,))
        management = []
    managed = {}
    for entry in management:
        port = _port(entry.get("port")) if isinstance(entry, dict) else None
        if port is None:
            problems.append("firewall_lockdown_management: %r needs a port from 1 to 65535, e.g. "
                            "{port: 22, sources: [192.0.2.0/24]}." % (entry,))
            continue
        sources = entry.get("sources", [])
        if not isinstance(sources, (list, tuple)):
            problems.append("firewall_lockdown_management port %s: sources %r must be a list of CIDRs."
                            % (port, sources))
            continue
        for source in sources:
            try:
                parse(source)
            except ValueError:
                problems.append("firewall_lockdown_management port %s: %r is not a CIDR (not CIDRs in the management "
                                "sources); give e.g. 192.0.2.0/24 or ::/0." % (port, source))
        managed[port] = "in firewall_lockdown_management"

    both = sorted(set(ports) & set(managed))
    if both:
        problems.append("Port(s) %s are both in firewall_lockdown_ports and in firewall_lockdown_management. A "
                        "management port is never restricted: remove it from firewall_lockdown_ports, or manage "
                        "access to it outside this role and take it out of firewall_lockdown_management."
                        % ", ".join(map(str, both)))
    if not _flag(data.get("unsafe_restrict_management_ports", False)):
        known = dict(MANAGEMENT_PORTS)
        connection_port = _port(data.get("connection_port"))
        if connection_port:
            known[connection_port] = "the port this play connects over (ansible_port)"
        locked = [p for p in sorted(set(ports)) if p in known and p not in managed]
        if locked:
            problems.append("firewall_lockdown_ports %s: %s would then be reachable from Mimecast's ranges only, "
                            "which locks out whoever manages this host. Remove it from firewall_lockdown_ports; only "
                            "if another path reaches the host, set "
                            "firewall_lockdown_unsafe_restrict_management_ports: true."
                            % (", ".join(map(str, locked)), ", ".join("%d (%s)" % (p, known[p]) for p in locked)))
    return problems


class FilterModule:
    def filters(self):
        return {"firewall_lockdown_problems": firewall_lockdown_problems}
