# -*- coding: utf-8 -*-
"""Issue 11: the collection as users install it. Fast checks of the metadata `make package-check`
relies on (that target builds the tarball and runs galaxy-importer and ansible-builder on it)."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
GALAXY_YML = ROOT / "galaxy.yml"
# In an installed collection galaxy.yml is replaced by MANIFEST.json, and the development files are gone.
pytestmark = pytest.mark.skipif(not GALAXY_YML.is_file(), reason="needs the source tree (galaxy.yml)")

RUNTIME = {"httpx", "dnspython", "cryptography"}
# The done-when: none of these in the tarball.
DEVELOPMENT_FILES = ["Makefile", "pyproject.toml", ".ansible-lint", ".gitignore", "requirements-dev.txt",
                     "tests/requirements-package.txt", "tests/requirements-oldest.txt", "tests/tools",
                     "tests/galaxy-importer.cfg", ".ci", "build"]
# What users, galaxy-importer and ansible-builder need from the tarball.
SHIPPED_FILES = ["README.md", "COPYING", "meta/runtime.yml", "meta/execution-environment.yml",
                 "meta/ee-requirements.txt", "roles/phish_sim_allowlist/README.md",
                 "roles/firewall_lockdown/README.md", "roles/cloud_integrated/README.md",
                 "changelogs/changelog.yaml", "plugins/modules/mimecast_audit.py",
                 "tests/sandbox/server.py"]


def load(path):
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def ignored(path, patterns):
    """ansible-galaxy's build_ignore: fnmatch on the path and on each of its parent directories."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(c, p) for c in candidates for p in patterns)


def requirement_names(path):
    names = set()
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line).group(0).lower())
    return names


def test_execution_environment_metadata_is_collection_dependency_metadata():
    # ansible-builder reads version 1 (collection format) with relative paths to requirement files;
    # an EE definition here (version 3, `system: []`) made its introspection raise a TypeError.
    meta = load("meta/execution-environment.yml")
    assert meta == {"version": 1, "dependencies": {"python": "meta/ee-requirements.txt"}}
    for kind, rel in meta["dependencies"].items():
        assert isinstance(rel, str) and not rel.startswith("/"), kind
        assert (ROOT / rel).is_file(), rel


def test_ee_requirements_are_the_runtime_needs_only():
    assert requirement_names("meta/ee-requirements.txt") == RUNTIME


def test_no_root_requirements_txt_that_ansible_builder_would_read_as_runtime_needs():
    assert not (ROOT / "requirements.txt").exists()
    assert {"ansible-core", "pytest", "ansible-lint"} <= requirement_names("requirements-dev.txt")


def test_build_ignore_leaves_out_development_files_and_keeps_what_users_need():
    patterns = load("galaxy.yml")["build_ignore"]
    leaked = [p for p in DEVELOPMENT_FILES if not ignored(p, patterns)]
    assert not leaked, "not in build_ignore: %s" % leaked
    dropped = [p for p in SHIPPED_FILES if ignored(p, patterns)]
    assert not dropped, "build_ignore drops what users need: %s" % dropped
    for path in SHIPPED_FILES:
        assert (ROOT / path).is_file(), path


def test_the_helper_matches_like_ansible_galaxy():
    assert ignored("tests/tools/package_check.py", ["tests/tools"])
    assert ignored("tests/requirements-oldest.txt", ["tests/requirements-*.txt"])
    assert not ignored("meta/ee-requirements.txt", ["tests/requirements-*.txt", "requirements-dev.txt"])


@pytest.mark.parametrize("role", ["phish_sim_allowlist", "firewall_lockdown", "cloud_integrated"])
def test_role_has_readme_and_version_added(role):
    # galaxy-importer refuses a role without README.md; antsibull-changelog lists "New Roles" by version_added.
    assert (ROOT / "roles" / role / "README.md").read_text(encoding="utf-8").startswith("# mailsec.mimecast." + role)
    main = load("roles/%s/meta/argument_specs.yml" % role)["argument_specs"]["main"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(main.get("version_added", "")))


def test_requires_ansible_is_the_version_ci_tests_as_oldest():
    claim = load("meta/runtime.yml")["requires_ansible"]
    oldest = re.search(r"^ansible-core==(\d+)\.(\d+)\.\d+$", (ROOT / "tests/requirements-oldest.txt").read_text(),
                       re.M)
    assert oldest, "tests/requirements-oldest.txt pins no ansible-core"
    assert claim == ">=%s.%s.0" % oldest.groups()


def test_make_test_runs_the_package_and_oldest_checks():
    makefile = ROOT / "Makefile"
    if not makefile.is_file():
        pytest.skip("no Makefile")
    test_line = re.search(r"^test:(.*)$", makefile.read_text(encoding="utf-8"), re.M).group(1).split()
    assert "package-check" in test_line and "oldest" in test_line
