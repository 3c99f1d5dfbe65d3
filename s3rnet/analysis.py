"""Analysis of S3RNet's internal representations: channel sparsity, layer similarity, fusion weights.

These are the quantities behind the paper's two analysis figures and the SSAWB weight maps:

* **channel energy** (paper Fig. 1): the normalised energy of each channel of a feature map,
  sorted in decreasing order; energy concentrated in a few channels is what the paper calls a
  sparse representation. :func:`energy_sparsity` reduces the curve to scalars (Gini coefficient,
  top-10% share, effective number of channels).
* **linear CKA** (paper Fig. 2): centred kernel alignment with a linear kernel between two
  representations of the same pixels (Kornblith et al., 2019), and the layer-by-layer matrix of
  it over the Q, K, V and Z branches.
* **branch weights**: statistics and display maps of the SSAWB's per-pixel sigmoid weights.

Every function takes plain ``torch.Tensor`` or NumPy arrays (never the model object), computes in
float64 and returns NumPy arrays or Python floats.

References
----------
S3RNet: "Robust Hyperspectral Image Pansharpening via Sparse Spatial-Spectral Representation",
IGARSS 2025.

S. Kornblith, M. Norouzi, H. Lee and G. Hinton, "Similarity of Neural Network Representations
Revisited", ICML 2019.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from .errors import ConfigError, SceneDataError, ShapeError

BRANCHES = ("Q", "K", "V", "Z")

# The SSAWB weights are sigmoid outputs, so they lie in (0, 1): one colour scale for all maps.
WEIGHT_RANGE = (0.0, 1.0)


def _as_float64(values: Any, name: str) -> np.ndarray:
    """Return a tensor or array-like as a finite float64 NumPy array (tensors are detached)."""
    if isinstance(values, torch.Tensor):
        array = values.detach().to(device="cpu", dtype=torch.float64).numpy()
    else:
        array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise SceneDataError(f"{name} contains NaN or Inf values")
    return array


def _batched(array: np.ndarray, name: str) -> np.ndarray:
    """Return a ``(C, H, W)`` or ``(B, C, H, W)`` array as ``(B, C, H, W)``."""
    if array.ndim == 3:
        return array[np.newaxis]
    if array.ndim != 4:
        raise ShapeError(f"{name} must be (B, C, H, W) or (C, H, W); got shape {array.shape}")
    return array


# --------------------------------------------------------------------------------------------
# Channel energy and sparsity (paper Fig. 1)
# --------------------------------------------------------------------------------------------


def channel_energy(features: Any, sort: bool = True) -> np.ndarray:
    """Normalised energy of each channel of a feature map (the curve of the paper's Fig. 1).

    The energy of channel ``n`` is the mean, over the batch and the pixels, of its squared
    activation; the energies are divided by their sum.

    Parameters
    ----------
    features : Tensor or array, shape (B, N, H, W) or (N, H, W)
        Feature map with ``N`` channels, e.g. the fused layer ``fused_features``.
    sort : bool
        Sort the energies in decreasing order (as plotted in the paper); otherwise keep the
        channel order.

    Returns
    -------
    ndarray, shape (N,)
        Non-negative energies summing to 1.

    Raises
    ------
    SceneDataError
        When every activation is zero (the distribution is undefined).
    """
    array = _batched(_as_float64(features, "features"), "features")
    energy = np.mean(np.square(array), axis=(0, 2, 3))
    total = energy.sum()
    if total == 0.0:
        raise SceneDataError("features are all zero: the channel energy distribution is undefined")
    energy = energy / total
    if sort:
        energy = np.sort(energy)[::-1]
    return energy


def energy_sparsity(energy: Any) -> dict[str, float]:
    """Scalar sparsity figures of a channel energy distribution.

    The energies are normalised to sum to 1 first; channel order does not matter. With ``p_n``
    the normalised energies of ``N`` channels:

    * ``gini``: Gini coefficient ``sum_i sum_j |p_i - p_j| / (2 N)``; 0 when the energy is
      uniform, ``1 - 1/N`` (-> 1) when it is all in one channel (Hurley & Rickard, 2009, "Comparing
      Measures of Sparsity").
    * ``top10_share``: share of the energy in the ``ceil(N / 10)`` most energetic channels;
      ``ceil(N / 10) / N`` (about 0.1) when uniform, 1 when all in one channel.
    * ``effective_channels``: ``exp(H)`` with ``H = -sum_n p_n log p_n`` the Shannon entropy
      (``0 log 0 = 0``), the perplexity; ``N`` when uniform, 1 when all in one channel.

    Parameters
    ----------
    energy : Tensor or array, shape (N,)
        Non-negative channel energies, e.g. from :func:`channel_energy`.

    Returns
    -------
    dict of str to float
        ``{"gini", "top10_share", "effective_channels"}``.
    """
    values = _as_float64(energy, "energy")
    if values.ndim != 1 or values.size == 0:
        raise ShapeError(f"energy must be a non-empty 1-D array; got shape {values.shape}")
    if (values < 0).any():
        raise SceneDataError("energy contains negative values")
    total = values.sum()
    if total == 0.0:
        raise SceneDataError("energy is all zero: the distribution is undefined")
    ascending = np.sort(values / total)
    n = ascending.size
    ranks = np.arange(1, n + 1)
    # Closed form of the mean absolute difference for sorted values (sum of p is 1).
    gini = 2.0 * np.sum(ranks * ascending) / n - (n + 1) / n
    top = -(-n // 10)
    positive = ascending[ascending > 0]
    entropy = -np.sum(positive * np.log(positive))
    return {
        "gini": float(max(gini, 0.0)),
        "top10_share": float(ascending[-top:].sum()),
        "effective_channels": float(np.exp(entropy)),
    }


def sparsity(features: Any) -> dict[str, float]:
    """Sparsity figures of a feature map: :func:`energy_sparsity` of :func:`channel_energy`.

    Parameters
    ----------
    features : Tensor or array, shape (B, N, H, W) or (N, H, W)

    Returns
    -------
    dict of str to float
        ``{"gini", "top10_share", "effective_channels"}``.
    """
    return energy_sparsity(channel_energy(features, sort=False))


# --------------------------------------------------------------------------------------------
# Linear CKA (paper Fig. 2)
# --------------------------------------------------------------------------------------------


def _centred(samples: np.ndarray) -> np.ndarray:
    """Subtract each column's mean from an ``(n, p)`` array."""
    return samples - samples.mean(axis=0, keepdims=True)


def _cka_centred(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two column-centred ``(n, p)`` and ``(n, q)`` arrays (NaN when undefined)."""
    norm_x = np.linalg.norm(x.T @ x)
    norm_y = np.linalg.norm(y.T @ y)
    if norm_x == 0.0 or norm_y == 0.0:
        return float("nan")
    return float(np.linalg.norm(y.T @ x) ** 2 / (norm_x * norm_y))


def linear_cka(x: Any, y: Any) -> float:
    """Linear centred kernel alignment between two representations of the same examples.

    With ``X`` and ``Y`` column-centred, ``CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)``
    (Kornblith et al., 2019, eq. 5), the feature-space form of ``HSIC(K, L) / sqrt(HSIC(K, K)
    HSIC(L, L))`` with linear kernels ``K = X X^T``, ``L = Y Y^T``: it costs ``O(n p q)`` instead
    of ``O(n^2)``, so ``n`` can be every pixel of an image. CKA lies in [0, 1], is invariant to
    orthogonal transforms and isotropic scaling of either representation, but not to general
    invertible linear maps.

    Parameters
    ----------
    x : Tensor or array, shape (n, p)
        First representation, one row per example (e.g. pixel).
    y : Tensor or array, shape (n, q)
        Second representation of the same ``n`` examples, in the same order.

    Returns
    -------
    float
        The similarity, computed in float64; NaN when either representation is constant over the
        examples (CKA is then undefined).
    """
    x = _as_float64(x, "x")
    y = _as_float64(y, "y")
    if x.ndim != 2 or y.ndim != 2:
        raise ShapeError(f"x and y must be (n, p) and (n, q); got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise ShapeError(f"x has {x.shape[0]} examples but y has {y.shape[0]}; they must match")
    if x.shape[0] < 2:
        raise ShapeError(f"linear CKA needs at least 2 examples; got {x.shape[0]}")
    return _cka_centred(_centred(x), _centred(y))


def _sample_indices(n_pixels: int, max_samples: int | None, seed: int) -> np.ndarray | None:
    """Sorted pixel indices drawn without replacement, or None to keep every pixel."""
    if max_samples is not None and max_samples < 1:
        raise ConfigError(f"max_samples must be a positive number of pixels or None; got {max_samples}")
    if max_samples is None or max_samples >= n_pixels:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_pixels, size=max_samples, replace=False))


def _pixel_shape(features: Any, name: str) -> tuple[int, int, int]:
    """The ``(B, H, W)`` of a ``(B, C, H, W)`` or ``(C, H, W)`` map (``B = 1`` for the latter)."""
    shape = tuple(features.shape) if isinstance(features, torch.Tensor) else np.shape(features)
    if len(shape) == 3:
        return (1,) + shape[1:]
    if len(shape) != 4:
        raise ShapeError(f"{name} must be (B, C, H, W) or (C, H, W); got shape {shape}")
    return (shape[0],) + shape[2:]


def _pixel_rows(features: Any, name: str, indices: np.ndarray | None = None) -> np.ndarray:
    """Pixels of a ``(B, C, H, W)`` or ``(C, H, W)`` map as float64 ``(n, C)`` rows.

    Rows are in batch, row, column order; with ``indices`` only those rows are kept, selected
    before the conversion to float64 so that large maps are never copied whole.
    """
    batch, height, width = _pixel_shape(features, name)
    if isinstance(features, torch.Tensor):
        rows = features.detach().reshape(batch, -1, height, width).permute(0, 2, 3, 1)
        rows = rows.reshape(batch * height * width, -1)
        rows = rows if indices is None else rows[torch.from_numpy(indices)]
    else:
        rows = np.asarray(features).reshape(batch, -1, height, width).transpose(0, 2, 3, 1)
        rows = rows.reshape(batch * height * width, -1)
        rows = rows if indices is None else rows[indices]
    return _as_float64(rows, name)


def features_to_samples(features: Any, max_samples: int | None = None, seed: int = 0) -> np.ndarray:
    """Pixels of a feature map as rows of a sample matrix, optionally a random subset of them.

    Parameters
    ----------
    features : Tensor or array, shape (B, C, H, W) or (C, H, W)
    max_samples : int or None
        Keep at most this many pixels, drawn uniformly without replacement by
        ``numpy.random.default_rng(seed)``; None (or a value of at least ``B * H * W``) keeps all.
    seed : int
        Seed of the generator used for the subset; the same seed and shape give the same pixels.

    Returns
    -------
    ndarray, shape (n, C)
        float64 rows in batch, row, column order, ``n = min(max_samples, B * H * W)``.
    """
    n_pixels = int(np.prod(_pixel_shape(features, "features")))
    return _pixel_rows(features, "features", _sample_indices(n_pixels, max_samples, seed))


def layerwise_cka(
    layers: Mapping[str, Sequence[Any]],
    max_samples: int | None = 4096,
    seed: int = 0,
    order: Sequence[str] = BRANCHES,
) -> tuple[list[str], np.ndarray]:
    """Linear CKA between every pair of layers of the branches (the paper's Fig. 2 heatmap).

    The layers are stacked branch by branch in ``order`` (branches absent from ``layers`` are
    skipped), each in its own order, and labelled ``"Q1", "Q2", ..., "K1", ...``. Every layer is
    compared on one common set of pixels, drawn once as in :func:`features_to_samples`.

    Parameters
    ----------
    layers : mapping of str to sequence of Tensor or array, shape (B, C_l, H, W)
        Each branch's layer outputs, e.g. ``output.layers`` of ``S3RNet(..., return_extras=True)``.
        All layers must share ``B``, ``H`` and ``W``; channel counts may differ.
    max_samples : int or None
        Number of pixels to compare on; None uses every pixel.
    seed : int
        Seed of the pixel subset.
    order : sequence of str
        Branch order; keys of ``layers`` outside it are an error.

    Returns
    -------
    labels : list of str, length L
        One label per layer.
    matrix : ndarray, shape (L, L)
        Symmetric float64 matrix of linear CKA, ones on the diagonal (NaN rows for a constant
        layer).
    """
    unknown = sorted(set(layers) - set(order))
    if unknown:
        raise ConfigError(f"unknown branches {unknown}; expected some of {list(order)}")
    labels, maps = [], []
    for branch in order:
        for index, layer in enumerate(layers.get(branch, ()), start=1):
            labels.append(f"{branch}{index}")
            maps.append(layer)
    if not maps:
        raise ShapeError("layers holds no layer to compare")
    pixel_shapes = {_pixel_shape(layer, f"layer {label}") for label, layer in zip(labels, maps)}
    if len(pixel_shapes) != 1:
        raise ShapeError(f"layers must share batch and spatial size (B, H, W); got {sorted(pixel_shapes)}")
    indices = _sample_indices(int(np.prod(pixel_shapes.pop())), max_samples, seed)
    samples = [_centred(_pixel_rows(layer, f"layer {label}", indices)) for label, layer in zip(labels, maps)]
    size = len(samples)
    matrix = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            matrix[i, j] = matrix[j, i] = _cka_centred(samples[i], samples[j])
    return labels, matrix


# --------------------------------------------------------------------------------------------
# SSAWB branch weights
# --------------------------------------------------------------------------------------------


def _branch_weights(weights: Any, n_branches: int) -> np.ndarray:
    """Validate SSAWB weights and return them as a ``(B, n_branches, H, W)`` float64 array."""
    if weights is None:
        raise ConfigError("no branch weights: the model was built without the SSAWB attention block")
    array = _batched(_as_float64(weights, "weights"), "weights")
    if array.shape[1] != n_branches:
        raise ShapeError(f"weights have {array.shape[1]} branches; expected {n_branches}")
    if array.size and (array.min() < WEIGHT_RANGE[0] or array.max() > WEIGHT_RANGE[1]):
        raise SceneDataError(
            f"weights span [{array.min():g}, {array.max():g}], outside the sigmoid range {WEIGHT_RANGE}"
        )
    return array


def branch_weight_stats(weights: Any, names: Sequence[str] = BRANCHES) -> dict[str, dict[str, float]]:
    """Statistics of the SSAWB's per-pixel branch weights.

    Parameters
    ----------
    weights : Tensor or array, shape (B, 4, H, W) or (4, H, W)
        Sigmoid weights of the branches, in [0, 1], e.g. ``output.weights``.
    names : sequence of str
        Branch names, one per weight channel.

    Returns
    -------
    dict of str to dict of str to float
        For each branch name: ``mean``, ``std`` (population, over batch and pixels), ``min``,
        ``max`` and ``dominant_share``, the share of pixels where this branch has the largest
        weight (ties go to the first branch in ``names``, so the shares sum to 1).
    """
    array = _branch_weights(weights, len(names))
    winners = np.argmax(array, axis=1)
    stats = {}
    for index, name in enumerate(names):
        channel = array[:, index]
        stats[name] = {
            "mean": float(channel.mean()),
            "std": float(channel.std()),
            "min": float(channel.min()),
            "max": float(channel.max()),
            "dominant_share": float(np.mean(winners == index)),
        }
    return stats


# Spatial standard deviation of a branch's weight map below which we call it flat, and above which
# its pattern is plain on the common 0-1 colour scale (our reading thresholds, not the paper's).
FLAT_WEIGHT_STD = 0.01
VISIBLE_WEIGHT_STD = 0.05


def describe_branch_weights(stats: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-words reading of :func:`branch_weight_stats`: which branch weighs most, and whether
    each map varies over the scene (spatial standard deviation against :data:`FLAT_WEIGHT_STD`
    and :data:`VISIBLE_WEIGHT_STD`).

    Parameters
    ----------
    stats : mapping
        Branch name -> ``{"mean", "std", "min", "max", "dominant_share"}``.

    Returns
    -------
    str
    """
    order = sorted(stats, key=lambda b: stats[b]["mean"], reverse=True)
    top = order[0]
    parts = [
        f"Branch {top} gets the most weight (mean {stats[top]['mean']:.2f}), "
        + ", ".join(f"{b} {stats[b]['mean']:.2f}" for b in order[1:]) + "."
    ]
    flat = [b for b in order if stats[b]["std"] < FLAT_WEIGHT_STD]
    visible = [b for b in order if stats[b]["std"] >= VISIBLE_WEIGHT_STD]
    little = [b for b in order if b not in flat and b not in visible]
    spread = ", ".join(f"{b} {stats[b]['std']:.3f}" for b in order)
    if visible:
        parts.append(f"{', '.join(visible)} change{'s' if len(visible) == 1 else ''} visibly from pixel to pixel: "
                     "the network trusts that branch more in some places than in others.")
    if little:
        parts.append(f"{', '.join(little)} vary a little (a few hundredths): a pattern you see only with the contrast stretched.")
    if flat:
        parts.append(f"{', '.join(flat)} {'is' if len(flat) == 1 else 'are'} flat: one weight everywhere, "
                     "which a fixed weight per branch could express as well.")
    parts.append(f"Spatial standard deviation: {spread}.")
    return " ".join(parts)


def branch_weight_maps(weights: Any) -> np.ndarray:
    """The four branch weight maps of the first batch item, for display.

    Show all maps on one colour scale, :data:`WEIGHT_RANGE` ``= (0, 1)`` (the sigmoid's range),
    e.g. ``imshow(maps[i], vmin=0, vmax=1)``, so that the branches can be compared.

    Parameters
    ----------
    weights : Tensor or array, shape (B, 4, H, W) or (4, H, W)
        Sigmoid weights of the branches Q, K, V, Z, in [0, 1].

    Returns
    -------
    ndarray, shape (4, H, W)
        float32 weights of batch item 0.
    """
    return _branch_weights(weights, len(BRANCHES))[0].astype(np.float32)
