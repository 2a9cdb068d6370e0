"""Sandbox parts for the lock-down: delivery routes, the local DNS server, Entra tokens and
Exchange Online InvokeCommand (tests/sandbox), over real HTTP / DNS."""

import base64
import json
import os
import select
import subprocess
import sys
import time
import uuid

import dns.exception
import dns.resolver
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402
from sandbox.dns_server import DnsServer, mimecast_netblock_zone  # noqa: E402
from sandbox.microsoft import generate_certificate  # noqa: E402

CG = "/policy-management/cloud-gateway/v1"
DEFS = CG + "/delivery-route/definitions"
POLS = CG + "/delivery-route/policies"
DEMO_TID = "11111111-1111-1111-1111-111111111111"
DEMO_APP = "aaaaaaaa-0000-4000-8000-000000000001"
ACME_TID = "22222222-2222-2222-2222-222222222222"
SCOPE = "https://outlook.office365.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
INVOKE = "/adminapi/beta/%s/InvokeCommand"
ANCHOR = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@%s"


def first_line(proc, timeout=60):
    """The first line a server script prints (its address), or fail: never hang on a script that
    died or stalls before printing (a slow start under load gets a whole minute)."""
    ready = select.select([proc.stdout], [], [], timeout)[0]
    line = proc.stdout.readline().strip() if ready else ""
    assert line, "the script printed no address within %ss (exit code %s)" % (timeout, proc.poll())
    return line


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def sb(sandbox):
    sandbox.reset()
    sandbox.set_page_size(3)
    sandbox.set_exo_page_size(3)
    yield sandbox
    sandbox.reset()


@pytest.fixture
def http(sb):
    with httpx.Client(base_url=sb.url, timeout=10) as client:
        yield client


@pytest.fixture
def mc(http):
    """Mimecast API 2.0 bearer headers for demo."""
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": "mc-demo-client",
                                           "client_secret": "mc-demo-secret"})
    return {"Authorization": "Bearer " + resp.json()["access_token"]}


# ------------------------------------------------------------------ delivery routes

