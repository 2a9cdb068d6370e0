"""Tests for the Mimecast sandbox (tests/sandbox), over real HTTP with httpx."""

import base64
import hashlib
import hmac
import os
import select
import subprocess
import sys
import time
import uuid

import httpx
import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from sandbox import Sandbox  # noqa: E402

CG = "/policy-management/cloud-gateway/v1"
AS = CG + "/anti-spoofing/policies"
ASB = CG + "/anti-spoofing-bypass/policies"
GREY = CG + "/greylisting/policies"
CREDS = {"demo": ("mc-demo-client", "mc-demo-secret"), "acme": ("mc-acme-client", "mc-acme-secret")}


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
    sandbox.token_ttl = 1800
    yield sandbox
    sandbox.reset()


@pytest.fixture
def http(sb):
    with httpx.Client(base_url=sb.url, timeout=10) as client:
        yield client


def token(http, tenant="demo"):
    client_id, secret = CREDS[tenant]
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": client_id, "client_secret": secret})
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def auth(tok):
    return {"Authorization": "Bearer " + tok}


@pytest.fixture
def demo(http):
    return auth(token(http, "demo"))


def hmac_headers(path, tenant="demo", secret=None, app_id=None):
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    req_id = str(uuid.uuid4())
    key = base64.b64decode(secret or base64.b64encode(b"%s-secret-key-bytes" % tenant.encode()))
    sig = base64.b64encode(hmac.new(key, ":".join([date, req_id, path, "%s-app-key" % tenant])
                                    .encode(), hashlib.sha1).digest()).decode()
    return {"x-mc-date": date, "x-mc-req-id": req_id, "x-mc-app-id": app_id or "%s-app-id" % tenant,
            "Authorization": "MC %s-access-key:%s" % (tenant, sig)}


def fail_code(resp):
    return resp.json()["fail"][0]["errors"][0]["code"]


def policy(description="Vendor X", **kw):
    body = {"description": description, "option": "no_action", "sourceIPs": ["192.0.2.0/24"]}
    body.update(kw)
    return body


# ------------------------------------------------------------------ auth

def test_token_ok_and_rate_headers(http):
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": "mc-demo-client",
                                           "client_secret": "mc-demo-secret"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800 and body["access_token"]
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert resp.headers[header].isdigit()


def test_token_wrong_secret_never_echoed(http, sb):
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": "mc-demo-client",
                                           "client_secret": "s3cr3t-wrong"})
    assert resp.status_code == 401
    assert resp.json() == {"error": "invalid_client",
                           "error_description": "Client authentication failed"}
    assert "s3cr3t" not in resp.text
    logged = sb.requests("demo")[-1]
    assert logged["body"]["client_secret"] == "<redacted>" and "s3cr3t" not in str(sb.requests())
    assert not logged["write"]


def test_token_bad_grant_and_content_type(http):
    resp = http.post("/oauth/token", data={"grant_type": "password", "client_id": "x"})
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"
    resp = http.post("/oauth/token", json={"grant_type": "client_credentials",
                                           "client_id": "mc-demo-client",
                                           "client_secret": "mc-demo-secret"})
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


def test_missing_invalid_and_expired_bearer(http, sb):
    expected = {"meta": {"status": 401}, "data": [], "fail": [{"errors": [{
        "code": "err_xdk_client_unauthorized", "message": "Unauthorized", "retryable": False}]}]}
    assert http.get(AS).json() == expected
    assert http.get(AS, headers=auth("nope")).status_code == 401
    headers = auth(token(http))
    assert http.get(AS, headers=headers).status_code == 200
    sb.expire_tokens()
    resp = http.get(AS, headers=headers)
    assert resp.status_code == 401 and resp.json() == expected
    assert http.get(AS, headers=auth(token(http))).status_code == 200


def test_token_really_expires(http, sb):
    sb.token_ttl = 1
    tok = token(http)
    assert http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": "mc-demo-client",
                                           "client_secret": "mc-demo-secret"}
                     ).json()["expires_in"] == 1
    assert http.get(AS, headers=auth(tok)).status_code == 200
    time.sleep(1.2)
    assert http.get(AS, headers=auth(tok)).status_code == 401


