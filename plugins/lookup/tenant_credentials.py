# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: a tenant's Mimecast API credentials from a tenant credentials file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: tenant_credentials
short_description: A Mimecast tenant's API credentials from a tenant credentials file
version_added: 0.3.0
description:
  - Reads a tenant credentials file, a YAML or JSON mapping of tenant name to
    a mapping with the keys C(client_id) and C(client_secret), and returns the credentials of the tenants
    named in the terms.
  - The file is what the AWX credential type C(extensions/awx/credential_type_mimecast_tenants.yml) injects
    (its path in E(MIMECAST_TENANT_CREDENTIALS_FILE)), or an Ansible Vault-encrypted file for
    C(ansible-playbook) users (give the vault password as usual, for example C(--ask-vault-pass)).
  - Errors name the file, the tenant and the key, never a value of the file.
  - Use the result only in options that are C(no_log), such as the C(client_secret) option of the
    collection's modules (the playbooks do this through C(module_defaults)); do not register it or
    pass it to M(ansible.builtin.debug) or M(ansible.builtin.set_fact).
options:
  _terms:
    description: Tenant names, as in the credentials file (usually C(inventory_hostname)).
    type: list
    elements: str
    required: true
  field:
    description:
      - Return only this field of each tenant instead of a mapping with both.
    type: str
    choices: [client_id, client_secret]
  file:
    description:
      - The tenant credentials file (C(~) is expanded; an empty value counts as not set).
    type: str
    env:
      - name: MIMECAST_TENANT_CREDENTIALS_FILE
    vars:
      - name: mimecast_tenant_credentials_file
  optional:
    description:
      - When no file is configured (neither O(file) nor its environment variable or variable is set, or it is
        empty), return V(null) for each term instead of failing, so that one playbook serves both single-tenant
        runs (credentials from E(MIMECAST_CLIENT_ID) and friends) and fleet runs.
      - A file that is configured but missing, unreadable or without the tenant is always an error.
    type: bool
    default: false
"""

EXAMPLES = r"""
# tenant-credentials.yml (encrypt it: ansible-vault encrypt tenant-credentials.yml)
# contoso:
#   client_id: 1a2b...
#   client_secret: ...
- name: Smoke-read one tenant with its own credentials
  mailsec.mimecast.mimecast_smoke_info:
    base_url: "{{ mimecast_base_url }}"
    client_id: "{{ lookup('mailsec.mimecast.tenant_credentials', inventory_hostname, field='client_id') }}"
    client_secret: "{{ lookup('mailsec.mimecast.tenant_credentials', inventory_hostname, field='client_secret') }}"
  vars:
    mimecast_tenant_credentials_file: tenant-credentials.yml
"""

RETURN = r"""
_raw:
  description:
    - One item per term, a mapping with C(client_id) and C(client_secret), or the O(field) only; V(null) when
      O(optional=true) and no file is configured.
  type: list
  elements: raw
"""

import os

import yaml

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase

FIELDS = ("client_id", "client_secret")
FIX_FILE = ("Each tenant needs an entry 'TENANT: {client_id: ..., client_secret: ...}' in the 'tenants' field of the "
            "AWX credential 'Mimecast tenant credentials (many)', or in your (vaulted) credentials file.")


def parse_credentials(text, source):
    """{tenant: {client_id, client_secret}} from YAML/JSON text. Errors never quote the text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = " (line %d, column %d)" % (mark.line + 1, mark.column + 1) if mark is not None else ""
        raise AnsibleLookupError("The tenant credentials file %s is not valid YAML or JSON%s. %s"
                                 % (source, where, FIX_FILE)) from None
    if not isinstance(data, dict) or not data:
        got = "nothing" if not data else type(data).__name__
        raise AnsibleLookupError("The tenant credentials file %s must be a mapping of tenant name to client_id and "
                                 "client_secret, got %s. %s" % (source, got, FIX_FILE))
    out = {}
    for tenant, entry in data.items():
        name = to_text(tenant)
        if not isinstance(entry, dict):
            raise AnsibleLookupError("Tenant %r in the tenant credentials file %s must be a mapping with client_id "
                                     "and client_secret. %s" % (name, source, FIX_FILE))
        unknown = sorted(to_text(k) for k in entry if k not in FIELDS)
        if unknown:
            raise AnsibleLookupError("Tenant %r in the tenant credentials file %s has unknown keys %s; only client_id "
                                     "and client_secret belong there." % (name, source, ", ".join(unknown)))
        for field in FIELDS:
            value = entry.get(field)
            if not isinstance(value, str) or not value.strip():
                raise AnsibleLookupError("Tenant %r in the tenant credentials file %s has no %s (or it is not a "
                                         "string). %s" % (name, source, field, FIX_FILE))
        out[name] = {field: entry[field] for field in FIELDS}
    return out


def pick(credentials, tenant, field, source):
    if tenant not in credentials:
        raise AnsibleLookupError(
            "Tenant %r has no entry in the tenant credentials file %s (it lists %d tenant(s)). Add '%s: {client_id: "
            "..., client_secret: ...}' to the 'tenants' field of the AWX credential (or to your vaulted file), or "
            "leave the tenant out of the inventory." % (tenant, source, len(credentials), tenant))
    entry = credentials[tenant]
    return entry[field] if field else dict(entry)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        path = (self.get_option("file") or "").strip()
        path = os.path.expanduser(path) if path else None
        field = self.get_option("field")
        if not path:
            if self.get_option("optional"):
                return [None for dummy in terms]
            raise AnsibleLookupError("No tenant credentials file: set MIMECAST_TENANT_CREDENTIALS_FILE (the AWX "
                                     "credential type 'Mimecast tenant credentials (many)' does), the variable "
                                     "mimecast_tenant_credentials_file, or the lookup's file option.")
        credentials = parse_credentials(self._read(path), path)
        return [pick(credentials, to_text(term), field, path) for term in terms]

    def _read(self, path):
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise AnsibleLookupError("The tenant credentials file %s does not exist or is not readable. Check "
                                     "MIMECAST_TENANT_CREDENTIALS_FILE / mimecast_tenant_credentials_file." % path)
        try:
            real = self._loader.get_real_file(path, decrypt=True)
        except AnsibleError as exc:
            raise AnsibleLookupError("Could not decrypt the tenant credentials file %s (%s). Give its vault password, "
                                     "for example with --ask-vault-pass or --vault-id." % (path, exc.message)) from None
        try:
            with open(real, "rb") as handle:
                return to_text(handle.read(), errors="surrogate_or_strict")
        except (OSError, UnicodeError):
            raise AnsibleLookupError("The tenant credentials file %s could not be read as UTF-8 text." % path) from None
        finally:
            self._loader.cleanup_tmp_file(real)
