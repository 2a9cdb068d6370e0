"""Microsoft Entra client-credentials tokens and the Exchange Online InvokeCommand endpoint.

Served by the same Sandbox HTTP server as the Mimecast API, under paths Mimecast does not
use: `POST /{tenant}/oauth2/v2.0/token` (Entra) and `POST /adminapi/beta/{tenant}/InvokeCommand`
(Exchange Online REST mode). Sources (tags as in tests/sandbox/README.md "Sources"): [MS-connector]
for the connector parameters, [EXO-REST] for the endpoint, [MS-apponly] for app-only access; error
shapes from live captures quoted in public code (see README "Microsoft").
"""

import base64
import copy
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import time
import uuid

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - certificate credentials then answer "key not found"
    x509 = None

from .catalog import DOMAIN_RE, EMAIL_RE, copy_json

EXO_SCOPE = "https://outlook.office365.com/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MANAGE_AS_APP = "Exchange.ManageAsApp"
EXO_APP_ID = "00000002-0000-0ff1-ce00-000000000000"   # Office 365 Exchange Online ([MS-apponly])
TOKEN_RE = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
ENTRA_RE = re.compile(r"^/[^/]+/oauth2/")
EXO_RE = re.compile(r"^/adminapi/beta/([^/]+)/InvokeCommand$")
CLOCK_SKEW = 300

# Built-in tenants: fixed ids so tests and docs can name them.
ENTRA_TENANTS = {
    "demo": {"entra_tenant_id": "11111111-1111-1111-1111-111111111111",
             "entra_client_id": "aaaaaaaa-0000-4000-8000-000000000001"},
    "acme": {"entra_tenant_id": "22222222-2222-2222-2222-222222222222",
             "entra_client_id": "aaaaaaaa-0000-4000-8000-000000000002"},
}
# Changeable at run time (Sandbox.entra); reset() restores the configured values.
ENTRA_MUTABLE = ("entra_client_secret", "exo_permission", "exo_role")
WRITE_ROLES = ("Global Administrator", "Exchange Administrator")
READ_ROLES = WRITE_ROLES + ("Global Reader", "Security Reader")


def entra_defaults(name, cfg):
    """Fill the Entra / Exchange Online keys of one tenant definition (in place)."""
    fixed = ENTRA_TENANTS.get(name, {})
    cfg.setdefault("entra_tenant_id", fixed.get("entra_tenant_id")
                   or str(uuid.uuid5(uuid.NAMESPACE_DNS, "tenant.%s.sandbox" % name)))
    cfg.setdefault("entra_client_id", fixed.get("entra_client_id")
                   or str(uuid.uuid5(uuid.NAMESPACE_DNS, "app.%s.sandbox" % name)))
    cfg.setdefault("entra_client_secret", "entra-%s-secret" % name)
    cfg.setdefault("entra_domain", "%s.onmicrosoft.com" % name)
    cfg.setdefault("entra_certificate", "generate")   # "generate" | PEM certificate | None
    cfg.setdefault("exo_permission", True)
    cfg.setdefault("exo_role", "Exchange Administrator")
    return cfg


def is_microsoft_path(path):
    return bool(ENTRA_RE.match(path)) or path.startswith("/adminapi/")


