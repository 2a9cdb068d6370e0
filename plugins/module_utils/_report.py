# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""Audit reports: Markdown and one self-contained HTML file (inline CSS, no scripts, no fetches)."""

from __future__ import annotations

import re
from html import escape

COLOURS = {"critical": "#b3261e", "high": "#d9480f", "medium": "#b08800", "low": "#1c7ed6", "info": "#5f6368"}


# Markdown syntax a tenant-controlled value could use to inject a link, an image, emphasis, code, a
# table cell or a new block (https://spec.commonmark.org/0.31.2/#backslash-escapes, GFM tables).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(value):
    """A tenant-controlled value as inert Markdown text: HTML-escaped (raw HTML is live in Markdown),
    Markdown punctuation backslash-escaped, line breaks (which would start a new block or table row) and
    other control characters turned into spaces."""
    text = "".join(" " if (ord(ch) < 32 or ch in "\x7f\u2028\u2029\x85") else ch for ch in str(value))
    return _MD_SPECIAL.sub(r"\\\1", escape(text, quote=True))


def _describe(obj, esc=escape):
    return ", ".join("%s: %s" % (k, esc(str(v))) for k, v in obj.items() if k != "id" and v not in (None, ""))


def _result_text(check):
    return {"pass": "pass", "fail": "**FAIL**", "not_checked": "not checked"}[check.get("status") or (
        "pass" if check["passed"] else "fail")]


def markdown(tenant, result, generated=""):
    lines = ["# Mimecast configuration audit: %s" % md(tenant), ""]
    if generated:
        lines += ["Generated %s by mailsec.mimecast.mimecast_audit." % md(generated), ""]
    counts = result["counts"]
    lines += ["**Score: %s / 100** (weighted by severity). Findings: %s." % (
        result["score"], ", ".join("%d %s" % (n, s) for s, n in reversed(list(counts.items())) if n) or "none"), ""]
    if result.get("incomplete"):
        lines += ["**Incomplete:** %d check(s) could not run (see \"Could not check\"); the score counts them as "
                  "not passed. Score over the checks that ran: %s / 100." % (
                      len(result.get("not_checked") or []), result.get("score_checked")), ""]
    lines += ["| Check | Severity | Result | Objects |", "|---|---|---|---|"]
    for check in result["checks"]:
        lines.append("| %s %s | %s | %s | %d |" % (check["id"], check["title"], check["severity"],
                                                   _result_text(check), len(check["objects"])))
    for finding in result["findings"]:
        lines += ["", "## %s: %s (%s)" % (finding["id"], finding["title"], finding["severity"]), "",
                  "Why it matters: %s" % finding["why"], "", "Fix: %s" % finding["fix"], ""]
        lines += ["- %s" % _describe(obj, md) for obj in finding["objects"]]
    lines += ["", "## Manual checks (no API exposes these)", ""]
    lines += ["- **%s %s**: %s (%s) %s" % (m["id"], m["title"], m["console_path"], m["why"], m["api"])
              for m in result["manual_checks"]]
    if result.get("errors"):
        lines += ["", "## Could not check", ""] + ["- %s" % md(e) for e in result["errors"]]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;color:#202124;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
.meta{color:#5f6368;margin-bottom:1.2rem}
.top{display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
.score{width:7.5rem;height:7.5rem;border-radius:50%;display:flex;align-items:center;justify-content:center;
font-size:2rem;font-weight:700;color:#fff}
.pill{display:inline-block;border-radius:1rem;padding:.1rem .6rem;color:#fff;font-size:.8rem;font-weight:600}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{text-align:left;padding:.45rem .6rem;
border-bottom:1px solid #e0e0e0;vertical-align:top}th{background:#f5f5f5}
.pass{color:#1e7e34;font-weight:600}.fail{color:#b3261e;font-weight:600}
.card{border:1px solid #e0e0e0;border-left:6px solid;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
.card p{margin:.3rem 0}code{background:#f5f5f5;padding:0 .25rem;border-radius:3px}
"""


def _pill(severity):
    return '<span class="pill" style="background:%s">%s</span>' % (COLOURS.get(severity, "#5f6368"), escape(severity))


def html(tenant, result, generated=""):
    score = result["score"]
    colour = "#1e7e34" if score >= 90 else ("#b08800" if score >= 70 else "#b3261e")
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           "<title>Mimecast audit: %s</title><style>%s</style></head><body>" % (escape(tenant), CSS),
           "<h1>Mimecast configuration audit: %s</h1>" % escape(tenant)]
    if generated:
        out.append('<div class="meta">Generated %s by mailsec.mimecast.mimecast_audit. Read-only: nothing was changed.</div>'
                   % escape(generated))
    summary = " ".join("%s %d" % (_pill(s), n) for s, n in reversed(list(result["counts"].items())) if n) or "No findings."
    out.append('<div class="top"><div class="score" style="background:%s">%s</div><div><p><b>Weighted score</b> '
               '(checks weighted by severity: critical 10, high 5, medium 3, low 1)</p><p>%s</p></div></div>'
               % (colour, escape(str(score)), summary))
    if result.get("incomplete"):
        out.append("<p><b>Incomplete:</b> %d check(s) could not run (see Could not check); the score counts them "
                   "as not passed. Score over the checks that ran: %s / 100.</p>"
                   % (len(result.get("not_checked") or []), escape(str(result.get("score_checked")))))
    out.append("<h2>Checks</h2><table><tr><th>Check</th><th>Severity</th><th>Result</th><th>Objects</th></tr>")
    for check in result["checks"]:
        text = _result_text(check).strip("*")
        out.append("<tr><td><code>%s</code> %s</td><td>%s</td><td class=\"%s\">%s</td><td>%d</td></tr>" % (
            escape(check["id"]), escape(check["title"]), _pill(check["severity"]),
            "pass" if check["passed"] else "fail", escape(text.upper() if text == "FAIL" else text),
            len(check["objects"])))
    out.append("</table>")
    if result["findings"]:
        out.append("<h2>Findings</h2>")
    for finding in result["findings"]:
        out.append('<div class="card" style="border-left-color:%s"><p>%s <b><code>%s</code> %s</b></p>'
                   % (COLOURS[finding["severity"]], _pill(finding["severity"]), escape(finding["id"]), escape(finding["title"])))
        out.append("<p><b>Why it matters.</b> %s</p><p><b>Fix.</b> %s</p><ul>" % (escape(finding["why"]), escape(finding["fix"])))
        out.extend("<li>%s</li>" % _describe(obj) for obj in finding["objects"])
        out.append("</ul></div>")
    out.append("<h2>Manual checks</h2><p>Mimecast's API does not expose these settings; check them in the console.</p>"
               "<table><tr><th>Check</th><th>Where</th><th>Why</th></tr>")
    for manual in result["manual_checks"]:
        out.append("<tr><td><code>%s</code> %s</td><td>%s</td><td>%s %s</td></tr>" % (
            escape(manual["id"]), escape(manual["title"]), escape(manual["console_path"]), escape(manual["why"]),
            escape(manual["api"])))
    out.append("</table>")
    if result.get("errors"):
        out.append("<h2>Could not check</h2><ul>%s</ul>" % "".join("<li>%s</li>" % escape(e) for e in result["errors"]))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