def create(http, headers, path, body):
    resp = http.post(path, headers=headers, json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


def error(resp):
    return resp.json()["errors"][0]


def test_delivery_route_definition_crud_and_write_only_password(http, mc, sb):
    primary = create(http, mc, DEFS, {
        "description": "G Suite primary", "hostname": "ASPMX.L.GOOGLE.COM",
        "smtpAuthentication": {"authMechanisms": ["PLAIN"], "username": "relay",
                               "password": "pw-s3cret", "domain": "corp.example"}})
    item = http.get(DEFS + "/" + primary, headers=mc).json()
    assert item["id"] == primary and item["hostname"] == "ASPMX.L.GOOGLE.COM"
    assert item["port"] == 25 and "alternateRouteId" not in item
    assert item["smtpAuthentication"] == {"authMechanisms": ["PLAIN"], "username": "relay",
                                          "domain": "corp.example"}
    assert item["createTime"] and item["lastUpdated"]
    assert "pw-s3cret" not in http.get(DEFS, headers=mc).text
    assert "pw-s3cret" not in str(sb.requests()) + str(sb.state())
    alt = create(http, mc, DEFS, {"description": "G Suite alternate",
                                  "hostname": "alt1.aspmx.l.google.com", "port": 2525})
    resp = http.patch(DEFS + "/" + primary, headers=mc, json={"alternateRouteId": alt})
    assert resp.status_code == 200 and resp.json()["alternateRouteId"] == alt
    listed = http.get(DEFS, headers=mc, params={"pageSize": 10}).json()
    assert sorted(d["id"] for d in listed["definitions"]) == sorted([primary, alt])
    resp = http.patch(DEFS + "/" + primary, headers=mc, json={"alternateRouteId": None})
    assert "alternateRouteId" not in resp.json()


@pytest.mark.parametrize("body,field,code", [
    ({"hostname": "mx.example"}, "description", "err_validation_null"),
    ({"description": "x"}, "hostname", "err_validation_null"),
    ({"description": "x", "hostname": "not a host"}, "hostname", "err_validation_invalid_hostname"),
    ({"description": "x", "hostname": "mx.example", "port": 0}, "port", "err_validation_invalid_value"),
    ({"description": "x", "hostname": "mx.example", "port": "25"}, "port", "err_validation_invalid_value"),
    ({"description": "x", "hostname": "mx.example", "alternateRouteId": "eNo1nope"},
     "alternateRouteId", "err_validation_invalid_value"),
    ({"description": "x", "hostname": "mx.example",
      "smtpAuthentication": {"authMechanisms": ["PLAIN"], "username": "u"}},
     "smtpAuthentication.password", "err_validation_null"),
    ({"description": "x", "hostname": "mx.example", "option": "apply"}, "option",
     "err_validation_unknown_field"),
])
def test_delivery_route_definition_validation(http, mc, sb, body, field, code):
    resp = http.post(DEFS, headers=mc, json=body)
    assert resp.status_code == 400
    assert error(resp)["code"] == code and error(resp)["field"] == field
    assert sb.state("demo")["delivery-route-definitions"] == []


def test_delivery_route_references_are_per_tenant_and_not_self(http, mc, sb):
    acme_def = sb.seed("acme", "delivery-route-definitions",
                       [{"description": "acme", "hostname": "mx.acme.example"}])[0]
    resp = http.post(DEFS, headers=mc, json={"description": "x", "hostname": "mx.example",
                                             "alternateRouteId": acme_def})
    assert resp.status_code == 400 and error(resp)["field"] == "alternateRouteId"
    own = create(http, mc, DEFS, {"description": "x", "hostname": "mx.example"})
    resp = http.patch(DEFS + "/" + own, headers=mc, json={"alternateRouteId": own})
    assert resp.status_code == 400 and error(resp)["code"] == "err_validation_invalid_value"
    resp = http.post(POLS, headers=mc, json={"description": "p", "definitionId": acme_def})
    assert resp.status_code == 400 and error(resp)["field"] == "definitionId"


def test_delivery_route_policy_read_back_quirks(http, mc):
    definition = create(http, mc, DEFS, {"description": "Google", "hostname": "aspmx.l.google.com"})
    pid = create(http, mc, POLS, {"description": "Route corp.example to Google",
                                  "definitionId": definition,
                                  "to": {"type": "email_domain", "domain": "corp.example"}})
    item = http.get(POLS + "/" + pid, headers=mc).json()
    assert item["definitionId"] == definition and "option" not in item
    assert item["from"] == {"type": "everyone"} and item["fromType"] == "everyone"
    assert item["to"] == {"type": "email_domain", "domain": "corp.example"}
    assert item["toType"] == "email_domain" and item["toValue"] == "corp.example"
    assert item["fromPart"] == "envelope_from" and item["enabled"] is True
    assert item["override"] is False and item["bidirectional"] is False and "enforced" not in item
    assert item["fromDateTime"] == "1900-01-01T00:00:00+0000"
    assert item["toDateTime"] == "2100-01-01T23:59:59+0000" and item["conditions"] == {}
    listed = http.get(POLS, headers=mc).json()
    assert [p["id"] for p in listed["policies"]] == [pid]
    for bad in ({"option": "apply"}, {"enforced": True}):
        resp = http.post(POLS, headers=mc, json=dict(bad, description="p", definitionId=definition))
        assert resp.status_code == 400 and error(resp)["code"] == "err_validation_unknown_field"
    resp = http.post(POLS, headers=mc, json={"description": "p"})
    assert resp.status_code == 400 and error(resp) == {
        "code": "err_validation_null", "message": "definitionId is required", "field": "definitionId"}


def test_delete_definition_in_use_is_409(http, mc, sb):
    alt = create(http, mc, DEFS, {"description": "alt", "hostname": "alt1.aspmx.l.google.com"})
    primary = create(http, mc, DEFS, {"description": "primary", "hostname": "aspmx.l.google.com",
                                      "alternateRouteId": alt})
    pid = create(http, mc, POLS, {"description": "p", "definitionId": primary})
    sb.clear_requests()
    for oid in (alt, primary):
        resp = http.delete(DEFS + "/" + oid, headers=mc)
        assert resp.status_code == 409 and error(resp)["code"] == "err_definition_in_use"
    assert len(sb.state("demo")["delivery-route-definitions"]) == 2
    assert [r["status"] for r in sb.writes("demo")] == [409, 409]
    assert http.delete(POLS + "/" + pid, headers=mc).status_code == 204
    assert http.delete(DEFS + "/" + primary, headers=mc).status_code == 204
    assert http.delete(DEFS + "/" + alt, headers=mc).status_code == 204
    assert http.get(DEFS + "/" + alt, headers=mc).status_code == 404


def test_delivery_route_verify_is_not_emulated(http, mc):
    resp = http.post(CG + "/delivery-route/verify", headers=mc, json={"hostname": "mx.example"})
    assert resp.status_code == 404


def test_delivery_route_seed_and_state(sb):
    ids = sb.seed("demo", "delivery-route-definitions",
                  [{"description": "d", "hostname": "mx.example", "port": 587}])
    sb.seed("demo", "delivery-route-policies", [{"description": "p", "definitionId": ids[0]}])
    state = sb.state("demo")
    assert state["delivery-route-definitions"][0]["port"] == 587
    assert state["delivery-route-policies"][0]["definitionId"] == ids[0]
    with pytest.raises(Exception):
        sb.seed("demo", "delivery-route-policies", [{"description": "p", "definitionId": "nope"}])


# ------------------------------------------------------------------ DNS

def resolver(port, lifetime=3.0):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = port
    res.lifetime = lifetime
    return res


def txt(answer):
    return [b"".join(r.strings).decode() for r in answer]


@pytest.fixture
def dnsd():
    with DnsServer(mimecast_netblock_zone()) as server:
        yield server


def test_dns_netblocks_and_examples(dnsd):
    res = resolver(dnsd.port)
    top = txt(res.resolve("_netblocks.mimecast.com", "TXT"))
    assert top == ["v=spf1 include:eu._netblocks.mimecast.com include:us._netblocks.mimecast.com "
                   "include:za._netblocks.mimecast.com include:de._netblocks.mimecast.com "
                   "include:au._netblocks.mimecast.com include:ca._netblocks.mimecast.com ~all"]
    us_record = txt(res.resolve("us._netblocks.mimecast.com", "TXT"))[0]
    assert us_record.startswith("v=spf1 ip4:207.211.31.0/25 ") and us_record.endswith(" ~all")
    assert us_record.count("ip4:") == 14
    assert "ip4:41.74.192.0/22" in txt(res.resolve("za._netblocks.mimecast.com", "TXT"))[0]
    assert sorted(r.to_text() for r in res.resolve("corp.example", "MX")) == [
        "10 us-smtp-inbound-1.mimecast.com.", "20 us-smtp-inbound-2.mimecast.com."]
    assert "30 aspmx.l.google.com." in [r.to_text() for r in res.resolve("leftover.example", "MX")]
    assert txt(res.resolve("corp.example", "TXT")) == ["v=spf1 include:us._netblocks.mimecast.com -all"]
    assert txt(res.resolve("_dmarc.corp.example", "TXT"))[0].startswith("v=DMARC1; p=reject")
    assert dnsd.queries[0]["transport"] == "udp" and dnsd.queries[0]["rcode"] == "NOERROR"


def test_dns_nxdomain_and_no_answer(dnsd):
    res = resolver(dnsd.port)
    with pytest.raises(dns.resolver.NXDOMAIN):
        res.resolve("missing.example", "TXT")
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve("corp.example", "A")           # known name, no A record
    with pytest.raises(dns.resolver.NoAnswer):
        res.resolve("mimecast.com", "TXT")         # empty non-terminal above the netblocks
    assert [q["rcode"] for q in dnsd.queries] == ["NXDOMAIN", "NOERROR", "NOERROR"]


@pytest.mark.parametrize("mode", ["servfail", "refused"])
def test_dns_error_faults(dnsd, mode):
    dnsd.fail("Corp.Example.", mode)
    with pytest.raises(dns.resolver.NoNameservers):
        resolver(dnsd.port).resolve("corp.example", "MX")
    assert dnsd.queries[-1]["rcode"] == mode.upper()
    dnsd.fail("corp.example", None)
    assert resolver(dnsd.port).resolve("corp.example", "MX")


def test_dns_timeout_fault(dnsd):
    dnsd.fail("us._netblocks.mimecast.com", "timeout")
    started = time.time()
    with pytest.raises(dns.exception.Timeout):
        resolver(dnsd.port, lifetime=0.6).resolve("us._netblocks.mimecast.com", "TXT")
    assert time.time() - started < 3
    assert dnsd.queries and all(q["rcode"] is None for q in dnsd.queries)


def test_dns_truncation_falls_back_to_tcp():
    # The real us record (~360 bytes on the wire) fits in 512; a lower limit forces TC.
    with DnsServer(mimecast_netblock_zone(), udp_limit=300) as server:
        answer = resolver(server.port).resolve("us._netblocks.mimecast.com", "TXT")
        assert txt(answer)[0].count("ip4:") == 14
        assert [(q["transport"], q["truncated"]) for q in server.queries] == [
            ("udp", True), ("tcp", False)]


def test_dns_long_txt_split_into_255_byte_strings(dnsd):
    record = "v=spf1 " + " ".join("ip4:198.51.%d.0/24" % i for i in range(40)) + " -all"
    dnsd.set("Big.Example.", "txt", record)
    assert dnsd.records[("big.example", "TXT")] == [record]
    answer = resolver(dnsd.port).resolve("big.example", "TXT")
    strings = answer[0].strings
    assert len(record) > 512 and all(len(s) <= 255 for s in strings) and len(strings[0]) == 255
    assert txt(answer) == [record]
    assert [q["transport"] for q in dnsd.queries] == ["udp", "tcp"]
    dnsd.delete("big.example", "TXT")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(dnsd.port).resolve("big.example", "TXT")


def test_dns_tcp_query_directly(dnsd):
    answer = resolver(dnsd.port).resolve("leftover.example", "MX", tcp=True)
    assert len(answer) == 3 and dnsd.queries[-1]["transport"] == "tcp"


def test_dns_server_standalone_script():
    proc = subprocess.Popen([sys.executable, os.path.join(TESTS_DIR, "sandbox", "dns_server.py"),
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = first_line(proc)
        assert line.startswith("DNS_SERVER=127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        assert txt(resolver(port, lifetime=30).resolve("corp.example", "TXT"))
    finally:
        proc.terminate()
        assert proc.wait(60) == 0  # SIGTERM handled: a clean exit, not -15


# ------------------------------------------------------------------ Entra tokens

def entra_form(**kw):
    form = {"grant_type": "client_credentials", "client_id": DEMO_APP, "scope": SCOPE,
            "client_secret": "entra-demo-secret"}
    form.update(kw)
    return {k: v for k, v in form.items() if v is not None}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(pem, aud, client_id=DEMO_APP, exp_in=600, x5t_from=None):
    key = serialization.load_pem_private_key(pem.encode(), None)
    cert = x509.load_pem_x509_certificate((x5t_from or pem).encode())
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5t": b64url(cert.fingerprint(hashes.SHA1()))}
    claims = {"aud": aud, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()),
              "nbf": now, "iat": now, "exp": now + exp_in}
    signing = "%s.%s" % (b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()))
    return signing + "." + b64url(key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256()))


def entra_error(resp):
    body = resp.json()
    return resp.status_code, body["error"], body["error_codes"][0]


def test_entra_token_with_secret(http, sb):
    resp = http.post("/%s/oauth2/v2.0/token" % DEMO_TID, data=entra_form())
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["tid"] == DEMO_TID and claims["roles"] == ["Exchange.ManageAsApp"]
    resp = http.post("/demo.onmicrosoft.com/oauth2/v2.0/token", data=entra_form())
    assert resp.status_code == 200
    assert [r["write"] for r in sb.requests("demo")] == [False, False]


def test_entra_wrong_secret_never_echoed(http, sb):
    resp = http.post("/%s/oauth2/v2.0/token" % DEMO_TID, data=entra_form(client_secret="s3cr3t-x"))
    assert entra_error(resp) == (401, "invalid_client", 7000215)
    assert resp.json()["error_description"].startswith("AADSTS7000215: Invalid client secret")
    assert "s3cr3t" not in resp.text and "s3cr3t" not in str(sb.requests())
    assert sb.requests("demo")[-1]["body"]["client_secret"] == "<redacted>"


@pytest.mark.parametrize("path,form,expected", [
    ("/%s/oauth2/v2.0/token" % DEMO_TID, {"scope": "https://graph.microsoft.com/.default"},
     (400, "invalid_scope", 70011)),
    ("/%s/oauth2/v2.0/token" % DEMO_TID, {"scope": None}, (400, "invalid_request", 900144)),
    ("/33333333-3333-3333-3333-333333333333/oauth2/v2.0/token", {}, (400, "invalid_request", 90002)),
    ("/%s/oauth2/v2.0/token" % ACME_TID, {}, (400, "unauthorized_client", 700016)),
    ("/%s/oauth2/v2.0/token" % DEMO_TID, {"grant_type": "password"},
     (400, "unsupported_grant_type", 70003)),
    ("/%s/oauth2/v2.0/token" % DEMO_TID, {"client_secret": None}, (401, "invalid_client", 7000218)),
])
def test_entra_token_errors(http, path, form, expected):
    resp = http.post(path, data=entra_form(**form))
    assert entra_error(resp) == expected
    assert resp.json()["error_description"].startswith("AADSTS%d: " % expected[2])


def test_entra_tenant_not_found_text(http):
    resp = http.post("/nobody.onmicrosoft.com/oauth2/v2.0/token", data=entra_form())
    assert "Tenant 'nobody.onmicrosoft.com' not found" in resp.json()["error_description"]


def test_entra_certificate_assertion(http, sb):
    cert = sb.entra_certificate("demo")
    assert len(cert["thumbprint"]) == 40 and "PRIVATE KEY" in cert["pem"]
    path = "/%s/oauth2/v2.0/token" % DEMO_TID
    aud = sb.url + path
    form = entra_form(client_secret=None, client_assertion_type=ASSERTION_TYPE,
                      client_assertion=assertion(cert["pem"], aud))
    resp = http.post(path, data=form)
    assert resp.status_code == 200, resp.text
    assert sb.requests("demo")[-1]["body"]["client_assertion"] == "<redacted>"
    # the real Entra audience is accepted too
    form["client_assertion"] = assertion(
        cert["pem"], "https://login.microsoftonline.com/%s/oauth2/v2.0/token" % DEMO_TID)
    assert http.post(path, data=form).status_code == 200


def test_entra_certificate_assertion_refused(http, sb):
    cert = sb.entra_certificate("demo")
    other = generate_certificate("someone-else")
    path = "/%s/oauth2/v2.0/token" % DEMO_TID
    aud = sb.url + path

    def post(signed):
        return http.post(path, data=entra_form(client_secret=None,
                                               client_assertion_type=ASSERTION_TYPE,
                                               client_assertion=signed))
    # other key, registered thumbprint in the header: bad signature
    resp = post(assertion(other["key_pem"] + cert["cert_pem"], aud, x5t_from=cert["cert_pem"]))
    assert entra_error(resp) == (401, "invalid_client", 700027)
    assert "did not match" in resp.json()["error_description"]
    # a certificate Entra does not know
    resp = post(assertion(other["pem"], aud))
    assert entra_error(resp) == (401, "invalid_client", 700027)
    assert "The key was not found" in resp.json()["error_description"]
    assert entra_error(post(assertion(cert["pem"], aud, exp_in=-900))) == (401, "invalid_client", 700024)
    assert entra_error(post(assertion(cert["pem"], "https://elsewhere.example/token")))[:2] == (
        401, "invalid_client")
    assert entra_error(post(assertion(cert["pem"], aud, client_id="someone"))) == (
        401, "invalid_client", 700021)
    assert entra_error(post("not-a-jwt")) == (400, "invalid_request", 50027)


# ------------------------------------------------------------------ Exchange Online

def exo_token(http, tenant_id=DEMO_TID):
    resp = http.post("/%s/oauth2/v2.0/token" % tenant_id, data=entra_form())
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def exo_headers(tok, tenant=DEMO_TID):
    return {"Authorization": "Bearer " + tok, "X-AnchorMailbox": ANCHOR % tenant,
            "X-CmdletName": "whatever"}


@pytest.fixture
def exo(http):
    headers = exo_headers(exo_token(http))

    def invoke(cmdlet, params=None, url=None, headers_=None, tenant=DEMO_TID):
        return http.post(url or INVOKE % tenant, headers=headers_ or headers,
                         json={"CmdletInput": {"CmdletName": cmdlet, "Parameters": params or {}}})
    return invoke


MIMECAST = {"Name": "Mimecast inbound", "ConnectorType": "Partner", "SenderDomains": ["*"],
            "SenderIPAddresses": ["205.139.110.0/24", "207.211.30.64/26"], "RequireTls": True,
            "RestrictDomainsToIPAddresses": True, "Comment": "managed by ansible"}


def exo_detail(resp):
    return resp.json()["error"]["details"][0]["message"].split("|", 2)


def test_exo_get_new_set_remove(exo, sb):
    resp = exo("Get-InboundConnector")
    assert resp.status_code == 200 and resp.json()["value"] == []
    assert resp.json()["@odata.context"].endswith(
        "/adminapi/beta/%s/$metadata#Collection(Exchange.GenericHashTable)" % DEMO_TID)
    assert resp.json()["adminapi.warnings@odata.type"] == "#Collection(String)"
    resp = exo("New-InboundConnector", MIMECAST)
    assert resp.status_code == 200
    obj = resp.json()["value"][0]
    assert obj["Identity"] == obj["Name"] == "Mimecast inbound"
    assert obj["SenderDomains"] == ["smtp:*;1"]
    assert obj["SenderIPAddresses"] == ["205.139.110.0/24", "207.211.30.64/26"]
    assert obj["SenderIPAddresses@odata.type"] == "#Collection(String)"
    assert obj["Guid@odata.type"] == "#Guid" and uuid.UUID(obj["Guid"])
    assert obj["Enabled"] is True and obj["ConnectorSource"] == "Default"
    assert obj["CloudServicesMailEnabled"] is False and obj["TreatMessagesAsInternal"] is False
    assert obj["EFSkipIPs"] == [] and obj["AssociatedAcceptedDomains"] == []
    assert obj["WhenCreated"].endswith("+00:00") and obj["WhenCreatedUTC"].endswith("Z")
    by_guid = exo("Get-InboundConnector", {"Identity": obj["Guid"]}).json()["value"]
    by_name = exo("Get-InboundConnector", {"identity": "MIMECAST INBOUND"}).json()["value"]
    assert by_guid == by_name == [obj]
    resp = exo("Set-InboundConnector", {"Identity": "Mimecast inbound",
                                        "SenderIPAddresses": ["205.139.110.0/24"],
                                        "EFSkipLastIP": True})
    assert resp.status_code == 200 and resp.json()["value"] == []
    assert resp.json()["@adminapi.warnings"] == []
    now = exo("Get-InboundConnector", {"Identity": "Mimecast inbound"}).json()["value"][0]
    assert now["SenderIPAddresses"] == ["205.139.110.0/24"] and now["EFSkipLastIP"] is True
    resp = exo("Set-InboundConnector", {"Identity": "Mimecast inbound", "EFSkipLastIP": True})
    assert resp.json()["@adminapi.warnings"] == [
        "The command completed successfully but no settings of 'Mimecast inbound' have been modified."]
    state = sb.state("demo")["exo_connectors"]
    assert [c["Name"] for c in state] == ["Mimecast inbound"] and "Guid@odata.type" not in state[0]
    resp = exo("Remove-InboundConnector", {"Identity": "Mimecast inbound", "Confirm": False})
    assert resp.status_code == 200 and resp.json()["value"] == []
    assert sb.state("demo")["exo_connectors"] == []


def test_exo_not_found_shape(exo):
    for cmdlet in ("Get-InboundConnector", "Set-InboundConnector", "Remove-InboundConnector"):
        resp = exo(cmdlet, {"Identity": "Nope", "Enabled": False} if cmdlet.startswith("Set")
                   else {"Identity": "Nope"})
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "NotFound"
        code, kind, text = exo_detail(resp)
        assert code == "Ex6F9304"
        assert kind == "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException"
        assert text.startswith("The operation couldn't be performed because object 'Nope' "
                               "couldn't be found on ")


@pytest.mark.parametrize("ranges", [["41.74.192.0/22"], ["41.74.200.0/23"], ["2001:db8::/48"],
                                    ["205.139.110.0/24", "not-an-ip"]])
def test_exo_sender_ip_mask_refused(exo, sb, ranges):
    resp = exo("New-InboundConnector", dict(MIMECAST, SenderIPAddresses=ranges))
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "BadRequest"
    code, kind, text = exo_detail(resp)
    assert (code, kind) == ("", "Microsoft.Exchange.Management.Tasks.ValidationException")
    assert "Only IPv4 addresses and IPv4 ranges with mask 24 through 32 are supported" in text
    assert error["innererror"]["internalexception"]["message"] == text
    assert sb.state("demo")["exo_connectors"] == []


def test_exo_cross_field_rules_and_duplicates(exo, sb):
    resp = exo("New-InboundConnector", dict(MIMECAST, SenderIPAddresses=[]))
    assert "RestrictDomainsToIPAddresses" in exo_detail(resp)[2]
    resp = exo("New-InboundConnector", dict(MIMECAST, TreatMessagesAsInternal=True))
    assert resp.status_code == 400 and "TreatMessagesAsInternal" in exo_detail(resp)[2]
    onprem = dict(MIMECAST, Name="On-prem", ConnectorType="onpremises", TreatMessagesAsInternal=True)
    assert exo("New-InboundConnector", onprem).json()["value"][0]["ConnectorType"] == "OnPremises"
    assert exo("New-InboundConnector", MIMECAST).status_code == 200
    resp = exo("New-InboundConnector", dict(MIMECAST, Name="mimecast INBOUND"))
    assert resp.status_code == 400 and exo_detail(resp)[0] == "Ex5D3B28"
    resp = exo("Set-InboundConnector", {"Identity": "On-prem", "Name": "Mimecast inbound"})
    assert resp.status_code == 400 and "already exists" in exo_detail(resp)[2]
    assert len(sb.state("demo")["exo_connectors"]) == 2


def test_exo_add_remove_hashtable(exo):
    exo("New-InboundConnector", MIMECAST)
    resp = exo("Set-InboundConnector", {"Identity": "Mimecast inbound", "SenderIPAddresses": {
        "@odata.type": "#Exchange.GenericHashTable", "Add": ["170.10.128.0/24"],
        "Remove": ["207.211.30.64/26"]}})
    assert resp.status_code == 200, resp.text
    got = exo("Get-InboundConnector", {"Identity": "Mimecast inbound"}).json()["value"][0]
    assert got["SenderIPAddresses"] == ["205.139.110.0/24", "170.10.128.0/24"]


def test_exo_paging_with_next_link(exo, sb, http):
    sb.seed("demo", "exo_connectors", [{"Name": "c%d" % i, "SenderDomains": "*"} for i in range(7)])
    names, url, pages = [], None, 0
    while True:
        resp = exo("Get-InboundConnector", url=url)
        assert resp.status_code == 200, resp.text
        names += [o["Name"] for o in resp.json()["value"]]
        pages += 1
        url = resp.json().get("@odata.nextLink")
        if not url:
            break
        assert url.startswith(sb.url + INVOKE % DEMO_TID + "?$skiptoken=")
    assert names == ["c%d" % i for i in range(7)] and pages == 3
    headers = exo_headers(exo_token(http))
    headers["Prefer"] = "odata.maxpagesize=2"
    assert len(exo("Get-InboundConnector", headers_=headers).json()["value"]) == 2
    resp = exo("Get-InboundConnector", url=sb.url + INVOKE % DEMO_TID + "?$skiptoken=garbage")
    assert resp.status_code == 400


def test_exo_permissions(http, sb):
    def invoke(tok, cmdlet, params=None, tenant=DEMO_TID, headers=None):
        return http.post(INVOKE % tenant, headers=headers or exo_headers(tok, tenant),
                         json={"CmdletInput": {"CmdletName": cmdlet, "Parameters": params or {}}})
    sb.entra("demo", exo_permission=False)
    resp = invoke(exo_token(http), "Get-InboundConnector")
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "Unauthorized"
    assert "Exchange.ManageAsApp" in resp.json()["error"]["message"]
    sb.entra("demo", exo_permission=True, exo_role="Global Reader")
    tok = exo_token(http)
    assert invoke(tok, "Get-InboundConnector").status_code == 200
    resp = invoke(tok, "New-InboundConnector", MIMECAST)
    assert resp.status_code == 403
    sb.entra("demo", exo_role=None)
    assert invoke(tok, "Get-InboundConnector").status_code == 403
    sb.entra("demo", exo_role="Exchange Administrator")
    assert invoke(tok, "New-InboundConnector", MIMECAST).status_code == 200
    # anchor mailbox header, other tenant's URL, expired and foreign tokens
    headers = exo_headers(tok)
    del headers["X-AnchorMailbox"]
    assert invoke(tok, "Get-InboundConnector", headers=headers).status_code == 400
    assert invoke(tok, "Get-InboundConnector", tenant=ACME_TID).status_code == 401
    mimecast = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                               "client_id": "mc-demo-client",
                                               "client_secret": "mc-demo-secret"})
    assert invoke(mimecast.json()["access_token"], "Get-InboundConnector").status_code == 401
    assert http.get(CG + "/greylisting/policies",
                    headers={"Authorization": "Bearer " + tok}).status_code == 401
    sb.expire_tokens()
    resp = invoke(tok, "Get-InboundConnector")
    assert resp.status_code == 401 and 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert len(sb.state("demo")["exo_connectors"]) == 1
    assert sb.entra("demo")["exo_role"] == "Exchange Administrator"
    sb.reset()
    assert sb.entra("demo")["exo_permission"] is True and sb.state("demo")["exo_connectors"] == []


