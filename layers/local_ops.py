"""Backend-agnostic building blocks for position-dependent (unshared) kernels.

The patch layout is (kh, kw, c_in) row-major, the same as a Conv2D kernel reshaped to
(kh·kw·c_in, filters), so a conv kernel can be copied to every position unchanged.

Why the fast path (:func:`locally_connected`) looks the way it does — each choice was
measured with ``wsbench speed`` on TensorFlow's CPU kernels (training step, forward plus
gradients for input and kernel):

- Receptive fields are cut with *contiguous* slices (``ops.slice``). Python indexing with a
  step emits StridedSlice, whose gradient (StridedSliceGrad) cost ~5× the whole forward
  pass; a plain Slice's gradient is a Pad. Strides are handled by reshaping each spatial
  axis into (blocks, stride) first, so even strided receptive fields are contiguous slices.
- The input is transposed once to [H, W, B, C] (small) so every slice is already
  positions-first, [P, B, C]: the product is one batched matmul with positions as the
  batch dimension, and only the output needs a transpose back — never the kh·kw-times
  larger patch tensor.
- The kh·kw slices are grouped into one or more batched matmuls whose products are summed.
  Small batched matmuls with a long inner dimension and few output columns are slow on
  CPU, so the grouping depends on the shape (measured on a 2-core AMD EPYC, training step,
  c_in in {3, 8, 16, 32} × filters in {16, 64}):
  all slices concatenated into one [P, B, kh·kw·C] patch tensor while kh·kw·C <= 2·filters
  (e.g. 3×3×3 → 64); one matmul per offset when C >= filters / 2 (e.g. 3×3×8 → 16: no
  patch tensor at all); one matmul per kernel row (inner kw·C) in between.
"""

from __future__ import annotations

import math

from keras import ops

from layers.shapes import conv_output_size, pair, same_padding_amounts


def _positions_first(x, kernel_size, strides, padding: str):
    """Pads x [B, H, W, C] and lays it out in stride blocks, positions first.

    Returns:
        (blocks, geometry): blocks has shape [Hb, sh, Wb, sw, B, C], where padded row
        r = sh·q + t sits at [q, t]; geometry is (kh, kw, sh, sw, oh, ow, c).
    """
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(strides, "strides")
    h, w, c = int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
    oh, ow = conv_output_size(h, kh, sh, padding), conv_output_size(w, kw, sw, padding)
    top, bottom = same_padding_amounts(h, kh, sh) if padding == "same" else (0, 0)
    left, right = same_padding_amounts(w, kw, sw) if padding == "same" else (0, 0)
    # Extra zeros at the far end make each axis a whole number of stride blocks; no
    # receptive field reaches them.
    hb, wb = math.ceil((h + top + bottom) / sh), math.ceil((w + left + right) / sw)
    bottom += hb * sh - (h + top + bottom)
    right += wb * sw - (w + left + right)
    xt = ops.transpose(x, (1, 2, 0, 3))
    if top or bottom or left or right:
        xt = ops.pad(xt, [[top, bottom], [left, right], [0, 0], [0, 0]])
    return ops.reshape(xt, (hb, sh, wb, sw, -1, c)), (kh, kw, sh, sw, oh, ow, c)


