"""Seeded 2-D toy data sets: the TensorFlow Playground's six, and moons / circles / blobs.

Every generator takes ``n_samples``, a noise parameter and ``seed`` (an int, None or a
``np.random.Generator``) and returns ``x`` (n_samples, 2) float64 and ``y`` (n_samples,): int64
class labels, or float64 targets for the regression sets. The same seed gives the same arrays.

Class labels are 0/1 by default; ``bipolar=True`` gives the playground's own -1/+1 labels
(1 stays 1, the playground's -1 is 0 in the 0/1 coding), the targets of tanh outputs.

Playground generators (``tensorflow/playground``, ``src/dataset.ts``); its noise slider runs
from 0 to 50 %, i.e. ``noise`` in [0, 0.5]:

========== ==================================================================================
circle      half the points at radius U(0, 2.5), half at U(3.5, 5), angle U(0, 2 pi); label 1
            when the point *shifted by noise* lies within radius 2.5 (noise moves labels, not
            points: each coordinate shifted by U(-5, 5) * noise).
xor         x1, x2 ~ U(-5, 5) pushed 0.3 away from the axes; label 1 when x1 x2 >= 0 for the
            point shifted by U(-5, 5) * noise per coordinate.
gauss       two Gaussians, centres (2, 2) label 1 and (-2, -2) label 0, variance
            0.5 + 7 noise per coordinate (0.5 at noise 0, 4 at noise 0.5).
spiral      two arms, r = 5 i / m, angle 1.75 * 2 pi i / m (+ pi for label 0), i < m = n / 2;
            each coordinate plus U(-1, 1) * noise.
reg-plane   x ~ U(-6, 6)^2, target (x1 + x2) / 10 of the point shifted by U(-6, 6) * noise.
reg-gauss   x ~ U(-6, 6)^2; six signed bumps max(0, 1 - d / 2) at (-4|0|4, +-2.5); the target
            is the one largest in absolute value, at the shifted point.
========== ==================================================================================

scikit-learn's geometry (``make_moons``, ``make_circles``, ``make_blobs``), with Gaussian noise
of standard deviation ``noise`` added to every coordinate; the arrays are not sklearn's bit for
bit (another random stream), the shapes are.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_positive_int

RADIUS = 5.0  # the playground's classification radius


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_noise(noise, where: str, name: str = "noise") -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0 \
            or not np.isfinite(noise):
        raise ValueError(f"{where}: {name} must be a non-negative number (0 = no noise; the "
                         f"playground's slider spans 0 to 0.5); received {noise!r}.")
    return float(noise)


def _finish(x, y, shuffle, rng, bipolar=False):
    if bipolar is not None:
        y = np.where(y > 0, 1, -1 if bipolar else 0).astype(np.int64)
    if shuffle:
        order = rng.permutation(len(x))
        x, y = x[order], y[order]
    return x, y


def _polar(r, angle):
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


# ---------------------------------------------------------------------------------- playground
def make_circle(n_samples: int = 500, noise: float = 0.0, bipolar: bool = False,
                shuffle: bool = True, seed=None):
    """The playground's "Circle": a disc (label 1) inside a ring (label 0).

    Points: n - n // 2 at radius U(0, 2.5), n // 2 at radius U(3.5, 5), uniform angles, so
    ``|x| <= 5``. The label is 1 when the point shifted by ``U(-5, 5) * noise`` per coordinate is
    within radius 2.5; at ``noise=0`` the classes are exactly the two halves.
    """
    where = "make_circle()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    n_out = n // 2
    r = np.concatenate([rng.uniform(0, RADIUS * 0.5, n - n_out),
                        rng.uniform(RADIUS * 0.7, RADIUS, n_out)])
    x = _polar(r, rng.uniform(0, 2 * np.pi, n))
    shifted = x + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    y = (np.hypot(shifted[:, 0], shifted[:, 1]) < RADIUS * 0.5).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_xor(n_samples: int = 500, noise: float = 0.0, bipolar: bool = False,
             shuffle: bool = True, seed=None):
    """The playground's "Exclusive or": label 1 in the quadrants where x1 x2 >= 0.

    x1, x2 ~ U(-5, 5), each pushed 0.3 away from 0, so ``0.3 <= |x_i| <= 5.3``; the label is
    taken at the point shifted by ``U(-5, 5) * noise`` per coordinate. Classes are balanced in
    expectation (each quadrant has probability 1/4).
    """
    where = "make_xor()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    x = rng.uniform(-RADIUS, RADIUS, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)
    shifted = x + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_gauss(n_samples: int = 500, noise: float = 0.0, bipolar: bool = False,
               shuffle: bool = True, seed=None):
    """The playground's "Gaussian": two clouds, N((2, 2), v I) label 1 and N((-2, -2), v I)
    label 0, with variance v = 0.5 + 7 * noise (the playground maps noise 0..0.5 to 0.5..4).

    n - n // 2 points have label 1.
    """
    where = "make_gauss()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    std = np.sqrt(0.5 + 7.0 * noise)
    n_neg = n // 2
    centres = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n - n_neg, n_neg], axis=0)
    x = centres + rng.normal(0.0, std, (n, 2))
    y = np.repeat([1, 0], [n - n_neg, n_neg]).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_spiral(n_samples: int = 500, noise: float = 0.0, bipolar: bool = False,
                shuffle: bool = True, seed=None):
    """The playground's "Spiral": two interleaved arms of 1.75 turns out to radius 5.

    Arm point i of m: r = 5 i / m, angle 1.75 * 2 pi i / m (label 1) or the same + pi (label
    0); each coordinate gets ``U(-1, 1) * noise``. n - n // 2 points have label 1.
    """
    where = "make_spiral()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    arms = []
    for m, delta in ((n - n // 2, 0.0), (n // 2, np.pi)):
        i = np.arange(m) / max(m, 1)
        arms.append(_polar(RADIUS * i, 1.75 * 2 * np.pi * i + delta))
    x = np.concatenate(arms) + rng.uniform(-1, 1, (n, 2)) * noise
    y = np.repeat([1, 0], [n - n // 2, n // 2]).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_reg_plane(n_samples: int = 500, noise: float = 0.0, shuffle: bool = True, seed=None):
    """The playground's regression "Plane": x ~ U(-6, 6)^2, target (x1 + x2) / 10 at the point
    shifted by ``U(-6, 6) * noise`` per coordinate; targets in [-1.2, 1.2] at noise 0."""
    where = "make_reg_plane()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    x = rng.uniform(-6, 6, (n, 2))
    shifted = x + rng.uniform(-6, 6, (n, 2)) * noise
    return _finish(x, shifted.sum(axis=1) / 10.0, shuffle, rng, bipolar=None)


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                   [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def make_reg_gauss(n_samples: int = 500, noise: float = 0.0, shuffle: bool = True, seed=None):
    """The playground's regression "Multi Gaussian": six signed bumps of height +-1.

    A bump at c with sign s gives s * max(0, 1 - |x - c| / 2); the target is the bump value
    largest in absolute value (0 far from all), at the point shifted by ``U(-6, 6) * noise``.
    x ~ U(-6, 6)^2; targets in [-1, 1].
    """
    where = "make_reg_gauss()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    x = rng.uniform(-6, 6, (n, 2))
    shifted = x + rng.uniform(-6, 6, (n, 2)) * noise
    d = np.hypot(shifted[:, None, 0] - _BUMPS[:, 0], shifted[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1 - d / 2, 0, 1)  # (n, 6)
    y = values[np.arange(n), np.abs(values).argmax(axis=1)]  # first of ties, as the playground
    return _finish(x, y, shuffle, rng, bipolar=None)


# ---------------------------------------------------------------------------------- sklearn's
def make_moons(n_samples: int = 100, noise: float = 0.0, bipolar: bool = False,
               shuffle: bool = True, seed=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Upper moon, label 0: (cos t, sin t) for n // 2 values of t evenly over [0, pi]; lower moon,
    label 1: (1 - cos t, 0.5 - sin t) for the other n - n // 2. Both of radius 1, centres (0, 0)
    and (1, 0.5). ``noise`` is the standard deviation of Gaussian noise added to x.
    """
    where = "make_moons()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _rng(seed)
    n_out = n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n - n_out)
    x = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                        np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5])])
    x += rng.normal(0.0, noise, x.shape) if noise else 0.0
    y = np.repeat([0, 1], [n_out, n - n_out]).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_circles(n_samples: int = 100, noise: float = 0.0, factor: float = 0.8,
                 bipolar: bool = False, shuffle: bool = True, seed=None):
    """Two concentric circles (scikit-learn's ``make_circles``).

    Outer circle, radius 1, label 0: n // 2 points at evenly spaced angles; inner circle,
    radius ``factor``, label 1: the other n - n // 2. ``noise`` is the standard deviation of
    Gaussian noise added to x.
    """
    where = "make_circles()"
    n = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
        raise ValueError(f"{where}: factor (inner radius / outer radius) must be in [0, 1); "
                         f"received {factor!r}.")
    rng = _rng(seed)
    n_out = n // 2
    a_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    a_in = np.linspace(0, 2 * np.pi, n - n_out, endpoint=False)
    x = np.concatenate([np.column_stack([np.cos(a_out), np.sin(a_out)]),
                        factor * np.column_stack([np.cos(a_in), np.sin(a_in)])])
    x += rng.normal(0.0, noise, x.shape) if noise else 0.0
    y = np.repeat([0, 1], [n_out, n - n_out]).astype(np.int64)
    return _finish(x, y, shuffle, rng, bipolar)


