"""Train / test and train / validation / test splits, shuffled and optionally stratified."""
from __future__ import annotations

import numbers
from math import ceil, floor

import numpy as np

from .._validation import check_bool
from ..exceptions import ArgumentError, ArgumentTypeError
from ._base import _rng


def _count(n: int, value, name: str, where: str, round_up: bool) -> int:
    """Samples meant by a fraction (rounded up or down) or a count, checked against n."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(
            f"{where}: {name} must be a fraction in (0, 1) or a count of samples; "
            f"received {value!r}.")
    if isinstance(value, numbers.Integral):
        if not 0 < value < n:
            raise ArgumentError(f"{where}: {name}={value} must be a count between 1 and {n - 1} "
                                f"for {n} samples, or a fraction in (0, 1).")
        return int(value)
    if not 0 < value < 1:
        raise ArgumentError(f"{where}: {name}={value} must be a fraction in (0, 1) or a count "
                            f"of samples.")
    return ceil(value * n) if round_up else floor(value * n)


def _split_sizes(n: int, test_size, train_size, where: str) -> tuple[int, int]:
    """(n_train, n_test) with scikit-learn's rules: a float test fraction rounds up
    (ceil), a float train fraction down (floor); an int is a count."""
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = None if test_size is None else _count(n, test_size, "test_size", where, True)
    n_train = None if train_size is None else _count(n, train_size, "train_size", where, False)
    n_train = n - n_test if n_train is None else n_train
    n_test = n - n_train if n_test is None else n_test
    if n_train + n_test > n:
        raise ArgumentError(f"{where}: train_size + test_size = {n_train} + {n_test} samples is "
                            f"more than the {n} there are; make them smaller.")
    if n_train == 0 or n_test == 0:
        raise ArgumentError(f"{where}: with {n} samples, test_size={test_size!r} and "
                            f"train_size={train_size!r} leave {n_train} for training and {n_test} "
                            f"for testing; both need at least 1.")
    return n_train, n_test


def _approximate_mode(counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """Per-class counts of n_draws in proportion to ``counts``: floors, then +1 to the largest
    remainders (ties broken at random), as scikit-learn's StratifiedShuffleSplit."""
    exact = counts / counts.sum() * n_draws
    take = np.floor(exact)
    need = int(n_draws - take.sum())
    remainder = exact - take
    for value in np.unique(remainder)[::-1]:
        if need <= 0:
            break
        tied = np.flatnonzero(remainder == value)
        chosen = rng.choice(tied, size=min(len(tied), need), replace=False)
        take[chosen] += 1
        need -= len(chosen)
    return take.astype(np.intp)