def _shifted_views(blocks, geometry, batch):
    """The kh·kw receptive-field offsets as contiguous slices, each [out_h·out_w, B, C]."""
    kh, kw, sh, sw, oh, ow, c = geometry
    views = []
    for di in range(kh):
        for dj in range(kw):
            view = ops.slice(blocks, (di // sh, di % sh, dj // sw, dj % sw, 0, 0), (oh, 1, ow, 1, batch, c))
            views.append(ops.reshape(view, (oh * ow, -1, c)))
    return views


def _groups(views, kernel, kh: int, kw: int, c: int, filters: int):
    """Splits the kh·kw views and the kernel rows into matching matmul groups (see module doc)."""
    if kh * kw * c <= 2 * filters or len(views) == 1:
        size = kh * kw
    elif 2 * c >= filters:
        size = 1
    else:
        size = kw
    groups = [views[i] if size == 1 else ops.concatenate(views[i:i + size], axis=-1)
              for i in range(0, len(views), size)]
    kernels = [kernel] if len(groups) == 1 else ops.split(kernel, len(groups), axis=1)
    return groups, kernels


# Past this many elements (256 MiB in float32) the per-position kernel tensor, and its
# gradient, cost more memory than the 'auto' route is allowed to spend without being asked.
MIX_KERNEL_LIMIT = 64 * 1024 * 1024


def prefer_mix_route(n_kernels: int, c_in: int, kernel_size, out_hw, filters: int) -> bool:
    """The 'auto' route rule of SISWS and LRLC: mix the kernels per position, or convolve?

    The conv route convolves with filters·n_kernels outputs and weights the n maps at every
    position (~n × a K-filter convolution); the mix route mixes the n kernels at every
    position once per batch and applies one locally connected product (~1× a K-filter
    convolution in multiply-adds, at the efficiency of small batched matmuls). Measured on
    this project's 2-core CPU (training step, batch 32–128, 8×8 to 28×28 maps, VALID and
    SAME, c_in 1–64, filters 8–64, n 2–9), the mix route won everywhere except when the
    input has many channels and n is small (the convolution's efficiency grows with c_in):
    break-even at n ≈ 2 for c_in = 16 and n ≈ 4 for c_in ≥ 32. Map size and padding did not
    change the winner, so the rule ignores them except through the memory cap. The batch
    size is unknown when a layer is built; the rule assumes training batches of 32 or more
    (at 28×28×8 → 16, S = 4 the mix route takes ~0.6× the conv route's time at batch 128,
    about the same at batch 16, and ~1.5× at batch 8, where the per-batch mixing and small
    matmuls dominate): pass route='conv' for tiny batches.

    Args:
        n_kernels: S centroids or the LRLC rank.
        c_in: input channels.
        kernel_size: (kh, kw).
        out_hw: (out_h, out_w).
        filters: K.

    Returns:
        True for the mix route.
    """
    kh, kw = pair(kernel_size, "kernel_size")
    if n_kernels < 2 or out_hw[0] * out_hw[1] * kh * kw * c_in * filters > MIX_KERNEL_LIMIT:
        return False
    return n_kernels > min(4.0, c_in / 8.0)


def locally_connected(x, kernel, kernel_size, strides, padding: str):
    """Applies a different kernel at every output position (the fast path).

    Args:
        x: input [B, H, W, C] with static H, W, C.
        kernel: [out_h·out_w, kh·kw·C, F], rows in (kh, kw, C) order.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's rule).

    Returns:
        [B, out_h, out_w, F], equal to
        ``locally_connected_product(extract_patches(x, ...), kernel)``.
    """
    blocks, geometry = _positions_first(x, kernel_size, strides, padding)
    kh, kw, _, _, oh, ow, c = geometry
    filters = int(kernel.shape[-1])
    views = _shifted_views(blocks, geometry, ops.shape(x)[0])
    out = None
    for group, kernel_rows in zip(*_groups(views, kernel, kh, kw, c, filters)):
        term = ops.matmul(group, kernel_rows)
        out = term if out is None else out + term
    return ops.transpose(ops.reshape(out, (oh, ow, -1, filters)), (2, 0, 1, 3))


def extract_patches(x, kernel_size, strides, padding: str):
    """Gathers every receptive field of a 4-D NHWC tensor.

    Args:
        x: input of shape [B, H, W, C] with static H, W, C.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw).
        padding: 'valid' or 'same' (TensorFlow's rule).

    Returns:
        A tensor [B, out_h, out_w, kh·kw·C].
    """
    blocks, geometry = _positions_first(x, kernel_size, strides, padding)
    _, _, _, _, oh, ow, _ = geometry
    patches = ops.concatenate(_shifted_views(blocks, geometry, ops.shape(x)[0]), axis=-1)
    return ops.transpose(ops.reshape(patches, (oh, ow, -1, int(patches.shape[-1]))), (2, 0, 1, 3))


def locally_connected_product(patches, kernel):
    """Applies a different kernel at every output position to precomputed patches.

    Args:
        patches: [B, out_h, out_w, K] from :func:`extract_patches`.
        kernel: [out_h·out_w, K, F].

    Returns:
        [B, out_h, out_w, F].
    """
    oh, ow, k = int(patches.shape[1]), int(patches.shape[2]), int(patches.shape[3])
    flat = ops.reshape(patches, (-1, oh * ow, k))
    # Positions go first so the product is one batched matmul over positions.
    out = ops.matmul(ops.transpose(flat, (1, 0, 2)), kernel)  # [P, B, F]
    return ops.reshape(ops.transpose(out, (1, 0, 2)), (-1, oh, ow, int(kernel.shape[-1])))


def conv_matched_initializer(kernel_size, in_channels: int, filters: int):
    """Glorot-uniform with Conv2D's fans (kh·kw·c_in in, kh·kw·filters out).

    Keras's own glorot_uniform would count the output positions (locally connected) or the
    S / rank mixed kernels (SISWS, LRLC) into the fans and start those layers √P or √S times
    smaller than the convolution they are compared with; this starts every position's
    kernel at the convolution's scale, so no family is handicapped from the first step.
    """
    import math

    import keras

    kh, kw = kernel_size
    limit = math.sqrt(6.0 / (kh * kw * in_channels + kh * kw * filters))
    return keras.initializers.RandomUniform(-limit, limit)

