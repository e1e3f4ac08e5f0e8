"""The look every exported figure shares: journal column widths, fonts, palette, labels.

Journals (NEJM, Lancet, JAMA) ask for figures at the printed size: 89 mm for one column and
183 mm for two, text 6-8 pt after printing, thin axes, no grid or frame, and colours that stay
distinct for colour-blind readers (Okabe & Ito 2008). Building the figure at its printed size
with these settings is what makes the preview in the app and the exported file identical.

Labels come from the ``figures`` catalogue (``workbench/locales/<lang>/figures.json``), read by
path so that ``pipelines`` does not import ``workbench``; a caller may pass its own mapping.
Korean needs a Hangul font: NanumGothic shipped inside the ``koreanize-matplotlib`` wheel is
registered explicitly (the package itself is never imported, because importing it rewrites
global rcParams); a system Noto Sans CJK KR is the fallback.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
from matplotlib import font_manager

from pipelines.errors import EvaluationError

__all__ = [
    "PALETTE",
    "PRESETS",
    "LANGUAGES",
    "FigureStyle",
    "figure_style",
    "load_labels",
    "korean_font_path",
    "MM",
]

MM = 1 / 25.4  # inches per millimetre
PRESETS: dict[str, float] = {"single": 89.0, "double": 183.0}
LANGUAGES = ("en", "ko")

# Okabe-Ito, ordered so the first colours are the most distinct ones on white paper and in grey.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",
)
GREY = "#7F7F7F"
LIGHT_GREY = "#D9D9D9"

_LOCALES = Path(__file__).resolve().parents[2] / "workbench" / "locales"
_LATIN_FONTS = ("Arial", "Helvetica", "Liberation Sans", "Nimbus Sans", "DejaVu Sans")
_KOREAN_SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


@cache
def load_labels(lang: str) -> dict[str, str]:
    """The figure label catalogue of one language, read from the workbench locales by path."""
    if lang not in LANGUAGES:
        raise EvaluationError("figures.unknown_language", value=lang, allowed=list(LANGUAGES))
    english = json.loads((_LOCALES / "en" / "figures.json").read_text(encoding="utf-8"))
    if lang == "en":
        return english
    own = json.loads((_LOCALES / lang / "figures.json").read_text(encoding="utf-8"))
    return {**english, **own}


@cache
def korean_font_path() -> str:
    """A Hangul font file: NanumGothic from the koreanize-matplotlib wheel, else a system CJK font."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "fonts" / "NanumGothic.ttf"
        if candidate.is_file():
            return str(candidate)
    for path in _KOREAN_SYSTEM_FONTS:
        if Path(path).is_file():
            return path
    raise EvaluationError("figures.korean_font_missing")


@cache
def _font_family(lang: str) -> str:
    if lang == "ko":
        path = korean_font_path()
        font_manager.fontManager.addfont(path)
        # NanumGothicExtraBold declares weight 700 (the "Bold" file says 600), matching Latin bold exactly
        bold = Path(path).with_name("NanumGothicExtraBold.ttf")
        if bold.is_file():
            font_manager.fontManager.addfont(str(bold))
        return font_manager.FontProperties(fname=path).get_name()
    available = {f.name for f in font_manager.fontManager.ttflist}
    return next(name for name in _LATIN_FONTS if name in available or name == "DejaVu Sans")


@cache
def _families(lang: str) -> tuple[str, ...]:
    try:
        return _font_family("en"), _font_family("ko")
    except EvaluationError:  # no Hangul font installed: English figures do without the fallback
        if lang == "ko":
            raise
        return (_font_family("en"),)


@dataclass(frozen=True)
class FigureStyle:
    """Width, language and label text of a figure. ``base_pt`` is the tick-label size in points."""

    preset: str = "single"
    lang: str = "en"
    labels: Mapping[str, str] = field(default_factory=dict)
    base_pt: float = 7.0

    @property
    def width_in(self) -> float:
        return PRESETS[self.preset] * MM

    def plot_aspect(self, single: float) -> float:
        """Height/width for a one-panel plot: at double width the panel keeps its single-column
        height and the legend moves beside it, instead of blowing the plot up to 18 cm."""
        return single if self.preset == "single" else single * PRESETS["single"] / PRESETS["double"] * 1.15

    def size(self, aspect: float, *, max_height_mm: float = 170.0) -> tuple[float, float]:
        """Figure size in inches: the column width and ``aspect`` x width (capped for double columns)."""
        return self.width_in, min(self.width_in * aspect, max_height_mm * MM)

    def text(self, key: str, **params: Any) -> str:
        template = self.labels.get(key, key)
        return template.format(**params) if params else template

    def metric(self, name: str) -> str:
        return self.labels.get(f"figures.metric.{name}", name)

    @property
    def bold(self) -> int:
        return 700

    @property
    def font_family(self) -> str:
        return _font_family(self.lang)

    def rc(self) -> dict[str, Any]:
        small = self.base_pt
        return {
            # the Latin font first and NanumGothic as per-glyph fallback for Hangul, so digits, "<",
            # "−" and "–" look the same in both languages (NanumGothic lacks U+2212), and a Korean
            # feature name in an English figure is not drawn as empty boxes
            "font.family": list(_families(self.lang)),
            "font.size": small,
            "axes.titlesize": small + 1,
            "axes.labelsize": small + 0.5,
            "xtick.labelsize": small,
            "ytick.labelsize": small,
            "legend.fontsize": small - 0.5,
            "legend.title_fontsize": small,
            "axes.linewidth": 0.6,
            "axes.edgecolor": "#222222",
            "axes.labelcolor": "#000000",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": False,
            "axes.axisbelow": True,
            "axes.prop_cycle": mpl.cycler(color=list(PALETTE)),
            "axes.unicode_minus": True,
            "xtick.direction": "out",
            "ytick.direction": "out",
            "xtick.major.size": 2.5,
            "ytick.major.size": 2.5,
            "xtick.major.width": 0.6,
            "ytick.major.width": 0.6,
            "xtick.major.pad": 2,
            "ytick.major.pad": 2,
            "lines.linewidth": 1.2,
            "lines.markersize": 3,
            "patch.linewidth": 0.5,
            "legend.frameon": False,
            "legend.handlelength": 1.6,
            "legend.borderaxespad": 0.3,
            "figure.facecolor": "white",
            "savefig.facecolor": "white",
            "figure.dpi": 100,
            "figure.constrained_layout.h_pad": 2 / 72,
            "figure.constrained_layout.w_pad": 2 / 72,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "path",
        }

    @contextmanager
    def context(self) -> Iterator[None]:
        with mpl.rc_context(self.rc()):
            yield


def figure_style(
    preset: Literal["single", "double"] | str = "single",
    lang: Literal["en", "ko"] | str = "en",
    labels: Mapping[str, str] | None = None,
    *,
    base_pt: float = 7.0,
) -> FigureStyle:
    """A checked style; ``labels`` defaults to the workbench's ``figures`` catalogue for ``lang``."""
    if preset not in PRESETS:
        raise EvaluationError("figures.bad_preset", value=preset, allowed=list(PRESETS))
    if lang not in LANGUAGES:
        raise EvaluationError("figures.unknown_language", value=lang, allowed=list(LANGUAGES))
    return FigureStyle(preset, lang, dict(labels) if labels is not None else load_labels(lang), base_pt)
