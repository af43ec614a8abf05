"""Figure 5: what the first layer of each family's best model learned, for the families whose
layers can be pictured (``Family.pictures``)."""

from __future__ import annotations

from typing import List

from bench.report.figures import Drawn, NotDrawn, register_figure
from bench.report.formatting import fmt_budget

FIG5_DPI = 150  # the layer pictures are small figures; a finer raster keeps kernel pixels legible
#: What each picture kind shows, for its caption; an unknown kind (a plugin's) is named as it is.
WHAT = {"similarity": "centroids and mixing-weight map (each cell coloured by its dominant centroid)",
        "kernels": "the kernel applied at sampled output positions, tinted by the dominant centroid where there is one"}


def cell_unit(model, layer) -> str:
    """'image pixel' when ``layer``'s output grid is the model's input image (a first block
    with 'same' or circular padding and stride 1), else 'output cell'."""
    image = tuple(int(v) for v in model.inputs[0].shape[1:3])
    out = tuple(int(v) for v in layer.output.shape[1:3])
    return "image pixel" if out == image else "output cell"


@register_figure("fig5_layer_pictures")
def layer_pictures(data) -> List[Drawn]:
    """What the layers learned: the first block of each pictured family's best-accuracy model."""
    done = data.summary[data.summary["status"] == "completed"]
    from bench.visualize import families_with_pictures, first_family_layer, model_pictures
    from bench.visualize.centroids import check_feature, has_centroids

    pictured = [f for f in families_with_pictures() if f in set(done["family"])]
    if not pictured:
        raise NotDrawn("No family of this run has layer pictures (Family.pictures).")
    import keras

    import layers
    from bench.store import ResultsError

    layers.load_layer_classes()  # the saved models hold the families' layer classes
    drawn = []
    for family in pictured:
        budget = int(done[done["family"] == family].sort_values(["mean", "budget"], ascending=False).iloc[0]["budget"])
        path = data.run.model_path(family, budget)
        if not path.is_file():
            raise ResultsError(f"{str(path)!r} is missing: figure 5 draws the best {family} model.")
        model = keras.saving.load_model(path, compile=False)
        layer = first_family_layer(model, family)
        if layer is not None and has_centroids(layer):
            check_feature(layer, data.feature)
        unit = cell_unit(model, layer) if layer is not None else "output cell"
        label = f"{family} @ budget {fmt_budget(budget)}, first block"
        for kind, fig in model_pictures(model, family, label=label, feature=data.feature, unit=unit):
            fig.set_dpi(FIG5_DPI)
            where = f"; axes in {unit}s" if kind == "similarity" else ""
            drawn.append(Drawn(f"fig5_{family}_{kind}", fig,
                               f"{family} @ budget {fmt_budget(budget)}: {WHAT.get(kind, kind)}{where}"))
    return drawn
