"""Numbers as people read them, the same way in reasons, Markdown and HTML; unknown is "n/a"."""

from __future__ import annotations

NA = "n/a"


def usd(value: float | None) -> str:
    if value is None:
        return NA
    if value == 0:
        return "$0"
    if abs(value) < 0.0001:
        return "<$0.0001"
    if abs(value) < 0.01:
        return f"${value:.2g}"
    return f"${value:,.2f}"


def pct(value: float | None, digits: int = 1) -> str:
    return NA if value is None else f"{value * 100:.{digits}f}%"


def ms(value: float | None) -> str:
    return NA if value is None else f"{value:,.0f} ms"


def seconds(value: float | None) -> str:
    if value is None:
        return NA
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def megabytes(value: float | None) -> str:
    if value is None:
        return NA
    return f"{value:,.0f} MB" if value < 1024 else f"{value / 1024:.1f} GB"


def count(value: float | None) -> str:
    return NA if value is None else f"{value:,.0f}"


def p_value(value: float | None) -> str:
    if value is None:
        return NA
    return "p<0.001" if value < 0.001 else f"p={value:.3f}"


def holm(value: float | None) -> str:
    """A Holm-adjusted p-value, written like a plain one."""
    if value is None:
        return NA
    return "Holm <0.001" if value < 0.001 else f"Holm {value:.3f}"


def plural(number: int, word: str) -> str:
    return f"{number:,} {word}" if number == 1 else f"{number:,} {word}s"


def ci(bounds: tuple[float, float] | list[float] | None) -> str:
    if not bounds:
        return NA
    return f"{bounds[0] * 100:.1f}–{bounds[1] * 100:.1f}%"
