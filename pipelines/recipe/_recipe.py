"""The recipe: an ordered tuple of typed steps plus the split settings, stored as JSON.

A recipe version is immutable (frozen dataclasses all the way down); editing means building a new
recipe, whose ``content_hash`` differs, which is what an approval is recorded against.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from pipelines.errors import RecipeError
from pipelines.recipe._base import Step, column_kind, step_from_dict, step_to_dict
from pipelines.recipe._category_steps import (
    MergeCategories,
    OrderCategories,
    RecodeCategories,
)
from pipelines.recipe._data_steps import (
    DataStep,
    DefineOutcome,
    DeriveColumn,
    DropColumns,
    FilterRows,
    RenameColumn,
)
from pipelines.recipe._model_steps import (
    ClipOutliers,
    Encode,
    GroupRareCategories,
    Impute,
    LogTransform,
    ModelStep,
    Scale,
)
from pipelines.recipe._time_series_step import AggregateTimeSeries
from pipelines.recipe._value_steps import ConvertUnits, EditCell, PlausibleRange
from pipelines.splits import SplitSpec

__all__ = ["Recipe", "STEP_KINDS", "StepChange", "diff", "RECIPE_FORMAT"]

RECIPE_FORMAT = "workbench.recipe"
RECIPE_FORMAT_VERSION = 1

#: Every step kind, by its JSON name. Explicit on purpose: a new kind must be added here (and is
#: then covered by the contract tests, which iterate this dict).
STEP_KINDS: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        DefineOutcome, FilterRows, DropColumns, DeriveColumn, RecodeCategories, MergeCategories,
        OrderCategories, ConvertUnits, PlausibleRange, EditCell, RenameColumn, AggregateTimeSeries,
        Impute, ClipOutliers, Scale, LogTransform, Encode, GroupRareCategories,
    )
}


@dataclass(frozen=True)
class Recipe:
    """Steps in order (data-level and model-level may interleave in the editor; data-level steps
    run first, in order, then model-level steps in order) and the split settings."""

    steps: tuple[Step, ...] = ()
    split: SplitSpec = field(default_factory=SplitSpec)

    # -- derived views
    @property
    def data_steps(self) -> tuple[DataStep, ...]:
        return tuple(s for s in self.steps if s.enabled and isinstance(s, DataStep))

    @property
    def model_steps(self) -> tuple[ModelStep, ...]:
        return tuple(s for s in self.steps if s.enabled and isinstance(s, ModelStep))

    @property
    def outcome(self) -> DefineOutcome:
        found = [s for s in self.steps if s.enabled and isinstance(s, DefineOutcome)]
        if not found:
            raise RecipeError("recipe.no_outcome")
        if len(found) > 1:
            raise RecipeError("recipe.several_outcomes", count=len(found))
        return found[0]

    # -- editing (each returns a new recipe; versions stay immutable)
    def with_steps(self, steps: tuple[Step, ...] | list[Step]) -> Recipe:
        return dataclasses.replace(self, steps=tuple(steps))

    def add(self, step: Step) -> Recipe:
        return self.with_steps((*self.steps, step))

    def remove(self, index: int) -> Recipe:
        self._index(index)
        return self.with_steps(self.steps[:index] + self.steps[index + 1:])

    def move(self, index: int, to: int) -> Recipe:
        self._index(index)
        self._index(to)
        steps = list(self.steps)
        steps.insert(to, steps.pop(index))
        return self.with_steps(steps)

    def toggle(self, index: int, enabled: bool) -> Recipe:
        self._index(index)
        steps = list(self.steps)
        steps[index] = dataclasses.replace(steps[index], enabled=enabled)
        return self.with_steps(steps)

    def _index(self, index: int) -> None:
        if not 0 <= index < len(self.steps):
            raise RecipeError("recipe.no_such_step", index=index + 1, count=len(self.steps))

    # -- validation
    def validate(self, columns: Mapping[str, Any], *, tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        """Check every step against the columns it will see; errors carry ``step`` (1-based)."""
        schema = {str(k): column_kind(v) for k, v in columns.items()}
        outcome = self.outcome
        for number, step in enumerate(self.steps, start=1):
            if not step.enabled or not isinstance(step, DataStep):
                continue
            with at_step(number):
                step.validate(schema)
                schema = step.output_schema(schema, tables=tables)
        reserved = {outcome.target, self.split.group_column, self.split.time_column} - {None}
        for number, step in enumerate(self.steps, start=1):
            if not step.enabled or not isinstance(step, ModelStep):
                continue
            with at_step(number):
                step.validate(schema)
                for col in step.columns:
                    if col in reserved:
                        raise RecipeError("recipe.column_not_feature", kind=step.kind, column=col)
        self.split.validate(schema)

    # -- JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RECIPE_FORMAT,
            "format_version": RECIPE_FORMAT_VERSION,
            "steps": [step_to_dict(s) for s in self.steps],
            "split": self.split.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        if not isinstance(data, dict):
            raise RecipeError("recipe.bad_json", detail="the top level must be an object")
        if data.get("format", RECIPE_FORMAT) != RECIPE_FORMAT:
            raise RecipeError("recipe.bad_json", detail=f"format {data.get('format')!r} is not a recipe")
        version = data.get("format_version", RECIPE_FORMAT_VERSION)
        if version != RECIPE_FORMAT_VERSION:
            raise RecipeError("recipe.format_version", version=version, supported=RECIPE_FORMAT_VERSION)
        unknown = sorted(set(data) - {"format", "format_version", "steps", "split"})
        if unknown:
            raise RecipeError("recipe.unknown_param", kind="recipe", param=unknown[0],
                              allowed=["format", "format_version", "steps", "split"])
        raw_steps = data.get("steps", [])
        if not isinstance(raw_steps, list):
            raise RecipeError("recipe.bad_json", detail="'steps' must be a list")
        steps: list[Step] = []
        for number, raw in enumerate(raw_steps, start=1):
            with at_step(number):
                if not isinstance(raw, dict) or "kind" not in raw:
                    raise RecipeError("recipe.bad_json", detail=f"step {number} needs a 'kind'")
                kind = raw["kind"]
                if kind not in STEP_KINDS:
                    raise RecipeError("recipe.unknown_step_kind", kind=str(kind), allowed=sorted(STEP_KINDS))
                step = step_from_dict(STEP_KINDS[kind], raw)
                step._check_params()
                steps.append(step)
        split = SplitSpec.from_dict(data["split"]) if "split" in data else SplitSpec()
        return cls(steps=tuple(steps), split=split)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise RecipeError("recipe.bad_json", detail=str(exc)) from None
        return cls.from_dict(data)

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON: what an approval is recorded against."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class at_step:  # noqa: N801 (used as a block: ``with at_step(n):``)
    """Adds the 1-based step number to a RecipeError raised inside the block."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if isinstance(exc, RecipeError) and "step" not in exc.params:
            exc.params["step"] = self.number
        return False


