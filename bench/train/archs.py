"""The networks `wsbench train` can build, with every spatial layer taken from one family.

- ``sisws-demo``: the original SISWS demo network: a 7×7 and a 3×3 spatial layer, each
  followed by BatchNorm (momentum 0.9), ReLU and 2×2 max-pooling, then dense 128 → dense 256 (each with
  dropout 0.2, the original's keep probability 0.8) → softmax.
- ``lecture-convnet``: the classic lecture network: 5×5 layer of 32 → pool → 5×5 layer of
  64 → pool → dense 1024 → dropout 0.5 → softmax.
- ``backbone``: the benchmark's backbone (:func:`bench.run.backbone.build_backbone`).

All spatial layers use 'same' padding so every family sees the same map sizes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

ARCHS = ("sisws-demo", "lecture-convnet", "backbone")
#: Filters of the spatial layers when --n-filters is not given.
DEFAULT_FILTERS = {"sisws-demo": (24, 48), "lecture-convnet": (32, 64), "backbone": (16, 32)}
#: Kernel size of each spatial layer (the backbone uses 3 everywhere).
KERNEL_SIZES = {"sisws-demo": (7, 3), "lecture-convnet": (5, 5)}
BACKBONE_KERNEL = 3


def spatial_layer_names(arch: str, family: str, n_filters: Sequence[int]) -> List[str]:
    """Names of the family layers in the model, first (input-facing) first."""
    return [f"{family}_{i}" for i in range(len(n_filters))]


def check_filters_for_arch(arch: str, n_filters: Sequence[int]) -> Tuple[int, ...]:
    """Returns the filters as a tuple, or raises ValueError naming what the arch needs."""
    if arch not in ARCHS:
        raise ValueError(f"--arch {arch!r} is not accepted: use one of {list(ARCHS)}.")
    n_filters = tuple(int(f) for f in n_filters)
    bad = [f for f in n_filters if f <= 0]
    if bad or not n_filters:
        raise ValueError(f"--n-filters {' '.join(map(str, n_filters))} is not accepted: "
                         f"every layer needs a positive number of filters (got {bad or 'none'}).")
    if arch in KERNEL_SIZES and len(n_filters) != 2:
        raise ValueError(f"--n-filters {' '.join(map(str, n_filters))} is not accepted for --arch {arch}: "
                         f"it has two spatial layers, give two numbers (default {' '.join(map(str, DEFAULT_FILTERS[arch]))}).")
    if arch == "backbone":
        doubling = tuple(n_filters[0] * 2**i for i in range(len(n_filters)))
        if n_filters != doubling:
            raise ValueError(f"--n-filters {' '.join(map(str, n_filters))} is not accepted for --arch backbone: its "
                             f"blocks double the width, give w 2w 4w ... (e.g. {' '.join(map(str, doubling))}).")
    return n_filters


def build_model(arch: str, family: str, input_shape: Sequence[int], num_classes: int, n_filters: Sequence[int],
                family_hp: Dict[str, Any] | None = None):
    """Builds the uncompiled ``keras.Model`` of ``arch`` with ``family``'s spatial layers.

    Args:
        arch: one of ARCHS.
        family: registered family name.
        input_shape: (H, W, C).
        num_classes: softmax size.
        n_filters: filters of each spatial layer (see :func:`check_filters_for_arch`).
        family_hp: the family's keyword arguments, used by every spatial layer.

    Raises:
        ValueError: unknown arch, bad filters, or the family rejecting its arguments.
    """
    import keras

    from bench.run.backbone import build_backbone
    from layers import get_family

    n_filters = check_filters_for_arch(arch, n_filters)
    family_hp = dict(family_hp or {})
    fam = get_family(family)
    names = spatial_layer_names(arch, family, n_filters)
    if arch == "backbone":
        return build_backbone(family, input_shape, num_classes, n_filters[0], depth=len(n_filters),
                              kernel_size=BACKBONE_KERNEL, family_hp=family_hp, name=f"{family}_backbone")

    def pool(x, i):
        # Tiny inputs (8×8 digits) may already be 1 pixel wide after the first pool.
        return keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x) if min(x.shape[1], x.shape[2]) >= 2 else x

    inputs = keras.Input(shape=tuple(int(v) for v in input_shape))
    x = inputs
    for i, (filters, kernel) in enumerate(zip(n_filters, KERNEL_SIZES[arch])):
        x = fam.build(filters, kernel, 1, "same", name=names[i], **family_hp)(x)
        if arch == "sisws-demo":
            # Momentum 0.9, not Keras' 0.99: small datasets (digits: 20 batches an epoch) give too few
            # steps for 0.99's moving statistics to forget their initial values in a short run.
            x = keras.layers.BatchNormalization(momentum=0.9, name=f"bn_{i}")(x)
        x = keras.layers.ReLU(name=f"relu_{i}")(x)
        x = pool(x, i)
    x = keras.layers.Flatten(name="flatten")(x)
    if arch == "sisws-demo":
        x = keras.layers.Dense(128, activation="relu", name="dense_128")(x)
        x = keras.layers.Dropout(0.2, name="dropout_0")(x)
        x = keras.layers.Dense(256, activation="relu", name="dense_256")(x)
        x = keras.layers.Dropout(0.2, name="dropout_1")(x)
    else:
        x = keras.layers.Dense(1024, activation="relu", name="dense_1024")(x)
        x = keras.layers.Dropout(0.5, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=f"{family}_{arch.replace('-', '_')}")
