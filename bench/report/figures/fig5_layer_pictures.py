"""Figure 5: what the first layer of each family's best model learned, for the families whose
layers can be pictured."""

from __future__ import annotations

from typing import List

from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget
from bench.store import ResultsError

FIG5_DPI = 150  # the layer pictures are small figures; a finer raster keeps kernel pixels legible
PICTURED_FAMILIES = ("sisws", "sisws_trainable")
CAPTIONS = {"similarity": "centroids and similarity map (each output cell coloured by its dominant centroid)",
            "kernels": "locally weighted kernels Σ_s S_s(i, j)·W_s at sampled output positions, tinted by the "
                       "dominant centroid"}


@register_figure("fig5_layer_pictures")
def layer_pictures(data) -> List[Drawn]:
    """What the layers learned: the first block of each family's best-accuracy model."""
    drawn = []
    for family in PICTURED_FAMILIES:
        done = data.summary[(data.summary["family"] == family) & (data.summary["status"] == "completed")]
        if done.empty:
            continue
        budget = int(done.sort_values(["mean", "budget"], ascending=False).iloc[0]["budget"])
        path = data.run.model_path(family, budget)
        if not path.is_file():
            raise ResultsError(f"{str(path)!r} is missing: figure 5 draws the best {family} model.")
        for kind, fig in _sisws_figures(path, family, budget):
            fig.set_dpi(FIG5_DPI)
            drawn.append(Drawn(f"fig5_{family}_{kind}", fig, f"{family} @ budget {fmt_budget(budget)}: "
                                                              f"{CAPTIONS[kind]}"))
    return drawn


def _sisws_figures(model_file, family: str, budget: int, n_positions: int = 4):
    """(kind, figure) pairs for the first SISWS layer of a saved model."""
    import keras

    import layers  # noqa: F401  (registers the custom layers for loading)
    from bench import visualize
    from layers.sisws import SISWS2D

    model = keras.saving.load_model(model_file, compile=False)
    sisws = [layer for layer in model.layers if isinstance(layer, SISWS2D)]
    if not sisws:
        raise ValueError(f"{str(model_file)!r} ({family} @ {fmt_budget(budget)}) holds no SISWS2D layer.")
    layer = sisws[0]
    label = f"{family} @ budget {fmt_budget(budget)}, first block"
    similarity = visualize.similarity_figure(layer)
    ax = similarity.axes[0]
    ax.set_title(f"{label}\n{ax.get_title()}", fontsize=9)
    similarity.tight_layout()
    coded = layer.n_kcp <= visualize.MAX_CENTROID_COLORS
    kernels = visualize.kernel_grid_figure(layer, n_positions=n_positions, color_coding=coded)
    title = kernels.get_suptitle() if hasattr(kernels, "get_suptitle") else ""
    kernels.suptitle(f"{label}\n{title}" if title else label, fontsize=9)
    if kernels.get_layout_engine() is None:  # a layout engine makes room for the title by itself
        kernels.subplots_adjust(top=1.0 - 0.7 / kernels.get_figheight())
    return [("similarity", similarity), ("kernels", kernels)]
