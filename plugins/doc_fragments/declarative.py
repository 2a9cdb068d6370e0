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
  on_duplicate:
    description:
      - What to do when two or more objects this collection owns (carrying O(owner_tag)) share
        one key. Such a duplicate can be left by a create whose answer was lost, or by two runs
        on one tenant at once.
      - V(fail) refuses before any write and names the ids, the one V(keep_newest) would keep
        and the ones it would delete.
      - V(keep_newest) keeps the newest copy - the latest creation time Mimecast reports
        (C(createTime)), or, for lists without one, the last in Mimecast's list order, which is
        creation order - applies the entry to it, and deletes the other owned copies. The ids
        are shown in RV(actions). Objects without the owner tag are never touched this way.
    type: str
    choices: [fail, keep_newest]
    default: fail
    version_added: 0.2.0
notes:
  - Every entry is validated before the first write, including the length of every narrative
    (at most 200 characters with the owner tag; the collection's own limit, as no public
    Mimecast source states one).
  - Writes are made one object at a time, except new and removed managed URLs and profile groups,
    which go up to 20 per call (Mimecast processes the items of one call one by one). If a write
    fails the task fails with C(changed=true) when anything was written, and lists in C(done) every
    write made (action, key, id) and in C(not_done) every planned write not made, an item Mimecast
    refused in a batch with its C(error) (Mimecast's code and message); a re-run makes only the writes
    still needed.
  - An object that must be deleted and created again is replaced as one unit - the new one first
    where both may exist at once, else (managed URLs) delete then create at once; if that create
    fails the deleted original is created again once (reported in C(restored)).
  - A write with no clear answer (timeout, lost connection, HTTP 5xx) is never sent again
    blindly. The list is re-read; the write counts as done (with a warning) only if the re-read
    shows it, else the task fails saying it was not done.
  - 'Run one task per tenant at a time - C(throttle: 1) on the task, or C(serial: 1) when several
    hosts of the play address one tenant. Two runs at once both read before either writes, so both
    create the same object (see O(on_duplicate)); they also share one API rate limit.'
'''