def test_hmac_ok_bad_signature_bad_app(http, sb):
    path = "/api/account/get-account"
    resp = http.post(path, json={"data": []}, headers=hmac_headers(path))
    assert resp.status_code == 200, resp.text
    account = resp.json()["data"][0]
    assert account["accountCode"] == "CUSA12A345" and account["accountName"] == "Demo Corp"
    assert set(account) >= {"accountCode", "accountName", "region", "gateway", "archive",
                            "packages", "adminEmail", "userCount", "mimecastId", "type",
                            "mailPlatform"}
    assert sb.requests()[-1]["tenant"] == "demo"
    bad = hmac_headers(path, secret=base64.b64encode(b"wrong").decode())
    resp = http.post(path, json={"data": []}, headers=bad)
    assert resp.status_code == 401 and fail_code(resp) == "err_xdk_invalid_signature"
    assert resp.json()["fail"][0]["errors"][0]["message"] == "0004 Invalid Signature"
    resp = http.post(path, json={"data": []}, headers=hmac_headers(path, app_id="who"))
    assert resp.status_code == 401 and fail_code(resp) == "err_developer_key"
    # signature covers the path: replaying it on another path fails
    resp = http.post("/api/domain/get-internal-domain", json={"data": []},
                     headers=hmac_headers(path))
    assert resp.status_code == 401 and fail_code(resp) == "err_xdk_invalid_signature"
    # REST is API 2.0 only
    resp = http.get(AS, headers=hmac_headers(AS))
    assert resp.status_code == 401 and fail_code(resp) == "err_xdk_client_unauthorized"


# ------------------------------------------------------------------ classic endpoints

def test_internal_domains_paged_and_filtered(http, demo, sb):
    sb.seed("demo", "internal_domains", [{"domain": "d%d.example" % i} for i in range(3)])
    path = "/api/domain/get-internal-domain"
    seen, tok, pages = [], None, 0
    while True:
        meta = {"pagination": {"pageSize": 50, **({"pageToken": tok} if tok else {})}}
        body = http.post(path, json={"meta": meta, "data": []}, headers=demo).json()
        pages += 1
        assert body["meta"]["pagination"]["pageSize"] == 3
        seen += [d["domain"] for d in body["data"]]
        tok = body["meta"]["pagination"].get("next")
        if not tok:
            break
    assert pages == 2 and seen[:2] == ["corp.example", "corp-mail.example"] and len(seen) == 5
    item = body["data"][0]
    assert set(item) == {"id", "domain", "sendOnly", "local", "inboundType"}
    resp = http.post(path, json={"data": [{"domain": "corp.example"}, {"domain": "x.example"}]},
                     headers=demo)
    assert resp.status_code == 200
    assert [d["domain"] for d in resp.json()["data"]] == ["corp.example"]
    assert resp.json()["fail"] == [{"key": {"domain": "x.example"}, "errors": [{
        "code": "err_domain_not_found", "message": "Domain not found", "retryable": False}]}]


def test_unknown_classic_paths_forbidden(http, demo):
    for path in ("/api/policy/permitted-senders/create-policy",
                 "/api/policy/permitted-senders/get-policy", "/api/nothing/here"):
        resp = http.post(path, json={"data": []}, headers=demo)
        assert resp.status_code == 403, path
        assert resp.json() == {"meta": {"status": 403}, "data": [], "fail": [{"errors": [{
            "code": "app_forbidden", "message": "Resource or method requested does not exist "
            "in any product assigned to the application", "retryable": False}]}]}
    assert http.get("/api/account/get-account", headers=demo).status_code == 405


# ------------------------------------------------------------------ REST collections

def test_create_and_list_pagination(http, demo, sb):
    ids = []
    for i in range(7):
        resp = http.post(AS, json=policy("Policy %d" % i), headers=demo)
        assert resp.status_code == 200 and list(resp.json()) == ["id"]
        ids.append(resp.json()["id"])
    assert len(set(ids)) == 7 and all(i.startswith("eNo1") and len(i) > 100 for i in ids)
    pages, seen, params = [], [], {"pageSize": 100}
    while True:
        body = http.get(AS, params=params, headers=demo).json()
        pages.append(len(body["definitions"]))
        seen += [p["id"] for p in body["definitions"]]
        assert body["meta"]["pageSize"] == 3
        if "nextPageToken" not in body["meta"]:
            break
        params = {"pageSize": 100, "pageToken": body["meta"]["nextPageToken"]}
    assert pages == [3, 3, 1] and seen == ids
    assert http.get(AS, params={"pageSize": 101}, headers=demo).status_code == 400
    assert http.get(AS, params={"pageToken": "garbage"}, headers=demo).status_code == 400
    sb.set_page_size(10)
    body = http.get(AS, headers=demo).json()
    assert len(body["definitions"]) == 7 and "nextPageToken" not in body["meta"]
    # the greylisting list key is `policies`
    http.post(GREY, json={"description": "g", "option": "no_action"}, headers=demo)
    assert len(http.get(GREY, headers=demo).json()["policies"]) == 1


