"""`IpAddress` / `NotIpAddress`: IPv4 and IPv6 CIDR blocks (a bare address is a /32 or /128)."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence

from bridge.policy.conditions.base import UnevaluableError, ValueTest

_OPERATORS = {"IpAddress": ("IpAddress", False), "NotIpAddress": ("IpAddress", True)}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# Exactly the dotted quads `ipaddress.ip_address` reads as IPv4 (no leading zeros).
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


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
        quads = tuple(
            (int(net.network_address), int(net.netmask))
            for net in networks
            if isinstance(net, ipaddress.IPv4Network)
        )

        def test(value: object) -> bool:
            if type(value) is str:
                number = _dotted_quad(value)
                if number is not None:
                    return _in_quads(number, quads)
            address = _request_address(value)
            return any(address.version == net.version and address in net for net in networks)

        return test


def _in_quads(number: int, quads: tuple[tuple[int, int], ...]) -> bool:
    """Whether `number` falls in one of the (network, netmask) pairs; a plain loop, as a
    generator per request costs more than the test itself."""
    for base, mask in quads:  # noqa: SIM110 - see the docstring
        if number & mask == base:
            return True
    return False


def _dotted_quad(value: str) -> int | None:
    """A plain IPv4 address as an integer without building an `IPv4Address`, else `None`."""
    text = value.strip()
    if _DOTTED_QUAD.fullmatch(text) is None:
        return None
    return int.from_bytes(socket.inet_aton(text), "big")
