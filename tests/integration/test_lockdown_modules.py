# -*- coding: utf-8 -*-
"""mimecast_ip_range, mimecast_dns_check, exo_inbound_connector and mimecast_delivery_route
against the local DNS server and the sandbox's Entra / Exchange Online / Mimecast endpoints."""

from __future__ import annotations

import re

import pytest

from conftest import CREDENTIALS, assert_declarative_cycle, module_task  # noqa: F401  pylint: disable=unused-import

RANGE = "mailsec.mimecast.mimecast_ip_range"
DNSCHECK = "mailsec.mimecast.mimecast_dns_check"
EXO = "mailsec.mimecast.exo_inbound_connector"
ROUTE = "mailsec.mimecast.mimecast_delivery_route"


def ranges(play, dns, **args):
    host, port = dns.address
    result = play([module_task(RANGE, nameservers=[host], dns_port=port, dns_timeout=1, **args)])
    return result, result.task("t")


def test_live_za_collapsed_and_exchange_form(play, dns):
    result, out = ranges(play, dns, region=["za"])
    assert result.rc == 0, out
    assert out["source_used"] == {"za": "dns"}
    assert out["ipv4"] == ["41.74.192.0/21", "41.74.200.0/23", "41.74.204.0/23", "41.74.206.0/24"]
    assert out["exchange"] == ["41.74.%d.0/24" % i for i in list(range(192, 202)) + [204, 205, 206]]
    assert out["nft_elements_v4"].startswith("41.74.192.0/21, ")
    assert out["difference"]["za"] == {"added": [], "removed": []}


def test_all_follows_includes_and_reports_difference(play, dns):
    dns.set("us._netblocks.mimecast.com", "TXT", [
        "v=spf1 ip4:207.211.31.0/25 ip4:205.139.110.0/24 ip4:216.205.24.0/24 ip4:170.10.129.0/24 ip4:63.128.21.0/24 "
        "ip4:170.10.133.0/24 ip4:185.58.84.93/32 ip4:207.211.41.113/32 ip4:207.211.30.64/26 ip4:207.211.30.128/25 "
        "ip4:216.145.221.0/24 ip4:170.10.128.0/24 ip4:170.10.132.56/29 ip4:170.10.132.64/29 ip4:205.139.111.0/24 ~all"])
    result, out = ranges(play, dns, region=["all"], accept_additions=["205.139.111.0/24"])
    assert result.rc == 0, out
    assert "205.139.110.0/23" in out["ipv4"] and "41.74.206.0/24" in out["ipv4"]  # .110 and .111 collapse
    assert out["difference"]["all"]["added"] == ["205.139.111.0/24"]
    assert "us._netblocks.mimecast.com" in out["records"]["all"]


US_TXT = ("v=spf1 ip4:207.211.31.0/25 ip4:205.139.110.0/24 ip4:216.205.24.0/24 ip4:170.10.129.0/24 ip4:63.128.21.0/24 "
          "ip4:170.10.133.0/24 ip4:185.58.84.93/32 ip4:207.211.41.113/32 ip4:207.211.30.64/26 ip4:207.211.30.128/25 "
          "ip4:216.145.221.0/24 ip4:170.10.128.0/24 ip4:170.10.132.56/29 ip4:170.10.132.64/29")


@pytest.mark.parametrize("added, message", [
    ("198.51.100.0/24", "nobody reviewed: 198.51.100.0/24"),
    ("10.0.0.0/8", "10.0.0.0/8 is in 10.0.0.0/8, private"),
    ("128.0.0.0/1", "128.0.0.0/1 is broader than /20"),
    ("127.0.0.0/24", "loopback"),
], ids=["unknown", "private", "huge", "loopback"])
def test_dns_answer_that_widens_is_refused(play, dns, added, message):
    """Issue 8 item 1: a DNS answer (or a spoofed one) must not widen the allowlist unvetted."""
    dns.set("us._netblocks.mimecast.com", "TXT", ["%s ip4:%s ~all" % (US_TXT, added)])
    for source in ("auto", "dns"):
        result, out = ranges(play, dns, region=["us"], source=source)
        assert result.rc != 0 and message in out["msg"], out
        assert "ipv4" not in out and "Traceback" not in out["msg"]
    # Reviewed: an unknown public range passes when listed; a private or huge one never without the opt-in.
    reviewed, out = ranges(play, dns, region=["us"], accept_additions=[added])
    if added == "198.51.100.0/24":
        assert reviewed.rc == 0 and "198.51.100.0/24" in out["ipv4"] and out["source_used"] == {"us": "dns"}, out
    else:
        assert reviewed.rc != 0 and "unsafe_allow_any_range" in out["msg"], out


