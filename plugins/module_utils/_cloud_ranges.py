# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: data may change in any release.

"""Dated lists the guardrails use: shared cloud-mail sending ranges and domains.

A bypass scoped to any of these ranges lets anyone with a Microsoft 365 or Google
Workspace tenant through (Mimecast's pitfalls guide, section 1A and 4). The lists are
supersets of the published SPF records as of the dates below (spf.protection.outlook.com,
spfd.protection.outlook.com and _spf.google.com with its _netblocks includes, read in DNS and
in Microsoft's and Google's SPF documentation); they are for overlap tests only.
"""

from __future__ import annotations

CLOUD_RANGES = {
    "Microsoft 365": {
        "seen": "2020-07-31 .. 2021-02-25, superset of later forms",
        "source": "spf.protection.outlook.com and spfd.protection.outlook.com (DNS TXT); "
                  "https://learn.microsoft.com/microsoft-365/enterprise/urls-and-ip-address-ranges",
        "ranges": [
            "40.92.0.0/14",
            "40.107.0.0/16",
            "52.100.0.0/14",
            "104.47.0.0/17",
            "51.4.72.0/24",
            "51.5.72.0/24",
            "51.5.80.0/27",
            "51.4.80.0/27",
            "20.47.149.138/32",
            "2a01:111:f400::/48",
            "2a01:111:f403::/48",
        ],
    },
    "Google": {
        "seen": "2019-08-22 and 2020-10-31",
        "source": "_spf.google.com -> _netblocks{,2,3}.google.com (DNS TXT); "
                  "https://support.google.com/a/answer/10026322",
        "ranges": [
            "35.190.247.0/24",
            "35.191.0.0/16",
            "64.233.160.0/19",
            "66.102.0.0/20",
            "66.249.80.0/20",
            "72.14.192.0/18",
            "74.125.0.0/16",
            "108.177.8.0/21",
            "108.177.96.0/19",
            "130.211.0.0/22",
            "172.217.0.0/19",
            "172.217.32.0/20",
            "172.217.128.0/19",
            "172.217.160.0/20",
            "172.217.192.0/19",
            "172.253.56.0/21",
            "172.253.112.0/20",
            "173.194.0.0/16",
            "209.85.128.0/17",
            "216.239.32.0/19",
            "216.58.192.0/19",
            "2001:4860:4000::/36",
            "2404:6800:4000::/36",
            "2607:f8b0:4000::/36",
            "2800:3f0:4000::/36",
            "2a00:1450:4000::/36",
            "2c0f:fb50:4000::/36",
        ],
    },
}

# Domains whose mail anyone can send: free mailbox providers, the cloud-mail platforms'
# own domains, and shared sending services. A domain matches itself and its subdomains.
FREEMAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "msn.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "rocketmail.com", "aol.com",
    "icloud.com", "me.com", "mac.com", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com",
    "protonmail.com", "proton.me", "pm.me", "zoho.com", "zohomail.com", "yandex.com",
    "yandex.ru", "mail.ru", "qq.com", "163.com", "126.com", "tutanota.com", "fastmail.com",
)
CLOUD_MAIL_DOMAINS = (
    "onmicrosoft.com", "outlook.office365.com", "protection.outlook.com", "office365.com",
    "microsoft.com", "google.com", "googlegroups.com", "amazonses.com", "sendgrid.net",
    "mailgun.org", "mailgun.net", "mcsv.net", "mandrillapp.com", "sparkpostmail.com",
    "mailchimpapp.net", "salesforce.com", "exacttarget.com",
)

# Shared sending space of bulk-mail platforms (ESPs). No public source that we found states the
# owner of these ranges: they are INFERRED from phishing-simulation vendors' published IPs that sit
# in them and from link hosts under ct.sendgrid.net (CybSafe, ThreatCop, PhishingBox set-up guides).
# A range bypass inside them would let other customers of the platform through, so only single
# addresses (/32) are accepted there. Amazon SES, Mailchimp/Mandrill, Mailgun and SparkPost publish
# no stable range list we could cite: they are not covered (docs/safety.md says so).
SHARED_ESP_RANGES = {
    "a bulk-mail platform's shared space (SendGrid, inferred)": [
        "167.89.0.0/16",
        "168.245.0.0/16",
        "159.183.0.0/16",
        "149.72.0.0/16",
    ],
}
