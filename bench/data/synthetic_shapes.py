"""Generated shape images: the controlled pair of datasets behind `shapes-*`.

* ``shapes-anywhere``: one shape per image, at a random position and scale; the class is
  *which* shape it is. The label does not depend on position, so hard weight sharing
  (one kernel everywhere) has exactly the right inductive bias.
* ``shapes-aligned``: two fixed slots (left and right, like the eyes of an aligned face), one
  of them holding a shape; the class is which shape *and* which slot. A position-blind model
  can name the shape but must guess the slot: it tops out at half the classes right. Layers
  whose weights may differ by position can tell the slots apart.

  The slots sit half the image width apart, so on a torus (circular padding, as in
  ``wsbench study``) the right slot is the left one shifted by a whole number of pooling
  cells: convolution followed by global average pooling is then *exactly* blind to the slot
  (tested in tests/test_circular.py). With zero padding it is not: a convolution sees the
  image border and reads the slot from it (measured: 0.93 on an earlier two-shape version of
  this dataset whose position-blind ceiling was 0.67).

Both are drawn with numpy alone (vectorised over images) and are fully determined by
their seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Every shape the renderer can draw, by kind index.
SHAPE_KINDS: tuple[str, ...] = ("square", "disk", "triangle", "cross")
#: Kinds used in `shapes-aligned` (three kinds, two slots -> six classes).
ALIGNED_KINDS: tuple[str, ...] = ("square", "disk", "triangle")
#: Horizontal slot centres of `shapes-aligned`, as fractions of the image width: half a width
#: apart, so a circular shift by half the width swaps them.
ALIGNED_SLOTS_X: tuple[float, float] = (0.25, 0.75)


@dataclass(frozen=True)
class ShapeImages:
    """Images, labels and how each image was drawn.

    Attributes:
        x: float32 images in [0, 1], shape (N, size, size).
        y: int64 class labels, shape (N,).
        kinds: int kind index into SHAPE_KINDS of each drawn shape, shape (N, S).
        centers: float (row, col) pixel centre of each drawn shape, shape (N, S, 2).
        radii: float radius in pixels of each drawn shape, shape (N, S).
    """

    x: np.ndarray
    y: np.ndarray
    kinds: np.ndarray
    centers: np.ndarray
    radii: np.ndarray


#: The default geometry. 16 pixels: a converged model of every family costs 10-30 s on one core,
#: and a locally connected layer, whose weight count grows with the pixels, still gets a few
#: filters at 10,000 parameters (2-4 at 16 px against 1-3 at 24 px, where it could not learn
#: `shapes-aligned`: 0.75 against 0.91 at 16 px). 12,000 images because training is counted in
#: steps, so more images cost no training time, and with 3,000 a locally connected layer
#: memorised its training split.
SIZE, COUNT = 16, 12000
#: Radii of `shapes-aligned`'s shapes, as fractions of the image size: at 16 pixels 2-3 pixels,
#: the smallest at which the kinds stay tellable apart.
ALIGNED_RADII: tuple[float, float] = (0.12, 0.18)

def shape_masks(kinds, centers, radii, size: int) -> np.ndarray:
    """Boolean masks of one shape per image.

    Shapes have roughly the same area at the same radius (2.2 r^2 to 3.1 r^2), so the
    number of lit pixels says little about the kind.

    Args:
        kinds: (N,) kind indices into SHAPE_KINDS.
        centers: (N, 2) (row, col) centres in pixels.
        radii: (N,) radii in pixels.
        size: image height and width.

    Returns:
        (N, size, size) boolean array, True inside the shape.
    """
    kinds = np.asarray(kinds)
    centers = np.asarray(centers, dtype=np.float32)
    radii = np.asarray(radii, dtype=np.float32)
    # Pixel centres sit at half-integers, so a shape centred at c covers pixels symmetrically.
    grid = np.arange(size, dtype=np.float32) + np.float32(0.5)
    mask = np.zeros((len(kinds), size, size), dtype=bool)
    for index, name in enumerate(SHAPE_KINDS):
        chosen = np.flatnonzero(kinds == index)
        if chosen.size == 0:
            continue
        r = radii[chosen, None, None]
        dy = grid[None, :, None] - centers[chosen, 0, None, None]
        dx = grid[None, None, :] - centers[chosen, 1, None, None]
        mask[chosen] = _inside(name, dy, dx, r)
    return mask


def _inside(name: str, dy: np.ndarray, dx: np.ndarray, r: np.ndarray) -> np.ndarray:
    """True where offset (dy, dx) from the centre lies inside shape `name` of radius r."""
    ady, adx = np.abs(dy), np.abs(dx)
    if name == "square":
        return np.maximum(ady, adx) <= 0.85 * r
    if name == "disk":
        return dy**2 + dx**2 <= r**2
    if name == "triangle":  # apex up, height 2r, half-base 1.2r
        return (dy >= -r) & (dy <= r) & (adx <= 0.6 * (dy + r))
    arm = r / 3.0  # cross: two bars of length 2r and width 2r/3
    return ((ady <= r) & (adx <= arm)) | ((adx <= r) & (ady <= arm))


def _paint(masks: list[np.ndarray], rng: np.random.Generator, noise: float) -> np.ndarray:
    """Random background and foreground grey levels, Gaussian noise, clipped to [0, 1]."""
    n = masks[0].shape[0]
    background = rng.uniform(0.0, 0.3, size=(n, 1, 1)).astype(np.float32)
    images = np.broadcast_to(background, masks[0].shape).copy()
    for mask in masks:
        foreground = rng.uniform(0.6, 1.0, size=(n, 1, 1)).astype(np.float32)
        images = np.where(mask, foreground, images)
    if noise > 0:
        images += np.float32(noise) * rng.standard_normal(size=images.shape, dtype=np.float32)
    return np.clip(images, 0.0, 1.0, out=images)


def _balanced_labels(count: int, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Labels with class counts differing by at most one, in random order."""
    return rng.permutation(np.arange(count) % num_classes).astype(np.int64)