def test_exo_entra_token_expires():
    short = Sandbox(entra_token_ttl=1)
    with short, httpx.Client(base_url=short.url) as client:
        tok = client.post("/%s/oauth2/v2.0/token" % DEMO_TID, data=entra_form()).json()
        assert tok["expires_in"] == 1
        headers = exo_headers(tok["access_token"])
        body = {"CmdletInput": {"CmdletName": "Get-InboundConnector"}}
        assert client.post(INVOKE % DEMO_TID, headers=headers, json=body).status_code == 200
        time.sleep(1.1)
        assert client.post(INVOKE % DEMO_TID, headers=headers, json=body).status_code == 401


def test_exo_unknown_cmdlet_and_parameters(exo):
    resp = exo("Get-Mailbox")
    assert resp.status_code == 400
    assert exo_detail(resp)[1] == "System.Management.Automation.CommandNotFoundException"
    assert "'Get-Mailbox' is not recognized" in exo_detail(resp)[2]
    resp = exo("Get-InboundConnector", {"ResultSize": "Unlimited"})
    assert resp.status_code == 400
    dummy, kind, text = exo_detail(resp)
    assert kind == "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException"
    assert text.endswith("Invalid cmdlet parameters specified. ResultSize")
    resp = exo("New-InboundConnector", {"Name": "x"})
    assert exo_detail(resp)[1] == "System.Management.Automation.ParameterBindingException"
    assert "SenderDomains" in exo_detail(resp)[2]
    resp = exo("New-InboundConnector", dict(MIMECAST, Enabled="yes"))
    assert resp.status_code == 400 and "details" not in resp.json()["error"]
    inner = resp.json()["error"]["innererror"]["internalexception"]
    assert inner["type"].endswith("ParameterTransformationException")
    assert "Boolean parameters accept only Boolean values" in inner["message"]


