"""The shared plumbing: matplotlib imported on first use, a new axes when none is given,
saving a figure."""
from __future__ import annotations

from pathlib import Path


def available(what: str = "the plot") -> bool:
    """True when matplotlib can be imported; else False, after printing that ``what`` is
    skipped and how to get matplotlib (for scripts whose plot is an extra)."""
    try:
        import matplotlib  # noqa: F401
        return True
    except ImportError:
        pass
    print(f"({what} skipped: matplotlib is not installed; pip install \"mlplab[plot]\")")
    return False


def pyplot():
    """``matplotlib.pyplot``, imported on first use, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("mlplab.plots needs matplotlib, which is not installed. Install the "
                          "plot extra: pip install mlplab[plot] (or pip install matplotlib)."
                          ) from None
    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = pyplot().subplots(figsize=figsize)
    return ax


# -------------------------------------------------------------------------------------- saving
def save_figure(fig, path, *, dpi: int = 110, tight: bool = True, close: bool = True) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix), creating the folder.

    ``tight`` applies ``fig.tight_layout()`` first; ``close`` releases the figure from pyplot
    afterwards (figures are otherwise kept until closed). Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    if close:
        pyplot().close(fig)
    return path
