"""The sandbox's Exchange Online mail flow cmdlets (Get-/Set-TransportRule -Priority with Exchange's renumbering,
Get-/Set-ArcConfig, Get-OutboundConnector), over real HTTP."""

import os
import sys

import httpx
import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402

DEMO_TID = "11111111-1111-1111-1111-111111111111"
INVOKE = "/adminapi/beta/%s/InvokeCommand" % DEMO_TID


@pytest.fixture(scope="module")
def sb():
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def exo(sb):
    sb.reset()
    cfg = sb.tenants["demo"]
    with httpx.Client(base_url=sb.url, timeout=30) as http:
        token = http.post("/%s/oauth2/v2.0/token" % DEMO_TID, data={
            "grant_type": "client_credentials", "client_id": cfg["entra_client_id"],
            "client_secret": cfg["entra_client_secret"],
            "scope": "https://outlook.office365.com/.default"}).json()["access_token"]
        headers = {"Authorization": "Bearer " + token,
                   "X-AnchorMailbox": "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + DEMO_TID}

        def invoke(cmdlet, params=None):
            return http.post(INVOKE, headers=headers, json={"CmdletInput": {"CmdletName": cmdlet,
                                                                            "Parameters": params or {}}})
        yield invoke
    sb.reset()


def order(sb):
    return [(r["Name"], r["Priority"]) for r in sb.state("demo")["exo_transport_rules"]]


def test_set_priority_renumbers_both_directions(exo, sb):
    sb.seed("demo", "exo_transport_rules", [{"Name": n} for n in ("A", "B", "C", "D")])
    sb.seed("demo", "exo_transport_rules", [{"Name": "CI", "Priority": 0}])
    assert order(sb) == [("CI", 0), ("A", 1), ("B", 2), ("C", 3), ("D", 4)]
    assert exo("Set-TransportRule", {"Identity": "c", "Priority": 0}).status_code == 200
    assert [n for n, p in order(sb)] == ["C", "CI", "A", "B", "D"]
    assert exo("Set-TransportRule", {"Identity": "C", "Priority": 3}).status_code == 200
    assert [n for n, p in order(sb)] == ["CI", "A", "B", "C", "D"]
    same = exo("Set-TransportRule", {"Identity": "C", "Priority": 3}).json()
    assert "no settings of 'C' have been modified" in same["@adminapi.warnings"][0]
    rules = exo("Get-TransportRule").json()["value"]          # paged: first page only
    assert [(r["Name"], r["Priority"], r["State"], r["Mode"]) for r in rules][:1] == [("CI", 0, "Enabled", "Enforce")]


@pytest.mark.parametrize("params, status", [
    ({"Identity": "A", "Priority": 5}, 400),                  # out of range 0..n-1
    ({"Identity": "A", "Priority": -1}, 400),
    ({"Identity": "nope", "Priority": 0}, 404),
    ({"Identity": "A", "SetSCL": -1}, 400),                   # conditions and actions are not emulated
    ({"Identity": "A", "Priority": "x"}, 400),
])
def test_set_priority_refusals_change_nothing(exo, sb, params, status):
    sb.seed("demo", "exo_transport_rules", [{"Name": n} for n in ("A", "B")])
    assert exo("Set-TransportRule", params).status_code == status
    assert order(sb) == [("A", 0), ("B", 1)]


def test_arc_config_read_and_replace(exo, sb):
    assert exo("Get-ArcConfig").json()["value"][0]["ArcTrustedSealers"] == ""
    sb.seed("demo", "exo_arc_sealers", ["a.example", "b.example"])
    assert exo("Get-ArcConfig").json()["value"][0]["ArcTrustedSealers"] == "a.example,b.example"
    assert exo("Set-ArcConfig", {"Identity": "Default", "ArcTrustedSealers": ["b.example"]}).status_code == 200
    assert sb.state("demo")["exo_arc_sealers"] == ["b.example"]
    assert exo("Set-ArcConfig", {"Identity": "Default"}).status_code == 400
    assert exo("Set-ArcConfig", {"Identity": "Other", "ArcTrustedSealers": []}).status_code == 404
    assert exo("Set-ArcConfig", {"Identity": "Default", "ArcTrustedSealers": ["not a domain"]}).status_code == 400
    assert sb.state("demo")["exo_arc_sealers"] == ["b.example"]
    assert [r["write"] for r in sb.requests("demo") if "InvokeCommand" in r.get("path", "")][-1] is True


def test_outbound_connectors_read_only(exo, sb):
    sb.seed("demo", "exo_outbound_connectors", [{"Name": "CI send", "SmartHosts": ["smtp.example"],
                                                 "UseMXRecord": False}])
    out = exo("Get-OutboundConnector").json()["value"][0]
    assert out["Name"] == "CI send" and out["SmartHosts"] == ["smtp.example"] and out["UseMXRecord"] is False
    assert exo("Set-OutboundConnector", {"Identity": "CI send"}).status_code == 400     # not emulated