def make_blobs(n_samples: int = 100, n_features: int = 2, centers=None, cluster_std=1.0,
               center_box=(-10.0, 10.0), shuffle: bool = True, seed=None,
               return_centers: bool = False):
    """Isotropic Gaussian clusters (scikit-learn's ``make_blobs``), labels 0 .. k-1.

    Parameters
    ----------
    centers : int or array (k, n_features), optional
        The number of clusters, drawn uniformly in ``center_box``, or their centres.
        Default: 3 random centres.
    cluster_std : float or sequence of k floats, default=1.0
        Standard deviation of each cluster (the noise of this generator).
    n_samples : int
        Spread over the clusters as evenly as possible (the first n % k get one more).

    Returns ``x, y`` (and the centres when ``return_centers``).
    """
    where = "make_blobs()"
    n = check_positive_int(n_samples, "n_samples", where)
    dim = check_positive_int(n_features, "n_features", where)
    rng = _rng(seed)
    if centers is None or isinstance(centers, numbers.Integral):
        k = check_positive_int(3 if centers is None else centers, "centers", where)
        lo, hi = center_box
        c = rng.uniform(lo, hi, (k, dim))
    else:
        c = np.asarray(centers, dtype=np.float64)
        if c.ndim != 2 or c.shape[1] != dim or len(c) == 0:
            raise ValueError(f"{where}: centers must be an int or an array (k, n_features="
                             f"{dim}); received shape {c.shape}.")
    k = len(c)
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,)) \
        if np.ndim(cluster_std) == 0 or len(cluster_std) == k else None
    if std is None:
        raise ValueError(f"{where}: cluster_std must be a number or one per centre ({k}); "
                         f"received {cluster_std!r}.")
    for s in std:
        _check_noise(float(s), where, "cluster_std")
    counts = np.full(k, n // k) + (np.arange(k) < n % k)
    y = np.repeat(np.arange(k), counts).astype(np.int64)
    x = c[y] + rng.normal(size=(n, dim)) * std[y, None]
    x, y = _finish(x, y, shuffle, rng, bipolar=None)
    return (x, y, c) if return_centers else (x, y)
