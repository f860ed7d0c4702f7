"""Hyperparameter sweeps (the lectures' "trial and error" over topologies and learning rates)
with scikit-learn's ``GridSearchCV`` / ``RandomizedSearchCV`` on joblib.

``fit_search(search, x, y)`` fits the search on local processes (joblib's default backend,
loky), or on whatever joblib backend is named: ``backend="dask"`` sends the fits to the
``dask.distributed.Client`` in use (a ``LocalCluster`` or a real cluster), ``"ray"`` to Ray
(``ray.util.joblib.register_ray()`` first), ``"sequential"`` runs them one after another.
Each fit is independent and seeded by its ``random_state``, so every backend gives the same
table. The fits run single-threaded: ``fit_search`` gives every ``mlplab.sklearn`` estimator
in the search whose ``blas_threads`` is None ``blas_threads=1`` while it runs (its own
``blas_threads`` argument; None leaves them alone), so that parallel fits do not each start
a BLAS thread per core and wait on each other's cores.

``results_table(search)`` is the table of ``cv_results_`` without the timings, one row per
configuration; ``plot_results(search, x, series)`` draws mean test score against one
parameter, a line per value of another (matplotlib, imported on first use).
Requires scikit-learn (``pip install mlplab[sklearn]``; ``mlplab[dask]`` for Dask).
"""
from __future__ import annotations

import numpy as np

__all__ = ["fit_search", "results_table", "plot_results"]

#: cv_results_ columns that depend on the machine's speed, not on the fits' results.
TIMING_COLUMNS = ("mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time")


def fit_search(search, x, y, backend: str | None = None, n_jobs: int | None = None,
               blas_threads: int | None = 1, **backend_options):
    """``search.fit(x, y)`` with its fits on ``backend`` (None: joblib's default, local
    processes); returns the fitted search. ``n_jobs`` overrides ``search.n_jobs`` (-1 uses
    every worker or core). ``blas_threads``: the BLAS threads of each fit (see the module's
    doc), given to the estimators whose own ``blas_threads`` is None and taken back after."""
    import joblib

    if blas_threads is not None and (isinstance(blas_threads, bool) or
                                     not isinstance(blas_threads, int) or blas_threads < 1):
        from .exceptions import ArgumentError

        raise ArgumentError(f"fit_search(): blas_threads must be an int >= 1 or None, got "
                            f"{blas_threads!r}; pass 1 (the default) for parallel fits.")
    if n_jobs is not None:
        search.set_params(n_jobs=n_jobs)
    unset = _unset_blas_threads(search.estimator) if blas_threads is not None else []
    search.estimator.set_params(**{name: blas_threads for name in unset})
    try:
        if backend is None:
            return search.fit(x, y)
        with joblib.parallel_backend(backend, **backend_options):
            return search.fit(x, y)
    finally:
        search.estimator.set_params(**{name: None for name in unset})
        best = getattr(search, "best_estimator_", None)
        if best is not None:
            best.set_params(**{name: None for name in unset})


def _unset_blas_threads(estimator) -> list[str]:
    """The parameter names (``blas_threads``, ``step__blas_threads``) that are None."""
    return [name for name, value in estimator.get_params(deep=True).items()
            if value is None and name.rsplit("__", 1)[-1] == "blas_threads"]


def results_table(search) -> list[dict]:
    """One dict per configuration, in ``cv_results_`` order: the parameters (``param_*``),
    the per-split and mean test scores, their std and rank; no timings."""
    results = search.cv_results_
    keys = [k for k in results if k not in TIMING_COLUMNS and k != "params"]
    rows = []
    for i in range(len(results["params"])):
        row = {}
        for k in keys:
            value = results[k][i]
            row[k] = value.item() if isinstance(value, np.generic) else value
        rows.append(row)
    return rows


def plot_results(search, x: str, series: str | None = None, ax=None, log_x: bool = False):
    """Mean test score (+- its std over the splits) against parameter ``x``, one line per
    value of parameter ``series``; returns the axes. Parameter names as in the grid
    (``"mlpclassifier__learning_rate_init"``) or without their ``param_`` prefix."""
    from .plots import pyplot

    rows = results_table(search)
    px, ps = f"param_{x}", f"param_{series}" if series else None
    for name in (px, ps):
        if name is not None and name not in rows[0]:
            varied = ", ".join(k[6:] for k in rows[0] if k.startswith("param_"))
            raise ValueError(f"plot_results(): unknown parameter {name[6:]!r}; the search "
                             f"varied {varied}.")
    if ax is None:
        _, ax = pyplot().subplots(figsize=(6, 4))
    groups: dict = {}
    for row in rows:
        groups.setdefault(str(row[ps]) if ps else "", []).append(row)
    for label, group in groups.items():
        if all(isinstance(_plot_value(r[px]), (int, float)) for r in group):
            group.sort(key=lambda r: r[px])
        xs = [_plot_value(r[px]) for r in group]
        ax.errorbar(range(len(xs)) if isinstance(xs[0], str) else xs,
                    [r["mean_test_score"] for r in group],
                    yerr=[r["std_test_score"] for r in group], marker="o", capsize=3,
                    label=f"{series} = {label}" if ps else None)
        if isinstance(xs[0], str):
            ax.set_xticks(range(len(xs)), xs)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel("mean test score")
    if ps:
        ax.legend(fontsize="small")
    return ax


def _plot_value(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else str(value)

