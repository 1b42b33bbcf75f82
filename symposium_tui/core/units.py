"""Sizes and CPU amounts as people write them: 4Gi, 512Mi, 10G; 500m, 1.5, 2."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from symposium_tui.core.errors import UsageError

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTP]i?|k|)[Bb]?\s*")
_FACTORS = {
    "": 1, "K": 10**3, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50,
}
MAX_SIZE = 2**63 - 1  # the engine keeps limits in a signed 64-bit number
_CPU = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(m?)\s*")
MAX_CPU_MILLIS = 10**9  # a million CPUs: anything more is a typo
_SIZE_EXAMPLE = "expected a size such as 512Mi, 4Gi or 10G"
_CPU_EXAMPLE = "expected CPUs such as 1.5 or millicores such as 1500m"


def quoted(value: object, limit: int = 100) -> str:
    """A value a person gave, as an error message shows it: repr (so control characters are
    visible and it stays on one line), cut short."""
    import reprlib

    shortened = reprlib.Repr()  # bounded work, however big or deep the value (a YAML document)
    shortened.maxstring = shortened.maxother = limit
    shortened.maxlevel, shortened.maxlist, shortened.maxdict = 3, 6, 6
    try:
        text = shortened.repr(value) if isinstance(value, (list, dict, tuple, set)) else repr(value)
    except ValueError:  # an int too long to write in decimal
        return "<a number too long to show>"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def parse_size(text: str, what: str = "size") -> int:
    """Bytes from '4Gi' (binary), '10G' (decimal) or a plain number of bytes."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise UsageError(f"{what} {quoted(text)}: {_SIZE_EXAMPLE}")
    if isinstance(text, int):
        value = Decimal(text)  # not via str(): YAML's hex and base-60 ints can be too long for it
    else:
        match = _SIZE.fullmatch(text)
        if not match:
            hint = " ('m' means milli; for megabytes write Mi or M)" if text.strip().endswith("m") else ""
            raise UsageError(f"{what} {quoted(text)}: {_SIZE_EXAMPLE}{hint}")
        value = Decimal(match.group(1)) * _FACTORS[match.group(2)]
    if value < 1:
        raise UsageError(f"{what} {quoted(text)}: must be at least 1 byte")
    if value > MAX_SIZE:
        raise UsageError(f"{what} {quoted(text)}: more than the engine can take, 2^63-1 bytes")
    return int(value)


def parse_cpu(text: str, what: str = "cpu") -> int:
    """Millicores from '500m', '1.5' or '2'."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise UsageError(f"{what} {quoted(text)}: {_CPU_EXAMPLE}")
    if isinstance(text, float):
        if not math.isfinite(text):
            raise UsageError(f"{what} {quoted(text)}: {_CPU_EXAMPLE}")
        millis = Decimal(repr(text)) * 1000  # repr: 0.1 is 100m, not 100.0000000000000055m
    elif isinstance(text, int):
        millis = Decimal(text) * 1000
    else:
        # ASCII digits only: Decimal alone would also take '١٥', '１.５', '1_000', '1e3' and 'NaN'.
        match = _CPU.fullmatch(text)
        if not match:
            raise UsageError(f"{what} {quoted(text)}: {_CPU_EXAMPLE}")
        number = Decimal(match.group(1))
        millis = number if match.group(2) else number * 1000
    if millis < 10 or millis != millis.to_integral_value():
        raise UsageError(f"{what} {quoted(text)}: must be a whole number of millicores, at least 10m")
    if millis > MAX_CPU_MILLIS:
        raise UsageError(f"{what} {quoted(text)}: too many (at most {MAX_CPU_MILLIS // 1000} CPUs)")
    return int(millis)


# How the product writes amounts, everywhere (CLI, dashboard, logs, messages): CPUs as a decimal
# number of CPUs (0.5, 2), sizes in binary units with their i (512Mi, 1.5Gi). Input also takes
# millicores (500m) and decimal units (10G).


def format_cpu(millis: int) -> str:
    """Exact: 500 -> '0.5', 2000 -> '2', 1250 -> '1.25'."""
    whole, part = divmod(int(millis), 1000)
    return str(whole) if not part else f"{whole}.{part:03d}".rstrip("0")


def format_size(size: int) -> str:
    """Exact, in the largest binary unit that needs at most two decimals: 1536Mi -> '1.5Gi'."""
    for unit, factor in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if size >= factor and (size * 100) % factor == 0:
            hundredths = size * 100 // factor
            number = str(hundredths // 100) + (f".{hundredths % 100:02d}".rstrip("0") if hundredths % 100 else "")
            return f"{number}{unit}"
    return f"{size}B"


_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)\s*")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION_DAYS = 36500  # a century; far more overflows dates (now - 3000 years)


def parse_duration(text: str, what: str = "duration") -> float:
    """Seconds from '90m', '2h', '3d', '1w' or '0s'."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if not match:
        raise UsageError(f"{what} {quoted(text)}: expected a number and a unit, such as 90m, 2h, 3d or 0s")
    seconds = Decimal(match.group(1)) * _SECONDS[match.group(2)]
    if seconds > MAX_DURATION_DAYS * 86400:
        raise UsageError(f"{what} {quoted(text)}: too long (at most {MAX_DURATION_DAYS}d)")
    return float(seconds)


def format_duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}".replace(".0", "")
    return f"{seconds}s"
