"""Request values on the condition fast paths decide as the general parsers would."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from bridge.policy import Decision, PolicySet, Request, parse_policy


def _deny_when(condition: dict[str, Any], context: dict[str, Any]) -> Decision:
    """A `Deny` under `condition` beside an unconditional `Allow`: the effect tells whether
    the condition held, `unevaluable_denies` whether the value could not be compared."""
    statements = [
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ]
    policy = parse_policy({"Version": "2012-10-17", "Statement": statements})
    return PolicySet([policy]).evaluate(Request("s3:GetObject", "arn:aws:s3:::b/k", context))


def _outcome(decision: Decision) -> str:
    if decision.unevaluable_denies:
        return "unevaluable"
    return "holds" if decision.effect == "explicitDeny" else "fails"


NETWORKS = ["10.0.0.0/8", "192.168.0.1", "2001:db8::/32"]
ADDRESSES = [
    ("inside", "10.1.2.3", "holds"),
    ("outside", "11.1.2.3", "fails"),
    ("bare-address-network", "192.168.0.1", "holds"),
    ("next-to-bare-address", "192.168.0.2", "fails"),
    ("spaces", " 10.1.2.3 ", "holds"),
    ("newline", "10.1.2.3\n", "holds"),
    ("leading-zero", "010.1.2.3", "unevaluable"),
    ("three-parts", "10.1.2", "unevaluable"),
    ("octet-too-big", "10.1.2.256", "unevaluable"),
    ("fullwidth-digit", "\uff110.1.2.3", "unevaluable"),
    ("ipv6-inside", "2001:db8::1", "holds"),
    ("ipv4-mapped-ipv6", "::ffff:10.1.2.3", "fails"),
    ("empty", "", "unevaluable"),
]


@pytest.mark.parametrize(
    ("address", "expected"), [c[1:] for c in ADDRESSES], ids=[c[0] for c in ADDRESSES]
)
def test_ip_addresses_read_as_ipaddress_reads_them(address: str, expected: str) -> None:
    decision = _deny_when({"IpAddress": {"aws:SourceIp": NETWORKS}}, {"aws:SourceIp": address})
    assert _outcome(decision) == expected
    if expected != "unevaluable":
        parsed = ipaddress.ip_address(address.strip())
        networks = [ipaddress.ip_network(n) for n in NETWORKS]
        inside = any(parsed.version == n.version and parsed in n for n in networks)
        assert inside is (expected == "holds")


MOMENTS = [
    ("iso-after", "2026-05-01T00:00:00Z", "holds"),
    ("iso-before", "2026-01-01T00:00:00Z", "fails"),
    ("iso-date-only", "2026-05-01", "holds"),
    ("iso-offset", "2026-03-01T01:00:00+02:00", "fails"),
    ("iso-spaces", " 2026-05-01T00:00:00Z ", "holds"),
    ("iso-bad-month", "2026-13-01", "unevaluable"),
    ("epoch-seconds", "1800000000", "holds"),
    ("digits-read-as-epoch", "20260501", "fails"),
    ("words", "soon", "unevaluable"),
]


@pytest.mark.parametrize(
    ("moment", "expected"), [c[1:] for c in MOMENTS], ids=[c[0] for c in MOMENTS]
)
def test_request_dates(moment: str, expected: str) -> None:
    condition = {"DateGreaterThan": {"aws:CurrentTime": "2026-03-01T00:00:00Z"}}
    assert _outcome(_deny_when(condition, {"aws:CurrentTime": moment})) == expected


NUMBERS = [
    ("below", "1200", "holds"),
    ("above", "4000", "fails"),
    ("spaces", " 12 ", "holds"),
    ("decimal", "3599.5", "holds"),
    ("not-a-number", "nan", "unevaluable"),
    ("infinite", "-inf", "unevaluable"),
    ("words", "twelve", "unevaluable"),
]


@pytest.mark.parametrize(
    ("number", "expected"), [c[1:] for c in NUMBERS], ids=[c[0] for c in NUMBERS]
)
def test_request_numbers(number: str, expected: str) -> None:
    condition = {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}
    assert _outcome(_deny_when(condition, {"aws:MultiFactorAuthAge": number})) == expected


BOOLEANS = [
    ("true", "true", "holds"),
    ("upper-case", "TRUE", "holds"),
    ("false", "false", "fails"),
    ("json-true", True, "holds"),
    ("yes", "yes", "unevaluable"),
]


@pytest.mark.parametrize(
    ("value", "expected"), [c[1:] for c in BOOLEANS], ids=[c[0] for c in BOOLEANS]
)
def test_request_booleans(value: object, expected: str) -> None:
    condition = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert _outcome(_deny_when(condition, {"aws:MultiFactorAuthPresent": value})) == expected
