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


def test_every_module_taking_the_connection_options_is_in_the_action_group():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = set(runtime["action_groups"]["mimecast"])
    texts = {p.stem: p.read_text() for p in (ROOT / "plugins" / "modules").glob("*.py")}
    connected = {name for name, text in texts.items() if "mailsec.mimecast.connection" in text}
    assert connected and connected == group
    for name in connected:
        assert "mailsec.mimecast.attributes.ACTION_GROUP" in texts[name], name
