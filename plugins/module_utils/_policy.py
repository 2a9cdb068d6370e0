# -*- coding: utf-8 -*-
# Copyright (c) mailsec.mimecast contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to mailsec.mimecast: may change in any release.

"""What every Mimecast gateway policy (API 2.0 REST) has in common.

Targets ("Emails From" / "Emails To"), the from-part, enabled/override/bidirectional and
the validity window, mapped both ways between the user's options and Mimecast's fields,
with the read-back quirks normalised: eternal dates come back as 1900/2100 dates, targets
come back nested and flattened, and a profile group may come back as ``group: {id}``.
"""

from __future__ import annotations

import datetime
import ipaddress
import re

from ansible_collections.mailsec.mimecast.plugins.module_utils._engine import Spec
from ansible_collections.mailsec.mimecast.plugins.module_utils._guardrails import GuardrailError

ETERNAL = "eternal"
TARGET_TYPES = (
    "everyone",
    "internal_addresses",
    "external_addresses",
    "email_domain",
    "individual_email_address",
    "profile_group",
)
# Which API field carries the value for a target type (REST uses ``domain``, not ``emailDomain``).
TARGET_VALUE_FIELD = {
    "email_domain": "domain",
    "individual_email_address": "emailAddress",
    "profile_group": "groupId",
}
FROM_PARTS = ("envelope_from", "header_from", "both")
API_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Mimecast stores eternal dates as 1900-01-01 and 2100-01-01 (see date_from_api); anything
# outside those years is a typo.
MIN_YEAR, MAX_YEAR = 1900, 2100

TARGET_OPTIONS = dict(
    type=dict(type="str", required=True, choices=list(TARGET_TYPES)),
    value=dict(type="str"),
)

POLICY_ENTRY_OPTIONS = dict(
    description=dict(type="str", required=True),
    emails_from=dict(type="dict", options=TARGET_OPTIONS),
    emails_to=dict(type="dict", options=TARGET_OPTIONS),
    from_part=dict(type="str", choices=list(FROM_PARTS)),
    enabled=dict(type="bool"),
    override=dict(type="bool"),
    bidirectional=dict(type="bool"),
    valid_from=dict(type="str"),
    valid_to=dict(type="str"),
)

POLICY_FIELDS = ("emails_from", "emails_to", "from_part", "enabled", "override", "bidirectional",
                 "valid_from", "valid_to")

POLICY_DEFAULTS = {
    "emails_from": {"type": "everyone", "value": None},
    "emails_to": {"type": "everyone", "value": None},
    "from_part": "envelope_from",
    "enabled": True,
    "override": False,
    "bidirectional": False,
    "valid_from": ETERNAL,
    "valid_to": ETERNAL,
}


def normalise_target(target, field):
    """Validate a user target {type, value}; return it normalised or raise GuardrailError."""
    if target is None:
        return None
    kind = target.get("type")
    value = target.get("value")
    if kind in TARGET_VALUE_FIELD:
        if not value:
            raise GuardrailError(["%s: type %s needs a value (%s)" % (field, kind, {
                "email_domain": "a domain such as example.com",
                "individual_email_address": "an address such as ceo@example.com",
                "profile_group": "the profile group's id",
            }[kind])])
        value = value.strip()
        if kind != "profile_group":
            value = value.lower()
        if kind == "individual_email_address" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", value):
            raise GuardrailError(["%s: %r is not an email address" % (field, value)])
        return {"type": kind, "value": value}
    if value:
        raise GuardrailError(["%s: type %s takes no value (got %r)" % (field, kind, value)])
    return {"type": kind, "value": None}


