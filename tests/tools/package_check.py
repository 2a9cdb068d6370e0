"""Check the collection as users get it: the tarball `ansible-galaxy collection build` makes.

`make package-check` runs this with build/venv-package/bin first on PATH (galaxy-importer and
ansible-builder, pinned in tests/requirements-package.txt). It fails (exit 1) when

1. the tarball holds a development file (FORBIDDEN) or lacks one users need (REQUIRED);
2. galaxy-importer (what Galaxy and Automation Hub run on an upload) fails or logs an error;
   configured by tests/galaxy-importer.cfg: no ansible-test (it needs a container runtime),
   ansible-lint offline;
3. ansible-builder's introspection of the installed collection (what every execution-environment
   build that includes the collection runs) does not list exactly RUNTIME_REQUIREMENTS;
4. ansible-builder rejects the example execution-environment definition users copy
   (docs/examples/execution-environment.yml; `ansible-builder create` writes the build context
   without building an image, so no container runtime and no network are needed).

Sources: galaxy-importer configuration keys, https://github.com/ansible/galaxy-importer (README,
"Configuration"); introspection, https://docs.ansible.com/projects/builder/en/latest/collection_metadata.html
("How to verify collection-level metadata": ansible-builder introspect --sanitize).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "package"
IMPORTER_CONFIG = ROOT / "tests" / "galaxy-importer.cfg"
TIMEOUT = 900

# Paths (fnmatch patterns, relative to the collection root) that must never be in the tarball.
FORBIDDEN = [
    "Makefile", "pyproject.toml", ".ansible-lint", ".gitignore", ".ci", ".ci/*", ".github", ".github/*",
    ".venv", ".venv/*", "build", "build/*", "collections", "collections/*",
    "requirements.txt", "requirements-*.txt", "tests/requirements*.txt", "tests/tools", "tests/tools/*",
    "tests/galaxy-importer.cfg", "tests/output", "tests/output/*", "*.tar.gz", "*.pyc", "*/__pycache__",
]
# Files users (and galaxy-importer, ansible-builder, ansible-doc) need.
REQUIRED = [
    "MANIFEST.json", "FILES.json", "README.md", "COPYING", "meta/runtime.yml",
    "meta/execution-environment.yml", "meta/ee-requirements.txt",
    "roles/phish_sim_allowlist/README.md", "roles/firewall_lockdown/README.md",
    "roles/phish_sim_allowlist/meta/argument_specs.yml", "roles/firewall_lockdown/meta/argument_specs.yml",
    "changelogs/changelog.yaml",
]
# What an execution environment must install for the modules, and nothing else.
RUNTIME_REQUIREMENTS = {"httpx", "dnspython", "cryptography"}


def say(text):
    print("package-check: " + text, flush=True)


def run(cmd, cwd, env=None):
    """Run cmd; return (exit code, combined output)."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=TIMEOUT, check=False)
    return proc.returncode, proc.stdout


def build_tarball():
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    code, out = run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(WORK), str(ROOT)],
                    cwd=WORK)
    tarballs = sorted(WORK.glob("*.tar.gz"))
    if code != 0 or len(tarballs) != 1:
        return None, ["ansible-galaxy collection build failed (exit %s):\n%s" % (code, out)]
    say("built %s" % tarballs[0].name)
    return tarballs[0], []


def tarball_names(tarball):
    with tarfile.open(tarball) as tar:
        return [m.name[2:] if m.name.startswith("./") else m.name for m in tar.getmembers()]


def content_problems(names):
    problems = []
    for name in names:
        for pattern in FORBIDDEN:
            if fnmatch.fnmatch(name, pattern):
                problems.append("the tarball holds %s (matches %r): add it to build_ignore in galaxy.yml"
                                % (name, pattern))
                break
    present = set(names)
    for name in REQUIRED:
        if name not in present:
            problems.append("the tarball lacks %s" % name)
    say("%d files in the tarball checked against %d forbidden patterns and %d required files"
        % (len(names), len(FORBIDDEN), len(REQUIRED)))
    return problems


def importer_problems(tarball):
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=str(IMPORTER_CONFIG))
    code, out = run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=WORK, env=env)
    (WORK / "galaxy-importer.log").write_text(out)
    # galaxy-importer prefixes its log lines with the level, except INFO (galaxy_importer/main.py).
    errors = [line for line in out.splitlines() if re.match(r"(ERROR|CRITICAL):", line)]
    warnings = [line for line in out.splitlines() if line.startswith("WARNING:")]
    problems = []
    if code != 0 or errors:
        problems.append("galaxy-importer failed (exit %s):\n%s" % (code, "\n".join(errors) or out[-4000:]))
    if warnings:
        problems.append("galaxy-importer warned (fix these, Galaxy shows them to users):\n%s" % "\n".join(warnings))
    if not problems:
        say("galaxy-importer: import succeeded, no error, no warning (log: %s)"
            % (WORK / "galaxy-importer.log").relative_to(ROOT))
    return problems


def introspection_problems(tarball):
    collections = WORK / "installed"
    code, out = run(["ansible-galaxy", "collection", "install", "--force", "--no-deps", "-p", str(collections),
                     str(tarball)], cwd=WORK)
    if code != 0:
        return ["ansible-galaxy collection install of the tarball failed (exit %s):\n%s" % (code, out)]
    code, out = run(["ansible-builder", "introspect", "--sanitize", str(collections)], cwd=WORK)
    if code != 0:
        return ["ansible-builder introspect failed (exit %s):\n%s" % (code, out)]
    try:
        data = yaml.safe_load(out[out.index("---"):]) or {}
    except (ValueError, yaml.YAMLError) as exc:
        return ["cannot read ansible-builder introspect output (%s):\n%s" % (exc, out)]
    python = data.get("python") or []
    names = set()
    for line in python:
        # Sanitized lines look like "httpx>=0.27  # from collection mailsec.mimecast".
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if match:
            names.add(match.group(1).lower().replace("_", "-"))
    problems = []
    if names != RUNTIME_REQUIREMENTS:
        problems.append("ansible-builder introspection lists %s, expected exactly %s:\n%s"
                        % (sorted(names), sorted(RUNTIME_REQUIREMENTS), out))
    if data.get("system"):
        problems.append("ansible-builder introspection lists system packages %s, expected none" % data["system"])
    if not problems:
        say("ansible-builder introspect: python %s, no system packages" % "; ".join(python))
    return problems


def example_problems():
    example = ROOT / "docs" / "examples" / "execution-environment.yml"
    context = WORK / "ee-context"
    code, out = run(["ansible-builder", "create", "--file", str(example), "--context", str(context)], cwd=WORK)
    if code != 0:
        return ["ansible-builder create rejects %s (exit %s):\n%s" % (example.relative_to(ROOT), code, out)]
    wanted = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [c.get("name") for c in (wanted or {}).get("collections", [])]
    if "mailsec.mimecast" not in names:
        return ["the example execution environment does not install mailsec.mimecast: %s" % names]
    say("ansible-builder create accepts %s" % example.relative_to(ROOT))
    return []


def main():
    tarball, problems = build_tarball()
    if tarball:
        problems += content_problems(tarball_names(tarball))
        problems += importer_problems(tarball)
        problems += introspection_problems(tarball)
    problems += example_problems()
    for problem in problems:
        print("ERROR: " + problem, file=sys.stderr)
    if problems:
        return 1
    say("the tarball is clean, galaxy-importer accepts it, ansible-builder finds exactly %s"
        % ", ".join(sorted(RUNTIME_REQUIREMENTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