def test_read_back_quirks(http, demo):
    body = policy(**{"from": {"type": "email_domain", "domain": "vendor.example"},
                     "to": {"type": "profile_group", "groupId": "grp-123"}})
    oid = http.post(AS, json=body, headers=demo).json()["id"]
    item = http.get(AS + "/" + oid, headers=demo).json()
    assert item["id"] == oid
    assert item["from"] == {"type": "email_domain", "domain": "vendor.example"}
    assert item["to"] == {"type": "profile_group", "group": {"id": "grp-123"}}
    assert (item["fromType"], item["fromValue"], item["toType"], item["toValue"]) == \
        ("email_domain", "vendor.example", "profile_group", "grp-123")
    assert item["fromEternal"] is True and item["toEternal"] is True
    assert item["fromDateTime"] == "1900-01-01T00:00:00+0000"
    assert item["toDateTime"] == "2100-01-01T23:59:59+0000"
    assert (item["enabled"], item["enforced"], item["override"], item["bidirectional"]) == \
        (True, False, False, False)
    assert item["fromPart"] == "envelope_from" and item["conditions"] == {}
    assert item["sourceIPs"] == ["192.0.2.0/24"] and "spfDomains" not in item
    assert item["createTime"] and item["lastUpdated"]
    # a date forces *Eternal false; greylisting uses fromDate/toDate
    oid = http.post(GREY, json={"description": "g", "option": "apply",
                                "toDate": "2026-12-31T23:59:59+0000", "toEternal": True},
                    headers=demo).json()["id"]
    item = http.get(GREY + "/" + oid, headers=demo).json()
    assert item["toEternal"] is False and item["toDate"] == "2026-12-31T23:59:59+0000"
    assert item["fromDate"] == "1900-01-01T00:00:00+0000" and "fromDateTime" not in item
    assert item["from"] == {"type": "everyone"} and "fromValue" not in item


@pytest.mark.parametrize("path,body,field,code", [
    (AS, policy(**{"from": {"type": "email_domain", "emailDomain": "v.example"}}),
     "from.emailDomain", "err_validation_unknown_field"),
    (AS, policy(sourceIPs=["192.0.2.0/33"]), "sourceIPs", "err_validation_invalid_ip_address"),
    (AS, policy(option="permit"), "option", "err_validation_invalid_value"),
    (AS, policy(description=""), "description", "err_validation_blank"),
    (AS, {"option": "apply"}, "description", "err_validation_null"),
    (AS, policy(comment="x"), "comment", "err_validation_unknown_field"),
    (AS, policy(fromDateTime="2026-01-01T00:00:00Z"), "fromDateTime",
     "err_validation_invalid_date"),
    (AS, policy(**{"to": {"type": "individual_email_address", "emailAddress": "nope"}}),
     "to.emailAddress", "err_validation_invalid_email_address"),
    (ASB, {"description": "b", "option": "enable_bypass", "spfDomains": []}, "spfDomains",
     "err_validation_blank"),
    (ASB, {"description": "b", "option": "enable_bypass"}, "spfDomains", "err_validation_null"),
    (GREY, {"description": "g", "option": "apply", "fromDateTime": "2026-01-01T00:00:00+0000"},
     "fromDateTime", "err_validation_unknown_field"),
])
def test_validation_400_stores_nothing(http, demo, sb, path, body, field, code):
    resp = http.post(path, json=body, headers=demo)
    assert resp.status_code == 400, resp.text
    errors = resp.json()["errors"]
    assert {"code": code, "field": field} in [{"code": e["code"], "field": e.get("field")}
                                              for e in errors]
    assert all(items == [] for key, items in sb.state("demo").items() if key != "internal_domains")


