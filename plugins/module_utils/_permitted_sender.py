# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Permitted senders as members of a profile group of your own (Mimecast has no API for Permitted
Senders policies), shared by mimecast_permitted_sender and mimecast_allowlist.

``check_groups`` refuses built-in groups and names that do not say "permitted senders" (no call);
``PermittedSenders`` plans and applies through GroupSync with the internal-domain guardrail.
"""

from __future__ import annotations

from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    GuardrailError,
    is_permitted_sender_group,
    sender_check,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import (
    GroupSpec,
    GroupSync,
    read_internal_domains,
)

BUILTIN_GROUPS = ("permitted senders", "blocked senders")


def console_step(group):
    return ("Administration > Gateway > Policies > Permitted Senders > New Policy: Emails From = "
            "Profile Group '%s', Emails To = Everyone (or your recipient scope), add the vendor's "
            "source IP ranges, tick Policy Override, set the validity to the campaign window, Save. "
            "The API cannot read Permitted Senders policies, so this step cannot be confirmed "
            "automatically." % group)


def check_groups(config, state):
    """Refuse built-in groups and group names that do not mark a permitted-sender group (no API call)."""
    problems = []
    for entry in config or []:
        if entry["group"].strip().lower() in BUILTIN_GROUPS:
            problems.append("group %r is a built-in group, which Mimecast does not let the API change; "
                            "name a group of your own and point the policy at it" % entry["group"])
        elif state not in ("deleted", "gathered") and not is_permitted_sender_group(entry["group"]):
            # The name marks the group as a permitted-sender group for every other path
            # (mimecast_profile_group applies these guardrails to such groups, mimecast_audit checks them).
            problems.append("group %r does not say 'permitted senders' in its name; name it for example "
                            "%r so that every module recognises it as a permitted-sender group"
                            % (entry["group"], "%s - permitted senders" % entry["group"].strip()))
    if problems:
        raise GuardrailError(problems)


class PermittedSenders:
    """The permitted-sender groups of one run, in the phases of a transaction part."""

    def __init__(self, client, state, config, owner_tag="[ansible]", adopt=False, allow_domain=False,
                 check_mode=False, on_duplicate="fail", warn=None):
        self.client = client
        self.state = state
        self.config = config or []
        self.owner_tag = owner_tag
        self.allow_domain = allow_domain
        self.internal = []
        self.spec = GroupSpec()
        self.sync = GroupSync(client, self.spec, state, owner_tag=owner_tag, adopt=adopt, check_mode=check_mode,
                              on_duplicate=on_duplicate, warn=warn)

    @property
    def writes(self):
        return self.state not in ("deleted", "gathered")

    def prepare(self, reads=None):
        """Name checks, then the member guardrails. ``reads`` (a transaction's SharedReads) serves the
        tenant's internal domains, read once per run and only when the state writes members."""
        check_groups(self.config, self.state)
        if self.writes:
            self.internal = reads.internal_domains() if reads else read_internal_domains(self.client)
        self.spec.check_member = sender_check(self.internal, self.allow_domain)
        self.sync.prepare([{"description": e["group"], "members": e.get("senders")} for e in self.config])

    def plan(self, lister=None):
        self.sync.plan(lister=lister)

    def apply(self):
        self.sync.apply()

    @property
    def done(self):
        return self.sync.done

    def planned(self):
        return self.sync.planned()

    def result(self):
        result = self.sync.result()
        result["policy_confirmed"] = False
        if self.writes:
            result["internal_domains"] = self.internal
            tag = self.owner_tag
            result["console_steps"] = [console_step("%s %s" % (e["group"], tag) if tag else e["group"])
                                       for e in self.config]
        return result
