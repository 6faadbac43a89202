"""How every table of the project is written: a value over seeds as "mean ± sd", and Markdown tables. The report and
the benchmarks use these alone, so a figure reads the same wherever it is printed."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd


def mean_sd(values: pd.Series | np.ndarray | Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (NaN sd with one value) of the finite values."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else math.nan


def format_pm(mean: float | None, sd: float | None, digits: int = 4, sign: str = "") -> str:
    """'mean ± sd', the mean alone where the sd is undefined (one seed), 'n/a' without a mean; `sign` '+' signs
    the mean (a difference)."""
    if mean is None or math.isnan(mean):
        return "n/a"
    text = f"{mean:{sign}.{digits}f}"
    return text if sd is None or math.isnan(sd) else f"{text} ± {sd:.{digits}f}"


def mean_pm(values: pd.Series | np.ndarray | Sequence[float], digits: int = 4, sign: str = "") -> str:
    """'mean ± sd' of the finite values over seeds (see format_pm)."""
    return format_pm(*mean_sd(values), digits=digits, sign=sign)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table of the given header and rows (cells as given, or str() of them)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in rows])
