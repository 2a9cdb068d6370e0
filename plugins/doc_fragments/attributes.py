# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Shared attribute descriptions; modules state their own support level.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second
        invocation indicates no change.
'''

    ACTION_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/mailsec.mimecast.mimecast) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - mailsec.mimecast.mimecast
'''

    ACTION_GROUP_EXO = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/mailsec.mimecast.exo) in C(module_defaults) to set the Exchange Online connection for this module.
    support: full
    membership:
      - mailsec.mimecast.exo
'''

    READ_ONLY = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The module only reads.
'''

    DECLARATIVE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: Check mode reads the tenant, makes no write and returns the exact actions a real run would make.
  diff_mode:
    support: full
    details: The diff shows every addressed object before and after, keyed by its natural key.
  idempotent:
    support: full
    details: Both sides are normalised before comparing (dates, addresses, URLs, case, list order); a second identical run makes no write.
'''
