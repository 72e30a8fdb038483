"""The error-versus-step V-curve as an image, with matplotlib (the optional ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path

from symgrad.errors import SymgradError
from symgrad.i18n import N_, _, language
from symgrad.render.numbers import point_text
from symgrad.reports import StepSweep

FORMATS = (".svg", ".png")
HINT = N_("--plot needs matplotlib: pip install 'symgrad[plot]'")


def check_target(path: Path) -> None:
    """Refuse, before any work, a format matplotlib is not asked for or a missing matplotlib."""
    if path.suffix.lower() not in FORMATS:
        raise SymgradError(
            _("--plot writes .svg or .png, not '{suffix}'").format(suffix=path.suffix or path.name)
        )
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SymgradError(_(HINT)) from None


def step_sweep(report: StepSweep, path: Path) -> None:
    """Write the log-log error-versus-step curves of ``report`` to ``path`` (.svg or .png)."""
    check_target(path)
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    # Chinese labels need a CJK font, which DejaVu (matplotlib's own) lacks; asked for
    # only then, so that English needs no font beyond matplotlib's.
    fonts = ["DejaVu Sans", *(["Noto Sans CJK SC"] if language() == "zh" else [])]
    with matplotlib.rc_context({"font.family": fonts}):
        figure, axes = plt.subplots(figsize=(8.5, 4.5), layout="constrained")
        for curve in report.curves:
            known = [(h, e) for h, e in zip(curve.steps, curve.errors, strict=True) if e]
            if not known:
                continue
            steps, errors = zip(*known, strict=True)
            (line,) = axes.loglog(steps, errors, marker=".", label=curve.method)
            if curve.best_error > 0:
                axes.loglog(
                    [curve.best_step],
                    [curve.best_error],
                    "o",
                    color=line.get_color(),
                    ms=8,
                    mfc="none",
                )
        top = max((e for curve in report.curves for e in curve.errors if e), default=1.0)
        axes.set_ylim(top=top * 1e3)  # headroom for the two labels above the curves
        axes.set_xlabel(_("step h"))
        axes.set_ylabel(
            _("|numeric − exact|   (exact = {exact})").format(
                exact=f"{float(report.exact_value):.10g}"
            )
        )
        axes.set_title(
            _("{layer}: error of d/d{wrt} at {point} ({dtype})").format(
                layer=report.layer, wrt=report.wrt, point=point_text(report.at), dtype=report.dtype
            )
        )
        axes.grid(True, which="major", alpha=0.3)
        axes.annotate(
            _("truncation wins →"), xy=(0.98, 0.97), xycoords="axes fraction", ha="right", va="top"
        )
        axes.annotate(
            _("← rounding wins"), xy=(0.02, 0.97), xycoords="axes fraction", ha="left", va="top"
        )
        axes.legend(title="○ " + _("best step"), loc="upper left", bbox_to_anchor=(1.01, 1.0))
        figure.savefig(path)
        plt.close(figure)
