# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The declarative states shared by every list module. Modules add config's sub-options.
    DOCUMENTATION = r'''
options:
  state:
    description:
      - V(merged) creates the listed objects that are missing and sets the options given
        on those that exist, leaving options not given as they are.
      - V(replaced) makes each listed object exactly as given; options not given go back to
        their defaults.
      - V(overridden) is V(replaced) for the listed objects, and also deletes every object
        this collection owns (see O(owner_tag)) that is not listed.
      - V(deleted) deletes the listed objects; with an empty O(config), every object this
        collection owns.
      - V(gathered) changes nothing and returns the current objects in the shape of O(config).
    type: str
    choices: [merged, replaced, overridden, deleted, gathered]
    default: merged
  owner_tag:
    description:
      - How ownership is recorded. Every object the module writes gets this tag at the end
        of its narrative (policy description; for managed URLs, the comment), separated by
        one space; the natural key is the narrative without the tag.
      - V(overridden) and V(deleted) with an empty O(config) touch only objects carrying the
        tag, never console-made ones. An untagged object whose key equals a listed entry's
        is refused unless O(adopt=true).
      - Set to an empty string to make every object of the type the module's own (this
        widens V(overridden) to all of them).
    type: str
    default: '[ansible]'
  adopt:
    description:
      - Take over an untagged (console-made) object whose key equals a listed entry's
        instead of refusing; the owner tag is then added to it.
    type: bool
    default: false
'''
