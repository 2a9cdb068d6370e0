# -*- coding: utf-8 -*-
"""An AWX-like job runner for tests: render credential types' injectors as AWX does, then run ansible-playbook.

The rendering follows AWX's public code, github.com/ansible/awx `awx/main/models/credential/__init__.py`
(`CredentialType.inject_credential`, since moved to github.com/ansible/awx-plugins
`src/awx_plugins/interfaces/_temporary_private_inject_api.py` `inject_credential`):

- the namespace holds every input that has a (truthy) value, booleans always, missing booleans as False,
  and ``tower``; inputs left empty are absent, so a template naming them renders as "";
- each ``file`` template (``template`` or ``template.<name>``) is rendered in a jinja2
  ``ImmutableSandboxedEnvironment``, written to a ``mkstemp`` file under ``<private_data_dir>/env`` and
  chmod 0600 (0660 in the AWX releases that still had it in awx/main/models/credential/__init__.py);
  ``tower.filename`` is that path for ``template``, or a namespace of paths for ``template.<name>``;
- ``env`` templates are rendered with the same namespace (names on AWX's block list are skipped), and a
  "safe" copy with secret inputs as ``**********`` is what AWX stores and shows;
- ``extra_vars`` templates are rendered (keys and values), dumped with yaml.safe_dump to a file under
  ``env/`` and passed as ``-e @file``.
Not copied: this is a re-implementation of that behaviour for the tests.
"""

from __future__ import annotations

import os
import stat
import tempfile
from types import SimpleNamespace

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

HIDDEN_PASSWORD = "*" * 10
ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION",
    "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"))


def load_credential_type(path):
    """The credential type definition (name, inputs, injectors) from an extensions/awx/*.yml file."""
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def validate_inputs(cred_type, inputs):
    """What AWX checks when a credential is saved: known fields only, required fields present."""
    fields = {f["id"]: f for f in cred_type["inputs"]["fields"]}
    unknown = set(inputs) - set(fields)
    if unknown:
        raise ValueError("unknown credential inputs %s" % sorted(unknown))
    missing = [f for f in cred_type["inputs"].get("required", []) if inputs.get(f) in (None, "")]
    if missing:
        raise ValueError("required credential inputs missing: %s" % missing)


def _extra_vars(sandbox_env, namespace, node):
    if isinstance(node, dict):
        return {str(_extra_vars(sandbox_env, namespace, k)): _extra_vars(sandbox_env, namespace, v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_extra_vars(sandbox_env, namespace, v) for v in node]
    return sandbox_env.from_string(node).render(**namespace)


def inject_credential(cred_type, inputs, env, safe_env, args, private_data_dir):
    """Add one credential's injections to env / safe_env / args, as AWX's inject_credential does."""
    validate_inputs(cred_type, inputs)
    injectors = cred_type.get("injectors") or {}
    fields = cred_type["inputs"].get("fields", [])
    secret = {f["id"] for f in fields if f.get("secret") is True}
    tower = SimpleNamespace(filename=None)
    namespace, safe_namespace = {"tower": tower}, {"tower": tower}
    for name, value in inputs.items():
        if isinstance(value, bool):
            namespace[name] = safe_namespace[name] = value
            continue
        if name in secret:
            safe_namespace[name] = HIDDEN_PASSWORD
        elif value:
            safe_namespace[name] = value
        if value:
            namespace[name] = value
    for field in fields:
        if field.get("type") == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = safe_namespace[field["id"]] = False
        if field.get("format") == "ssh_private_key" and field["id"] in namespace:
            if not str(namespace[field["id"]]).endswith("\n"):
                namespace[field["id"]] = str(namespace[field["id"]]) + "\n"
    sandbox_env = ImmutableSandboxedEnvironment()
    single, many = None, {}
    env_dir = os.path.join(private_data_dir, "env")
    os.makedirs(env_dir, exist_ok=True)
    for label, template in (injectors.get("file") or {}).items():
        data = sandbox_env.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        if "." not in label:
            single = path
        else:
            many[label.split(".")[1]] = path
    tower.filename = single or SimpleNamespace(**many)
    for name, template in (injectors.get("env") or {}).items():
        if name in ENV_BLOCKLIST:
            continue
        env[name] = sandbox_env.from_string(template).render(**namespace)
        safe_env[name] = sandbox_env.from_string(template).render(**safe_namespace)
    extra_vars = _extra_vars(sandbox_env, namespace, injectors.get("extra_vars") or {})
    if extra_vars:
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, "w") as out:
            out.write(yaml.safe_dump(extra_vars))
        os.chmod(path, stat.S_IRUSR)
        args.extend(["-e", "@%s" % path])


def job_environment(credentials, private_data_dir):
    """(env, safe_env, args) for a job with these (credential type, inputs) pairs; AWX refuses two
    credentials of one type on a job template, and so does this."""
    names = [cred_type["name"] for cred_type, dummy in credentials]
    if len(names) != len(set(names)):
        raise ValueError("AWX allows one credential per credential type on a job template: %s" % names)
    env, safe_env, args = {}, {}, []
    for cred_type, inputs in credentials:
        inject_credential(cred_type, inputs, env, safe_env, args, private_data_dir)
    return env, safe_env, args
