#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_message_trace
short_description: Find a test message in Mimecast message tracking and report how Mimecast handled it
version_added: 0.1.0
description:
  - Read-only. Searches Mimecast message tracking (Message Finder) by sender, recipient,
    subject, sender IP and time window, then reads each found message's details, its status
    (delivered, held, deferred, ...), the policies Mimecast applied (type and name, per
    recipient), and whether the links in the copy Mimecast delivered were rewritten by URL Protect.
  - Used to verify a phishing-simulation allowlisting; the test message should be
    delivered, not held, with the anti-spoofing bypass applied and the simulation links not
    rewritten.
  - Uses C(/api/message-finder/search) and C(/api/message-finder/get-message-info)
    (permission Gateway | Tracking | Read), and optionally C(/api/ttp/url/decode-url).
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  sender:
    description: Envelope sender address to match.
    type: str
  recipient:
    description: Recipient address to match.
    type: str
  subject:
    description: Text the subject contains.
    type: str
  sender_ip:
    description: The IP address the message came from (one address, not a range).
    type: str
  message_id:
    description: The Message-ID header; used instead of the other filters.
    type: str
  since:
    description:
      - Start of the search window, ISO 8601 date-time or V(YYYY-MM-DD). Defaults to 24 hours
        ago. Mimecast refuses starts older than about 30 days.
    type: str
  until:
    description:
      - End of the search window, ISO 8601 date-time or V(YYYY-MM-DD). Defaults to now.
      - It must be after O(since); a window that is empty is refused before the search.
    type: str
  route:
    description: Which mail flow to search.
    type: str
    choices: [inbound, outbound, internal]
    default: inbound
  search_reason:
    description: The reason Mimecast records in its audit log for this search.
    type: str
    default: Verify phishing-simulation allowlisting (mailsec.mimecast)
  max_messages:
    description: How many found messages to read details for (one call each).
    type: int
    default: 5
  decode_links:
    description: Decode rewritten links to their original URL (one call per link).
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to keep searching until at least one message is found (tracking lags
        delivery by a minute or two). 0 searches once.
    type: int
    default: 0
  wait_interval:
    description: Seconds between searches while waiting.
    type: int
    default: 15
notes:
  - Mimecast's tracking has no flag for "links rewritten"; the module looks for Mimecast's
    rewrite hosts (C(*.mimecastprotect.com), C(protect-*.mimecast.com)) in the body of the copy
    Mimecast delivered to each recipient (not the copy as received, whose links are always the
    original ones). Mimecast does not document these hosts as a complete list, so a rewrite to
    another host would be missed; with O(decode_links=true) the
    rewritten links are also decoded by Mimecast itself.
  - Mimecast reports the applied policies per recipient, inside each delivered copy, as a policy
    type and name only (no action). A message that was held, deferred or rejected has no
    delivered copy, so its C(policies) list is empty and C(links_rewritten) is null; its
    C(status) and C(info) say what happened.
  - A detail answer in a shape the module does not know (for example C(deliveredMessage) not an
    object keyed by recipient) fails with a message naming the unexpected part, never with an
    empty result.
  - The full list of tracking status values is not documented; the module reports the
    status as Mimecast gives it.
'''

EXAMPLES = r'''
- name: Check that the vendor's test message went through untouched
  mailsec.mimecast.mimecast_message_trace:
    sender: simulations@vendor.example
    recipient: alice@corp.example
    subject: "Allowlisting test"
    wait_timeout: 300
  register: trace

- name: Fail unless delivered with links left alone and the bypass applied
  ansible.builtin.assert:
    that:
      - trace.found
      - trace.messages[0].status in ['delivered', 'archived']
      - trace.messages[0].links_rewritten is sameas false  # null when nothing was delivered
      - "'Vendor relay' in trace.messages[0].policies | map(attribute='name')"
'''

RETURN = r'''
found:
  description: Whether a matching message was found.
  returned: always
  type: bool