def is_write(path, body):
    """InvokeCommand of a New-/Set-/Remove- cmdlet changes state; Get- and tokens do not."""
    if not EXO_RE.match(path) or not isinstance(body, dict):
        return False
    cmdlet = (body.get("CmdletInput") or {}).get("CmdletName") if isinstance(
        body.get("CmdletInput"), dict) else None
    return isinstance(cmdlet, str) and cmdlet.lower().startswith(("new-", "set-", "remove-"))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def generate_certificate(common_name):
    """A self-signed RSA-2048 certificate: {key_pem, cert_pem, pem (key + cert), thumbprint
    (SHA-1 hex, upper case, as Entra shows it), x5t (base64url SHA-1, the JWT header form)}."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return dict(certificate_info(cert), key_pem=key_pem,
                pem=key_pem + cert.public_bytes(serialization.Encoding.PEM).decode())


def certificate_info(cert):
    sha1 = cert.fingerprint(hashes.SHA1())  # nosec - Entra's certificate thumbprint
    return {"cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "thumbprint": sha1.hex().upper(), "x5t": b64url(sha1),
            "x5t#S256": b64url(cert.fingerprint(hashes.SHA256())),
            "public_key": cert.public_key(), "key_pem": None}


# --------------------------------------------------------------------------- Entra errors

class EntraError(Exception):
    def __init__(self, status, error, code, text):
        super().__init__(text)
        self.status, self.error, self.code, self.text = status, error, code, text

    def reply(self):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        return self.status, {
            "error": self.error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                                 "Timestamp: %s" % (self.code, self.text, trace, corr, stamp),
            "error_codes": [self.code], "timestamp": stamp, "trace_id": trace,
            "correlation_id": corr,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % self.code}, {}


def missing(param):
    return EntraError(400, "invalid_request", 900144, "The request body must contain the "
                      "following parameter: '%s'." % param)


# --------------------------------------------------------------------------- EXO errors

class ExoError(Exception):
    """An InvokeCommand failure in Exchange's shape. `details`: put "code|type|text" into
    error.details (cmdlet and parameter-set errors); transformation errors carry the text in
    innererror.internalexception only (as in a live capture)."""

    def __init__(self, status, code, message, exc_type, text, error_code="", details=True):
        super().__init__(text)
        self.status, self.code, self.message = status, code, message
        self.exc_type, self.text, self.error_code, self.details = exc_type, text, error_code, details

    def body(self):
        error = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = [{"code": "Client", "target": "", "message": "%s|%s|%s" % (
                self.error_code, self.exc_type, self.text)}]
        error["innererror"] = {
            "message": self.message, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
            "stacktrace": "", "internalexception": {"message": self.text, "type": self.exc_type,
                                                    "stacktrace": ""}}
        error["adminapi.warnings@odata.type"] = "#Collection(String)"
        error["@adminapi.warnings"] = []
        return {"error": error}


def validation_error(text):
    return ExoError(400, "BadRequest", "Error executing cmdlet",
                    "Microsoft.Exchange.Management.Tasks.ValidationException", text)


def not_found(identity, server):
    return ExoError(404, "NotFound", "Error executing cmdlet",
                    "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
                    "The operation couldn't be performed because object '%s' couldn't be found "
                    "on '%s'." % (identity, server), error_code="Ex6F9304")


def bad_parameters(names):
    text = ("Parameter set cannot be resolved using the specified named parameters. Invalid "
            "cmdlet parameters specified. %s" % ", ".join(names))
    return ExoError(400, "BadRequest", "Invalid Operation",
                    "Microsoft.Exchange.AdminApi.CommandInvocation.AmbiguousParameterSetException", text)


def transformation_error(param, value, type_name, reason):
    text = ("Cannot process argument transformation on parameter '%s'. Cannot convert value "
            "\"%s\" to type \"%s\". Error: \"%s\"" % (param, value, type_name, reason))
    return ExoError(400, "BadRequest", "Invalid Operation",
                    "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException",
                    text, details=False)


# --------------------------------------------------------------------------- connector params

def _t_string(param, value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise transformation_error(param, "System.Object", "System.String", "Not a string")


def _t_bool(param, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    raise transformation_error(
        param, "System.String" if isinstance(value, str) else value, "System.Boolean",
        "Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.")


def _t_enum(type_name, names):
    def check(param, value):
        for name in names:
            if isinstance(value, str) and value.lower() == name.lower():
                return name
        raise transformation_error(
            param, value, type_name, "Unable to match the identifier name %s to a valid "
            "enumerator name. Specify one of the following enumerator names and try again: %s"
            % (value, ", ".join(names)))
    return check


def _t_multi(param, value):
    """MultiValuedProperty: a list, a single value, null (= empty), or a hashtable
    {"Add": [...], "Remove": [...]} (ExoHelper tags it "@odata.type": "#Exchange.GenericHashTable")."""
    if value is None:
        return []
    if isinstance(value, dict):
        keys = {k.lower(): v for k, v in value.items() if not k.startswith("@")}
        if not keys or set(keys) - {"add", "remove"}:
            raise transformation_error(param, "System.Collections.Hashtable",
                                       "Microsoft.Exchange.Data.MultiValuedProperty",
                                       "Only Add and Remove keys are supported")
        return ("delta", _t_multi(param, keys.get("add")), _t_multi(param, keys.get("remove")))
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, (dict, list)) or item is None:
            raise transformation_error(param, "System.Object[]",
                                       "Microsoft.Exchange.Data.MultiValuedProperty",
                                       "Each value must be a string")
        out.append(str(item))
    return out


CONNECTOR_TYPE = _t_enum("Microsoft.Exchange.Data.TenantConnectorType", ("Partner", "OnPremises"))
CONNECTOR_SOURCE = _t_enum("Microsoft.Exchange.Data.TenantConnectorSource",
                           ("Default", "HybridWizard", "Migrated"))

CONNECTOR_PARAMS = {
    "Name": _t_string, "Comment": _t_string, "TlsSenderCertificateName": _t_string,
    "ConnectorType": CONNECTOR_TYPE, "ConnectorSource": CONNECTOR_SOURCE,
    "SenderDomains": _t_multi, "SenderIPAddresses": _t_multi, "AssociatedAcceptedDomains": _t_multi,
    "TrustedOrganizations": _t_multi, "EFSkipIPs": _t_multi, "EFUsers": _t_multi,
    "ScanAndDropRecipients": _t_multi,
    "Enabled": _t_bool, "RequireTls": _t_bool, "RestrictDomainsToIPAddresses": _t_bool,
    "RestrictDomainsToCertificate": _t_bool, "CloudServicesMailEnabled": _t_bool,
    "TreatMessagesAsInternal": _t_bool, "EFSkipLastIP": _t_bool, "EFSkipMailGateway": _t_bool,
    "EFTestMode": _t_bool,
}
LISTS = ("AssociatedAcceptedDomains", "EFSkipIPs", "EFUsers", "ScanAndDropRecipients",
         "SenderDomains", "SenderIPAddresses", "TrustedOrganizations")
CONNECTOR_DEFAULTS = {
    # RequireTls: the New-InboundConnector page says $true is the default ([MS-connector]).
    "ConnectorType": "Partner", "ConnectorSource": "Default", "Comment": None, "Enabled": True,
    "RequireTls": True, "RestrictDomainsToIPAddresses": False,
    "RestrictDomainsToCertificate": False, "CloudServicesMailEnabled": False,
    "TreatMessagesAsInternal": False, "TlsSenderCertificateName": None, "EFSkipLastIP": False,
    "EFSkipMailGateway": False, "EFTestMode": False,
}
COMMON = {"Confirm": _t_bool, "WhatIf": _t_bool}
CMDLET_PARAMS = {
    "Get-InboundConnector": ({"Identity": _t_string}, ()),
    "New-InboundConnector": (dict(CONNECTOR_PARAMS, **COMMON), ("Name", "SenderDomains")),
    "Set-InboundConnector": (dict(CONNECTOR_PARAMS, Identity=_t_string, **COMMON), ("Identity",)),
    "Remove-InboundConnector": (dict({"Identity": _t_string}, **COMMON), ("Identity",)),
}
# Mail flow for Cloud Integrated ([MS-mailflow] in README "Sources"): transport rule order, trusted ARC
# sealers, outbound connectors (read).
RULE_STATE = _t_enum("Microsoft.Exchange.MessagingPolicies.Rules.RuleState", ("Enabled", "Disabled"))
RULE_MODE = _t_enum("Microsoft.Exchange.MessagingPolicies.Rules.RuleMode", ("Audit", "AuditAndNotify", "Enforce"))


def _t_int(param, value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise transformation_error(param, value, "System.Int32", "Input string was not in a correct format.")


CMDLET_PARAMS.update({
    "Get-TransportRule": ({"Identity": _t_string}, ()),
    # Only -Priority is emulated: any condition or action parameter is refused as unknown, so a module
    # that sent one would fail its tests.
    "Set-TransportRule": (dict({"Identity": _t_string, "Priority": _t_int}, **COMMON), ("Identity",)),
    "Get-ArcConfig": ({}, ()),
    "Set-ArcConfig": (dict({"Identity": _t_string, "ArcTrustedSealers": _t_multi}, **COMMON), ("Identity",)),
    "Get-OutboundConnector": ({"Identity": _t_string}, ()),
})
OUTBOUND_DEFAULTS = {
    "Enabled": True, "ConnectorType": "Partner", "ConnectorSource": "Default", "Comment": None,
    "SmartHosts": [], "UseMXRecord": True, "RecipientDomains": [], "IsTransportRuleScoped": False,
    "RouteAllMessagesViaOnPremises": False, "CloudServicesMailEnabled": False, "AllAcceptedDomains": False,
    "TlsSettings": None, "TlsDomain": None, "SenderRewritingEnabled": False, "TestMode": False,
}
WILDCARD_DOMAIN = re.compile(r"^(\*|(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*)$", re.I)


def _sender_domain(value):
    """SenderDomains entry -> its read-back form "smtp:<domain>;<cost>" (Exchange stores an
    address space ``SMTP:<domain>;<cost>``, the form of Microsoft's New-SendConnector -AddressSpaces examples,
    https://learn.microsoft.com/powershell/module/exchangepowershell/new-sendconnector)."""
    text, cost = value.strip(), "1"
    match = re.match(r"^smtp:(.+?)(?:;(\d+))?$", text, re.I)
    if match:
        text, cost = match.group(1), match.group(2) or "1"
    if text != "*" and (not WILDCARD_DOMAIN.match(text) or "*" in text[1:]
                        or not DOMAIN_RE.match(text.lstrip("*."))):
        raise validation_error("'%s' isn't a valid SMTP domain. Wildcards are only allowed at "
                               "the start of the domain (for example, *.contoso.com)." % value)
    return "smtp:%s;%s" % (text, cost)


def _sender_ip(value):
    """IPv4 address, IPv4 CIDR /24../32 or IPv4 range a.b.c.d-e.f.g.h; CIDRs read back masked, ranges
    as given (normalised). Single addresses and CIDRs /24-/32: Microsoft's New-/Set-InboundConnector pages
    (https://learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector); the range
    form is the one Exchange IP lists take (``192.168.0.1-192.168.0.254`` on the same site's
    Set-HostedConnectionFilterPolicy page), which Exchange accepts here too (issue 9 item 4)."""
    try:
        if "-" in value:
            first, last = (ipaddress.ip_address(v.strip()) for v in value.split("-", 1))
            if first.version == last.version == 4 and first <= last:
                return "%s-%s" % (first, last)
        elif "/" in value:
            net = ipaddress.ip_network(value.strip(), strict=False)
            if net.version == 4 and 24 <= net.prefixlen <= 32:
                return str(net)
        else:
            addr = ipaddress.ip_address(value.strip())
            if addr.version == 4:
                return str(addr)
    except ValueError:
        pass
    raise validation_error("The IP address range '%s' is invalid. Only IPv4 addresses and IPv4 "
                           "ranges with mask 24 through 32 are supported." % value)


def _ef_skip_ip(value):
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False)) if "/" in value \
            else str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise validation_error("'%s' isn't a valid IP address or CIDR range." % value)


