"""Small statistics and table-cell helpers: nearest-rank percentiles, medians, run
spreads, milliseconds and CPU shares as the tables print them."""

from __future__ import annotations

import statistics


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank; inf for an empty list."""
    if not values:
        return float("inf")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], fmt: str | None = None) -> str:
    """The runs' values, e.g. "12.3 / 14.0" (milliseconds by default; ∞ = not acked)."""
    return " / ".join(fmt_ms(v) if fmt is None else fmt.format(v) for v in values)


def fmt_ms(value: float) -> str:
    if value != value:  # NaN
        return "–"
    if value == float("inf"):
        return "∞"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def cpu_cell(shares: dict[str, float], names: list[str]) -> str:
    return " · ".join(f"{n} {shares.get(n, 0.0):.2f}" for n in names if n in shares)