def test_patch_delete_and_404(http, demo):
    oid = http.post(ASB, json={"description": "b", "option": "enable_bypass",
                               "spfDomains": ["vendor.example"], "hostnames": ["mx.vendor.example"]},
                    headers=demo).json()["id"]
    before = http.get(ASB + "/" + oid, headers=demo).json()
    resp = http.patch(ASB + "/" + oid, json={"option": "disable_bypass",
                                             "to": {"type": "internal_addresses"}}, headers=demo)
    assert resp.status_code == 200
    item = resp.json()
    assert item["option"] == "disable_bypass" and item["to"] == {"type": "internal_addresses"}
    assert item["spfDomains"] == ["vendor.example"] and item["hostnames"] == before["hostnames"]
    assert item["createTime"] == before["createTime"]
    assert http.patch(ASB + "/" + oid, json={"spfDomains": ["bad domain"]},
                      headers=demo).status_code == 400
    assert http.put(ASB + "/" + oid, json={}, headers=demo).status_code == 405
    resp = http.delete(ASB + "/" + oid, headers=demo)
    assert resp.status_code == 204 and resp.content == b""
    for resp in (http.get(ASB + "/" + oid, headers=demo), http.delete(ASB + "/" + oid, headers=demo),
                 http.patch(ASB + "/" + oid, json={}, headers=demo)):
        assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "err_policy_not_found"


def test_unknown_rest_path_404(http, demo):
    for path in ("/policy-management/cloud-gateway/v1/permitted-senders/policies",
                 "/policy-management/cloud-gateway/v1/url-protection/policies", "/nothing"):
        resp = http.get(path, headers=demo)
        assert resp.status_code == 404 and resp.json()["errors"][0]["code"] == "not_found"
        assert http.post(path, json={}, headers=demo).status_code == 404
    assert http.put(AS, json={}, headers=demo).status_code == 405


# ------------------------------------------------------------------ faults

def test_fault_429_then_success(http, demo, sb):
    sb.add_fault(method="GET", path=AS, status=429, headers={"X-RateLimit-Reset": "200"})
    resp = http.get(AS, headers=demo)
    assert resp.status_code == 429 and resp.headers["X-RateLimit-Reset"] == "200"
    assert resp.headers["X-RateLimit-Remaining"] == "0"
    assert http.get(AS, headers=demo).status_code == 200


def test_fault_500_not_executed_and_recorded(http, demo, sb):
    sb.add_fault(method="POST", path=CG + "/*", status=500, times=2)
    for dummy in range(2):
        resp = http.post(AS, json=policy(), headers=demo)
        assert resp.status_code == 500 and resp.json()["errors"][0]["code"]
    assert sb.state("demo")["anti-spoofing"] == []
    assert http.post(AS, json=policy(), headers=demo).status_code == 200
    logged = sb.writes("demo")
    assert [(r["status"], r["fault"]) for r in logged] == [(500, True), (500, True), (200, False)]


def test_fault_fail_code_and_body(http, demo, sb):
    sb.add_fault(path="/api/account/get-account", fail_code="err_xdk_binding_expired")
    resp = http.post("/api/account/get-account", json={"data": []}, headers=demo)
    assert resp.status_code == 200 and resp.json()["data"] == []
    assert fail_code(resp) == "err_xdk_binding_expired"
    sb.add_fault(path=AS, status=400, body="")
    resp = http.get(AS, headers=demo)
    assert resp.status_code == 400 and resp.content == b""


def test_fault_delay(http, demo, sb):
    sb.add_fault(method="GET", path=AS, delay=0.6)
    started = time.monotonic()
    assert http.get(AS, headers=demo).status_code == 200
    assert time.monotonic() - started >= 0.6
    sb.add_fault(method="GET", path=AS, delay=1.0, status=503)
    with pytest.raises(httpx.ReadTimeout):
        http.get(AS, headers=demo, timeout=0.3)
    time.sleep(0.8)
    assert http.get(AS, headers=demo).status_code == 200


def test_fault_on_token_endpoint_and_per_tenant(http, sb):
    sb.add_fault(path="/oauth/token", status=503, tenant="acme")
    assert token(http, "demo")
    resp = http.post("/oauth/token", data={"grant_type": "client_credentials",
                                           "client_id": "mc-acme-client",
                                           "client_secret": "mc-acme-secret"})
    assert resp.status_code == 503
    assert token(http, "acme")


# ------------------------------------------------------------------ log, tenants, control

