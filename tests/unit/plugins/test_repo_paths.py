# -*- coding: utf-8 -*-
"""Issue 9 item 6: no file of the repository refers to a path outside it (a machine path, a
sibling notes folder, private research notes). Sources are cited by public URL or public
project + file instead; notes the project needs live in the repository (tests/sandbox/README.md)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
# Written in pieces so this file does not match itself.
FORBIDDEN = re.compile("|".join([
    re.escape(".." + "/shared"),                   # a sibling folder next to the checkout
    re.escape("/" + "work/"),                      # the machine path of a working copy
    "research" + r"/[\w.-]+\.md",                  # private notes cited as files
    "shared" + "/research",
]))
SKIPPED_DIRS = {".git", ".venv", "build", "node_modules", "__pycache__", ".pytest_cache", ".tox"}


def repository_files():
    """Tracked and new (not ignored) files; every file below ROOT when git is not available."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
        names = [n for n in out.decode("utf-8", "replace").split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if not SKIPPED_DIRS.intersection(p.relative_to(ROOT).parts)]
    return [ROOT / n for n in names if (ROOT / n).is_file() and not (ROOT / n).is_symlink()]


def offending(path):
    text = path.read_bytes().decode("utf-8", "replace")
    return ["%s:%d: %s" % (path.relative_to(ROOT), text.count("\n", 0, m.start()) + 1, m.group(0))
            for m in FORBIDDEN.finditer(text)]


def test_the_pattern_catches_each_form():
    for bad in ("see ../" + "shared/" + "research" + "/x.md", "/" + "work/shared/notes", "(research" + "/lockdown.md 4.3)"):
        assert FORBIDDEN.search(bad), bad
    for good in ("https://learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector",
                 "demisto/content Packs/Mimecast/Integrations/MimecastV2/MimecastV2.py", "research notes"):
        assert not FORBIDDEN.search(good), good


def test_no_file_refers_to_a_path_outside_the_repository():
    files = repository_files()
    assert len(files) > 50  # the listing worked
    found = [hit for path in files for hit in offending(path)]
    assert not found, "cite the public source instead of a path outside the repository:\n" + "\n".join(found)
