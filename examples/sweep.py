"""A topology and learning-rate sweep (the lectures' "trial and error") with scikit-learn's
GridSearchCV over mlplab's MLPClassifier, on local processes or a Dask cluster.

    python examples/sweep.py                       # joblib's local processes (loky)
    python examples/sweep.py --backend dask        # a dask.distributed LocalCluster
    python examples/sweep.py --random 6            # RandomizedSearchCV: 6 of the 12
    python examples/sweep.py --plot sweep.png      # the results table, plotted

Each fit runs BLAS on one thread (blas_threads=1), so parallel fits do not fight for cores;
every backend gives the same table for the same random_state.
"""
import argparse
import time

from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tabulate import tabulate

import mlplab
from mlplab.sklearn import MLPClassifier
from mlplab.sweep import fit_search, plot_results, results_table

GRID = {"mlpclassifier__hidden_layer_sizes": [(2,), (8,), (8, 8)],
        "mlpclassifier__learning_rate_init": [0.001, 0.01, 0.03, 0.1]}


def make_search(n_random=None, max_iter=100, random_state=0, n_jobs=-1):
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=max_iter, blas_threads=1,
                                                         random_state=random_state))
    if n_random:
        return RandomizedSearchCV(pipe, GRID, n_iter=n_random, cv=3, n_jobs=n_jobs,
                                  random_state=random_state)
    return GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["loky", "dask", "sequential"], default="loky")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--random", type=int, default=None, metavar="N",
                        help="RandomizedSearchCV over N configurations instead of the grid")
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--plot", default=None, metavar="PNG")
    args = parser.parse_args(argv)
    x, y = mlplab.datasets.load_iris()
    search = make_search(args.random, args.max_iter, n_jobs=args.workers)
    start = time.perf_counter()
    if args.backend == "dask":
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            fit_search(search, x, y, backend="dask")
    else:
        fit_search(search, x, y, backend=args.backend)
    seconds = time.perf_counter() - start
    rows = results_table(search)
    print(tabulate([[r["param_mlpclassifier__hidden_layer_sizes"],
                     r["param_mlpclassifier__learning_rate_init"],
                     f"{r['mean_test_score']:.3f}", f"{r['std_test_score']:.3f}",
                     r["rank_test_score"]] for r in rows],
                   headers=["hidden", "learning rate", "mean score", "std", "rank"]))
    print(f"best: {search.best_params_} ({search.best_score_:.3f}); {len(rows)} "
          f"configurations x 3 folds on {args.backend} in {seconds:.1f} s")
    if args.plot:
        ax = plot_results(search, "mlpclassifier__learning_rate_init",
                          "mlpclassifier__hidden_layer_sizes", log_x=True)
        ax.set_title("Iris, 3-fold cross-validation")
        mlplab.plots.save_figure(ax.figure, args.plot)
    return search


if __name__ == "__main__":
    main()
