"""Saving a figure the way journals accept it.

PDF, EPS and SVG are vector; fonts are embedded as TrueType (Type 42) in PDF and EPS, and text is
converted to outlines in SVG so it looks the same on a machine without the font. TIFF (LZW) and
PNG are raster at 300 or 600 dpi, the resolution written into the file. Korean labels use
NanumGothic, a TrueType font: PDF embeds it as a subsetted TrueType (CID) font; EPS embeds it as
Type 3 (outlines as PostScript procedures) because matplotlib's Type 42 writer walks every glyph
of a Hangul font and takes ~10 s per font. EPS has no transparency, so no figure uses alpha.
Creation dates are left out of the file metadata.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from pipelines.errors import EvaluationError

__all__ = ["FORMATS", "DPIS", "RC_ATTRIBUTE", "LANG_ATTRIBUTE", "render", "save_figure"]

RC_ATTRIBUTE = "_workbench_rc"
LANG_ATTRIBUTE = "_workbench_lang"

FORMATS = ("pdf", "svg", "eps", "tiff", "png")
DPIS = (300, 600)

_EXPORT_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "svg.hashsalt": "workbench"}


def _metadata(fmt: str) -> dict[str, object] | None:
    if fmt == "pdf":
        return {"Creator": "Clinical ML Workbench", "Producer": None, "CreationDate": None}
    if fmt == "svg":
        return {"Creator": "Clinical ML Workbench", "Date": None}
    if fmt == "eps":
        return {"Creator": "Clinical ML Workbench"}
    if fmt == "png":
        return {"Software": "Clinical ML Workbench"}
    return None


def render(figure: Figure, *, fmt: str = "png", dpi: int = 300) -> bytes:
    """The figure's file content; the app previews exactly these PNG bytes."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise EvaluationError("figures.bad_format", value=fmt, allowed=list(FORMATS))
    if dpi not in DPIS:
        raise EvaluationError("figures.bad_dpi", value=dpi, allowed=list(DPIS))
    buffer = io.BytesIO()
    kwargs: dict[str, object] = {"format": fmt, "dpi": dpi, "metadata": _metadata(fmt)}
    if fmt == "tiff":
        kwargs["pil_kwargs"] = {"compression": "tiff_lzw"}
    # ticks are created lazily at draw time, so the style's settings must be active while saving
    # fontTools logs every hinting table it drops while subsetting a TrueType font; that is expected
    subset_log = logging.getLogger("fontTools.subset")
    previous = subset_log.level
    subset_log.setLevel(logging.ERROR)
    try:
        rc = {**getattr(figure, RC_ATTRIBUTE, {}), **_EXPORT_RC}
        if fmt == "eps" and getattr(figure, LANG_ATTRIBUTE, "en") != "en":
            # Type 42 embedding of a Hangul font takes matplotlib ~10 s per font (it measures all
            # 11,000+ glyphs); Type 3 embeds the same outlines as PostScript procedures at once
            rc["ps.fonttype"] = 3
        with mpl.rc_context(rc):
            figure.savefig(buffer, **kwargs)
    finally:
        subset_log.setLevel(previous)
    return buffer.getvalue()


def save_figure(figure: Figure, path: str | Path, *, fmt: str | None = None, dpi: int = 300) -> Path:
    """Write the figure to ``path``; the format comes from the suffix unless ``fmt`` is given."""
    target = Path(path)
    chosen = (fmt or target.suffix.lstrip(".") or "png").lower()
    if chosen == "tif":
        chosen = "tiff"
    data = render(figure, fmt=chosen, dpi=dpi)
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target
