"""The sandbox's private bridge: one /24 of its own, no forwarding, no route out."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from ..shell import run
from .errors import SandboxError


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def subnet_users(subnet: ipaddress.IPv4Network, own_bridge: str) -> list[str]:
    """Interfaces other than our bridge whose addresses or routes overlap `subnet`."""
    users: set[str] = set()
    for link in json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]"):
        for addr in link.get("addr_info", []):
            net = ipaddress.ip_interface(f"{addr['local']}/{addr['prefixlen']}").network
            if link["ifname"] != own_bridge and net.overlaps(subnet):
                users.add(link["ifname"])
    for route in json.loads(run(["ip", "-j", "-4", "route", "show"]).stdout or "[]"):
        dst = route.get("dst", "")
        if dst in ("", "default") or route.get("dev") == own_bridge:
            continue
        if ipaddress.ip_network(dst, strict=False).overlaps(subnet):
            users.add(route.get("dev", "?"))
    return sorted(users)


def ensure_bridge(name: str, subnet: ipaddress.IPv4Network) -> None:
    """Create the bridge with the subnet's first address, or check the one that is there."""
    taken = subnet_users(subnet, name)
    if taken:
        raise SandboxError(
            f"address range {subnet} is already in use on this machine (by {', '.join(taken)}); "
            "choose a free one with `locust-fleet sandbox up --subnet 10.x.y.0/24`"
        )
    gateway = f"{next(subnet.hosts())}/{subnet.prefixlen}"
    if not link_exists(name):
        run(["ip", "link", "add", name, "type", "bridge"])
    addrs = json.loads(run(["ip", "-j", "-4", "addr", "show", "dev", name]).stdout or "[]")
    have = {f"{a['local']}/{a['prefixlen']}" for link in addrs for a in link.get("addr_info", [])}
    if gateway not in have:
        run(["ip", "addr", "add", gateway, "dev", name])
    run(["ip", "link", "set", name, "up"])


def delete_bridge(name: str) -> None:
    if link_exists(name):
        run(["ip", "link", "delete", name, "type", "bridge"])
