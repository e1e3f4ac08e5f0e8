"""The paper pack: what it is made of (``PackInput``) and the ZIP itself.

Free of the database and of permissions (the services decide who gets what, and whether the
collaborator-safe variant is built), so ``workbench report`` makes the same pack from a model
folder. Its parts live beside it: ``_paper_figures``, ``_paper_tables``, ``_paper_texts`` (methods
draft, model card, reproduce settings) and ``_paper_tripod`` (the TRIPOD+AI checklist).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pipelines import figures as fg
from pipelines import tables as tb
from pipelines.errors import InputError
from pipelines.evaluation import Contributions, ranked_features
from workbench.i18n import t
from workbench.services._evaluate import ModelEvaluation
from workbench.services._paper_figures import (
    PACK_DEPENDENCE_FEATURES,
    FigureDetail,
    available_figures,
    figure_stem,
    make_figure,
)
from workbench.services._paper_tables import SMALL_COUNT, available_tables, make_table, table_bytes
from workbench.services._paper_texts import methods_text, model_card, pack_models, reproduce_settings
from workbench.services._paper_tripod import tripod_table

__all__ = ["PackInput", "ExportFile", "MIME", "build_pack"]

MIME = {"pdf": "application/pdf", "svg": "image/svg+xml", "eps": "application/postscript", "tiff": "image/tiff",
        "png": "image/png", "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "zip": "application/zip"}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportFile:
    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class PackInput:
    """Everything a pack is made of. ``evaluations[0]`` is the model to report."""

    evaluations: tuple[ModelEvaluation, ...]
    summary: Mapping[str, Any]
    settings: Mapping[str, Any]
    recipe: Mapping[str, Any]
    params: Mapping[int, Mapping[str, Any]]  # model id -> hyperparameters
    title: str
    source: str  # "run 12 of project 'Heart failure'" or the model folder
    safe: bool = False
    preset: str = "single"
    dpi: int = 600
    lang: str = "en"
    formats: tuple[str, ...] = ("pdf", "tiff")
    table_formats: tuple[str, ...] = ("docx", "csv")
    contributions: Contributions | None = None
    recipe_version: int | None = None
    extra_files: Mapping[str, bytes] = field(default_factory=dict)
    # the family code of each evaluation (its label is the name readers see); empty: from the leaderboard
    families: tuple[str, ...] = ()


def _json(value: Any) -> bytes:
    def plain(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if hasattr(v, "item"):
            return v.item()
        return str(v)

    return json.dumps(value, indent=2, ensure_ascii=False, default=plain, sort_keys=True).encode("utf-8")


def _pack_figures(pack: PackInput) -> list[tuple[str, FigureDetail | None]]:
    """Every available figure once, the dependence plot once per leading feature; no waterfall
    (its patient is chosen in the app, one at a time, by someone who may see patients)."""
    out: list[tuple[str, FigureDetail | None]] = []
    for name in available_figures(pack.evaluations, safe=pack.safe, has_contributions=pack.contributions is not None):
        if name == "shap_dependence" and pack.contributions is not None:
            out += [(name, FigureDetail(feature=f)) for f in ranked_features(pack.contributions)[:PACK_DEPENDENCE_FEATURES]]
        elif name != "waterfall":
            out.append((name, None))
    return out


def build_pack(pack: PackInput, *, on_file: Callable[[str], None] | None = None) -> bytes:
    """The ZIP: figures/, tables/, methods, TRIPOD+AI checklist, model card, reproduce/, MANIFEST."""
    if not pack.evaluations:
        raise InputError("export.no_models")
    files: dict[str, bytes] = {}
    lang = pack.lang
    for name, detail in _pack_figures(pack):
        models = pack.evaluations if name in ("roc", "pr", "calibration", "decision_curve") else pack.evaluations[:1]
        figure = make_figure(name, models, summary=pack.summary, preset=pack.preset, lang=lang, safe=pack.safe,
                             contributions=pack.contributions, detail=detail)
        stem = figure_stem(name, detail)
        for fmt in pack.formats:
            files[f"figures/{stem}.{fmt}"] = fg.render(figure, fmt=fmt, dpi=pack.dpi)
        if on_file:
            on_file(stem)
    tables = [make_table(name, pack.evaluations, params=pack.params, lang=lang, safe=pack.safe)
              for name in available_tables(pack.evaluations)]
    for table in tables:
        for fmt in pack.table_formats:
            files[f"tables/{table.name}.{fmt}"] = table_bytes(table, fmt)
    files["tables/all_tables.xlsx"] = tb.to_xlsx(tables)
    files["methods.md"] = methods_text(pack).encode("utf-8")
    checklist = tripod_table(pack)
    files["tripod_ai_checklist.docx"] = tb.to_docx([checklist])
    files["tripod_ai_checklist.csv"] = tb.to_csv(checklist)
    files["model_card.md"] = model_card(pack).encode("utf-8")
    settings = reproduce_settings(pack)
    files["reproduce/settings.json"] = _json(settings)
    files["reproduce/recipe.json"] = _json(dict(pack.recipe))
    for name, data in pack.extra_files.items():
        files[name] = data
    manifest = {
        "title": pack.title, "source": pack.source, "variant": "collaborator" if pack.safe else "full",
        "language": lang, "preset": pack.preset, "dpi": pack.dpi, "models": pack_models(pack),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["MANIFEST.json"] = _json(manifest)
    files["README.txt"] = t("export.pack.readme", lang, title=pack.title, source=pack.source,
                            variant=t("export.pack.variant_safe" if pack.safe else "export.pack.variant_full", lang, n=SMALL_COUNT)
                            ).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()
