#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: mimecast_smoke_info
short_description: Read-only smoke run against a Mimecast tenant, with a redacted response-shape report
version_added: 0.2.0
description:
  - Calls every Mimecast read the collection uses, in one task - the REST gateway policy lists
    (anti-spoofing, anti-spoofing bypass, greylisting, blocked senders, delivery route definitions
    and policies), internal domains, profile groups and the members of one group, managed URLs,
    a message-finder search over a few minutes and the message info of one message found.
  - B(Never writes.) The client runs in read-only mode whatever O(read_only) says, so a write
    call would be refused before it is sent.
  - Writes C(smoke-report.json) and C(smoke-report.md) to O(report_dir) - for every endpoint the key
    names and JSON types of the answers (list lengths counted), and every mismatch with what the
    collection expects (list keys, paging keys, fields the modules read). No value of the tenant is
    written - no description, address, id or credential; object keys that are not plain field names
    (such as a recipient address used as a key) show as C(<key>). The report can be attached to a
    bug report.
  - Mimecast documents neither the list key nor the paging key of its REST lists; the report shows
    which ones your tenant uses.
author:
  - Mailsec Mimecast developers (@mailsec)
extends_documentation_fragment:
  - mailsec.mimecast.connection
  - mailsec.mimecast.attributes
  - mailsec.mimecast.attributes.READ_ONLY
  - mailsec.mimecast.attributes.ACTION_GROUP
options:
  report_dir:
    description:
      - Directory for the reports, created if missing. A relative path is taken from the current
        directory of the run.
    type: path
    default: mimecast-smoke-report
  search_minutes:
    description:
      - How many minutes back the message-finder search looks (a small window keeps it cheap).
      - From 1 to 1440.
    type: int
    default: 5
notes:
  - Needs the role permissions Gateway | Policies | Read, Directories | Groups | Read, Directories |
    Internal | Read, Services | URL Protection | Read and Monitoring | Message Finder (Track and Trace) | Read.
  - A read that fails is recorded with its error code and HTTP status (never Mimecast's message text,
    which may quote tenant values) and the run goes on; the task itself does not fail.
  - Always returns C(changed=false); nothing changes in Mimecast.
'''

EXAMPLES = r'''
- name: Smoke-test the tenant (credentials from MIMECAST_BASE_URL, MIMECAST_CLIENT_ID, MIMECAST_CLIENT_SECRET)
  mailsec.mimecast.mimecast_smoke_info:
    report_dir: ./mimecast-smoke-report
  register: smoke
'''

RETURN = r'''
report_files:
  description: The paths of the JSON and Markdown reports.
  returned: always
  type: list
  elements: str
mismatch_count:
  description: How many mismatches with the collection's expectations the report lists.
  returned: always
  type: int
error_count:
  description: How many endpoints answered with an error.
  returned: always
  type: int
mismatches:
  description: Endpoint label to its mismatches, for the endpoints that have any.
  returned: always
  type: dict
endpoints:
  description: The labels of the endpoints called.
  returned: always
  type: list
  elements: str
api_calls:
  description: How many Mimecast API calls the task made; C(write) is always 0.
  returned: always
  type: dict
'''

import os

from ansible_collections.mailsec.mimecast.plugins.module_utils._module import MimecastModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._smoke import Recorder, as_json, markdown, smoke


class SmokeModule(MimecastModule):
    force_read_only = True


def report_dir(module):
    """The report directory, created and checked writable before any call, or a clean failure."""
    p = module.params
    if not 1 <= p["search_minutes"] <= 1440:
        module.module.fail_json(msg="search_minutes %d is out of range; give a value from 1 to 1440 minutes "
                                "(a small window keeps the search cheap)." % p["search_minutes"])
    directory = os.path.abspath(p["report_dir"])
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        module.module.fail_json(msg="report_dir %s cannot be created (%s); give a directory you can write to. "
                                "Nothing was called." % (directory, exc.strerror or type(exc).__name__))
    if not os.access(directory, os.W_OK):
        module.module.fail_json(msg="report_dir %s is not writable; give a directory you can write to. "
                                "Nothing was called." % directory)
    return directory


def work(module, client, recorder, directory):
    report = smoke(client, recorder, window_minutes=module.params["search_minutes"])
    files = []
    for name, text in (("smoke-report.json", as_json(report)), ("smoke-report.md", markdown(report))):
        path = os.path.join(directory, name)
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        except OSError as exc:
            module.module.fail_json(msg="Cannot write %s (%s); give a report_dir you can write to."
                                    % (path, exc.strerror or type(exc).__name__), api_calls=client.api_calls)
        files.append(path)
    called = {k: v for k, v in report["endpoints"].items() if "endpoint" in v}
    return {
        "changed": False,
        "report_files": files,
        "mismatch_count": report["mismatch_count"],
        "error_count": report["error_count"],
        "mismatches": {k: v["mismatches"] for k, v in called.items() if v["mismatches"]},
        "endpoints": sorted(called),
    }


def main():
    recorder = Recorder()
    SmokeModule.observe = staticmethod(recorder)
    module = SmokeModule(
        dict(
            report_dir=dict(type="path", default="mimecast-smoke-report"),
            search_minutes=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    directory = report_dir(module)
    module.run(lambda client: work(module, client, recorder, directory))


if __name__ == "__main__":
    main()
