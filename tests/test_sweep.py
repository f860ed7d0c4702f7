"""A 12-configuration sweep on a dask.distributed LocalCluster gives exactly the table of the
sequential run; the example script and the plot work."""
import importlib.util
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

import mlplab

from mlplab.sklearn import MLPClassifier
from mlplab.sweep import fit_search, plot_results, results_table

pytestmark = pytest.mark.filterwarnings("ignore::mlplab.ConvergenceWarning")

GRID = {"hidden_layer_sizes": [(2,), (4,), (8,)],
        "learning_rate_init": [0.001, 0.01, 0.03, 0.1]}  # 12 configurations


def tiny_data():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    return rng.normal(size=(60, 2)) + 1.5 * y[:, None], y


def search():
    return GridSearchCV(MLPClassifier(max_iter=30, random_state=0, blas_threads=1), GRID, cv=3)


@pytest.fixture(scope="module")
def sequential():
    x, y = tiny_data()
    start = time.perf_counter()
    s = fit_search(search(), x, y, backend="sequential", n_jobs=1)
    return s, time.perf_counter() - start


def test_dask_local_cluster_gives_the_sequential_table(sequential, capsys):
    distributed = pytest.importorskip("dask.distributed")
    x, y = tiny_data()
    seq, seq_seconds = sequential
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        runs, seconds = [], []
        for _ in range(2):  # the first run also imports mlplab and scikit-learn on the workers
            start = time.perf_counter()
            runs.append(fit_search(search(), x, y, backend="dask", n_jobs=-1))
            seconds.append(time.perf_counter() - start)
        workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
    table = results_table(seq)
    assert len(table) == 12
    for on_dask in runs:
        assert results_table(on_dask) == table  # every score bit for bit, same ranks
    assert len(workers) == 2
    with capsys.disabled():
        print(f"\n  12 configurations x 3 folds: sequential {seq_seconds:.2f} s; Dask "
              f"LocalCluster, 2 processes (started before timing): first run "
              f"{seconds[0]:.2f} s, second {seconds[1]:.2f} s")


def test_results_table_and_plot(sequential):
    import matplotlib

    matplotlib.use("Agg")
    seq, _ = sequential
    table = results_table(seq)
    assert "mean_fit_time" not in table[0] and "split2_test_score" in table[0]
    assert sorted(r["rank_test_score"] for r in table)[0] == 1
    ax = plot_results(seq, "learning_rate_init", "hidden_layer_sizes", log_x=True)
    assert len(ax.get_lines()) >= 3 and ax.get_xlabel() == "learning_rate_init"
    with pytest.raises(ValueError, match="unknown parameter 'alpha'; the search varied "
                                         "hidden_layer_sizes, learning_rate_init"):
        plot_results(seq, "alpha")


def test_sweep_example_runs(tmp_path, capsys):
    path = Path(__file__).resolve().parents[1] / "examples" / "sweep.py"
    spec = importlib.util.spec_from_file_location("sweep_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    s = module.main(["--backend", "sequential", "--random", "3", "--max-iter", "20",
                     "--plot", str(tmp_path / "sweep.png")])
    assert len(s.cv_results_["params"]) == 3
    assert "3 configurations x 3 folds on sequential" in capsys.readouterr().out
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
