"""What a run's backbone sees of its images: the window of input pixels behind each feature
that global average pooling averages (its receptive field), stated in every study summary.

Each block of the backbone (:mod:`bench.run.backbone`) is a k×k family layer (stride 1) and a
2×2 max-pool; after the last block the classifier sees the average of the features over the
positions. A feature then depends on a square window of input pixels whose side grows with
the depth and the kernel: on 28×28 digits, two 3×3 blocks see 10×10 pixels, only part of a
digit, which limits what knowing *where* (the position-aware families) can add.
"""

from __future__ import annotations

from typing import Sequence


def receptive_field(depth: int, kernel: int, size: int = 10**9) -> int:
    """The side, in input pixels, of the window behind one feature after ``depth`` blocks of
    a ``kernel``×``kernel`` layer and a 2×2 max-pool (a pool is skipped where the map is
    already 1 pixel, as the backbone does; ``size`` is the image side)."""
    field, jump = 1, 1
    for _ in range(depth):
        field += (kernel - 1) * jump
        if size >= 2:
            field += jump
            jump *= 2
            size //= 2
    return field


def backbone_view(input_shape: Sequence[int], depth: int) -> str:
    """One sentence: the image size, the blocks, and the window each pooled feature sees at
    every kernel size the search may choose."""
    from bench.run.search_space import KERNEL_SIZES

    h, w = int(input_shape[0]), int(input_shape[1])
    windows = []
    for k in KERNEL_SIZES:
        side = receptive_field(depth, k, min(h, w))
        windows.append(f"{side}×{side} ({k}×{k} kernels)")
    fields = [receptive_field(depth, k, min(h, w)) for k in KERNEL_SIZES]
    if min(fields) >= max(h, w):
        reach = "every window is at least as wide as the image (a feature off the centre still misses its far edge)"
    elif max(fields) < min(h, w):
        reach = "every window is narrower than the image: each feature sees only part of it"
    else:
        reach = "the smaller kernels' windows are narrower than the image, the larger ones' at least as wide"
    return (f"{h}×{w} images, {depth} blocks (family layer, 2×2 max-pool), then global average pooling over the "
            f"positions: each pooled feature sees a window of {' to '.join(windows)} input pixels around its "
            f"position; {reach}")
