"""The Train page names what it shows, in English and Korean: the metric ("AUROC", not "roc_auc") in
the progress figures, the leaderboard's headers and the recommended settings; the probability
calibration ("Platt (sigmoid) scaling" / "없음", not "sigmoid" / "none"); and where a similar table's
settings came from ("an earlier run on this server", not "(workbench)"). Real finished run of the demo."""

from __future__ import annotations

from types import SimpleNamespace

import re

import pytest

from tests.e2e.conftest import trained_demo
from tests.pages.conftest import open_page
from tests.pages.test_compare_and_calculator_names import METRIC_CODES
from workbench.i18n import t

RAW = {"none", "sigmoid", "isotonic", "not applicable", "(workbench)", "(shipped)"}


def _calibration_cells(at, lang: str) -> list[str]:
    header = t("train.col.calibration", lang)
    return [str(v) for frame in at.dataframe if header in frame.value.columns for v in frame.value[header]]


def _texts(at) -> list[str]:
    texts = [m.label for m in at.metric] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns] + [str(v) for v in frame.value.to_numpy().ravel()]
    metric = next(s for s in at.selectbox if s.key == "train_metric")
    return texts + [metric.format_func(o) for o in metric.options] if metric.format_func else texts + metric.options


@pytest.mark.slow
def test_the_train_page_names_metric_calibration_and_source(app_env, datasets_dir):
    trained_demo(SimpleNamespace(data_dir=app_env, env={}), datasets_dir)
    for lang in ("en", "ko"):
        at = open_page("train.py", lang=lang, timeout=120)
        texts = _texts(at)
        cells = _calibration_cells(at, lang)
        names = {t(f"train.calibration.{m}", lang) for m in ("none", "sigmoid", "isotonic")}
        assert cells and set(cells) <= names, cells
        auroc = t("figures.metric.auroc", lang)
        assert t("train.best_so_far", lang, metric=auroc) in texts, texts
        assert t("train.col.cv", lang, metric=auroc) in texts, texts
        assert t("train.source.workbench", lang) in " ".join(texts), texts
        leaks = [text for text in texts if set(re.findall(r"[a-z_]+", text)) & METRIC_CODES or text in RAW and lang == "ko"
                 or any(r in text for r in RAW if "(" in r)]
        assert leaks == [], (lang, leaks)