def _plain_domain(value):
    if not DOMAIN_RE.match(value.strip()):
        raise validation_error("'%s' isn't a valid domain name." % value)
    return value.strip()


def _email(value):
    if not EMAIL_RE.match(value) or not DOMAIN_RE.match(value.rsplit("@", 1)[1]):
        raise validation_error("'%s' isn't a valid SMTP address." % value)
    return value


LIST_CHECKS = {"SenderDomains": _sender_domain, "SenderIPAddresses": _sender_ip,
               "EFSkipIPs": _ef_skip_ip, "AssociatedAcceptedDomains": _plain_domain,
               "TrustedOrganizations": _plain_domain, "EFUsers": _email,
               "ScanAndDropRecipients": _email}


def _apply_list(current, value, check):
    """New list value of a MultiValuedProperty: replace, or Add/Remove (case-insensitive)."""
    if isinstance(value, tuple):
        dummy, add, remove = value
        drop = {check(v).lower() for v in remove}
        out = [v for v in current if v.lower() not in drop]
        for item in (check(v) for v in add):
            if item.lower() not in {v.lower() for v in out}:
                out.append(item)
        return out
    out = []
    for item in (check(v) for v in value):
        if item.lower() not in {v.lower() for v in out}:
            out.append(item)
    return out


def connector_rules(rec):
    """Cross-field rules Exchange enforces on the resulting connector."""
    if rec["RestrictDomainsToIPAddresses"] and not rec["SenderIPAddresses"]:
        raise validation_error("RestrictDomainsToIPAddresses is set to $true but "
                               "SenderIPAddresses is empty. Specify the sender IP addresses.")
    if rec["TreatMessagesAsInternal"] and (rec["ConnectorType"] != "OnPremises"
                                           or rec["CloudServicesMailEnabled"]):
        raise validation_error("TreatMessagesAsInternal can only be set to $true on an "
                               "OnPremises connector with CloudServicesMailEnabled set to $false.")
    if rec["TlsSenderCertificateName"] is not None and not WILDCARD_DOMAIN.match(
            rec["TlsSenderCertificateName"]):
        raise validation_error("'%s' isn't a valid TLS certificate name."
                               % rec["TlsSenderCertificateName"])
    if not (rec["Name"] or "").strip():
        raise validation_error("The Name parameter can't be empty.")


def exo_time(stamp, utc=False):
    moment = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%07d" % (moment.microsecond * 10) + (
        "Z" if utc else "+00:00")


