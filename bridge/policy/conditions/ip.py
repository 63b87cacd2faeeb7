"""`IpAddress` / `NotIpAddress`: IPv4 and IPv6 CIDR blocks (a bare address is a /32 or /128)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import UnevaluableError, ValueTest

_OPERATORS = {"IpAddress": ("IpAddress", False), "NotIpAddress": ("IpAddress", True)}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(value: object) -> Network:
    if not isinstance(value, str):
        raise ValueError(f"expected an IP address or CIDR block, got `{value!r}`")
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValueError(f"expected an IP address or CIDR block, got `{value}`") from None


def _request_address(value: object) -> Address:
    if not isinstance(value, str):
        raise UnevaluableError(f"expected an IP address, got `{value!r}`")
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise UnevaluableError(f"expected an IP address, got `{value}`") from None


class IpFamily:
    variables = False

    def operators(self) -> Mapping[str, tuple[str, bool]]:
        return _OPERATORS

    def compile(self, _operator: str, values: Sequence[object], /) -> ValueTest:
        networks = [parse_network(value) for value in values]

        def test(value: object) -> bool:
            address = _request_address(value)
            return any(address.version == net.version and address in net for net in networks)

        return test
