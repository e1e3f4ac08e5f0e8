"""The one error hierarchy of the workbench.

Every error a user can cause is a :class:`WorkbenchError`. It carries a message *key* and its
parameters instead of a finished sentence, because the same error is shown in English or Korean:
``workbench.i18n.message(error, lang)`` renders it from the catalogues in ``workbench/locales``.
Anything that is not a ``WorkbenchError`` is a bug and must propagate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "WorkbenchError",
    "InputError",
    "IngestError",
    "RecipeError",
    "TrainingError",
    "EvaluationError",
    "NotFound",
    "Conflict",
    "PermissionDenied",
    "ConfigError",
    "JobCancelled",
    "set_renderer",
]

_renderer: Callable[[WorkbenchError], str] | None = None


def set_renderer(render: Callable[[WorkbenchError], str] | None) -> None:
    """Let the application render messages (``workbench.i18n`` registers English on import).

    ``pipelines`` must not import the application, so the application hands its renderer down.
    """
    global _renderer
    _renderer = render


class WorkbenchError(Exception):
    """An error the user can read and act on.

    ``key`` names a message in the catalogues (``"<domain>.<what>"``); ``params`` fill its
    ``{placeholders}``. The catalogue text says what is wrong *and* what to do.
    """

    def __init__(self, key: str, /, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def __str__(self) -> str:
        # English from the catalogues once the application registered its renderer; the key otherwise.
        if _renderer is not None:
            return _renderer(self)
        extras = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.key} ({extras})" if extras else self.key

    def __reduce__(self):  # keep errors picklable across Dask workers (our own objects only)
        return (_rebuild, (type(self), self.key, self.params))


def _rebuild(cls: type[WorkbenchError], key: str, params: dict[str, Any]) -> WorkbenchError:
    return cls(key, **params)


class InputError(WorkbenchError):
    """A value the user typed or chose is not acceptable."""


class IngestError(InputError):
    """An uploaded file cannot be read as a table."""


class RecipeError(InputError):
    """A recipe step does not fit the data or its parameters are wrong."""


class TrainingError(WorkbenchError):
    """Training cannot start or could not finish."""


class EvaluationError(WorkbenchError):
    """Metrics or figures cannot be computed for these predictions."""


class NotFound(WorkbenchError):
    """The project, dataset, run or file does not exist (or is not visible to this user)."""


class Conflict(WorkbenchError):
    """Someone else changed the thing first; reload and try again."""


class PermissionDenied(WorkbenchError):
    """The signed-in user may not do this."""


class ConfigError(WorkbenchError):
    """A setting is unknown or has a wrong value."""


class JobCancelled(WorkbenchError):
    """A user cancelled the job; raised inside the job to stop it cooperatively."""