def test_small_growth_within_max_growth_is_used_with_a_warning(play, dns):
    dns.set("us._netblocks.mimecast.com", "TXT", ["%s ip4:198.51.100.0/24 ~all" % US_TXT])
    result, out = ranges(play, dns, region=["us"], max_growth=15)
    assert result.rc == 0, out
    assert "198.51.100.0/24" in out["ipv4"] and any("within max_growth" in w for w in out["warnings"])
    refused, out = ranges(play, dns, region=["us"], max_growth=5)
    assert refused.rc != 0 and "more than max_growth 5%" in out["msg"], out


def test_region_without_snapshot_needs_reviewed_ranges(play, dns):
    dns.set("usb._netblocks.mimecast.com", "TXT", ["v=spf1 ip4:205.139.112.0/24 ~all"])
    result, out = ranges(play, dns, region=["usb"])
    assert result.rc != 0 and "has no snapshot to compare with" in out["msg"], out
    reviewed, out = ranges(play, dns, region=["usb"], accept_additions=["205.139.112.0/24"])
    assert reviewed.rc == 0 and out["ipv4"] == ["205.139.112.0/24"], out


@pytest.mark.parametrize("args, message", [
    ({"extra_cidrs": ["0.0.0.0/0"]}, "0.0.0.0/0 is broader than /20"),
    ({"extra_cidrs": ["::/0"]}, "::/0 is broader than /32"),
    ({"extra_cidrs": ["192.168.0.0/24"]}, "private (RFC 1918)"),
    ({"extra_cidrs": ["not-a-range"]}, "'not-a-range' is not an IPv4 or IPv6"),
    ({"extra_cidrs": ["0.0.0.0/0"], "unsafe_allow_any_range": True}, "more than the 1000 entries"),
    ({"shrink_threshold": 100}, "shrink_threshold 100 must be more than 0 and less than 100"),
    ({"shrink_threshold": 0}, "shrink_threshold 0 must be"),
    ({"max_growth": -1}, "max_growth -1 must be from 0 to 100"),
    ({"dns_port": 0, "source": "snapshot"}, "dns_port 0 must be from 1 to 65535"),
    ({"dns_timeout": 0}, "dns_timeout 0 must be more than 0"),
], ids=["v4-any", "v6-any", "private", "garbage", "unsafe-any-exchange", "shrink-100", "shrink-0", "growth",
        "port", "timeout"])
def test_bad_options_are_refused_cleanly(play, args, message):
    """Issue 8 items 7 and 15: 0.0.0.0/0 used to exhaust memory in the Exchange /24 split."""
    base = {"region": ["us"], "source": "snapshot"}
    base.update(args)
    result = play([module_task(RANGE, **base)])
    out = result.task("t")
    assert result.rc != 0 and message in out["msg"], out
    assert "Traceback" not in result.stdout + result.stderr and "module_stderr" not in out


def test_unsafe_opt_in_lets_a_lab_range_through(play):
    result = play([module_task(RANGE, region=["us"], source="snapshot", extra_cidrs=["10.1.0.0/16"],
                               unsafe_allow_any_range=True)])
    out = result.task("t")
    assert result.rc == 0 and "10.1.0.0/16" in out["ipv4"] and len(out["exchange"]) > 256, out


def test_shrunk_answer_keeps_snapshot_and_warns(play, dns):
    dns.set("us._netblocks.mimecast.com", "TXT", ["v=spf1 ip4:205.139.110.0/24 ~all"])
    result, out = ranges(play, dns, region=["us"])
    assert result.rc == 0
    assert out["source_used"] == {"us": "snapshot"}
    assert "207.211.31.0/25" in out["ipv4"]
    assert any("must not lock Mimecast out" in w for w in out["warnings"])
    assert "207.211.31.0/25" in out["difference"]["us"]["removed"]