messages:
  description: The matching messages (details read for the first O(max_messages)).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Mimecast's tracking id.
      type: str
      returned: always
    status:
      description: Mimecast's status, for example C(delivered), C(held), C(deferred), C(archived).
      type: str
      returned: always
    info:
      description: Mimecast's short status text.
      type: str
      returned: always
    sender:
      description: Envelope sender.
      type: str
      returned: always
    recipients:
      description: Recipient addresses.
      type: list
      elements: str
      returned: always
    subject:
      description: Subject.
      type: str
      returned: always
    received:
      description: When Mimecast received the message.
      type: str
      returned: always
    sender_ip:
      description: The connecting IP.
      type: str
      returned: always
    delivered_to:
      description: The recipients Mimecast delivered a copy to (empty when held, deferred or rejected).
      type: list
      elements: str
      returned: when details were read
      version_added: 0.2.0
    policies:
      description:
        - The policies Mimecast applied to the delivered copies, one entry per policy
          (C(type), C(name), C(inherited), and C(recipients), the recipients it applied to).
        - Mimecast reports no action for these policies; the C(action) key of version 0.1.0 is gone.
      type: list
      elements: dict
      returned: when details were read
    permitted_sender:
      description: Whether spam processing reports a Permitted Senders match.
      type: bool
      returned: when details were read
    links:
      description: Links found in the bodies of the delivered copies (all recipients).
      type: list
      elements: str
      returned: when details were read
    rewritten_links:
      description: Links that point at Mimecast's URL Protect rewrite hosts (with C(original) when decoded).
      type: list
      elements: dict
      returned: when details were read
    links_rewritten:
      description:
        - Whether any link in a delivered copy was rewritten.
        - Null when Mimecast has no delivered copy (held, deferred, rejected); check C(status).
      type: bool
      returned: when details were read
api_calls:
  description: How many Mimecast API calls the task made (C(read), C(write) is always 0, C(auth), C(total)).
  returned: always
  type: dict
