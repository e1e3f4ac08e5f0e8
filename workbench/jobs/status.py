"""A job's progress line as a message key with parameters, put into words when it is shown.

A job writes ``status_text`` (the key) and ``status_params`` (JSON) through
``JobContext.progress(fraction, key, **params)``; every page shows them through
:func:`status_line`, so a Korean physician reads Korean whichever language the job ran under.
Numbers stay numbers in the row and are formatted here, by the parameter's name (a score to three
decimals, seconds as whole seconds); names of model families, metrics and evaluation steps go
through their existing translations. A parameter may itself be a message (:func:`part`), for the
pieces of a line that differ from one moment to the next (with or without a best score yet).
Rows written before keys were used hold free English text: text that is not a known key is shown
as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workbench.i18n import catalogue, named, t

__all__ = ["job_status_line", "part", "status_line"]

_PART = "__key__"  # marks a parameter that is a message of its own


def part(key: str, /, **params: Any) -> dict[str, Any]:
    """A piece of a status line that is a message itself (stored as JSON in ``status_params``)."""
    return {_PART: key, **params}


def _known(key: str) -> bool:
    return key in catalogue("en")


_named = named


def _step(value: Any, lang: str) -> str:
    """An evaluation step as the job reports it (``test:roc``): what, and on which part."""
    where, _, what = str(value).rpartition(":")
    text = _named("results.eval_step.", what, lang)
    if where in ("test", "train"):
        text += f" ({_named('results.part_', where, lang)})"
    return text


_FORMATS: dict[str, Callable[[Any, str], str]] = {
    "score": lambda v, lang: f"{float(v):.3f}",
    "seconds": lambda v, lang: f"{float(v):,.0f}",
    "family": lambda v, lang: _named("train.family.", v, lang),
    "metric": lambda v, lang: _named("figures.metric.", v, lang),
    "device": lambda v, lang: str(v).upper(),
    "step": _step,
}


def _value(name: str, value: Any, lang: str) -> Any:
    if isinstance(value, Mapping) and _PART in value:
        inner = dict(value)
        return status_line(str(inner.pop(_PART)), inner, lang)
    if value is None:
        return "-"
    if name in _FORMATS:
        return _FORMATS[name](value, lang)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return value


def status_line(key: str | None, params: Mapping[str, Any] | None, lang: str) -> str:
    """The line for ``key`` in ``lang``; free text (an old row, a test's own job) as it is."""
    key = key or ""
    if not _known(key):
        return key
    return t(key, lang, **{name: _value(name, value, lang) for name, value in (params or {}).items()})


def job_status_line(job: Any, lang: str) -> str:
    """A job row's line (empty when the job has reported nothing yet)."""
    return status_line(job.status_text, getattr(job, "status_params", None), lang)