def test_dns_failure_falls_back_or_fails_closed(play, dns):
    dns.fail("eu._netblocks.mimecast.com", "servfail")
    result, out = ranges(play, dns, region=["eu"])
    assert result.rc == 0 and out["source_used"] == {"eu": "snapshot"} and out["warnings"]
    strict, out = ranges(play, dns, region=["eu"], source="dns")
    assert strict.rc != 0 and "source is dns" in out["msg"]
    dns.fail("usb._netblocks.mimecast.com", "servfail")
    usb, out = ranges(play, dns, region=["usb"])
    assert usb.rc != 0 and "no snapshot exists" in out["msg"]


def test_bad_nameserver_is_a_clear_error(play):
    result = play([module_task(DNSCHECK, domains=["corp.example"], nameservers=["not-a-server"])])
    out = result.task("t")
    assert result.rc != 0 and "give IP addresses of DNS servers" in out["msg"] and "Traceback" not in out["msg"]


def test_mx_check(play, dns):
    host, port = dns.address
    ok = play([module_task(DNSCHECK, domains=["corp.example"], checks=["mx", "spf", "dmarc"], region="us",
                           nameservers=[host], dns_port=port)]).task("t")
    assert ok["ok"] is True, ok
    left = play([module_task(DNSCHECK, domains=["leftover.example"], nameservers=[host], dns_port=port,
                             fail_on_problem=True)])
    out = left.task("t")
    assert left.rc != 0 and "aspmx.l.google.com" in out["msg"] and "Google" in out["msg"]


def exo_args(sandbox, tenant="demo", **extra):
    cfg = sandbox.tenants[tenant]
    args = {"tenant": cfg["entra_tenant_id"], "app_id": cfg["entra_client_id"],
            "client_secret": cfg["entra_client_secret"], "exo_url": sandbox.url, "authority": sandbox.url,
            "name": "Mimecast inbound", "require_tls": True, "tls_sender_certificate_name": "*.mimecast.com",
            "restrict_domains_to_ip_addresses": True,
            "sender_ip_addresses": ["41.74.192.0/22", "41.74.196.0/22", "205.139.110.0/24"]}
    args.update(extra)
    return args


def connectors(sandbox, tenant="demo"):
    return sandbox.state(tenant)["exo_connectors"]


def test_exo_connector_create_noop_update_and_check_mode(sandbox, play):
    checked = play([module_task(EXO, **exo_args(sandbox))], check=True)
    assert checked.rc == 0, checked.task("t")
    assert sandbox.writes("demo") == [] and connectors(sandbox) == []
    created = play([module_task(EXO, **exo_args(sandbox))])
    out = created.task("t")
    assert created.rc == 0, out
    assert out["actions"][0]["cmdlet"] == "New-InboundConnector"
    assert out["split"]["41.74.192.0/22"] == ["41.74.%d.0/24" % i for i in range(192, 196)]
    stored = connectors(sandbox)[0]
    assert sorted(stored["SenderIPAddresses"]) == sorted(["41.74.%d.0/24" % i for i in range(192, 200)] + ["205.139.110.0/24"])
    assert stored["RestrictDomainsToIPAddresses"] is True and stored["TlsSenderCertificateName"] == "*.mimecast.com"
    sent = [r for r in sandbox.requests("demo") if r["path"].endswith("/InvokeCommand")]
    assert not any("/22" in str(r["body"]) and r["write"] for r in sent)  # a /22 never reaches Exchange

    sandbox.clear_requests()
    again = play([module_task(EXO, **exo_args(sandbox))], diff=True).task("t")
    assert again["changed"] is False and sandbox.writes("demo") == []
    assert again["api_calls"]["write"] == 0

    updated = play([module_task(EXO, **exo_args(sandbox, sender_ip_addresses=["205.139.110.0/24"]))]).task("t")
    assert [a["cmdlet"] for a in updated["actions"]] == ["Set-InboundConnector"]
    assert set(updated["actions"][0]["parameters"]) == {"Identity", "SenderIPAddresses"}
    assert connectors(sandbox)[0]["SenderIPAddresses"] == ["205.139.110.0/24"]

    removed = play([module_task(EXO, **exo_args(sandbox, state="absent"))]).task("t")
    assert removed["actions"][0]["cmdlet"] == "Remove-InboundConnector" and connectors(sandbox) == []