def make_shapes_anywhere(count: int = COUNT, size: int = SIZE, noise: float = 0.15,
                         seed: int = 0) -> ShapeImages:
    """One shape anywhere in the image; the class is the shape's kind.

    Args:
        count: number of images.
        size: image height and width in pixels (at least 12).
        noise: standard deviation of the added Gaussian pixel noise.
        seed: seed of the generator; equal seeds give identical images.

    Returns:
        ShapeImages with len(SHAPE_KINDS) classes; label == kind index.
    """
    rng = np.random.default_rng(seed)
    y = _balanced_labels(count, len(SHAPE_KINDS), rng)
    radii = rng.uniform(0.12 * size, 0.25 * size, size=count)
    # The whole shape stays inside the image, with one pixel of margin.
    low, high = radii + 1.0, size - radii - 1.0
    centers = np.stack([rng.uniform(low, high), rng.uniform(low, high)], axis=1)
    x = _paint([shape_masks(y, centers, radii, size)], rng, noise)
    return ShapeImages(x=x, y=y, kinds=y[:, None].copy(), centers=centers[:, None, :],
                       radii=radii[:, None])


def aligned_label(kind: str, slot: int) -> int:
    """Class of a `shapes-aligned` image from its shape's kind and the slot it sits in.

    Args:
        kind: a name in ALIGNED_KINDS.
        slot: 0 (left) or 1 (right).

    Returns:
        ALIGNED_KINDS.index(kind) * 2 + slot.

    Raises:
        ValueError: a kind not in ALIGNED_KINDS, or a slot other than 0 and 1.
    """
    if kind not in ALIGNED_KINDS:
        raise ValueError(f"unknown aligned shape kind {kind!r}; accepted: {ALIGNED_KINDS}")
    if slot not in (0, 1) or isinstance(slot, bool):
        raise ValueError(f"slot={slot!r} is not accepted; give 0 (left) or 1 (right)")
    return ALIGNED_KINDS.index(kind) * len(ALIGNED_SLOTS_X) + slot


def make_shapes_aligned(count: int = COUNT, size: int = SIZE, noise: float = 0.15,
                        seed: int = 0) -> ShapeImages:
    """One shape in one of two fixed slots; the class is its kind *and* its slot.

    The slots sit at mid-height and at ALIGNED_SLOTS_X of the width; each shape is
    jittered by up to 6 % of the image size and its radius varies, so the task is not a
    pixel lookup, but which slot a shape sits in still decides the class.

    Args:
        count: number of images.
        size: image height and width in pixels (at least 12).
        noise: standard deviation of the added Gaussian pixel noise.
        seed: seed of the generator; equal seeds give identical images.

    Returns:
        ShapeImages with 2 * len(ALIGNED_KINDS) classes (see aligned_label); one shape each.
    """
    rng = np.random.default_rng(seed)
    slots = len(ALIGNED_SLOTS_X)
    y = _balanced_labels(count, len(ALIGNED_KINDS) * slots, rng)
    aligned_to_kind = np.array([SHAPE_KINDS.index(k) for k in ALIGNED_KINDS])
    kinds, slot = aligned_to_kind[y // slots], y % slots
    radii = rng.uniform(ALIGNED_RADII[0] * size, ALIGNED_RADII[1] * size, size=count)
    jitter = 0.06 * size
    centers = np.stack([np.full(count, 0.5 * size), np.asarray(ALIGNED_SLOTS_X)[slot] * size], axis=1)
    centers = centers + rng.uniform(-jitter, jitter, size=(count, 2))
    x = _paint([shape_masks(kinds, centers, radii, size)], rng, noise)
    return ShapeImages(x=x, y=y, kinds=kinds[:, None], centers=centers[:, None, :], radii=radii[:, None])
