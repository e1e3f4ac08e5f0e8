"""Table 1: baseline characteristics by outcome, with missingness and a test per variable.

The choice of summary and test follows the usual reporting conventions: roughly symmetric
continuous variables as mean (SD) with Welch's t-test (ANOVA for more than two groups), skewed
ones as median [IQR] with Mann-Whitney U (Kruskal-Wallis), categorical ones as n (%) with the
chi-square test, or Fisher's exact test for a 2x2 table with an expected count below 5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.errors import EvaluationError

__all__ = ["TableOneRow", "TableOne", "table_one"]


@dataclass(frozen=True)
class TableOneRow:
    """One line of Table 1. ``level`` is empty for continuous variables and the header of a categorical one."""

    variable: str
    level: str
    kind: str  # "normal", "skewed", "categorical"
    overall: str
    by_group: tuple[str, ...]
    counts: tuple[int, ...]  # raw counts behind a categorical cell (overall first), for suppression
    missing: int
    p_value: float
    test: str


@dataclass(frozen=True)
class TableOne:
    outcome: str
    groups: tuple[str, ...]
    group_sizes: tuple[int, ...]
    n: int
    rows: tuple[TableOneRow, ...]


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace("-", "\u2212")


def _digits(values: pd.Series) -> int:
    spread = float(values.abs().median()) if len(values) else 0.0
    return 0 if spread >= 100 else 1 if spread >= 1 else 2


def _is_categorical(series: pd.Series, max_levels: int) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == bool:
        return True
    if not pd.api.types.is_numeric_dtype(series):
        return True
    return series.dropna().nunique() <= max_levels


def _as_levels(series: pd.Series) -> pd.Series:
    """Category labels as text; whole-number floats (``1.0`` from a column with gaps) print as ``1``."""
    if pd.api.types.is_numeric_dtype(series) and series.dtype != bool:
        values = pd.to_numeric(series, errors="coerce")
        whole = values.dropna()
        if len(whole) and np.all(np.asarray(whole, dtype=float) == np.round(np.asarray(whole, dtype=float))):
            return values.astype("Int64").astype("string")
    return series.astype("string")


def _binary_positive(levels: list[str]) -> str | None:
    """For a yes/no column only the 'yes' line is shown, as journals do."""
    if len(levels) != 2:
        return None
    for yes in ("1", "True", "true", "yes", "Yes", "YES", "Y", "y"):
        if yes in levels:
            return yes
    return None


def table_one(
    data: pd.DataFrame,
    *,
    outcome: str,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    skewed: Sequence[str] | None = None,
    max_levels: int = 5,
    skew_limit: float = 1.0,
) -> TableOne:
    """Summaries by outcome level. ``skewed=None`` decides per variable: |skewness| > ``skew_limit``."""
    if outcome not in data.columns:
        raise EvaluationError("evaluation.unknown_column", column=outcome)
    cols = [c for c in (columns if columns is not None else data.columns) if c != outcome]
    missing_cols = [c for c in cols if c not in data.columns]
    if missing_cols:
        raise EvaluationError("evaluation.unknown_column", column=missing_cols[0])
    frame = data[data[outcome].notna()]
    levels = sorted(frame[outcome].unique().tolist(), key=str)
    if len(levels) < 2:
        raise EvaluationError("evaluation.one_class", label=str(levels[0]) if levels else "")
    masks = [(frame[outcome] == lv).to_numpy() for lv in levels]
    rows: list[TableOneRow] = []
    for col in cols:
        series = frame[col]
        missing = int(series.isna().sum())
        if col in categorical or _is_categorical(series, max_levels):
            rows.extend(_categorical_rows(col, series, masks, missing))
        else:
            values = pd.to_numeric(series, errors="coerce").astype(float)
            clean = values.dropna()
            is_skewed = (col in skewed) if skewed is not None else bool(
                len(clean) > 2 and abs(stats.skew(clean.to_numpy())) > skew_limit
            )
            rows.append(_continuous_row(col, values, masks, missing, is_skewed))
    return TableOne(
        outcome=outcome,
        groups=tuple(str(lv) for lv in levels),
        group_sizes=tuple(int(m.sum()) for m in masks),
        n=len(frame),
        rows=tuple(rows),
    )


def _continuous_row(col: str, values: pd.Series, masks: list[np.ndarray], missing: int, skewed: bool) -> TableOneRow:
    arr = values.to_numpy()
    parts = [arr[m][~np.isnan(arr[m])] for m in masks]
    d = _digits(values.dropna())

    def summary(x: np.ndarray) -> str:
        if len(x) == 0:
            return "NA"
        if skewed:
            q1, med, q3 = np.percentile(x, [25, 50, 75])
            return f"{_fmt(med, d)} [{_fmt(q1, d)}, {_fmt(q3, d)}]"
        return f"{_fmt(np.mean(x), d)} ({_fmt(np.std(x, ddof=1) if len(x) > 1 else 0.0, d)})"

    usable = [x for x in parts if len(x) >= 2]
    p, test = float("nan"), ""
    if len(usable) == len(parts) and len(parts) >= 2:
        if skewed:
            if len(parts) == 2:
                p, test = float(stats.mannwhitneyu(*parts, alternative="two-sided").pvalue), "mann_whitney"
            else:
                p, test = float(stats.kruskal(*parts).pvalue), "kruskal_wallis"
        elif len(parts) == 2:
            p, test = float(stats.ttest_ind(*parts, equal_var=False).pvalue), "welch_t"
        else:
            p, test = float(stats.f_oneway(*parts).pvalue), "anova"
    return TableOneRow(col, "", "skewed" if skewed else "normal", summary(arr[~np.isnan(arr)]),
                       tuple(summary(x) for x in parts), (), missing, p, test)


def _categorical_rows(col: str, series: pd.Series, masks: list[np.ndarray], missing: int) -> list[TableOneRow]:
    values = _as_levels(series)
    present = values.notna().to_numpy()
    levels = sorted(values.dropna().unique().tolist())
    table = np.array([[int(np.sum((values == lv).fillna(False).to_numpy() & m)) for m in masks] for lv in levels])
    p, test = float("nan"), ""
    if table.shape[0] >= 2 and np.all(table.sum(axis=0) > 0):
        expected = stats.contingency.expected_freq(table)
        if table.shape == (2, 2) and expected.min() < 5:
            p, test = float(stats.fisher_exact(table).pvalue), "fisher"
        else:
            p, test = float(stats.chi2_contingency(table, correction=table.shape == (2, 2)).pvalue), "chi_square"
    totals = [int(np.sum(present & m)) for m in masks]
    overall_total = int(present.sum())
    positive = _binary_positive(levels)
    shown = [positive] if positive is not None else levels

    def cell(k: int, n: int) -> str:
        return f"{k} ({100 * k / n:.1f})" if n else "0"

    rows = []
    if positive is None:
        rows.append(TableOneRow(col, "", "categorical", "", tuple("" for _ in masks), (), missing, p, test))
    for lv in shown:
        i = levels.index(lv)
        counts = table[i]
        rows.append(TableOneRow(
            col, lv, "categorical",
            cell(int(counts.sum()), overall_total),
            tuple(cell(int(k), n) for k, n in zip(counts, totals)),
            (int(counts.sum()), *(int(k) for k in counts)),
            missing if positive is not None else 0,
            p if positive is not None else float("nan"),
            test if positive is not None else "",
        ))
    return rows