def test_exo_request_log_and_faults(exo, sb, http):
    sb.clear_requests()
    exo("Get-InboundConnector")
    exo("New-InboundConnector", MIMECAST)
    exo("Set-InboundConnector", {"Identity": "Mimecast inbound", "Enabled": False})
    exo("Remove-InboundConnector", {"Identity": "Mimecast inbound"})
    log = sb.requests("demo")
    assert [r["write"] for r in log] == [False, True, True, True]
    assert [r["body"]["CmdletInput"]["CmdletName"] for r in sb.writes("demo")] == [
        "New-InboundConnector", "Set-InboundConnector", "Remove-InboundConnector"]
    assert sb.requests("acme") == []
    sb.add_fault(path="/adminapi/*", status=429, tenant="demo")
    resp = exo("Get-InboundConnector")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.json()["error"]["code"] == "TooManyRequests"
    assert "X-RateLimit-Remaining" not in resp.headers
    assert exo("Get-InboundConnector").status_code == 200
    assert sb.requests("demo")[-2]["fault"] is True
    sb.add_fault(path="/%s/oauth2/v2.0/token" % DEMO_TID, status=503, headers={"Retry-After": "2"})
    resp = http.post("/%s/oauth2/v2.0/token" % DEMO_TID, data=entra_form())
    assert resp.status_code == 503 and resp.json()["error"] == "temporarily_unavailable"