def render_connector(rec, org):
    """The Get-InboundConnector object for a stored connector (annotations as in a live
    capture of the same endpoint: collections and Guids carry @odata.type / @data.type)."""
    out = {}
    for key in ("AssociatedAcceptedDomains", "CloudServicesMailEnabled", "Comment",
                "ConnectorSource", "ConnectorType", "EFSkipIPs", "EFSkipLastIP",
                "EFSkipMailGateway", "EFTestMode", "EFUsers", "Enabled", "RequireTls",
                "RestrictDomainsToCertificate", "RestrictDomainsToIPAddresses",
                "ScanAndDropRecipients", "SenderDomains", "SenderIPAddresses",
                "TlsSenderCertificateName", "TreatMessagesAsInternal", "TrustedOrganizations"):
        if key in LISTS:
            out[key + "@odata.type"] = "#Collection(String)"
        out[key] = copy.deepcopy(rec[key])
    name = rec["Name"]
    out.update({
        "AdminDisplayName": "", "ExchangeVersion": "0.1 (8.0.535.0)", "Name": name,
        "DistinguishedName": "CN=%s,CN=Transport Settings,CN=Configuration,CN=%s,"
                             "CN=ConfigurationUnits,DC=NAMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"
                             % (name, org), "Identity": name, "Id": name,
        "ObjectCategory": "NAMPR01A001.PROD.OUTLOOK.COM/Configuration/Schema/ms-Exch-SMTP-Inbound-Connector",
        "ObjectClass@odata.type": "#Collection(String)",
        "ObjectClass": ["top", "msExchSMTPInboundConnector"],
        "WhenChanged@data.type": "System.DateTime", "WhenChanged": exo_time(rec["changed"]),
        "WhenCreated@data.type": "System.DateTime", "WhenCreated": exo_time(rec["created"]),
        "WhenChangedUTC@data.type": "System.DateTime",
        "WhenChangedUTC": exo_time(rec["changed"], True),
        "WhenCreatedUTC@data.type": "System.DateTime",
        "WhenCreatedUTC": exo_time(rec["created"], True),
        "ExchangeObjectId@data.type": "System.Guid", "ExchangeObjectId@odata.type": "#Guid",
        "ExchangeObjectId": rec["Guid"],
        "OrganizationalUnitRoot": org, "OrganizationId": "NAMPR01A001.PROD.OUTLOOK.COM/"
                                                         "Microsoft Exchange Hosted Organizations/%s - "
                                                         "NAMPR01A001.PROD.OUTLOOK.COM/ConfigurationUnits/%s/"
                                                         "Configuration" % (org, org),
        "Guid@data.type": "System.Guid", "Guid@odata.type": "#Guid", "Guid": rec["Guid"],
        "OriginatingServer": "SA0PR01A001DC01.NAMPR01A001.PROD.OUTLOOK.COM", "IsValid": True,
        "ObjectState": "Unchanged",
    })
    return out


def _common(rec, name, org, category):
    return {"Name": name, "Identity": name, "Guid@data.type": "System.Guid", "Guid@odata.type": "#Guid",
            "Guid": rec["Guid"], "ExchangeObjectId": rec["Guid"],
            "DistinguishedName": "CN=%s,CN=%s,CN=Transport Settings,CN=Configuration,CN=%s,"
                                 "CN=ConfigurationUnits,DC=NAMPR01A001,DC=PROD,DC=OUTLOOK,DC=COM"
                                 % (name, category, org),
            "WhenChanged@data.type": "System.DateTime", "WhenChanged": exo_time(rec["changed"]),
            "WhenChangedUTC@data.type": "System.DateTime", "WhenChangedUTC": exo_time(rec["changed"], True),
            "OrganizationalUnitRoot": org, "IsValid": True, "ObjectState": "Unchanged"}


def render_rule(rec, priority, org):
    """A Get-TransportRule object (Name, Priority, State, Mode, Comments, Description: the properties the
    Get-TransportRule page's examples list, [MS-mailflow])."""
    out = _common(rec, rec["Name"], org, "TransportVersioned")
    out.update({"Priority": priority, "State": rec["State"], "Mode": rec["Mode"], "Comments": rec["Comments"],
                "Description": rec["Description"], "RuleVersion": "15.0.5.6", "DlpPolicy": None,
                "IsRuleConfigurationSupported": True})
    return out


def render_outbound(rec, org):
    """A Get-OutboundConnector object ([MS-mailflow])."""
    out = _common(rec, rec["Name"], org, "Outbound Connectors")
    for key in OUTBOUND_DEFAULTS:
        if isinstance(OUTBOUND_DEFAULTS[key], list):
            out[key + "@odata.type"] = "#Collection(String)"
        out[key] = copy.deepcopy(rec[key])
    return out


def render_arc(sealers, org):
    """Get-ArcConfig: one object; ArcTrustedSealers is one comma-separated string (public readers such as
    the ORCA report, github.com/cammurray/orca check ORCA243, split it on ",")."""
    return {"Identity": "%s\\Default" % org, "Name": "Default", "ArcTrustedSealers": ",".join(sealers),
            "IsValid": True, "ObjectState": "Unchanged"}


def plain(obj):
    """An object without its @odata / @data annotations."""
    return {k: v for k, v in obj.items() if "@" not in k}


# --------------------------------------------------------------------------- the service

