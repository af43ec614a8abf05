"""Image plumbing shared by the pictures: figures to RGB arrays, pixel-exact enlarging, title lines."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def enlarge(image: np.ndarray, min_side: int = 128) -> np.ndarray:
    """Nearest-neighbour upscaling by the smallest integer factor giving a side ≥ ``min_side``.

    Works on [H, W, C] or [N, H, W, C]; kernel pixels stay sharp squares.
    """
    h, w = image.shape[-3], image.shape[-2]
    factor = max(1, math.ceil(min_side / max(h, w)))
    return np.repeat(np.repeat(image, factor, axis=-3), factor, axis=-2)


def figure_to_image(fig: Figure) -> np.ndarray:
    """Renders a figure with the Agg canvas into a float32 [H, W, 3] RGB array in [0, 1]."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype("float32") / 255.0


def add_title_line(fig: Figure, line: str, fontsize: float = 9) -> Figure:
    """Puts ``line`` above a figure's title: its suptitle if it has one, else the title of its
    only axes, else a new suptitle. Returns ``fig``."""
    suptitle = fig.get_suptitle()
    engine = fig.get_layout_engine()
    # Constrained layout makes room for a taller title by itself; otherwise make it here.
    adjustable = engine is None or engine.adjust_compatible
    if not suptitle and len(fig.axes) == 1:
        ax = fig.axes[0]
        ax.set_title(f"{line}\n{ax.get_title()}" if ax.get_title() else line, fontsize=fontsize)
        if adjustable:
            fig.tight_layout()
        return fig
    fig.suptitle(f"{line}\n{suptitle}" if suptitle else line, fontsize=fontsize)
    if adjustable:
        fig.subplots_adjust(top=1.0 - 0.7 / fig.get_figheight())
    return fig
