#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_url_bypass
short_description: Keep Mimecast URL Protect managed URLs (permit, do not rewrite) as declared
version_added: 0.1.0
description:
  - Manages Targeted Threat Protection managed URLs, the API-reachable part of "URL
    Protection bypass". A C(permit) entry with O(config[].disable_rewrite=true) lets a
    phishing-simulation vendor's links reach users unrewritten, so the vendor can tell who
    clicked; C(block) entries are managed the same way.
  - Uses the classic endpoints C(/api/ttp/url/get-all-managed-urls),
    C(/api/ttp/url/create-managed-url) and C(/api/ttp/url/delete-managed-url). Mimecast has
    B(no update call) for managed URLs, so a changed entry is deleted and created again;
    RV(actions) and the diff say so (C(reason)).
  - The natural key is the URL. Mimecast reads entries back decomposed (scheme, domain,
    port, path, query); both sides are rebuilt and normalised before comparing (host lower
    case, default port dropped, empty path as C(/)); for O(config[].match_type=domain) the key
    is the host name alone.
  - Ownership is recorded in the entry's comment (the owner tag is appended to
    O(config[].comment)), because managed URLs have no narrative.
  - If Mimecast answers a create with its duplicate error although the read before did not
    show the entry, the module reads again and treats an identical entry as already there
    instead of failing.
  - The URL Protection B(bypass policy) itself (console "URL Protection Bypass") has no API;
    the role C(mailsec.mimecast.phish_sim_allowlist) writes a console runbook for it.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.declarative
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.DECLARATIVE
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  config:
    description: The managed URLs.
    type: list
    elements: dict
    default: []
    suboptions:
      url:
        description:
          - The URL (for V(explicit)) or host name (for V(domain)). Must not contain C(#).
          - For O(config[].match_type=domain) give the host only; the module sends the host name.
          - Refused before any write - schemes other than C(http) and C(https) (C(javascript:),
            C(data:), ...); user information before the host (C(https://trusted.example@evil.example/)
            goes to C(evil.example)); ports outside 1 to 65535; IPv6 literal hosts; host names that are
            not valid DNS names; white space, control characters and backslashes.
          - Unicode (IDN) host names are converted to their punycode (C(xn--)) form.
          - With V(domain), a public suffix (C(com), C(co.uk), C(com.au), ...; a subset of
            U(https://publicsuffix.org/list/)) is refused; give at least one label more.
        type: str
        required: true
      match_type:
        description:
          - V(explicit) matches this URL only; V(domain) matches every URL on the host.
          - Defaults to V(explicit), Mimecast's default and the narrow choice.
        type: str
        choices: [explicit, domain]
      action:
        description: V(permit) or V(block). Defaults to V(permit).
        type: str
        choices: [permit, block]
      disable_rewrite:
        description: Do not rewrite matching links (permit only). Defaults to V(false).
        type: bool
      disable_user_awareness:
        description: Do not show user-awareness challenges for matching links (permit only). Defaults to V(false).
        type: bool
      disable_log_click:
        description: Do not log clicks on matching links. Defaults to V(false).
        type: bool
      comment:
        description: A comment; the owner tag is appended to it.
        type: str
  allow_shared_domains:
    description:
      - Accept V(domain) permits of shared platforms (sharepoint.com, google.com,
        amazonaws.com, github.io, URL shorteners, free-mail domains, ...). A whole-domain
        permit of such a host lets any attacker's page on it through.
    type: bool
    default: false
notes:
  - Mimecast limits the number of managed URLs per account (the limit is not published).
  - Legacy API 1.0 keys work for these classic endpoints as well as API 2.0 credentials.
'''

EXAMPLES = r'''
- name: Do not rewrite the simulation vendor's landing pages during the campaign
  mailsec.mimecast.mimecast_url_bypass:
    config:
      - url: training.vendor.example
        match_type: domain
        disable_rewrite: true
        disable_user_awareness: true
        comment: Q4 phishing simulation

- name: Remove them after the campaign
  mailsec.mimecast.mimecast_url_bypass:
    state: deleted
    config:
      - url: training.vendor.example
        match_type: domain
'''

RETURN = r'''
actions:
  description:
    - The writes planned, in order; in check mode the same list a real run would execute.
    - A changed entry appears as a C(delete) and a C(create) with C(reason) saying Mimecast has no update call.
  returned: when state is not gathered
  type: list
  elements: dict
  sample:
    - {action: create, url: training.vendor.example, collection: managed-url, id: null}
before:
  description: The addressed URLs before the task, keyed by normalised URL.
  returned: when state is not gathered
  type: dict
after:
  description: The addressed URLs after the task (predicted in check mode), keyed by normalised URL.
  returned: when state is not gathered
  type: dict
gathered:
  description: The managed URLs this collection owns, in the shape of O(config) plus C(id).
  returned: when state is gathered
  type: list
  elements: dict
unmanaged:
  description: Managed URLs without the owner tag in their comment; never changed.
  returned: when state is gathered
  type: list
  elements: dict
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write), C(auth), C(total)).
  returned: always
  type: dict
  sample: {read: 1, write: 2, auth: 1, total: 4}
done:
  description:
    - On a failed write, every write the task made before it (C(action), the natural key, C(collection), C(id)),
      including a C(restore) of a replaced entry.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
not_done:
  description:
    - When a write fails, every planned write not made, the failed one first.
    - An item Mimecast refused in a batched call carries C(error), Mimecast's code and message for it.
  returned: when a write failed
  type: list
  elements: dict
  version_added: 0.2.0
restored:
  description: When a delete + create replacement failed at the create, whether the original was put back.
  returned: when a replacement failed
  type: dict
  version_added: 0.2.0
'''

from ansible_collections.mailsec.mimecast.plugins.module_utils._managed_url import URL_ENTRY_OPTIONS, ManagedUrlSpec
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import (
    MimecastModule,
    declarative_argument_spec,
)


def main():
    argument_spec = declarative_argument_spec(dict(URL_ENTRY_OPTIONS))
    argument_spec["allow_shared_domains"] = dict(type="bool", default=False)
    module = MimecastModule(argument_spec, supports_check_mode=True)
    module.run_engine(ManagedUrlSpec(allow_shared_domains=module.params["allow_shared_domains"]))


if __name__ == "__main__":
    main()