def _split_indices(n, n_train, n_test, shuffle, stratify, rng, where,
                   names=("train", "test"), context=""):
    """Indices of the two parts; ``names`` and ``context`` word the errors (the second split of
    :func:`train_val_test_split` divides what the test part left)."""
    shuffle = check_bool(shuffle, "shuffle", where)
    if not shuffle:
        if stratify is not None:
            raise ArgumentError(f"{where}: stratify needs shuffle=True (a stratified split draws "
                                f"rows at random from each class).")
        return np.arange(n_train), np.arange(n_train, n_train + n_test)
    if stratify is None:
        order = rng.permutation(n)
        return order[n_test:n_test + n_train], order[:n_test]
    labels = np.asarray(stratify)
    if labels.ndim == 2:  # one-hot or multi-output rows: one class per distinct row
        labels = np.array([" ".join(map(str, row)) for row in labels])
    if labels.ndim == 0 or len(labels) != n:
        raise ArgumentError(
            f"{where}: stratify has {labels.size if labels.ndim else 'no'} labels but the "
            f"arrays have {n} samples; pass the class labels of the rows, e.g. stratify=y.")
    classes, y_idx, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ArgumentError(f"{where}: stratify: classes {classes[counts < 2].tolist()!r} have a "
                            f"single sample{context}; each class needs at least 2 to appear in "
                            f"both the {names[0]} and the {names[1]} part.")
    for name, size in zip(names, (n_train, n_test)):
        if size < len(classes):
            raise ArgumentError(f"{where}: the {name} part has {size} samples, fewer than the "
                                f"{len(classes)} classes to stratify; make it larger.")
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_idx == c))
        train.append(members[:n_i[c]])
        test.append(members[n_i[c]:n_i[c] + t_i[c]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def class_labels(y):
    """The class label of each row of y if y looks like classification targets (integer
    labels with repeats, or one-hot rows), else None (regression targets)."""
    y = np.asarray(y)
    if y.ndim == 1 or y.shape[1] == 1:
        flat = y.reshape(-1)
        if np.all(flat == np.round(flat)) and len(np.unique(flat)) <= max(2, len(flat) // 2):
            return flat
        return None
    if np.isin(y, (0, 1)).all() and np.all(y.sum(axis=1) == 1):
        return y.argmax(axis=1)
    return None


def _check_arrays(arrays, where):
    if not arrays:
        raise ArgumentError(f"{where}: pass at least one array, e.g. {where[:-2]}(x, y).")
    out = [np.asarray(a) for a in arrays]
    for a in out:
        if a.ndim == 0:
            raise ArgumentError(f"{where}: each array needs one row per sample; received a scalar.")
    n = len(out[0])
    for i, a in enumerate(out[1:], start=2):
        if len(a) != n:
            raise ArgumentError(f"{where}: array 1 has {n} samples but array {i} has {len(a)}; "
                                f"they must have one row per sample.")
    return out, n


def train_test_split(*arrays, test_size=None, train_size=None, shuffle: bool = True,
                     stratify=None, seed=None):
    """Split arrays into random train and test parts (scikit-learn's semantics).

    Parameters
    ----------
    *arrays : arrays with the same number of rows (x, y, ...)
    test_size : float in (0, 1) or int, optional
        Fraction (rounded up: ``ceil(test_size * n)``) or count of test samples. Default 0.25
        when ``train_size`` is not given either, else the complement of ``train_size``.
    train_size : float in (0, 1) or int, optional
        Fraction (rounded down) or count of training samples. Default: the complement.
    shuffle : bool, default=True
        ``False`` takes the first rows for training and the next ones for testing.
    stratify : array of labels, optional
        Keep the class proportions of these labels in both parts (largest-remainder rounding);
        one-hot rows count as labels too.
    seed : int or np.random.Generator, optional

    Returns
    -------
    list: ``x_train, x_test, y_train, y_test, ...`` (train then test for each array).

    >>> x_tr, x_te = train_test_split(np.arange(10), test_size=0.3, seed=0)
    >>> len(x_tr), len(x_te)
    (7, 3)
    """
    where = "train_test_split()"
    arrays, n = _check_arrays(arrays, where)
    n_train, n_test = _split_sizes(n, test_size, train_size, where)
    train, test = _split_indices(n, n_train, n_test, shuffle, stratify, _rng(seed), where)
    return [part for a in arrays for part in (a[train], a[test])]


def train_val_test_split(*arrays, val_size=0.15, test_size=0.15, shuffle: bool = True,
                         stratify=None, seed=None):
    """Three-way split: train / validation / test, e.g. 70 / 15 / 15 %.

    Fractions are of the whole data set and round up (``ceil(val_size * n)``); ints are
    counts; training gets the rest. Drawn as two :func:`train_test_split` calls (test first,
    then validation from the remainder), each stratified when ``stratify`` is given.

    Returns
    -------
    list: ``x_train, x_val, x_test, y_train, y_val, y_test, ...``.

    >>> parts = train_val_test_split(np.arange(20), val_size=0.2, test_size=0.1, seed=0)
    >>> [len(p) for p in parts]
    [14, 4, 2]
    """
    where = "train_val_test_split()"
    arrays, n = _check_arrays(arrays, where)
    n_test = _count(n, test_size, "test_size", where, True)
    n_val = _count(n, val_size, "val_size", where, True)
    if n_val + n_test >= n:
        raise ArgumentError(f"{where}: val_size and test_size take {n_val} + {n_test} of the {n} "
                            f"samples, leaving none for training; make them smaller.")
    rng = _rng(seed)
    rest, test = _split_indices(n, n - n_test, n_test, shuffle, stratify, rng, where,
                                ("train + validation", "test"))
    sub = None if stratify is None else np.asarray(stratify)[rest]
    train, val = _split_indices(len(rest), len(rest) - n_val, n_val, shuffle, sub, rng, where,
                                ("train", "validation"),
                                " left after drawing the test part (three parts need at least "
                                "3 samples per class)")
    train, val = rest[train], rest[val]
    return [part for a in arrays for part in (a[train], a[val], a[test])]
