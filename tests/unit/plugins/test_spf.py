"""SPF merging for Cloud Integrated (issue 12): the module_utils and the spf_record filter."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.mailsec.mimecast.plugins.filter.spf_record import FilterModule
from ansible_collections.mailsec.mimecast.plugins.module_utils._spf import (
    CI_SPF_INCLUDES,
    SpfError,
    merge_include,
    spf_lookup_targets,
    spf_lookup_terms,
)

UK = "spf.uk-1.a.mimecastprotect.com"
spf_record = FilterModule().filters()["spf_record"]


def test_region_table_is_the_guides_six_regions():
    assert CI_SPF_INCLUDES == {r: "spf.%s-1.a.mimecastprotect.com" % r for r in ("us", "uk", "de", "ca", "au", "za")}


# Record shapes seen on real domains: Microsoft 365, Google Workspace, gateway customers, ESPs,
# parked domains, redirects, explanations, upper case and odd spacing.
@pytest.mark.parametrize("record, merged", [
    ("v=spf1 include:spf.protection.outlook.com -all",
     "v=spf1 include:spf.protection.outlook.com include:%s -all" % UK),
    ("v=spf1 include:_spf.google.com ~all",
     "v=spf1 include:_spf.google.com include:%s ~all" % UK),
    ("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:spf.protection.outlook.com -all",
     "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:spf.protection.outlook.com include:%s -all" % UK),
    ("v=spf1 mx a ~all", "v=spf1 mx a include:%s ~all" % UK),
    ("v=spf1 include:eu._netblocks.mimecast.com include:spf.protection.outlook.com -all",
     "v=spf1 include:eu._netblocks.mimecast.com include:spf.protection.outlook.com include:%s -all" % UK),
    ("v=spf1 redirect=_spf.example.net", "v=spf1 include:%s redirect=_spf.example.net" % UK),
    ("v=spf1 include:sendgrid.net include:mailgun.org include:servers.mcsv.net ?all",
     "v=spf1 include:sendgrid.net include:mailgun.org include:servers.mcsv.net include:%s ?all" % UK),
    ("v=spf1 -all", "v=spf1 include:%s -all" % UK),
    ("V=SPF1 INCLUDE:SPF.PROTECTION.OUTLOOK.COM -ALL", "V=SPF1 INCLUDE:SPF.PROTECTION.OUTLOOK.COM include:%s -ALL" % UK),
    ("v=spf1 include:spf.protection.outlook.com ~all exp=explain._spf.example.com",
     "v=spf1 include:spf.protection.outlook.com include:%s ~all exp=explain._spf.example.com" % UK),
    ("v=spf1   include:spf.protection.outlook.com    -all  ",
     "v=spf1 include:spf.protection.outlook.com include:%s -all" % UK),
    ("v=spf1 ip4:198.51.100.1", "v=spf1 ip4:198.51.100.1 include:%s" % UK),
    ("v=spf1 include:spf.uk-1.a.mimecastprotect.com -all", "v=spf1 include:spf.uk-1.a.mimecastprotect.com -all"),
    ("v=spf1 include:SPF.UK-1.A.MIMECASTPROTECT.COM. ~all", "v=spf1 include:SPF.UK-1.A.MIMECASTPROTECT.COM. ~all"),
    (None, "v=spf1 include:%s ~all" % UK),
    ("", "v=spf1 include:%s ~all" % UK),
])
def test_merge_keeps_the_record(record, merged):
    assert merge_include(record, UK) == merged
    assert spf_record(record, region="uk") == merged
    # idempotent: merging the result again changes nothing
    assert merge_include(merged, UK) == merged


def test_all_qualifier_only_changes_when_asked():
    assert merge_include("v=spf1 include:_spf.google.com ~all", UK, all_qualifier="-") == \
        "v=spf1 include:_spf.google.com include:%s -all" % UK
    assert merge_include("v=spf1 include:_spf.google.com -all", UK, all_qualifier="softfail") == \
        "v=spf1 include:_spf.google.com include:%s ~all" % UK
    assert merge_include("v=spf1 ip4:192.0.2.1", UK, all_qualifier="fail") == "v=spf1 ip4:192.0.2.1 include:%s -all" % UK
    assert merge_include(None, UK, all_qualifier="-") == "v=spf1 include:%s -all" % UK


@pytest.mark.parametrize("record, kwargs, words", [
    ("v=spf1 include:spf.protection.outlook.com +all", {}, "+all"),
    ("v=spf1 include:spf.protection.outlook.com all", {}, "+all"),
    ("v=spf1 include:x.example -all", {"all_qualifier": "+"}, "'~' (softfail) or '-'"),
    ("v=spf1 include:x.example -all", {"all_qualifier": "?"}, "'~' (softfail) or '-'"),
    ("spf1 include:x.example -all", {}, "not an SPF record"),
    ("v=spf2.0/pra include:x.example -all", {}, "not an SPF record"),
    ("v=spf1 include:a.example ~all -all", {}, "2 'all' mechanisms"),
    ("v=spf1 redirect=a.example redirect=b.example", {}, "redirect="),
    ("v=spf1 redirect=_spf.example.net", {"all_qualifier": "-"}, "redirect"),
    ("v=spf1 include:x.example !all", {}, "not valid"),
    # the 10-lookup limit of RFC 7208 section 4.6.4, counted in the record itself ...
    ("v=spf1 " + " ".join("include:s%d.example" % i for i in range(10)) + " -all", {}, "11 DNS lookups"),
    ("v=spf1 a mx ptr exists:%{i}.x.example " + " ".join("include:s%d.example" % i for i in range(6)) + " -all",
     {}, "11 DNS lookups"),
    # ... and with the record's includes followed, as mimecast_dns_check counts them
    ("v=spf1 include:spf.protection.outlook.com -all", {"lookups": 10}, "11 DNS lookups"),
    ("v=spf1 include:spf.protection.outlook.com -all", {"lookups": 8, "include_lookups": 2}, "11 DNS lookups"),
])
def test_refusals(record, kwargs, words):
    with pytest.raises(SpfError, match=None) as info:
        merge_include(record, UK, **kwargs)
    assert words in str(info.value)


def test_ten_lookups_is_still_fine():
    record = "v=spf1 " + " ".join("include:s%d.example" % i for i in range(9)) + " -all"
    assert merge_include(record, UK).endswith("include:%s -all" % UK)
    assert merge_include("v=spf1 include:spf.protection.outlook.com -all", UK, lookups=9)
    # already included: no new lookup, even at the limit
    assert merge_include("v=spf1 include:%s -all" % UK, UK, lookups=10)


def test_lookup_terms_and_targets():
    record = "v=spf1 ip4:192.0.2.1 a mx:mail.example include:A.example. exists:x.example ptr -all redirect=r.example"
    assert spf_lookup_terms(record) == ["a", "mx:mail.example", "include:A.example.", "exists:x.example", "ptr",
                                        "redirect=r.example"]
    assert spf_lookup_targets(record) == ["a.example", "r.example"]


def test_filter_reads_txt_lists_and_refuses_bad_arguments():
    txt = ["google-site-verification=abc", "v=spf1 include:spf.protection.outlook.com -all"]
    assert spf_record(txt, region="uk") == "v=spf1 include:spf.protection.outlook.com include:%s -all" % UK
    assert spf_record(["ms=123"], include="us._netblocks.mimecast.com") == "v=spf1 include:us._netblocks.mimecast.com ~all"
    for value, kwargs, words in [
        (["v=spf1 -all", "v=spf1 ~all"], {"region": "uk"}, "2 SPF records"),
        ("v=spf1 -all", {}, "either region"),
        ("v=spf1 -all", {"region": "uk", "include": "x.example"}, "either region"),
        ("v=spf1 -all", {"region": "eu"}, "not a Cloud Integrated region"),
        ("v=spf1 -all", {"include": "not a domain"}, "not a domain name"),
        ("v=spf1 -all", {"region": "uk", "lookups": "many"}, "whole number"),
        (42, {"region": "uk"}, "as a string"),
        ("v=spf1 include:x.example +all", {"region": "uk"}, "+all"),
    ]:
        with pytest.raises(AnsibleFilterError) as info:
            spf_record(value, **kwargs)
        assert words in str(info.value)
