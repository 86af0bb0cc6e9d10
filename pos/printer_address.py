"""A till's receipt printer on the shop's network: "host" or "host:port" (ESC/POS's raw
port, 9100, when not said); a name, an IPv4 address or a bracketed IPv6 one."""

from __future__ import annotations

import re

from pos.errors import BadPrinter

PORT = 9100
ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])"
                     r"(?::(?P<port>[0-9]{1,5}))?$")


def address_of(setting: str) -> tuple[str, int]:
    """The till's `printer` setting as (host, port); BadPrinter when it is not one."""
    found = ADDRESS.match(setting.strip())
    if found is None:
        raise BadPrinter()
    port = int(found["port"] or PORT)
    if not 0 < port < 65536:
        raise BadPrinter()
    return found["host"].strip("[]"), port