class Microsoft:
    """Entra tokens and Exchange Online cmdlets for the sandbox's tenants (state lives in the
    Sandbox tenant state under "entra" and "exo_connectors")."""

    def __init__(self, sandbox, token_ttl=3599, page_size=3):
        self.sb = sandbox
        self.token_ttl, self.page_size = token_ttl, int(page_size)
        self.tokens = {}             # access token -> [tenant, expiry epoch, roles]
        self.certs = {}              # tenant -> certificate info (generated on first use)
        self._key = os.urandom(32)

    # ---- tenants and credentials
    def initial_state(self, cfg):
        return {"entra": {k: cfg[k] for k in ENTRA_MUTABLE}, "exo_connectors": {},
                "exo_rules": [], "exo_arc": [], "exo_outbound": []}

    def tenant_by_id(self, tenant_id):
        """Sandbox tenant name for an Entra tenant GUID or its <name>.onmicrosoft.com domain."""
        wanted = str(tenant_id or "").lower()
        for name, cfg in self.sb.tenants.items():
            if wanted in (cfg["entra_tenant_id"].lower(), cfg["entra_domain"].lower()):
                return name
        return None

    def identify(self, path):
        match = TOKEN_RE.match(path) or EXO_RE.match(path)
        return self.tenant_by_id(match.group(1)) if match else None

    def certificate(self, tenant):
        """The tenant's registered certificate (generated on first use when configured as
        "generate"); None when the app has no certificate credential."""
        cfg = self.sb.tenants[tenant]
        source = cfg.get("entra_certificate")
        if not source or x509 is None:
            return None
        if tenant not in self.certs:
            if source == "generate":
                self.certs[tenant] = generate_certificate("sandbox-%s-exo-app" % tenant)
            else:
                self.certs[tenant] = certificate_info(
                    x509.load_pem_x509_certificate(source.encode()))
            cfg["entra_certificate_thumbprint"] = self.certs[tenant]["thumbprint"]
        return self.certs[tenant]

    def issue(self, tenant, roles=None):
        cfg, now = self.sb.tenants[tenant], int(time.time())
        entra = self.sb.tenant_data(tenant)["entra"]
        if roles is None:
            roles = [MANAGE_AS_APP] if entra["exo_permission"] else []
        tid = cfg["entra_tenant_id"]
        claims = {"aud": "https://outlook.office365.com", "iss": "https://sts.windows.net/%s/" % tid,
                  "iat": now, "nbf": now, "exp": now + int(self.token_ttl),
                  "app_displayname": "sandbox %s app" % tenant, "appid": cfg["entra_client_id"],
                  "appidacr": "1", "idp": "https://sts.windows.net/%s/" % tid, "idtyp": "app",
                  "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, cfg["entra_client_id"])),
                  "roles": list(roles), "tid": tid, "uti": secrets.token_urlsafe(16), "ver": "1.0"}
        if not roles:
            del claims["roles"]
        head = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "x5t": "sandbox",
                                  "kid": "sandbox"}).encode())
        body = b64url(json.dumps(claims).encode())
        sig = b64url(hmac.new(self._key, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest())
        token = "%s.%s.%s" % (head, body, sig)
        self.tokens[token] = [tenant, time.time() + self.token_ttl, list(roles)]
        return token

    def expire_tokens(self):
        for entry in self.tokens.values():
            entry[1] = 0

    # ---- routing
    def route(self, method, path, query, headers, body, ctype):
        """(status, body, headers) for an Entra or Exchange Online path."""
        match = TOKEN_RE.match(path)
        if match:
            try:
                return self.token(method, match.group(1), ctype, body, headers)
            except EntraError as exc:
                return exc.reply()
        match = EXO_RE.match(path)
        if match:
            try:
                return self.invoke(method, match.group(1), query, headers, body)
            except ExoError as exc:
                return exc.status, exc.body(), {}
        if ENTRA_RE.match(path):
            return 404, {"error": "not_found", "error_description": "No such Entra endpoint in "
                         "the sandbox (only /{tenant}/oauth2/v2.0/token)"}, {}
        return 404, {"error": {"code": "NotFound", "message": "No such Exchange Online endpoint "
                               "in the sandbox (only /adminapi/beta/{tenant}/InvokeCommand)"}}, {}

    # ---- Entra: POST /{tenant}/oauth2/v2.0/token
    def token(self, method, tenant_id, ctype, form, headers):
        if method != "POST":
            raise EntraError(400, "invalid_request", 900561,
                             "The endpoint only accepts POST, OPTIONS requests. Received a %s "
                             "request." % method)
        if ctype != "application/x-www-form-urlencoded" or not isinstance(form, dict):
            raise missing("grant_type")
        tenant = self.tenant_by_id(tenant_id)
        if tenant is None:
            raise EntraError(400, "invalid_request", 90002,
                             "Tenant '%s' not found. Check to make sure you have the correct "
                             "tenant ID and are signing into the correct cloud. Check with your "
                             "subscription administrator, this may happen if there are no active "
                             "subscriptions for the tenant." % tenant_id)
        if not form.get("grant_type"):
            raise missing("grant_type")
        if form["grant_type"] != "client_credentials":
            raise EntraError(400, "unsupported_grant_type", 70003,
                             "The app requested an unsupported grant type '%s'."
                             % form["grant_type"])
        cfg = self.sb.tenants[tenant]
        if not form.get("client_id"):
            raise missing("client_id")
        if form["client_id"].lower() != cfg["entra_client_id"].lower():
            raise EntraError(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found in the directory "
                             "'%s'. This can happen if the application has not been installed by "
                             "the administrator of the tenant or consented to by any user in the "
                             "tenant. You may have sent your authentication request to the wrong "
                             "tenant." % (form["client_id"], cfg["entra_domain"]))
        if not form.get("scope"):
            raise missing("scope")
        if form["scope"] != EXO_SCOPE:
            raise EntraError(400, "invalid_scope", 70011,
                             "The provided request must include a 'scope' input parameter. The "
                             "provided value for the input parameter 'scope' is not valid. The "
                             "scope %s is not valid." % form["scope"])
        if form.get("client_assertion") or form.get("client_assertion_type"):
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise EntraError(400, "invalid_request", 50027, "Invalid client_assertion_type; "
                                 "expected %s." % ASSERTION_TYPE)
            if not form.get("client_assertion"):
                raise missing("client_assertion")
            self.verify_assertion(tenant, tenant_id, form["client_assertion"], headers)
        elif form.get("client_secret"):
            secret = self.sb.tenant_data(tenant)["entra"]["entra_client_secret"]
            if not secret or not hmac.compare_digest(str(form["client_secret"]), str(secret)):
                raise EntraError(401, "invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent in "
                                 "the request is the client secret value, not the client secret "
                                 "ID, for a secret added to app '%s'." % cfg["entra_client_id"])
        else:
            raise EntraError(401, "invalid_client", 7000218,
                             "The request body must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.")
        token = self.issue(tenant)
        return 200, {"token_type": "Bearer", "expires_in": int(self.token_ttl),
                     "ext_expires_in": int(self.token_ttl), "access_token": token}, {}

    def verify_assertion(self, tenant, tenant_id, assertion, headers):
        cfg = self.sb.tenants[tenant]
        client_id = cfg["entra_client_id"]
        try:
            head_b64, body_b64, sig_b64 = assertion.split(".")
            header = json.loads(b64url_decode(head_b64))
            claims = json.loads(b64url_decode(body_b64))
            signature = b64url_decode(sig_b64)
            if not isinstance(header, dict) or not isinstance(claims, dict):
                raise ValueError("not objects")
        except (ValueError, TypeError):
            raise EntraError(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        if header.get("alg") != "RS256":
            raise EntraError(401, "invalid_client", 5002738,
                             "Invalid JWT token. '%s' is not a supported signature algorithm. "
                             "Supported signing algorithms are: 'RS256'." % header.get("alg"))
        cert = self.certificate(tenant)
        presented = header.get("x5t") or header.get("x5t#S256") or ""
        try:
            shown = b64url_decode(presented).hex().upper()
        except (ValueError, TypeError):
            shown = presented
        if cert is None or presented not in (cert["x5t"], cert["x5t#S256"]):
            raise EntraError(401, "invalid_client", 700027,
                             "Client assertion contains an invalid signature. [Reason - The key "
                             "was not found., Thumbprint of key used by client: '%s', Please "
                             "visit the Azure Portal, Graph Explorer or directly use MS Graph to "
                             "see configured keys for app Id '%s'.]" % (shown, client_id))
        try:
            cert["public_key"].verify(signature, ("%s.%s" % (head_b64, body_b64)).encode(),
                                      padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise EntraError(401, "invalid_client", 700027,
                             "Client assertion contains an invalid signature. [Reason - The "
                             "provided signature value did not match the expected signature "
                             "value., Thumbprint of key used by client: '%s', Found key "
                             "'Start=..., End=...']" % cert["thumbprint"])
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise EntraError(401, "invalid_client", 700021, "Client assertion application "
                             "identifier doesn't match 'client_id' parameter.")
        host = headers.get("Host") or ""
        audiences = {"%s/%s/oauth2/v2.0/token" % (base, tid) for tid in
                     (tenant_id, cfg["entra_tenant_id"], cfg["entra_domain"])
                     for base in ("http://%s" % host, "https://login.microsoftonline.com")}
        audiences.add("https://login.microsoftonline.com/%s/v2.0" % cfg["entra_tenant_id"])
        if claims.get("aud") not in audiences:
            raise EntraError(401, "invalid_client", 700212,
                             "The audience claim of the client assertion, '%s', does not match "
                             "this token endpoint." % claims.get("aud"))
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
        if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)) \
                or now > exp + CLOCK_SKEW or now < nbf - CLOCK_SKEW:
            raise EntraError(401, "invalid_client", 700024,
                             "Client assertion is not within its valid time range. Current time: "
                             "%s, assertion valid from %s, expiry time of assertion %s."
                             % (now, nbf, exp))

    # ---- Exchange Online: POST /adminapi/beta/{tenant}/InvokeCommand
    def invoke(self, method, tenant_id, query, headers, body):
        if method != "POST":
            return 405, {"error": {"code": "MethodNotAllowed",
                                   "message": "The requested resource does not support http "
                                              "method '%s'." % method}}, {"Allow": "POST"}
        tenant = self.tenant_by_id(tenant_id)
        scheme, dummy, bearer = (headers.get("Authorization") or "").strip().partition(" ")
        entry = self.tokens.get(bearer.strip()) if scheme.lower() == "bearer" else None
        if not entry or entry[0] != tenant or time.time() >= entry[1]:
            reason = "The token has expired." if entry and time.time() >= entry[1] \
                else "The access token is missing, invalid or for another tenant."
            return 401, "", {
                "WWW-Authenticate": 'Bearer client_id="%s", trusted_issuers="00000001-0000-0000-'
                                    'c000-000000000000@*", token_types="app_asserted_user_v1 '
                                    'service_asserted_app_v1", authorization_uri="https://login.'
                                    'microsoftonline.com/common/oauth2/authorize", '
                                    'error="invalid_token"' % EXO_APP_ID,
                "x-ms-diagnostics": '2000001;reason="%s";error_category="invalid_token"' % reason}
        if MANAGE_AS_APP not in entry[2]:
            return 401, {"error": {"code": "Unauthorized", "message": (
                "The application '%s' is not authorized: the token has no '%s' role. Grant the "
                "application permission Office 365 Exchange Online > %s and admin consent."
                % (self.sb.tenants[tenant]["entra_client_id"], MANAGE_AS_APP, MANAGE_AS_APP))}}, {}
        anchor = headers.get("X-AnchorMailbox") or ""
        if not anchor.upper().startswith(("APP:", "UPN:")):
            return 400, {"error": {"code": "BadRequest", "message": (
                "The X-AnchorMailbox header is missing or invalid. App-only calls use "
                "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@<tenant>.")}}, {}
        role = self.sb.tenant_data(tenant)["entra"]["exo_role"]
        if role not in READ_ROLES:
            return 403, "\0" * 4096, {"Content-Type": "application/octet-stream"}
        if not isinstance(body, dict) or not isinstance(body.get("CmdletInput"), dict) \
                or not isinstance(body["CmdletInput"].get("CmdletName"), str):
            raise ExoError(400, "BadRequest", "Invalid Operation",
                           "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                           "The request body must be {\"CmdletInput\": {\"CmdletName\": ..., "
                           "\"Parameters\": {...}}}.")
        cmdlet_in = body["CmdletInput"]["CmdletName"]
        cmdlet = next((c for c in CMDLET_PARAMS if c.lower() == cmdlet_in.lower()), None)
        if cmdlet is None:
            raise ExoError(400, "BadRequest", "Invalid Operation",
                           "System.Management.Automation.CommandNotFoundException",
                           "The term '%s' is not recognized as a name of a cmdlet, function, "
                           "script file, or executable program." % cmdlet_in)
        if not cmdlet.startswith("Get-") and role not in WRITE_ROLES:
            return 403, "\0" * 4096, {"Content-Type": "application/octet-stream"}
        params = self.bind(cmdlet, body["CmdletInput"].get("Parameters"))
        state = self.sb.tenant_data(tenant)
        objects, warnings = getattr(self, "_" + cmdlet.replace("-", "_").lower())(
            tenant, state, params)
        out = {"@odata.context": "%s/adminapi/beta/%s/$metadata#Collection(Exchange.GenericHashTable)"
                                 % (self.base(headers), tenant_id),
               "adminapi.warnings@odata.type": "#Collection(String)",
               "@adminapi.warnings": warnings}
        if cmdlet.startswith("Get-"):
            objects, next_token = self.page(objects, query, headers, "%s:%s" % (tenant, cmdlet))
            if next_token:
                out["@odata.nextLink"] = "%s/adminapi/beta/%s/InvokeCommand?$skiptoken=%s" % (
                    self.base(headers), tenant_id, next_token)
        if query.get("$select"):
            keep = {k.strip().lower() for k in query["$select"].split(",")}
            objects = [{k: v for k, v in o.items() if k.split("@")[0].lower() in keep}
                       for o in objects]
        out["value"] = objects
        return 200, out, {"Content-Type": "application/json;odata.metadata=minimal;"
                                          "odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
                          "OData-Version": "4.0", "request-id": str(uuid.uuid4())}

    @staticmethod
    def base(headers):
        return "http://%s" % (headers.get("Host") or "127.0.0.1")

    def page(self, objects, query, headers, scope):
        size = self.page_size
        match = re.search(r"odata\.maxpagesize=(\d+)", headers.get("Prefer") or "")
        if match and int(match.group(1)) > 0:
            size = min(size, int(match.group(1)))
        start = self.sb.page_tokens.decode(query.get("$skiptoken"), scope)
        if start is None:
            raise ExoError(400, "BadRequest", "Invalid Operation",
                           "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                           "The skip token is invalid or was issued for another request.")
        token = self.sb.page_tokens.encode(start + size, scope) if start + size < len(objects) \
            else None
        return objects[start:start + size], token

    @staticmethod
    def bind(cmdlet, parameters):
        """Canonical parameter names (case-insensitive, as PowerShell binds) and converted
        values; unknown names, missing mandatory parameters and bad values raise ExoError."""
        table, mandatory = CMDLET_PARAMS[cmdlet]
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, dict):
            raise bad_parameters(["Parameters"])
        names = {k.lower(): k for k in table}
        unknown = [k for k in parameters if k.lower() not in names and not k.startswith("@")]
        if unknown:
            raise bad_parameters(unknown)
        bound = {}
        for key, value in parameters.items():
            if not key.startswith("@"):
                name = names[key.lower()]
                bound[name] = table[name](name, value)
        lacking = [m for m in mandatory if bound.get(m) in (None, "", [])]
        if lacking:
            raise ExoError(400, "BadRequest", "Invalid Operation",
                           "System.Management.Automation.ParameterBindingException",
                           "Cannot process command because of one or more missing mandatory "
                           "parameters: %s." % " ".join(lacking))
        return bound

    # ---- cmdlets: (tenant, state, params) -> (objects, warnings)
    @staticmethod
    def _find(state, identity):
        wanted = identity.strip().lower()
        for rec in state["exo_connectors"].values():
            if wanted in (rec["Name"].lower(), rec["Guid"].lower()):
                return rec
        raise not_found(identity, "SA0PR01A001DC01.NAMPR01A001.PROD.OUTLOOK.COM")

    def _org(self, tenant):
        return self.sb.tenants[tenant]["entra_domain"]

    def _get_inboundconnector(self, tenant, state, params):
        if params.get("Identity"):
            recs = [self._find(state, params["Identity"])]
        else:
            recs = list(state["exo_connectors"].values())
        return [render_connector(r, self._org(tenant)) for r in recs], []

    def _new_inboundconnector(self, tenant, state, params):
        rec = dict(copy.deepcopy(CONNECTOR_DEFAULTS), **{k: [] for k in LISTS})
        rec = self._merge(rec, params)
        if any(r["Name"].lower() == rec["Name"].lower() for r in state["exo_connectors"].values()):
            raise ExoError(400, "BadRequest", "Error executing cmdlet",
                           "Microsoft.Exchange.Management.Tasks.ConnectorAlreadyExistsException",
                           "An inbound connector with the name '%s' already exists." % rec["Name"],
                           error_code="Ex5D3B28")
        if params.get("WhatIf"):
            return [], []
        rec["Guid"] = str(uuid.uuid4())
        rec["created"] = rec["changed"] = time.time()
        state["exo_connectors"][rec["Guid"]] = rec
        return [render_connector(rec, self._org(tenant))], []

    def _set_inboundconnector(self, tenant, state, params):
        rec = self._find(state, params["Identity"])
        changes = {k: v for k, v in params.items() if k not in ("Identity", "Confirm", "WhatIf")}
        new = self._merge(copy.deepcopy(rec), changes)
        if new["Name"].lower() != rec["Name"].lower() and any(
                r["Name"].lower() == new["Name"].lower() for r in state["exo_connectors"].values()):
            raise ExoError(400, "BadRequest", "Error executing cmdlet",
                           "Microsoft.Exchange.Management.Tasks.ConnectorAlreadyExistsException",
                           "An inbound connector with the name '%s' already exists." % new["Name"],
                           error_code="Ex5D3B28")
        if new == rec:
            return [], ["The command completed successfully but no settings of '%s' have been "
                        "modified." % rec["Name"]]
        if not params.get("WhatIf"):
            new["changed"] = time.time()
            state["exo_connectors"][rec["Guid"]] = new
        return [], []

    def _remove_inboundconnector(self, tenant, state, params):
        rec = self._find(state, params["Identity"])
        if not params.get("WhatIf"):
            del state["exo_connectors"][rec["Guid"]]
        return [], []

    @staticmethod
    def _merge(rec, params):
        for key, value in params.items():
            if key in ("Confirm", "WhatIf"):
                continue
            if key in LISTS:
                rec[key] = _apply_list(rec[key], value, LIST_CHECKS[key])
            else:
                rec[key] = value
        connector_rules(rec)
        return rec

    # ---- transport rules: state["exo_rules"] is the list in priority order (index = Priority)
    def _find_rule(self, state, identity):
        wanted = identity.strip().lower()
        for rec in state["exo_rules"]:
            if wanted in (rec["Name"].lower(), rec["Guid"].lower()):
                return rec
        raise not_found(identity, "SA0PR01A001DC01.NAMPR01A001.PROD.OUTLOOK.COM")

    def _get_transportrule(self, tenant, state, params):
        recs = [self._find_rule(state, params["Identity"])] if params.get("Identity") else state["exo_rules"]
        return [render_rule(r, state["exo_rules"].index(r), self._org(tenant)) for r in recs], []

    def _set_transportrule(self, tenant, state, params):
        rec = self._find_rule(state, params["Identity"])
        rules, old = state["exo_rules"], state["exo_rules"].index(rec)
        new = params.get("Priority", old)
        if not 0 <= new < len(rules):
            # Valid values are 0 .. number of rules - 1 ([MS-mailflow] Set-TransportRule -Priority).
            raise validation_error("The value of Priority '%d' is out of range. Valid values are 0 through %d."
                                   % (new, len(rules) - 1))
        if new == old:
            return [], ["The command completed successfully but no settings of '%s' have been modified."
                        % rec["Name"]]
        if not params.get("WhatIf"):
            # Exchange's renumbering: the rule takes the new value; the rules between its old and new
            # place move by one.
            rules.remove(rec)
            rules.insert(new, rec)
            rec["changed"] = time.time()
        return [], []

    # ---- trusted ARC sealers: state["exo_arc"] is the list
    def _get_arcconfig(self, tenant, state, params):
        return [render_arc(state["exo_arc"], self._org(tenant))], []

    def _set_arcconfig(self, tenant, state, params):
        if params["Identity"].strip().lower() not in ("default", "%s\\default" % self._org(tenant).lower()):
            raise not_found(params["Identity"], "SA0PR01A001DC01.NAMPR01A001.PROD.OUTLOOK.COM")
        if "ArcTrustedSealers" not in params:
            raise ExoError(400, "BadRequest", "Invalid Operation",
                           "System.Management.Automation.ParameterBindingException",
                           "Cannot process command because of one or more missing mandatory parameters: "
                           "ArcTrustedSealers.")
        value = _apply_list(state["exo_arc"], params["ArcTrustedSealers"], _plain_domain)
        if value == state["exo_arc"]:
            return [], ["The command completed successfully but no settings of 'Default' have been modified."]
        if not params.get("WhatIf"):
            state["exo_arc"] = value
        return [], []

    # ---- outbound connectors (read only)
    def _get_outboundconnector(self, tenant, state, params):
        recs = state["exo_outbound"]
        if params.get("Identity"):
            wanted = params["Identity"].strip().lower()
            recs = [r for r in recs if wanted in (r["Name"].lower(), r["Guid"].lower())]
            if not recs:
                raise not_found(params["Identity"], "SA0PR01A001DC01.NAMPR01A001.PROD.OUTLOOK.COM")
        return [render_outbound(r, self._org(tenant)) for r in recs], []

    def mail_flow_state(self, tenant):
        state, org = self.sb.tenant_data(tenant), self._org(tenant)
        return {"exo_transport_rules": [plain(render_rule(r, i, org)) for i, r in enumerate(state["exo_rules"])],
                "exo_arc_sealers": list(state["exo_arc"]),
                "exo_outbound_connectors": [plain(render_outbound(r, org)) for r in state["exo_outbound"]]}

    def seed_mail_flow(self, tenant, collection, items):
        """exo_transport_rules: {"Name", "State", "Mode", "Comments", "Priority"} items, appended in order, or
        inserted at "Priority" with Exchange's renumbering (a Cloud Integrated install puts its rules at 0..);
        exo_arc_sealers: domain names appended; exo_outbound_connectors: Get-OutboundConnector properties.
        Returns the Guids (or the sealer list)."""
        state = self.sb.tenant_data(tenant)
        if collection == "exo_arc_sealers":
            state["exo_arc"] = _apply_list(state["exo_arc"], [str(i) for i in items], _plain_domain)
            return list(state["exo_arc"])
        out = []
        for item in items:
            rec = {"Guid": str(uuid.uuid4()), "created": time.time()}
            rec["changed"] = rec["created"]
            if collection == "exo_outbound_connectors":
                rec.update(copy.deepcopy(OUTBOUND_DEFAULTS), **copy_json(item))
                state["exo_outbound"].append(rec)
            else:
                rec.update({"Name": item["Name"], "State": RULE_STATE("State", item.get("State", "Enabled")),
                            "Mode": RULE_MODE("Mode", item.get("Mode", "Enforce")),
                            "Comments": item.get("Comments"), "Description": item.get("Description", "")})
                if any(r["Name"].lower() == rec["Name"].lower() for r in state["exo_rules"]):
                    raise ValueError("seed exo_transport_rules: a rule named %r exists" % rec["Name"])
                place = item.get("Priority", len(state["exo_rules"]))
                state["exo_rules"].insert(min(int(place), len(state["exo_rules"])), rec)
            out.append(rec["Guid"])
        return out

    # ---- sandbox control helpers
    def connectors(self, tenant):
        state = self.sb.tenant_data(tenant)
        return [plain(render_connector(r, self._org(tenant)))
                for r in state["exo_connectors"].values()]

    def seed_connectors(self, tenant, items):
        """New-InboundConnector for each parameter dict (all or nothing) -> Guids."""
        state = self.sb.tenant_data(tenant)
        backup = copy.deepcopy(state["exo_connectors"])
        guids = []
        try:
            for item in items:
                objects, dummy = self._new_inboundconnector(
                    tenant, state, self.bind("New-InboundConnector", item))
                guids.append(objects[0]["Guid"])
        except ExoError as exc:
            state["exo_connectors"] = backup
            raise ValueError("seed exo_connectors failed: %s|%s|%s" % (
                exc.error_code, exc.exc_type, exc.text))
        return guids

    def settings(self, tenant, changes):
        entra = self.sb.tenant_data(tenant)["entra"]
        unknown = set(changes) - set(ENTRA_MUTABLE)
        if unknown:
            raise KeyError("unknown Entra setting(s): %s (changeable: %s)"
                           % (", ".join(sorted(unknown)), ", ".join(ENTRA_MUTABLE)))
        entra.update(copy_json(changes))
        cfg = self.sb.tenants[tenant]
        out = {k: cfg[k] for k in ("entra_tenant_id", "entra_client_id", "entra_domain")}
        out.update(copy_json(entra))
        cert = self.certs.get(tenant)
        out["entra_certificate_thumbprint"] = cert["thumbprint"] if cert else None
        return out