def test_exo_refuses_ipv6_and_cloud_ranges_and_reports_permissions(sandbox, play):
    v6 = play([module_task(EXO, **exo_args(sandbox, sender_ip_addresses=["2001:db8::/48"]))])
    assert v6.rc != 0 and "IPv4 only" in v6.task("t")["msg"]
    cloud = play([module_task(EXO, **exo_args(sandbox, sender_ip_addresses=["40.107.0.0/22"]))])
    assert cloud.rc != 0 and "Microsoft 365" in cloud.task("t")["msg"]
    wrong = play([module_task(EXO, **exo_args(sandbox, client_secret="not-the-secret-123"))])
    out = wrong.task("t")
    assert wrong.rc != 0 and "Entra refused" in out["msg"] and "not-the-secret-123" not in wrong.stdout + str(out)
    assert sandbox.writes("demo") == []


def test_delivery_route_to_google(sandbox, play):
    args = {"description": "Google Workspace", "hostname": "ASPMX.L.GOOGLE.COM",
            "alternate_hostname": "ALT1.ASPMX.L.GOOGLE.COM", "domains": ["corp.example"]}
    checked = play([module_task(ROUTE, **args)], check=True).task("t")
    assert sandbox.writes("demo") == []
    made = play([module_task(ROUTE, **args)])
    out = made.task("t")
    assert made.rc == 0, out
    assert [a["action"] for a in out["actions"]] == [a["action"] for a in checked["actions"]] == ["create"] * 3
    state = sandbox.state("demo")
    definitions = {d["description"]: d for d in state["delivery-route-definitions"]}
    primary = definitions["Google Workspace [ansible]"]
    alternate = definitions["Google Workspace - alternate [ansible]"]
    assert primary["hostname"].lower() == "aspmx.l.google.com" and primary["alternateRouteId"] == alternate["id"]
    policy = state["delivery-route-policies"][0]
    assert policy["definitionId"] == primary["id"] and policy["to"]["domain"] == "corp.example"
    sandbox.clear_requests()
    assert play([module_task(ROUTE, **args)]).task("t")["changed"] is False
    assert sandbox.writes("demo") == []
    gone = play([module_task(ROUTE, description="Google Workspace", state="absent")]).task("t")
    assert [a["collection"] for a in gone["actions"]] == ["policies", "definitions", "definitions"]
    state = sandbox.state("demo")
    assert state["delivery-route-definitions"] == [] and state["delivery-route-policies"] == []


def test_role_exchange_and_google_parts(sandbox, play, dns, tmp_path):
    host, port = dns.address
    cfg = sandbox.tenants["demo"]
    variables = {"firewall_lockdown_firewall": False, "firewall_lockdown_region": ["za"],
                 "firewall_lockdown_nameservers": [host], "firewall_lockdown_dns_port": port,
                 "firewall_lockdown_exo": True, "firewall_lockdown_exo_tenant": cfg["entra_tenant_id"],
                 "firewall_lockdown_exo_app_id": cfg["entra_client_id"],
                 "firewall_lockdown_exo_client_secret": cfg["entra_client_secret"],
                 "firewall_lockdown_exo_url": sandbox.url, "firewall_lockdown_exo_authority": sandbox.url,
                 "firewall_lockdown_google": True, "firewall_lockdown_google_domains": ["corp.example"],
                 "firewall_lockdown_runbook_dir": str(tmp_path), "firewall_lockdown_tenant": "demo"}
    tasks = [{"name": "role", "ansible.builtin.include_role": {"name": "mailsec.mimecast.firewall_lockdown"},
              "vars": variables}]
    first = play(tasks)
    assert first.rc == 0, first.stdout[-3000:]
    connector = connectors(sandbox)[0]
    assert connector["RestrictDomainsToIPAddresses"] is True and len(connector["SenderIPAddresses"]) == 13
    assert all(c.endswith("/24") for c in connector["SenderIPAddresses"])
    runbook = (tmp_path / "demo-google-inbound-gateway.md").read_text()
    assert "Reject all mail not from gateway IPs | **Checked**" in runbook and "`41.74.192.0/21`" in runbook
    assert "Require TLS" in runbook
    sandbox.clear_requests()
    second = play(tasks)
    assert second.rc == 0 and second.changed_count == 0, second.stdout[-3000:]
    assert sandbox.writes("demo") == []
    leftover = play([dict(tasks[0], vars=dict(variables, firewall_lockdown_google_domains=["leftover.example"]))])
    assert leftover.rc != 0 and "aspmx.l.google.com" in leftover.stdout
    removed = play([dict(tasks[0], vars=dict(variables, firewall_lockdown_state="absent"))])
    assert removed.rc == 0, removed.stdout[-3000:]
    state = sandbox.state("demo")
    assert state["exo_connectors"] == [] and state["delivery-route-definitions"] == []