def normalise_date(value, field, end_of_day=False):
    """User date -> Mimecast's ``YYYY-MM-DDTHH:MM:SS+0000`` in UTC, or 'eternal'."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() == ETERNAL:
        return ETERNAL
    hint = "use YYYY-MM-DD, an ISO 8601 date-time with time zone, or 'eternal'"
    try:
        if _DATE_ONLY.match(text):
            day = datetime.datetime.strptime(text, "%Y-%m-%d")
            moment = day.replace(hour=23, minute=59, second=59) if end_of_day else day
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        else:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.timezone.utc)
        moment = moment.astimezone(datetime.timezone.utc)
    except ValueError:
        raise GuardrailError(["%s: %r is not a date; %s" % (field, text, hint)])
    except OverflowError:
        # 0001-01-01T00:00+01:00 or 9999-12-31T23:59-01:00 leave datetime's range in UTC.
        raise GuardrailError(["%s: %r is out of range; %s" % (field, text, hint)])
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise GuardrailError(["%s: %r is outside the years %d to %d that Mimecast accepts; %s"
                              % (field, text, MIN_YEAR, MAX_YEAR, hint)])
    return moment.strftime(API_DATE_FORMAT)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime(API_DATE_FORMAT)


def check_window(valid_from, valid_to, now=None):
    """Refuse a validity window that is empty or already over (dates as normalise_date returns them)."""
    problems = []
    if valid_from and valid_to and ETERNAL not in (valid_from, valid_to) and valid_from >= valid_to:
        problems.append("valid_from %s is not before valid_to %s; give a start before the end, or "
                        "'eternal' for no start" % (valid_from, valid_to))
    now = now or now_utc()
    if valid_to and valid_to != ETERNAL and valid_to <= now:
        problems.append("valid_to %s is in the past (now %s): the bypass would be created already expired; "
                        "give a future end date, or delete the entry with state: deleted" % (valid_to, now))
    if problems:
        raise GuardrailError(problems)


def target_to_api(target):
    body = {"type": target["type"]}
    field = TARGET_VALUE_FIELD.get(target["type"])
    if field:
        body[field] = target["value"]
    return body


def target_from_api(item, side):
    """Read a target back from the nested form, the ``group{id}`` form or the flattened one."""
    nested = item.get(side) or {}
    kind = nested.get("type") or item.get(side + "Type") or "everyone"
    value = None
    if kind in TARGET_VALUE_FIELD:
        value = (nested.get(TARGET_VALUE_FIELD[kind]) or nested.get("emailDomain")
                 or (nested.get("group") or {}).get("id") or item.get(side + "Value"))
        if value and kind != "profile_group":
            value = value.lower()
    return {"type": kind, "value": value}


# Mimecast names the validity dates fromDate/toDate on classic policies and on REST greylisting,
# fromDateTime/toDateTime on the other REST policies; the Mimecast Terraform provider decodes both
# names on every policy read (github.com/Scriptception/terraform-provider-mimecast,
# internal/client/types.go, type Policy). Which name a tenant answers with is not documented, so
# both are read for every policy type: a dated policy never reads as eternal because of the name.
DATE_NAMES = {"from": ("fromDateTime", "fromDate"), "to": ("toDateTime", "toDate")}


def date_from_api(item, side, date_field=None):
    """The validity date of one side ('from' / 'to') as normalise_date returns it, or 'eternal'.

    ``date_field`` (the name the module writes) is read first, then the other naming. Eternal
    dates read back as 1900-01-01 / 2100-01-01: both mean 'eternal'."""
    if item.get(side + "Eternal"):
        return ETERNAL
    names = [date_field] if date_field else []
    names += [n for n in DATE_NAMES[side] if n not in names]
    value = next((item[n] for n in names if item.get(n)), None)
    if not value or (isinstance(value, str) and value[:10] in ("1900-01-01", "2100-01-01")):
        return ETERNAL
    if not isinstance(value, str):
        return value
    try:
        return normalise_date(value, date_field or names[0])
    except GuardrailError:
        return value


def cidrs_from_api(item):
    """Read-back source IPs in the form the guardrails produce (a.b.c.d -> a.b.c.d/32)."""
    values = item.get("sourceIPs") or (item.get("conditions") or {}).get("sourceIPs") or []
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            out.append(value)
    return out


class GatewayPolicySpec(Spec):
    """Base for modules over REST gateway policies (anti-spoofing, greylisting, ...)."""

    # REST date field names; greylisting uses fromDate/toDate instead.
    date_fields = ("fromDateTime", "toDateTime")
    fields = POLICY_FIELDS

    def prepare_policy(self, entry):
        entry["emails_from"] = normalise_target(entry.get("emails_from"), "emails_from")
        entry["emails_to"] = normalise_target(entry.get("emails_to"), "emails_to")
        entry["valid_from"] = normalise_date(entry.get("valid_from"), "valid_from")
        entry["valid_to"] = normalise_date(entry.get("valid_to"), "valid_to", end_of_day=True)
        check_window(entry["valid_from"], entry["valid_to"])
        return entry

    def policy_defaults(self):
        return dict(POLICY_DEFAULTS)

    def policy_from_api(self, item):
        return {
            "description": item.get("description"),
            "emails_from": target_from_api(item, "from"),
            "emails_to": target_from_api(item, "to"),
            "from_part": item.get("fromPart") or "envelope_from",
            "enabled": item.get("enabled", True),
            "override": item.get("override", False),
            "bidirectional": item.get("bidirectional", False),
            "valid_from": date_from_api(item, "from", self.date_fields[0]),
            "valid_to": date_from_api(item, "to", self.date_fields[1]),
        }

    def policy_to_api(self, desired):
        body = {
            "description": desired["description"],
            "fromPart": desired["from_part"],
            "from": target_to_api(desired["emails_from"]),
            "to": target_to_api(desired["emails_to"]),
            "enabled": desired["enabled"],
            "override": desired["override"],
            "bidirectional": desired["bidirectional"],
            "fromEternal": desired["valid_from"] == ETERNAL,
            "toEternal": desired["valid_to"] == ETERNAL,
        }
        if desired["valid_from"] != ETERNAL:
            body[self.date_fields[0]] = desired["valid_from"]
        if desired["valid_to"] != ETERNAL:
            body[self.date_fields[1]] = desired["valid_to"]
        return body
