"""A run's training settings as people read them, one row each, for the run comparison.

The stored settings are ``SearchSettings.to_dict()``: codes for families, metric and device, None
for "no limit", hyperparameter pins and ranges nested per family. Rows are labelled as the Train
page labels the same settings (``train.families``, ``train.metric``, ``train.seed``, ...), values
name families and metrics for people; numbers stay numbers (60, not 60.0), and the hyperparameter
names themselves stay as the libraries spell them (they are what a data scientist types)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pages._run_picker import family_name, metric_name
from pages._shell import PageContext
from workbench.i18n import named
from workbench.services import results

__all__ = ["settings_rows"]

_NONE = "\u2013"


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _limit(ctx: PageContext, value: Any) -> str:
    return ctx.t("results.setting.no_limit") if value in (None, 0) else _number(value)


def _yes_no(ctx: PageContext, value: Any) -> str:
    return ctx.t("results.setting.yes" if value else "results.setting.no")


def _per_family(ctx: PageContext, by_family: dict[str, dict[str, Any]], show: Callable[[Any], str]) -> str:
    """``XGBoost: max_depth = 3, eta = 0.1; LightGBM: ...`` (a dash when there is none)."""
    parts = [f"{family_name(ctx, family)}: " + ", ".join(f"{param} {show(value)}" for param, value in params.items())
             for family, params in by_family.items() if params]
    return "; ".join(parts) or _NONE


def _bound(value: Any) -> str:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    numeric = len(values) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return f"{_number(values[0])}\u2013{_number(values[1])}" if numeric else "{" + ", ".join(map(str, values)) + "}"


def settings_rows(ctx: PageContext, view: results.RunResults) -> dict[str, str]:
    """Row label -> value text, in the Train page's order; a setting this code does not know yet
    is shown under its own name rather than dropped."""
    s = dict(view.settings)
    overrides = s.pop("overrides", None) or {}
    rows = {
        ctx.t("train.families"): ", ".join(family_name(ctx, f) for f in s.pop("families", []) or []) or _NONE,
        # no metric chosen: the task's default, which the run reports as its metric
        ctx.t("train.metric"): metric_name(ctx, s.pop("metric", None) or view.metric),
        ctx.t("results.setting.n_trials"): _limit(ctx, s.pop("n_trials", None)),
        ctx.t("results.setting.time_budget_s"): _limit(ctx, s.pop("time_budget_s", None)),
        ctx.t("train.seed"): _number(s.pop("seed", 0)),
        ctx.t("train.device"): named("results.device.", s.pop("device", "auto"), ctx.lang),
        ctx.t("results.setting.calibration"): _yes_no(ctx, s.pop("calibration", True)),
        ctx.t("results.setting.ensemble"): _yes_no(ctx, s.pop("ensemble", True)),
        ctx.t("results.setting.pins"): _per_family(ctx, overrides.get("pins") or {}, lambda v: f"= {_number(v)}"),
        ctx.t("results.setting.bounds"): _per_family(ctx, overrides.get("bounds") or {}, _bound),
        ctx.t("results.setting.enqueue"): str(len(s.pop("enqueue", []) or [])),
    }
    for key, value in s.items():
        rows[named("results.setting.", key, ctx.lang)] = _number(value)
    return rows