def test_exo_certificate_credential_and_permission_errors(sandbox, play, tmp_path):
    cert = sandbox.entra_certificate("demo")
    pem = tmp_path / "exo-app.pem"
    pem.write_text(cert["pem"] if isinstance(cert["pem"], str) else cert["pem"].decode())
    # an empty secret counts as not given, as an AWX credential injector sets it
    args = exo_args(sandbox, client_secret="", certificate_path=str(pem))
    made = play([module_task(EXO, **args)])
    assert made.rc == 0, made.task("t")
    assert connectors(sandbox)[0]["Name"] == "Mimecast inbound"

    sandbox.entra("demo", exo_role="Global Reader")
    sandbox.expire_tokens()
    denied = play([module_task(EXO, **dict(args, sender_ip_addresses=["205.139.110.0/24"]))])
    out = denied.task("t")
    assert denied.rc != 0 and out["error"]["status"] == 403 and "Exchange Administrator" in out["msg"]
    sandbox.entra("demo", exo_permission=False)
    sandbox.expire_tokens()
    unauthorised = play([module_task(EXO, **args)])
    out = unauthorised.task("t")
    assert unauthorised.rc != 0 and "Exchange.ManageAsApp" in out["msg"]


URL_BYPASS = "mailsec.mimecast.mimecast_url_bypass"


def failing(task):
    return dict(task, ignore_errors=True)


def failed(result, name):
    return any(r["task"] == name and r["status"] == "failed" for r in result.records)


def test_connection_options_refused_before_any_request(sandbox, play):
    """Issue 8 items 4, 13 and 15: bad hosts, plain http, numeric ranges and broad Exchange ranges
    are refused before the first request: the sandbox sees nothing at all."""
    bad = {
        "http_authority": (dict(authority="http://login.example.net"), "authority .* plain http"),
        "custom_authority": (dict(authority="https://login.example.net"), "allow_custom_urls"),
        "custom_exo_url": (dict(exo_url="https://outlook.example.net"), "exo_url .* not a known host"),
        "zero_timeout": (dict(timeout=0), "timeout 0.0 is out of range"),
        "negative_wait": (dict(rate_limit_max_wait=-1), "rate_limit_max_wait -1.0 is out of range"),
        "slash8": (dict(sender_ip_addresses=["10.0.0.0/8"]), "10.0.0.0/8 is broader than /21"),
        "private": (dict(sender_ip_addresses=["192.168.1.0/24"]), "private"),
    }
    tasks = [failing(module_task(EXO, task_name=name, **exo_args(sandbox, **args)))
             for name, (args, dummy) in bad.items()]
    mimecast_bad = {
        "base_url_host": (dict(base_url="https://api.services.mimecast.com.evil.example"),
                          "not a known host .*allow_custom_base_url"),
        "negative_retries": (dict(max_retries=-1), "max_retries -1 is out of range; give a value from 0 to 10"),
    }
    tasks += [failing(module_task(URL_BYPASS, task_name=name, config=[{"url": "training.vendor.example"}], **args))
              for name, (args, dummy) in mimecast_bad.items()]
    result = play(tasks)
    for name, (dummy, message) in list(bad.items()) + list(mimecast_bad.items()):
        out = result.task(name)
        assert failed(result, name) and re.search(message, out["msg"]), (name, out)
        assert "module_stderr" not in out and "Traceback" not in str(out.get("exception", "")), (name, out)
    assert sandbox.requests() == []
    assert "Traceback" not in result.stdout + result.stderr
    assert sandbox.tenants["demo"]["entra_client_secret"] not in result.stdout + result.stderr


