"""Backend-agnostic building blocks for position-dependent (unshared) kernels.

Patches are gathered with strided slices rather than ``extract_patches``: the slices'
gradients are plain pads, which keeps the backward pass as cheap as the forward one.
The patch layout is (kh, kw, c_in) row-major, the same as a Conv2D kernel reshaped to
(kh·kw·c_in, filters), so a conv kernel can be copied to every position unchanged.
"""

from __future__ import annotations

from keras import ops

from layers.shapes import conv_output_size, pair, same_padding_amounts


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
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(strides, "strides")
    h, w = int(x.shape[1]), int(x.shape[2])
    oh, ow = conv_output_size(h, kh, sh, padding), conv_output_size(w, kw, sw, padding)
    if padding == "same":
        ph, pw = same_padding_amounts(h, kh, sh), same_padding_amounts(w, kw, sw)
        if any(ph) or any(pw):
            x = ops.pad(x, [[0, 0], list(ph), list(pw), [0, 0]])
    if kh == 1 and kw == 1:
        return x[:, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw, :]
    pieces = [
        x[:, di : di + sh * (oh - 1) + 1 : sh, dj : dj + sw * (ow - 1) + 1 : sw, :]
        for di in range(kh)
        for dj in range(kw)
    ]
    return ops.concatenate(pieces, axis=-1)


def locally_connected_product(patches, kernel):
    """Applies a different kernel at every output position.

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
