# -*- coding: utf-8 -*-
"""mimecast_message_trace reads get-message-info the way Mimecast answers it.

The fixtures are short and written here from public facts, not copied:
- Mimecast's endpoint reference for get-message-info
  (https://integrations.mimecast.com/documentation/endpoint-reference/message-finder-formerly-tracking/get-message-info)
  lists the top level as status, retentionInfo, recipientInfo, deliveredMessage, spamInfo, id: no policyInfo;
  a delivered copy carries its own messageInfo (htmlBody, textBody, ...).
- The recorded response in the Cortex XSOAR Mimecast integration (demisto/content,
  Packs/Mimecast/Integrations/MimecastV2/test_data/get_message_info_response.json) puts
  policyInfo under deliveredMessage.<recipient address>, each entry {policyType, policyName, inherited},
  and spamInfo.spamProcessingDetail.permittedSender as {allow, info} with info "none".
"""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import MimecastClient, MimecastError
from ansible_collections.mailsec.mimecast.plugins.modules.mimecast_message_trace import INFO, details
from http_mock import TOKEN, Call, ExpectedCalls

BASE = "https://api.services.mimecast.com"
ORIGINAL = '<a href="https://training.vendor.example/l/1">Claim</a>'
REWRITTEN = '<a href="https://url.uk.m.mimecastprotect.com/s/AbC?domain=training.vendor.example">Claim</a>'


def copy(html, *policies):
    return {"messageInfo": {"to": ["x"], "htmlBody": html, "textBody": ""},
            "policyInfo": [{"policyType": t, "policyName": n, "inherited": False} for t, n in policies],
            "deliveryMetaInfo": {"deliveryEvent": "Email Delivered"}}


def real_info(delivered, received_html=ORIGINAL, status="archived"):
    """A get-message-info data item in the recorded real shape (a few fields)."""
    return {"id": "eNpNj9t", "status": status,
            "recipientInfo": {"messageInfo": {"htmlBody": received_html, "textBody": ""},
                              "recipientMetaInfo": {"receiptEvent": "Email Received"}},
            "deliveredMessage": delivered,
            "spamInfo": {"spamScore": 2, "spamProcessingDetail": {"permittedSender": {"allow": True, "info": "none"}}}}


def run(info, decode=False, extra=()):
    calls = ExpectedCalls(TOKEN, Call("POST", INFO, body={"data": [{"id": "eNpNj9t"}]},
                                      json_body={"meta": {"status": 200}, "data": [info], "fail": []}), *extra)
    client = MimecastClient(base_url=BASE, client_id="cid", client_secret="s3cr3t", transport=calls.transport,
                            warn=lambda msg: None, sleep=lambda s: None)
    message = details(client, {"id": "eNpNj9t", "status": "archived"}, decode)
    calls.assert_done()
    return message


def test_bypass_policies_come_from_every_delivered_copy_deduplicated():
    message = run(real_info({
        "bob@corp.example": copy(ORIGINAL, ("Anti-Spoofing", "Vendor relay"), ("URL Protection", "Default Inbound")),
        "alice@corp.example": copy(ORIGINAL, ("Anti-Spoofing", "Vendor relay"), ("Auto Allow", "Apply Auto Allow")),
    }))
    assert message["policies"] == [
        {"type": "Anti-Spoofing", "name": "Vendor relay", "inherited": False,
         "recipients": ["alice@corp.example", "bob@corp.example"]},
        {"type": "Auto Allow", "name": "Apply Auto Allow", "inherited": False, "recipients": ["alice@corp.example"]},
        {"type": "URL Protection", "name": "Default Inbound", "inherited": False, "recipients": ["bob@corp.example"]},
    ]
    assert message["delivered_to"] == ["alice@corp.example", "bob@corp.example"]
    assert message["links"] == ["https://training.vendor.example/l/1"]
    assert message["links_rewritten"] is False and message["permitted_sender"] is False


def test_link_verdict_is_taken_from_the_delivered_copy_not_the_received_one():
    # as received the link is the original; as delivered URL Protect rewrote it
    decoded = Call("POST", "/api/ttp/url/decode-url",
                   json_body={"meta": {"status": 200}, "fail": [],
                              "data": [{"url": "https://training.vendor.example/l/1", "success": True}]})
    message = run(real_info({"bob@corp.example": copy(REWRITTEN, ("URL Protection", "Default Inbound"))}),
                  decode=True, extra=(decoded,))
    assert message["links_rewritten"] is True
    assert message["rewritten_links"] == [
        {"url": "https://url.uk.m.mimecastprotect.com/s/AbC?domain=training.vendor.example",
         "original": "https://training.vendor.example/l/1"}]
    # the reverse: a rewritten-looking link only in the as-received copy does not count
    message = run(real_info({"bob@corp.example": copy(ORIGINAL)}, received_html=REWRITTEN))
    assert message["links_rewritten"] is False and message["rewritten_links"] == []


def test_no_delivered_copy_means_no_policies_and_no_link_verdict():
    info = real_info({}, status="held")
    info["policyInfo"] = [{"policyType": "Anti-Spoofing", "policyName": "old top-level shape", "action": "Hold"}]
    message = run(info)
    assert message["status"] == "held" and message["delivered_to"] == []
    assert message["policies"] == [] and message["links"] == []
    assert message["links_rewritten"] is None


@pytest.mark.parametrize("delivered, part", [
    ([{"policyInfo": []}], "deliveredMessage is a list"),
    ({"bob@corp.example": "delivered"}, "delivered copy for one recipient is a string"),
    ({"bob@corp.example": {"policyInfo": {"policyType": "x"}}}, "policyInfo is an object"),
    ({"bob@corp.example": {"policyInfo": ["Anti-Spoofing"]}}, "an entry of deliveredMessage.<recipient>.policyInfo"),
    ({"bob@corp.example": {"messageInfo": "<p>hi</p>"}}, "messageInfo is a string"),
])
def test_unknown_shapes_fail_loudly_without_values(delivered, part):
    with pytest.raises(MimecastError, match="report this response shape") as err:
        run(real_info(delivered))
    assert part in str(err.value)
    assert "<p>hi</p>" not in str(err.value) and "Anti-Spoofing" not in str(err.value)