'''

import datetime
import ipaddress
import re
import time
from urllib.parse import urlsplit

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastError
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError
from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import normalise_date

SEARCH = "/api/message-finder/search"
INFO = "/api/message-finder/get-message-info"
DECODE = "/api/ttp/url/decode-url"
LINK = re.compile(r"https?://[^\s\"'<>]+", re.I)


def is_rewritten(url):
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith("mimecastprotect.com") or (host.startswith("protect") and host.endswith(".mimecast.com"))


def summary(item):
    return {
        "id": item.get("id"),
        "status": item.get("status"),
        "info": item.get("info"),
        "sender": (item.get("fromEnv") or {}).get("emailAddress"),
        "recipients": [t.get("emailAddress") for t in item.get("to") or []],
        "subject": item.get("subject"),
        "received": item.get("received"),
        "sender_ip": item.get("senderIP"),
    }


def _shape_error(what, found):
    return MimecastError(
        "get-message-info answered in a shape this module does not know: %s is %s. Nothing was changed "
        "(this module only reads); please report this response shape (keys and types only, no values)."
        % (what, found), path=INFO)


def _type_name(value):
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def delivered_copies(info):
    """The delivered copies of one message: ``[(recipient, copy), ...]``, sorted by recipient.

    Mimecast keeps what it received (``recipientInfo``) apart from what it delivered:
    ``deliveredMessage`` maps each recipient address to that recipient's delivered copy,
    ``{messageInfo{..., htmlBody, textBody}, policyInfo[], deliveryMetaInfo{}}``. A message that
    was held, deferred or rejected has no delivered copy. Sources: Mimecast's endpoint reference
    https://integrations.mimecast.com/documentation/endpoint-reference/message-finder-formerly-tracking/get-message-info
    (top level: status, retentionInfo, recipientInfo, deliveredMessage, spamInfo, id; no policyInfo)
    and the recorded response in the Cortex XSOAR Mimecast integration, demisto/content
    Packs/Mimecast/Integrations/MimecastV2/test_data/get_message_info_response.json.
    """
    delivered = info.get("deliveredMessage")
    if delivered in (None, [], ""):
        return []
    if not isinstance(delivered, dict):
        raise _shape_error("deliveredMessage", _type_name(delivered) + " (expected an object keyed by recipient)")
    copies = []
    for recipient in sorted(delivered):
        copy = delivered[recipient]
        if not isinstance(copy, dict):
            raise _shape_error("the delivered copy for one recipient", _type_name(copy) + " (expected an object)")
        copies.append((recipient, copy))
    return copies


def applied_policies(copies):
    """The policies Mimecast applied, from each delivered copy's ``policyInfo[]``.

    Real entries are ``{policyType, policyName, inherited}`` (no action; see the XSOAR recording
    cited in delivered_copies). One entry per distinct policy, with the recipients it applied to.
    """
    policies = {}
    for recipient, copy in copies:
        entries = copy.get("policyInfo")
        if entries in (None, ""):
            continue
        if not isinstance(entries, list):
            raise _shape_error("deliveredMessage.<recipient>.policyInfo", _type_name(entries) + " (expected a list)")
        for entry in entries:
            if not isinstance(entry, dict):
                raise _shape_error("an entry of deliveredMessage.<recipient>.policyInfo",
                                   _type_name(entry) + " (expected an object)")
            key = (entry.get("policyType"), entry.get("policyName"), bool(entry.get("inherited")))
            policy = policies.setdefault(key, {"type": key[0], "name": key[1], "inherited": key[2],
                                               "recipients": []})
            if recipient not in policy["recipients"]:
                policy["recipients"].append(recipient)
    return list(policies.values())


def body_links(message_info):
    if not isinstance(message_info, dict):
        raise _shape_error("messageInfo", _type_name(message_info) + " (expected an object)")
    body = "%s\n%s" % (message_info.get("htmlBody") or "", message_info.get("textBody") or "")
    return set(LINK.findall(body))


def details(client, message, decode):
    info = (client.classic(INFO, [{"id": message["id"]}]) or [{}])[0]
    if not isinstance(info, dict):
        raise _shape_error("the data item", _type_name(info) + " (expected an object)")
    message["status"] = info.get("status") or message["status"]
    copies = delivered_copies(info)
    # Links are judged on what was delivered: URL Protect rewrites links on the way out, so the
    # as-received copy (recipientInfo.messageInfo) always shows the original links.
    links = sorted(set().union(*[body_links(copy.get("messageInfo") or {}) for dummy, copy in copies]))
    rewritten = []
    for link in links:
        if is_rewritten(link):
            entry = {"url": link}
            if decode:
                entry["original"] = (client.classic(DECODE, [{"url": link}]) or [{}])[0].get("url")
            rewritten.append(entry)
    message["delivered_to"] = [recipient for recipient, dummy in copies]
    message["policies"] = applied_policies(copies)
    # spamInfo.spamProcessingDetail.permittedSender is {allow, info}; the XSOAR recording cited in
    # delivered_copies shows info "none" for a message no Permitted Senders policy matched.
    permitted = (((info.get("spamInfo") or {}).get("spamProcessingDetail") or {}).get("permittedSender") or {})
    message["permitted_sender"] = str(permitted.get("info", "")).lower() not in ("", "none")
    message["links"] = links
    message["rewritten_links"] = rewritten
    message["links_rewritten"] = bool(rewritten) if copies else None
    return message


def search(module, client):
    p = module.params
    now = datetime.datetime.now(datetime.timezone.utc)
    start = normalise_date(p["since"], "since") if p["since"] else (now - datetime.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%S+0000")
    end = normalise_date(p["until"], "until", end_of_day=True) if p["until"] else now.strftime("%Y-%m-%dT%H:%M:%S+0000")
    if start >= end:
        raise GuardrailError(["since %s is not before until %s; give a start before the end" % (start, end)])
    if p["sender_ip"]:
        try:
            ipaddress.ip_address(p["sender_ip"].strip())
        except ValueError:
            raise GuardrailError(["sender_ip %r is not an IP address; give one address such as 198.51.100.7"
                                  % p["sender_ip"]])
    query = {"start": start, "end": end, "searchReason": p["search_reason"]}
    if p["message_id"]:
        query["messageId"] = p["message_id"]
    else:
        options = {"from": p["sender"], "to": p["recipient"], "subject": p["subject"],
                   "senderIP": p["sender_ip"], "route": p["route"]}
        query["advancedTrackAndTraceOptions"] = {k: v for k, v in options.items() if v}
    deadline = time.monotonic() + max(p["wait_timeout"], 0)
    while True:
        found = []
        for page in client.classic(SEARCH, [query]):
            found.extend(page.get("trackedEmails") or [])
        if found or time.monotonic() >= deadline:
            break
        time.sleep(max(p["wait_interval"], 1))
    found.sort(key=lambda m: m.get("received") or "", reverse=True)
    messages = [summary(m) for m in found]
    for message in messages[: max(p["max_messages"], 0)]:
        details(client, message, p["decode_links"])
    return {"changed": False, "found": bool(messages), "messages": messages}


def main():
    argument_spec = dict(
        sender=dict(type="str"),
        recipient=dict(type="str"),
        subject=dict(type="str"),
        sender_ip=dict(type="str"),
        message_id=dict(type="str"),
        since=dict(type="str"),
        until=dict(type="str"),
        route=dict(type="str", default="inbound", choices=["inbound", "outbound", "internal"]),
        search_reason=dict(type="str", default="Verify phishing-simulation allowlisting (mailsec.mimecast)"),
        max_messages=dict(type="int", default=5),
        decode_links=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=0),
        wait_interval=dict(type="int", default=15),
    )
    module = MimecastModule(
        argument_spec,
        supports_check_mode=True,
        required_one_of=[("sender", "recipient", "subject", "sender_ip", "message_id")],
        mutually_exclusive=[("message_id", "sender"), ("message_id", "recipient"), ("message_id", "subject"),
                            ("message_id", "sender_ip")],
    )
    module.run(lambda client: search(module, client))


if __name__ == "__main__":
    main()
