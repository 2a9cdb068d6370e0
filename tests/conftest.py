# -*- coding: utf-8 -*-
"""Make the collection importable as ansible_collections.mailsec.mimecast under plain pytest.

pytest-ansible (retiring end of 2026) does this too; this file keeps the tests independent
of it: a symlink tree build/collections/ansible_collections/mailsec/mimecast -> the repo.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = ROOT / "build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "mailsec" / "mimecast"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        LINK.symlink_to(ROOT, target_is_directory=True)
    except FileExistsError:
        pass
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(COLLECTIONS))
# The sandbox is importable as `sandbox` by the tests.
TESTS = str(ROOT / "tests")
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
