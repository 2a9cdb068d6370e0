# Copyright: (c) 2025, mailsec.mimecast developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for ansible-test's pip bootstrap script (get-pip-<version>.py).

``ansible-test ... --venv`` creates each virtual environment with ``--without-pip``
and then runs ``~/.ansible/test/cache/get_pip_<version>.py`` as ``__main__`` with
pip-style arguments such as::

    --disable-pip-version-check pip==24.2 --no-setuptools --no-wheel

When that file is missing ansible-test downloads it from a host that is not a
package registry (ansible/ansible#77304).  This stand-in does the same job with
the standard library only: it bootstraps pip with ``ensurepip`` and then lets
that pip install the requested packages from the configured package index.

The Makefile (``make sanity``) copies this file into the cache when missing.
"""

from __future__ import annotations

import ensurepip
import importlib.util
import os
import subprocess
import sys

# Flags only the real get-pip.py understands; plain ``pip install`` rejects them.
_GET_PIP_ONLY_FLAGS = frozenset(("--no-setuptools", "--no-wheel"))


def main(argv: list[str]) -> int:
    """Bootstrap pip into the running interpreter, then install what was asked for."""
    had_setuptools = importlib.util.find_spec("setuptools") is not None
    saved_environ = dict(os.environ)
    try:
        ensurepip.bootstrap(upgrade=True)
    finally:
        # ensurepip sets PIP_CONFIG_FILE=/dev/null and leaves it set, which would
        # make the pip run below ignore the machine's pip configuration (index,
        # certificates).  Put the environment back the way it was.
        os.environ.clear()
        os.environ.update(saved_environ)

    pip = [sys.executable, "-m", "pip"]
    if "--no-setuptools" in argv and not had_setuptools:
        # ensurepip always brings setuptools along on Python < 3.12; the real
        # bootstrap script leaves it out when asked to.
        rc = subprocess.call(pip + ["uninstall", "--yes", "--quiet", "setuptools"])
        if rc:
            return rc

    args = [arg for arg in argv if arg not in _GET_PIP_ONLY_FLAGS]
    packages = [arg for arg in args if not arg.startswith("-")]
    if not packages:
        return 0
    return subprocess.call(pip + ["install"] + args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
