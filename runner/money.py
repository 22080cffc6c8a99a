"""US dollars as the manifest, the simulator and the reports write them: decimal strings.

Coder's AI Gateway counts in millionths of a dollar (`total_cost_micros`, CHATS-CONTRACT 7.4),
so every amount is held as integer micros and written back with the digits it has.
"""

from __future__ import annotations

import re

#: `5`, `12.50`, `0.000125`: at most six decimals (a micro is the smallest amount Coder counts).
USD_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,6})?$"
_USD = re.compile(USD_PATTERN)


def parse_usd(text: str) -> int:
    """`"12.50"` -> 12_500_000 micros; ValueError for anything else."""
    if not _USD.match(text):
        raise ValueError(f'expected US dollars such as "5" or "12.50", got {text!r}')
    whole, _, part = text.partition(".")
    return int(whole) * 1_000_000 + int(part.ljust(6, "0") or "0")


def usd(micros: int) -> str:
    """`$1.25`, or `$0.000125` below a cent: cents at least, and every digit the micros carry."""
    whole, part = divmod(micros, 1_000_000)
    digits = f"{part:06d}".rstrip("0")
    return f"${whole}.{digits.ljust(2, '0')}"
