"""Sizes and CPU amounts as people write them: 4Gi, 512Mi, 10G; 500m, 1.5, 2."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from symposium_tui.core.errors import UsageError

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]i?|k|)[Bb]?\s*")
_FACTORS = {
    "": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}


def parse_size(text: str, what: str = "size") -> int:
    """Bytes from '4Gi' (binary), '10G' (decimal) or a plain number of bytes."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise UsageError(f"{what} {text!r}: expected a size such as 512Mi, 4Gi or 10G")
    match = _SIZE.fullmatch(str(text))
    if not match:
        hint = " ('m' means milli; for megabytes write Mi or M)" if str(text).strip().endswith("m") else ""
        raise UsageError(f"{what} {text!r}: expected a size such as 512Mi, 4Gi or 10G{hint}")
    value = Decimal(match.group(1)) * _FACTORS[match.group(2)]
    if value < 1:
        raise UsageError(f"{what} {text!r}: must be at least 1 byte")
    return int(value)


def parse_cpu(text: str, what: str = "cpu") -> int:
    """Millicores from '500m', '1.5' or '2'."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UsageError(f"{what} {text!r}: expected CPUs such as 1.5 or millicores such as 1500m")
    raw = str(text).strip()
    try:
        millis = Decimal(raw[:-1]) if raw.endswith("m") else Decimal(raw) * 1000
    except InvalidOperation:
        raise UsageError(f"{what} {text!r}: expected CPUs such as 1.5 or millicores such as 1500m") from None
    if not millis.is_finite() or millis < 10 or millis != millis.to_integral_value():
        raise UsageError(f"{what} {text!r}: must be a whole number of millicores, at least 10m")
    return int(millis)


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_size(size: int) -> str:
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)\s*")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, what: str = "duration") -> float:
    """Seconds from '90m', '2h', '3d', '1w' or '0s'."""
    match = _DURATION.fullmatch(str(text)) if isinstance(text, str) else None
    if not match:
        raise UsageError(f"{what} {text!r}: expected a number and a unit, such as 90m, 2h, 3d or 0s")
    return float(Decimal(match.group(1)) * _SECONDS[match.group(2)])


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"
