# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # DNS resolver options of the modules that read DNS (argument spec: _dns.DNS_ARGUMENT_SPEC).
    DOCUMENTATION = r'''
options:
  nameservers:
    description: Name servers to ask instead of the host's resolver configuration.
    type: list
    elements: str
  dns_port:
    description: Port of the name servers.
    type: int
    default: 53
  dns_timeout:
    description: Seconds to wait for one DNS answer.
    type: float
    default: 5
requirements:
  - dnspython
'''
