# -*- coding: utf-8 -*-
"""Issue 9 item 4: Exchange holds SenderIPAddresses as an address range a.b.c.d-e.f.g.h (a form
Exchange IP lists accept, see Microsoft's Set-InboundConnector and Set-HostedConnectionFilterPolicy pages
on learn.microsoft.com); exo_inbound_connector compares it by its addresses and never crashes."""

from __future__ import annotations

from conftest import module_task

EXO = "mailsec.mimecast.exo_inbound_connector"


def exo_args(sandbox, **extra):
    cfg = sandbox.tenants["demo"]
    args = {"tenant": cfg["entra_tenant_id"], "app_id": cfg["entra_client_id"],
            "client_secret": cfg["entra_client_secret"], "exo_url": sandbox.url, "authority": sandbox.url,
            "name": "Mimecast inbound", "require_tls": True, "tls_sender_certificate_name": "*.mimecast.com",
            "restrict_domains_to_ip_addresses": True, "comment": "lockdown",
            "sender_ip_addresses": ["41.74.192.0/23", "205.139.110.0/24"]}
    args.update(extra)
    return args


def test_connector_holding_a_range_is_read_compared_and_rewritten(sandbox, play):
    sandbox.seed("demo", "exo_connectors", [
        {"Name": "Mimecast inbound", "SenderDomains": ["*"], "RequireTls": True,
         "TlsSenderCertificateName": "*.mimecast.com", "RestrictDomainsToIPAddresses": True,
         "Comment": "lockdown [mailsec.mimecast]",
         "SenderIPAddresses": ["41.74.192.0-41.74.193.255", "205.139.110.0/24"]}])
    assert sandbox.state("demo")["exo_connectors"][0]["SenderIPAddresses"][0] == "41.74.192.0-41.74.193.255"
    sandbox.clear_requests()
    same = play([module_task(EXO, **exo_args(sandbox))], diff=True)
    out = same.task("t")
    assert same.rc == 0, out
    assert out["changed"] is False and sandbox.writes("demo") == [], out
    assert out["before"]["SenderIPAddresses"] == ["205.139.110.0/24", "41.74.192.0/24", "41.74.193.0/24"]
    assert "Traceback" not in same.stdout + same.stderr

    narrower = play([module_task(EXO, **exo_args(sandbox, sender_ip_addresses=["41.74.192.0/24"]))]).task("t")
    assert [a["cmdlet"] for a in narrower["actions"]] == ["Set-InboundConnector"], narrower
    assert narrower["actions"][0]["parameters"]["SenderIPAddresses"] == ["41.74.192.0/24"]
    assert sandbox.state("demo")["exo_connectors"][0]["SenderIPAddresses"] == ["41.74.192.0/24"]