def test_request_log_and_writes(http, demo, sb):
    sb.clear_requests()
    http.get(AS, headers=demo)
    oid = http.post(AS, json=policy(), headers=demo).json()["id"]
    http.patch(AS + "/" + oid, json={"enabled": False}, headers=demo)
    http.post("/api/account/get-account", json={"data": []}, headers=demo)
    http.post("/api/ttp/url/update-managed-url", json={"data": []}, headers=demo)
    http.delete(AS + "/" + oid, headers=demo)
    log = sb.requests("demo")
    assert [(r["method"], r["status"], r["write"]) for r in log] == [
        ("GET", 200, False), ("POST", 200, True), ("PATCH", 200, True), ("POST", 200, False),
        ("POST", 403, True), ("DELETE", 204, True)]
    assert log[1]["body"]["description"] == "Vendor X" and log[0]["query"] == {}
    assert [r["method"] for r in sb.writes("demo")] == ["POST", "PATCH", "POST", "DELETE"]
    assert sb.requests("acme") == []


def test_seed_state_and_tenant_isolation(http, sb):
    ids = sb.seed("acme", "anti-spoofing-bypass", [
        {"description": "seeded", "option": "enable_bypass", "spfDomains": ["v.example"]}])
    assert sb.requests() == []
    demo, acme = auth(token(http, "demo")), auth(token(http, "acme"))
    assert http.get(ASB, headers=demo).json()["definitions"] == []
    assert [p["id"] for p in http.get(ASB, headers=acme).json()["definitions"]] == ids
    assert http.get(ASB + "/" + ids[0], headers=demo).status_code == 404
    assert http.delete(ASB + "/" + ids[0], headers=demo).status_code == 404
    domains = http.post("/api/domain/get-internal-domain", json={"data": []}, headers=acme).json()
    assert [d["domain"] for d in domains["data"]] == ["acme.example"]
    state = sb.state("acme")
    assert state["anti-spoofing-bypass"][0]["description"] == "seeded"
    assert [d["domain"] for d in state["internal_domains"]] == ["acme.example"]
    assert sb.state("demo")["anti-spoofing-bypass"] == []
    with pytest.raises(Exception):
        sb.seed("demo", "anti-spoofing", [{"description": "no option"}])
    assert sb.state("demo")["anti-spoofing"] == []


def test_http_control_api(http, sb):
    resp = http.post("/_sandbox/seed", json={"tenant": "demo", "collection": "greylisting",
                                             "items": [{"description": "g", "option": "apply"}]})
    assert resp.status_code == 200 and len(resp.json()["ids"]) == 1
    assert http.post("/_sandbox/seed", json={"tenant": "demo", "collection": "greylisting",
                                             "items": [{"option": "apply"}]}).status_code == 400
    assert len(http.get("/_sandbox/state", params={"tenant": "demo"}).json()["greylisting"]) == 1
    assert set(http.get("/_sandbox/state").json()) == {"demo", "acme"}
    assert http.post("/_sandbox/faults", json={"path": GREY, "status": 503}).status_code == 200
    headers = auth(token(http))
    assert http.get(GREY, headers=headers).status_code == 503
    logged = http.get("/_sandbox/requests", params={"tenant": "demo"}).json()
    assert [r["path"] for r in logged] == ["/oauth/token", GREY]
    assert http.post("/_sandbox/expire-tokens").status_code == 200
    assert http.get(GREY, headers=headers).status_code == 401
    assert http.post("/_sandbox/clear-requests").status_code == 200
    assert http.get("/_sandbox/requests").json() == []
    assert http.post("/_sandbox/reset").status_code == 200
    assert http.get("/_sandbox/state", params={"tenant": "demo"}).json()["greylisting"] == []
    assert http.get("/_sandbox/nope").status_code == 404
    assert "POST /_sandbox/seed" in http.get("/_sandbox/").json()["endpoints"]


def test_server_script(tmp_path):
    tenants = tmp_path / "tenants.json"
    tenants.write_text('{"solo": {"client_secret": "solo-pw"}}')
    proc = subprocess.Popen(
        [sys.executable, os.path.join(TESTS_DIR, "sandbox", "server.py"), "--port", "0",
         "--tenants", str(tenants)], stdout=subprocess.PIPE, text=True)
    try:
        line = first_line(proc)
        assert line.startswith("SANDBOX_URL=http://127.0.0.1:")
        url = line.split("=", 1)[1]
        resp = httpx.post(url + "/oauth/token", data={"grant_type": "client_credentials",
                                                      "client_id": "mc-solo-client",
                                                      "client_secret": "solo-pw"}, timeout=30)
        assert resp.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(60) == 0  # SIGTERM handled: a clean exit, not -15
