# -*- coding: utf-8 -*-
"""Mimecast ranges: collapsing, the Exchange Online form, SPF parsing."""

from __future__ import annotations

from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import (
    SNAPSHOT,
    collapse,
    exchange_form,
    parse_spf,
    subtract,
)


def test_za_collapses_and_exchange_form_is_24s_only():
    v4, v6 = collapse(SNAPSHOT["za"])
    assert v4 == ["41.74.192.0/21", "41.74.200.0/23", "41.74.204.0/23", "41.74.206.0/24"] and v6 == []
    exchange = exchange_form(v4)
    # Exchange takes /24../32 only (Microsoft's New-InboundConnector page): ZA yields the /24s 192-199, 200-201, 204-206
    assert exchange == ["41.74.%d.0/24" % i for i in list(range(192, 202)) + [204, 205, 206]]
    assert all(int(c.split("/")[1]) >= 24 for c in exchange)


def test_narrow_prefixes_are_kept_and_nested_ones_merged():
    v4, dummy = collapse(["207.211.30.0/24", "207.211.30.128/25", "185.58.84.93/32", "2a01:111::/48"])
    assert v4 == ["185.58.84.93/32", "207.211.30.0/24"]
    assert exchange_form(v4) == v4


def test_parse_spf():
    cidrs, includes = parse_spf("v=spf1 ip4:1.2.3.0/24 +ip6:2001:db8::/32 include:eu._netblocks.mimecast.com. ~all")
    assert cidrs == ["1.2.3.0/24", "2001:db8::/32"] and includes == ["eu._netblocks.mimecast.com"]


def test_all_is_the_six_regions():
    assert len(SNAPSHOT["all"]) == sum(len(SNAPSHOT[r]) for r in ("eu", "us", "za", "de", "au", "ca"))


def test_subtract_is_an_address_difference():
    assert subtract(["205.139.110.0/23"], ["205.139.110.0/24"]) == ["205.139.111.0/24"]
    assert subtract(["205.139.110.0/24"], ["205.139.110.0/23"]) == []
    assert subtract(["10.0.0.0/30", "2001:db8::/127"], []) == ["10.0.0.0/30", "2001:db8::/127"]


def test_unsafe_ranges_are_named():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import unsafe_ranges
    bad = ["10.0.0.0/8", "128.0.0.0/1", "0.0.0.0/0", "::/0", "127.0.0.1", "169.254.1.0/24", "224.0.0.0/24",
           "240.0.0.0/8", "100.64.0.0/24", "fd00::/64", "fe80::/64", "ff02::1", "8.0.0.0/19", "2a00::/31",
           "172.20.0.0/24", "192.168.1.1"]
    problems = unsafe_ranges(bad)
    assert len(problems) == len(bad), problems
    assert "private (RFC 1918)" in problems[0] and "broader than /20" in problems[1]


def test_every_snapshot_range_is_safe_and_documentation_ranges_pass():
    from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import unsafe_ranges
    assert unsafe_ranges(SNAPSHOT["all"] + ["41.74.192.0/21", "41.74.192.0/20"]) == []
    assert unsafe_ranges(["198.51.100.0/24", "2001:db8:25::/48"]) == []


def test_exchange_form_is_bounded_before_it_expands():
    import pytest
    from ansible_collections.mailsec.mimecast.plugins.module_utils._netblocks import exchange_count
    assert exchange_count(["0.0.0.0/0"]) == 2 ** 24 and exchange_count(["41.74.192.0/21", "1.2.3.4/32"]) == 9
    # 0.0.0.0/0 would be 16.7 million strings (gigabytes); it is refused by arithmetic, not by expanding it.
    for huge in (["0.0.0.0/0"], ["10.0.0.0/8"], ["41.0.0.0/14"]):
        with pytest.raises(ValueError, match="more than the 1000 entries"):
            exchange_form(huge)
    assert len(exchange_form(["41.0.0.0/16"])) == 256


def test_subtract_of_a_huge_answer_stays_small():
    out = subtract(["0.0.0.0/0", "::/0"], SNAPSHOT["all"])
    assert 0 < len(out) < 2000


def _problems(**overrides):
    from ansible_collections.mailsec.mimecast.plugins.filter.firewall_lockdown_problems import (
        firewall_lockdown_problems,
    )
    data = {"state": "present", "v4": ["205.139.110.0/24"], "v6": [], "ports": [25],
            "management": [{"port": 22, "sources": ["0.0.0.0/0", "::/0"]}]}
    data.update(overrides)
    return " ".join(firewall_lockdown_problems(data))


def test_guard_accepts_the_default_lockdown():
    assert _problems() == ""
    assert _problems(state="absent", v4=[]) == ""


def test_guard_refuses_management_ports_without_the_loud_opt_in():
    assert "22 (SSH)" in _problems(ports=[25, 22], management=[])
    assert "5985 (WinRM)" in _problems(ports=[5985])
    assert "2200 (the port this play connects over" in _problems(ports=[25, 2200], connection_port="2200")
    assert "are both in firewall_lockdown_ports and in firewall_lockdown_management" in _problems(ports=[25, 22])
    assert _problems(ports=[25, 22], management=[], unsafe_restrict_management_ports="true") == ""
    assert "22 (SSH)" in _problems(ports=[25, 22], management=[], unsafe_restrict_management_ports="false")


def test_guard_refuses_non_mimecast_ranges_and_bad_values():
    text = _problems(v4=["0.0.0.0/0", "10.0.0.0/8", "2001:db8::/48", "x"], v6=["::/0", "1.2.3.4"])
    for part in ("0.0.0.0/0 is broader than /20", "10.0.0.0/8 is in", "'2001:db8::/48' is not an IPv4 CIDR",
                 "'x' is not an IPv4", "::/0 is broader than /32", "'1.2.3.4' is not an IPv6"):
        assert part in text, (part, text)
    assert _problems(v4=["10.0.0.0/8"], unsafe_allow_any_range=True) == ""
    assert "both empty" in _problems(v4=[])
    assert "70000 is not a TCP port" in _problems(ports=[70000])
    assert "1 to 15 TCP ports" in _problems(ports=list(range(1000, 1016)))
    assert "'anywhere' is not a CIDR" in _problems(management=[{"port": 22, "sources": ["anywhere"]}])
    assert "needs a port" in _problems(management=["ssh"])