# -- diff ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepChange:
    """One difference between two recipe versions, for the diff view.

    ``change`` is ``added``/``removed``/``changed`` (same kind at the same place, some parameters
    differ: ``fields``) or ``split`` (the split settings); indexes are 0-based, None when absent.
    """

    change: Literal["added", "removed", "changed", "split"]
    kind: str
    index_a: int | None
    index_b: int | None
    fields: tuple[str, ...] = ()
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None


def diff(a: Recipe, b: Recipe) -> tuple[StepChange, ...]:
    """What changed from version ``a`` to version ``b`` (longest common run of identical steps;
    replaced steps of the same kind are reported as changed, with the parameters that differ)."""
    da = [step_to_dict(s) for s in a.steps]
    db = [step_to_dict(s) for s in b.steps]
    keys_a = [json.dumps(d, sort_keys=True) for d in da]
    keys_b = [json.dumps(d, sort_keys=True) for d in db]
    out: list[StepChange] = []
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        left = list(range(i1, i2))
        right = list(range(j1, j2))
        while left and right and da[left[0]]["kind"] == db[right[0]]["kind"]:
            i, j = left.pop(0), right.pop(0)
            fields = tuple(k for k in da[i] if da[i].get(k) != db[j].get(k))
            out.append(StepChange("changed", da[i]["kind"], i, j, fields, da[i], db[j]))
        for i in left:
            out.append(StepChange("removed", da[i]["kind"], i, None, (), da[i], None))
        for j in right:
            out.append(StepChange("added", db[j]["kind"], None, j, (), None, db[j]))
    sa, sb = a.split.to_dict(), b.split.to_dict()
    if sa != sb:
        out.append(StepChange("split", "split", None, None, tuple(k for k in sa if sa[k] != sb[k]), sa, sb))
    return tuple(out)