def test_exo_absent_keeps_a_foreign_connector_adopts_old_ones_and_force(sandbox, play):
    """Issue 8 item 15: state=absent removes only connectors the collection made (marker),
    a connector made before 0.2.0 is adopted by state=present, force removes anything."""
    sandbox.seed("demo", "exo_connectors", [
        {"Name": "Mimecast inbound", "SenderDomains": ["*"], "SenderIPAddresses": ["205.139.110.0/24"],
         "Comment": "made by the mail team"},
        {"Name": "Vendor partner", "SenderDomains": ["*"], "SenderIPAddresses": ["52.201.210.0/24"]},
    ])
    name_only = dict(exo_args(sandbox), state="absent")
    for key in ("sender_ip_addresses", "tls_sender_certificate_name", "restrict_domains_to_ip_addresses"):
        name_only.pop(key)
    result = play([
        failing(module_task(EXO, task_name="absent_foreign", **name_only)),
        module_task(EXO, task_name="adopt", **exo_args(sandbox, sender_ip_addresses=["205.139.110.0/24"])),
        module_task(EXO, task_name="absent_adopted", **name_only),
        failing(module_task(EXO, task_name="absent_vendor", **dict(name_only, name="Vendor partner"))),
        module_task(EXO, task_name="forced", **dict(name_only, name="Vendor partner", force=True)),
    ])
    refused = result.task("absent_foreign")
    assert failed(result, "absent_foreign") and "not made by mailsec.mimecast" in refused["msg"]
    assert "force: true" in refused["msg"] and "Remove-InboundConnector" not in str(refused)
    adopted = result.task("adopt")
    assert adopted["changed"] and any("Adopted" in w for w in adopted.get("warnings", []))
    assert adopted["actions"][0]["parameters"]["Comment"] == "made by the mail team [mailsec.mimecast]"
    assert result.task("absent_adopted")["actions"][0]["cmdlet"] == "Remove-InboundConnector"
    assert failed(result, "absent_vendor")
    assert result.task("forced")["actions"][0]["cmdlet"] == "Remove-InboundConnector"
    cmdlets = [r["body"]["CmdletInput"]["CmdletName"] for r in sandbox.writes("demo")]
    assert cmdlets == ["Set-InboundConnector", "Remove-InboundConnector", "Remove-InboundConnector"]
    assert connectors(sandbox) == []


def test_new_connector_carries_the_marker_and_no_secret_at_vvvv(sandbox, play):
    """Issue 8 item 15 (marker on create) and the secret scan: an Exchange task and a Mimecast
    task, each with a failure path, at -vvvv; no secret value appears anywhere."""
    entra_secret = sandbox.tenants["demo"]["entra_client_secret"]
    # Failure paths with the right secrets in use: Exchange answers 500 to the read (and to its
    # 3 retries); Mimecast answers 500 to the create.
    sandbox.add_fault(method="POST", path="/adminapi/beta/*", status=500, times=4)
    sandbox.add_fault(method="POST", path="/api/ttp/url/create-managed-url", status=500, times=1)
    result = play([
        failing(module_task(EXO, task_name="exo_500", **exo_args(sandbox))),
        module_task(EXO, task_name="create", **exo_args(sandbox, comment="Lockdown")),
        failing(module_task(EXO, task_name="wrong_secret", **exo_args(sandbox, client_secret="wrong-secret-4711"))),
        failing(module_task(URL_BYPASS, task_name="mimecast_500", config=[{"url": "training.vendor.example"}])),
    ], extra_args=("-vvvv",))
    assert failed(result, "exo_500")
    created = result.task("create")
    assert created["actions"][0]["parameters"]["Comment"] == "Lockdown [mailsec.mimecast]"
    assert connectors(sandbox)[0]["Comment"] == "Lockdown [mailsec.mimecast]"
    assert failed(result, "wrong_secret") and failed(result, "mimecast_500")
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "<localhost> EXEC" in output  # really ran at -vvvv
    for secret in (entra_secret, "wrong-secret-4711", CREDENTIALS["demo"][1]):
        assert secret not in output, secret
