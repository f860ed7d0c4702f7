"""Mini-batches for a training loop: ``BatchIterator`` (a reused buffer) and ``batches``."""
from __future__ import annotations

import numpy as np

from ..exceptions import ArgumentError
from .._validation import check_positive_int
from ._base import _rng

FULL_BATCH = "full"  #: ``batch_size="full"``: one batch of all samples, one update per epoch.


def gather_rows(x, rows, out):
    """out = x[rows] for rows from an epoch's order (a permutation of range(len(x))): "clip"
    changes none of them, and unlike "raise" ``take`` then writes into ``out`` unbuffered (3x
    faster)."""
    x.take(rows, axis=0, out=out, mode="clip")


class BatchIterator:
    """Mini-batches of (x, y) for a training loop, one epoch per ``iter()``.

    With ``shuffle=True`` each epoch draws a new order and gathers each batch into one buffer
    allocated once (``np.take(..., out=...)``): no shuffled copy of the data set per epoch.
    The yielded arrays are views of that buffer, so **they are overwritten by the next
    batch**: copy one to keep it. With ``shuffle=False`` the batches are slices of x and y.
    The last batch is smaller when ``batch_size`` does not divide n.

    Parameters
    ----------
    x, y : arrays with the same number of rows (y may be None)
    batch_size : int or "full", default=32
        1 is online learning, k a mini-batch, "full" one batch of all samples per epoch.
    shuffle : bool, default=True
    seed : int or np.random.Generator, optional
        The order of epoch e depends on the seed and on e (the order array is reshuffled in
        place each epoch, as ``Sequential.fit`` does).

    >>> it = BatchIterator(np.arange(5).reshape(5, 1), batch_size=2, shuffle=False)
    >>> len(it), [xb.ravel().tolist() for xb, _ in it]
    (3, [[0, 1], [2, 3], [4]])
    """

    def __init__(self, x, y=None, batch_size=32, shuffle: bool = True, seed=None):
        where = "BatchIterator()"
        self.x = np.asarray(x)
        self.y = None if y is None else np.asarray(y)
        if self.x.ndim == 0 or len(self.x) == 0:
            raise ArgumentError(f"{where}: x must hold at least one sample; received shape "
                                f"{self.x.shape}.")
        if self.y is not None and len(self.y) != len(self.x):
            raise ArgumentError(f"{where}: x has {len(self.x)} samples but y has {len(self.y)}; "
                                f"they must have one row per sample.")
        n = len(self.x)
        if batch_size == FULL_BATCH:
            self.batch_size = n
        else:
            self.batch_size = min(check_positive_int(batch_size, "batch_size",
                                                     where + " (or 'full')"), n)
        self.shuffle = shuffle
        self.rng = _rng(seed)
        self.order = np.arange(n)
        self._xbuf = self._ybuf = None
        if shuffle:
            self._xbuf = np.empty((self.batch_size,) + self.x.shape[1:], dtype=self.x.dtype)
            if self.y is not None:
                self._ybuf = np.empty((self.batch_size,) + self.y.shape[1:], dtype=self.y.dtype)

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        for xb, yb, rows in self._unfilled():
            if rows is not None:
                gather_rows(self.x, rows, xb)
            yield xb, yb

    def _unfilled(self):
        """The epoch's (xb, yb, rows): shuffled, xb is the buffer that x[rows] still has to be
        gathered into (the trainer's compiled step gathers it in its scan of the input);
        in order, xb is x's slice and rows None."""
        n, bs = len(self.x), self.batch_size
        if self.shuffle:
            self.rng.shuffle(self.order)
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if self.shuffle:
                rows = self.order[start:stop]
                yb = None if self.y is None else self.y.take(rows, axis=0, mode="clip",
                                                             out=self._ybuf[:stop - start])
                yield self._xbuf[:stop - start], yb, rows
            else:
                yield self.x[start:stop], None if self.y is None else self.y[start:stop], None


def batches(x, y=None, batch_size=32, shuffle: bool = True, seed=None):
    """One epoch of mini-batches ``(xb, yb)``; see :class:`BatchIterator` (reused buffer)."""
    return iter(BatchIterator(x, y, batch_size, shuffle, seed))