def test_exo_seed_state_and_control_api(sb, http):
    guids = sb.seed("demo", "exo_connectors", [MIMECAST])
    assert sb.state("demo")["exo_connectors"][0]["Guid"] == guids[0]
    with pytest.raises(ValueError, match="ValidationException"):
        sb.seed("demo", "exo_connectors", [dict(MIMECAST, Name="b"),
                                           dict(MIMECAST, Name="c", SenderIPAddresses=["1.2.0.0/16"])])
    assert len(sb.state("demo")["exo_connectors"]) == 1
    resp = http.post("/_sandbox/entra", json={"tenant": "demo", "exo_role": "Global Reader"})
    assert resp.status_code == 200 and resp.json()["exo_role"] == "Global Reader"
    info = http.get("/_sandbox/entra", params={"tenant": "acme"}).json()
    assert info["entra_tenant_id"] == ACME_TID and info["entra_domain"] == "acme.onmicrosoft.com"
    assert sb.state("demo", builtin=True)["entra"]["exo_role"] == "Global Reader"
    assert http.post("/_sandbox/exo-page-size", json={"page_size": 5}).json() == {"ok": True}
    state = http.get("/_sandbox/state", params={"tenant": "demo"}).json()
    assert state["exo_connectors"][0]["Name"] == "Mimecast inbound"
    assert state["delivery-route-definitions"] == [] and state["delivery-route-policies"] == []
