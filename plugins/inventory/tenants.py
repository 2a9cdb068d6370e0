# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory plugin: one host per Mimecast tenant from a tenant registry file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tenants
short_description: One inventory host per Mimecast tenant, from a tenant registry file
version_added: 0.3.0
description:
  - Reads a tenant registry file (a YAML file whose name ends in C(.mimecast_tenants.yml) or
    C(.mimecast_tenants.yaml)) and adds one host per tenant, with C(ansible_connection=local), the tenant's
    API host in C(mimecast_base_url), its region, account code and labels, and any per-tenant
    variables (vendor or campaign overrides).
  - Every tenant is in the group O(group) (the group the collection's playbooks run on), in
    C(region_<region>) and in C(label_<label>) for each of its labels.
  - The registry holds no secret. A tenant entry or O(defaults) that carries a credential
    (C(client_id), C(client_secret), the API 1.0 keys, or the C(mimecast_client_*) variables) is
    refused. Per-tenant credentials come at run time from the
    P(mailsec.mimecast.tenant_credentials#lookup) lookup (an AWX credential injected as a file, or an
    Ansible Vault-encrypted file); see the collection's C(docs/awx.md).
  - Every error stops the inventory before any play runs, and names the tenant and the value.
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin; it must be V(mailsec.mimecast.tenants).
    type: str
    required: true
    choices: [mailsec.mimecast.tenants]
  group:
    description: The group every tenant is in; the collection's playbooks run on V(mimecast_tenants).
    type: str
    default: mimecast_tenants
  defaults:
    description:
      - Keys applied to every tenant (each tenant's own keys win), for example V(api_host) or V(labels).
    type: dict
    default: {}
  tenants:
    description:
      - The tenants, one mapping each.
      - V(name) (required) is the inventory host name, letters, digits, C(_), C(.) and C(-), starting with a
        letter or digit; names must be unique (case-insensitive).
      - V(region) is the Mimecast data-centre region of the account, one of C(eu), C(de), C(us), C(usb),
        C(ca), C(za), C(au), C(je), C(uspcom). If it is missing, the region is read from V(account_code)
        (C(CUK...) eu, C(CDE...) de, C(CUSA...) us, C(CUSB...) usb, C(CCA...) ca, C(CSA...) za, C(CAU...) au).
        It sets C(mimecast_region), C(mimecast_api1_base_url) (the region's API 1.0 host) and the group
        C(region_<region>).
      - V(api_host) is the API 2.0 host, C(global) (default, C(https://api.services.mimecast.com)), C(uk) or
        C(us) (the pinned hosts); or V(base_url) gives the API URL in full (for a proxy you run, set
        V(allow_custom_base_url=true) as well; a loopback test server is always accepted).
      - V(account_code) and V(labels) (a list of names) are optional.
      - V(vars) is a mapping of extra host variables for this tenant (for example
        C(phish_sim_allowlist_vendor) or the campaign dates); it may not carry credentials.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
# fleet.mimecast_tenants.yml
plugin: mailsec.mimecast.tenants
defaults:
  api_host: global
tenants:
  - name: contoso
    account_code: CUSA12A345          # region us from the account code
    labels: [retail, pilot]
  - name: fabrikam
    region: eu
    api_host: uk
    vars:
      phish_sim_allowlist_valid_to: "2026-12-20"
# ansible-inventory -i fleet.mimecast_tenants.yml --graph
"""

import re
from urllib.parse import urlsplit

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

from ansible_collections.mailsec.mimecast.plugins.module_utils._client import (
    API1_REGIONAL_HOSTS, API2_HOSTS, MIMECAST_API_HOSTS, MimecastError, check_url)

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
TENANT_KEYS = ("name", "region", "account_code", "api_host", "base_url", "allow_custom_base_url", "labels", "vars")
# Keys and variables that would put a credential in plain text into the inventory.
SECRET_RE = re.compile(r"(^|_)(client_id|client_secret|secret_key|access_key|app_key|app_id|password|token)$", re.I)

# Region -> API 1.0 host, from the one host table in module_utils/_client.py (eu-api... -> eu).
REGIONS = dict((urlsplit(url).hostname.split("-api")[0], url) for url, dummy in API1_REGIONAL_HOSTS)
# API 2.0 hosts: global (with failover) and the pinned UK and US hosts, same table.
API_HOSTS = dict((host.partition(".")[0].replace("-api", "").replace("api", "global"), "https://" + host)
                 for host in API2_HOSTS)
# Account-code prefixes, Mimecast's "Identifying Mimecast Regions":
# https://mimecastsupport.zendesk.com/hc/en-us/articles/34000632786067 (longest prefix first).
ACCOUNT_PREFIXES = (("CUSA", "us"), ("CUSB", "usb"), ("CUK", "eu"), ("CDE", "de"), ("CCA", "ca"),
                    ("CSA", "za"), ("CAU", "au"))


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = "mailsec.mimecast.tenants"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".mimecast_tenants.yml", ".mimecast_tenants.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        tenants = [self._tenant(entry, index, path) for index, entry in enumerate(self.get_option("tenants"))]
        seen = {}
        for tenant in tenants:
            key = tenant["name"].lower()
            if key in seen:
                raise AnsibleParserError("%s: tenant name %r is listed twice (entries %d and %d); tenant names must be "
                                         "unique (case-insensitive). Remove or rename one."
                                         % (path, tenant["name"], seen[key] + 1, tenant["index"] + 1))
            seen[key] = tenant["index"]
        group = self.inventory.add_group(self.get_option("group"))
        for tenant in tenants:
            self._add(tenant, group)

    def _fail(self, path, where, msg):
        raise AnsibleParserError("%s: %s: %s" % (path, where, msg))

    def _tenant(self, entry, index, path):
        where = "tenant entry %d" % (index + 1)
        if not isinstance(entry, dict):
            self._fail(path, where, "expected a mapping with at least 'name', got %s." % type(entry).__name__)
        defaults = self.get_option("defaults") or {}
        merged = dict(defaults)
        merged.update(entry)
        name = merged.get("name")
        if not isinstance(name, str) or not NAME_RE.match(name):
            self._fail(path, where, "name %r is not a valid tenant name; use letters, digits, '_', '.' and '-' "
                                    "(starting with a letter or digit, at most 63 characters)." % (name,))
        where = "tenant %r" % name
        for key in merged:
            if SECRET_RE.search(str(key)):
                self._fail(path, where, "%r is a credential and is refused in the tenant registry (it would be plain "
                                        "text in the inventory). Put the tenant's client_id and client_secret in the "
                                        "tenant credentials file instead (AWX credential or Ansible Vault; see "
                                        "docs/awx.md)." % key)
            if key not in TENANT_KEYS:
                self._fail(path, where, "unknown key %r; the keys are %s (extra host variables go under 'vars')."
                                        % (key, ", ".join(TENANT_KEYS)))
        extra = merged.get("vars") or {}
        if not isinstance(extra, dict):
            self._fail(path, where, "'vars' must be a mapping of host variables.")
        for key in extra:
            if SECRET_RE.search(str(key)):
                self._fail(path, where, "vars key %r is a credential and is refused in the tenant registry. Put the "
                                        "tenant's credentials in the tenant credentials file (see docs/awx.md)." % key)
        labels = merged.get("labels") or []
        if isinstance(labels, str) or not isinstance(labels, list):
            self._fail(path, where, "'labels' must be a list of names.")
        for label in labels:
            if not isinstance(label, str) or not LABEL_RE.match(label):
                self._fail(path, where, "label %r is not a valid label; use letters, digits, '_' and '-'." % (label,))
        account = merged.get("account_code")
        if account is not None and not isinstance(account, str):
            self._fail(path, where, "account_code must be a string such as CUSA12A345.")
        region = merged.get("region")
        if region is None and account:
            region = next((r for prefix, r in ACCOUNT_PREFIXES if account.upper().startswith(prefix)), None)
            if region is None:
                prefixes = ", ".join(prefix for prefix, dummy in ACCOUNT_PREFIXES)
                self._fail(path, where, "the region cannot be read from account_code %r (known prefixes: %s); set "
                                        "'region' to one of %s." % (account, prefixes, ", ".join(REGIONS)))
        if region is not None and region not in REGIONS:
            self._fail(path, where, "unknown region %r; the known regions are %s." % (region, ", ".join(REGIONS)))
        base_url = self._base_url(merged, path, where)
        return {"index": index, "name": name, "region": region, "account": account, "labels": labels,
                "base_url": base_url, "vars": extra}

    def _base_url(self, merged, path, where):
        if merged.get("base_url") is not None:
            if merged.get("api_host") is not None and "api_host" not in (self.get_option("defaults") or {}):
                self._fail(path, where, "give either 'api_host' or 'base_url', not both.")
            allow = merged.get("allow_custom_base_url", False)
            if not isinstance(allow, bool):
                self._fail(path, where, "allow_custom_base_url must be true or false.")
            try:
                return check_url(merged["base_url"], "base_url", MIMECAST_API_HOSTS, allow_custom=allow,
                                 custom_option="allow_custom_base_url")
            except MimecastError as exc:
                self._fail(path, where, str(exc))
        api_host = merged.get("api_host", "global")
        if api_host not in API_HOSTS:
            self._fail(path, where, "unknown api_host %r; use one of %s, or give 'base_url'."
                                    % (api_host, ", ".join(API_HOSTS)))
        return API_HOSTS[api_host]

    def _add(self, tenant, group):
        name = tenant["name"]
        self.inventory.add_host(name, group=group)
        hostvars = dict(tenant["vars"])
        hostvars.update({
            "ansible_connection": "local",
            "mimecast_tenant": name,
            "mimecast_base_url": tenant["base_url"],
            "mimecast_labels": list(tenant["labels"]),
        })
        if tenant["account"]:
            hostvars["mimecast_account_code"] = tenant["account"]
        if tenant["region"]:
            hostvars["mimecast_region"] = tenant["region"]
            hostvars["mimecast_api1_base_url"] = REGIONS[tenant["region"]]
            self.inventory.add_child(self.inventory.add_group("region_" + tenant["region"]), name)
        for label in tenant["labels"]:
            self.inventory.add_child(self.inventory.add_group("label_" + label.replace("-", "_")), name)
        for key, value in hostvars.items():
            self.inventory.set_variable(name, key, value)
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
