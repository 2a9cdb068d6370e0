# -*- coding: utf-8 -*-
"""Collection metadata stays consistent: version, action group, doc fragments."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.mailsec.mimecast.plugins.module_utils._version import COLLECTION_VERSION

ROOT = Path(__file__).resolve().parents[3]


def test_version_matches_galaxy_yml():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert galaxy["version"] == COLLECTION_VERSION


def test_every_module_is_in_the_action_group_and_documents_it():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = set(runtime["action_groups"]["mimecast"])
    modules = {p.stem for p in (ROOT / "plugins" / "modules").glob("mimecast_*.py")}
    assert modules and modules == group
    for name in modules:
        text = (ROOT / "plugins" / "modules" / (name + ".py")).read_text()
        assert "mailsec.mimecast.attributes.ACTION_GROUP" in text, name
        assert "mailsec.mimecast.connection" in text, name
