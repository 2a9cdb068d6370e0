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


@pytest.mark.parametrize("value", ["167.89.0.0/24", "168.245.74.0/28", "149.72.0.0/16"])
def test_shared_bulk_mail_ranges_only_as_single_addresses(value):
    with pytest.raises(GuardrailError, match="bulk-mail platform"):
        check_source_ips([value], allow_broad_ranges=True)
    assert check_source_ips(["168.245.74.19"]) == ["168.245.74.19/32"]


@pytest.mark.parametrize("value, reason", [
    ("0001-01-01T00:00:00+01:00", "out of range"),       # crashed: OverflowError
    ("9999-12-31T23:59:59-01:00", "out of range"),       # crashed: OverflowError
    ("2026-02-30", "not a date"),
    ("2300-01-01", "outside the years"),
    ("1066-10-14", "outside the years"),
])
def test_bad_dates_refused(value, reason):
    with pytest.raises(GuardrailError, match=reason):
        normalise_date(value, "valid_to")


def test_validity_window_refuses_past_end_and_start_after_end():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._policy import check_window
    now = "2026-06-01T00:00:00+0000"
    with pytest.raises(GuardrailError, match="valid_to 2026-05-31T23:59:59\\+0000 is in the past"):
        check_window("eternal", "2026-05-31T23:59:59+0000", now=now)
    with pytest.raises(GuardrailError, match="is not before valid_to"):
        check_window("2026-08-01T00:00:00+0000", "2026-07-01T00:00:00+0000", now=now)
    check_window("2026-06-01T00:00:00+0000", "2026-07-01T00:00:00+0000", now=now)
    check_window("eternal", "eternal", now=now)


def test_sender_check_follows_the_group():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import (
        is_permitted_sender_group,
        sender_check,
    )
    from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import GroupSpec
    check = sender_check(["corp.example"], allow_domain=False, field="members")
    spec = GroupSpec(check_for=lambda d: check if is_permitted_sender_group(d) else None)
    with pytest.raises(GuardrailError, match="gmail.com is a freemail domain"):
        spec.prepare({"description": "Vendor - Permitted Senders", "members": ["gmail.com"]}, "merged")
    with pytest.raises(GuardrailError, match="own internal domain"):
        spec.prepare({"description": "permitted_sender list", "members": ["x@mail.corp.example"]}, "merged")
    vip = spec.prepare({"description": "Executives (VIP)", "members": ["ceo@corp.example", "gmail.com"]}, "merged")
    assert vip["members"] == ["ceo@corp.example", "gmail.com"]


@pytest.mark.parametrize("record, includes, qualifier", [
    ("v=spf1 include:us._netblocks.mimecast.com -all", True, "-"),
    ("V=SPF1 INCLUDE:US._NETBLOCKS.MIMECAST.COM. +ALL", True, "+"),
    ("v=spf1 include:us._netblocks.mimecast.com.evil.example -all", False, "-"),
    ("v=spf1 include:evil.example/us._netblocks.mimecast.com ~all", False, "~"),
    ("v=spf1 -include:us._netblocks.mimecast.com ALL", False, "+"),
    ("v=spf1 ip4:192.0.2.1 redirect=us._netblocks.mimecast.com", False, None),
    ("v=spf1 ?all include:us._netblocks.mimecast.com", True, "?"),
])
def test_spf_parsed_exactly(record, includes, qualifier):
    from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import spf_all_qualifier, spf_includes
    assert spf_includes(record, "us._netblocks.mimecast.com") is includes
    assert spf_all_qualifier(record) == qualifier


@pytest.mark.parametrize("record, policy", [
    ("v=DMARC1; p=reject", "reject"),
    ("v=DMARC1 ; p = reject ; rua=mailto:d@corp.example", "reject"),
    ("V=dmarc1;P=Quarantine", "quarantine"),
    ("v=DMARC1; sp=reject", ""),
    ("p=reject; v=DMARC1", ""),   # v must be the first tag (RFC 7489 section 6.4)
])
def test_dmarc_tags_per_rfc7489(record, policy):
    from ansible_collections.mailsec.mimecast.plugins.module_utils._dns import dmarc_policy
    assert dmarc_policy(record) == policy


def test_markdown_escapes_tenant_values():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._report import md
    out = md("<script>x</script>|[a](http://e)\n| row |`c`*_")
    assert "<" not in out and "\n" not in out and "](" not in out
    assert "\\|" in out and "\\[" in out and "\\`" in out and "\\*" in out and "\\_" in out


def test_group_members_idn_to_punycode_and_unicode_local_part_refused():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._profile_group import normalise_member
    assert normalise_member("Sims@Bücher.example") == "sims@xn--bcher-kva.example"
    assert normalise_member("bücher.example.") == "xn--bcher-kva.example"
    with pytest.raises(GuardrailError, match="non-ASCII characters before the '@'"):
        normalise_member("jürgen@corp.example")
    with pytest.raises(GuardrailError, match="not an email address"):
        normalise_member("a@x..example")
