# -*- coding: utf-8 -*-
"""Guardrails from Mimecast's pitfalls guide."""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
    GuardrailError,
    check_sender_domains,
    check_source_ips,
)
from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import normalise_date, normalise_target


@pytest.mark.parametrize("value, reason", [
    ("0.0.0.0/0", "matches every address"),
    ("::/0", "matches every address"),
    ("10.0.0.0/8", "private"),
    ("192.168.1.10", "private"),
    ("127.0.0.1", "private, loopback"),
    ("169.254.0.0/16", "link-local"),
    ("52.0.0.0/16", "broader than /24"),
    ("2600:1f18::/32", "broader than /48"),
    ("40.107.22.0/24", "Microsoft 365"),
    ("104.47.0.0/17", "Microsoft 365"),
    ("209.85.220.41", "Google"),
    ("2a00:1450:4000::/48", "Google"),
    ("not-an-ip", "not an IP address"),
    ("52.201.210.35/24", "did you mean 52.201.210.0/24"),
])
def test_refused_ranges(value, reason):
    with pytest.raises(GuardrailError) as err:
        check_source_ips([value])
    assert reason in str(err.value)
    assert value in str(err.value) or "/" in str(err.value)


def test_accepted_ranges_are_normalised_and_deduplicated():
    assert check_source_ips(["52.201.210.35", "52.201.210.35/32", "198.2.177.0/28", "2600:1f18:1:2::/64"]) == [
        "52.201.210.35/32", "198.2.177.0/28", "2600:1f18:1:2::/64"]


def test_broad_range_needs_explicit_override_but_cloud_overlap_never_passes():
    assert check_source_ips(["52.0.0.0/16"], allow_broad_ranges=True) == ["52.0.0.0/16"]
    with pytest.raises(GuardrailError, match="Microsoft 365"):
        check_source_ips(["40.0.0.0/8"], allow_broad_ranges=True)


def test_all_problems_reported_at_once():
    with pytest.raises(GuardrailError) as err:
        check_source_ips(["10.0.0.0/8", "not-an-ip", "52.201.210.35"])
    assert len(err.value.problems) == 2


@pytest.mark.parametrize("domain", ["gmail.com", "Outlook.com", "contoso.onmicrosoft.com", "sendgrid.net",
                                    "google.com", "bounces.amazonses.com"])
def test_shared_mail_domains_refused(domain):
    with pytest.raises(GuardrailError, match="(freemail|cloud-mail) domain"):
        check_sender_domains([domain])


def test_own_domains_accepted():
    assert check_sender_domains(["Mail.Vendor.Example.", "partner.example"]) == [
        "mail.vendor.example", "partner.example"]
    with pytest.raises(GuardrailError, match="not a domain name"):
        check_sender_domains(["not a domain"])


def test_dates_and_targets():
    assert normalise_date("2026-12-01", "valid_from") == "2026-12-01T00:00:00+0000"
    assert normalise_date("2026-12-31", "valid_to", end_of_day=True) == "2026-12-31T23:59:59+0000"
    assert normalise_date("2026-12-01T10:00:00+02:00", "valid_from") == "2026-12-01T08:00:00+0000"
    assert normalise_date("Eternal", "valid_from") == "eternal"
    with pytest.raises(GuardrailError, match="not a date"):
        normalise_date("next tuesday", "valid_from")
    assert normalise_target({"type": "email_domain", "value": "Corp.Example"}, "t") == {
        "type": "email_domain", "value": "corp.example"}
    with pytest.raises(GuardrailError, match="needs a value"):
        normalise_target({"type": "email_domain", "value": None}, "t")
    with pytest.raises(GuardrailError, match="takes no value"):
        normalise_target({"type": "everyone", "value": "x"}, "t")
