"""Figure 5: what the first layer of each family's best model learned, for the families whose
layers can be pictured (``Family.pictures``)."""

from __future__ import annotations

from typing import List

from bench.report.figures import Drawn, register_figure
from bench.report.formatting import fmt_budget
from bench.store import ResultsError

FIG5_DPI = 150  # the layer pictures are small figures; a finer raster keeps kernel pixels legible
#: What each picture kind shows, for its caption; an unknown kind (a plugin's) is named as it is.
WHAT = {"similarity": "centroids and similarity map (each output cell coloured by its dominant centroid)",
        "kernels": "the kernel applied at sampled output positions, tinted by the dominant centroid where there is one"}


@register_figure("fig5_layer_pictures")
def layer_pictures(data) -> List[Drawn]:
    """What the layers learned: the first block of each pictured family's best-accuracy model."""
    done = data.summary[data.summary["status"] == "completed"]
    if done.empty:
        return []
    import keras

    from bench.visualize import families_with_pictures, model_pictures

    drawn = []
    for family in [f for f in families_with_pictures() if f in set(done["family"])]:
        budget = int(done[done["family"] == family].sort_values(["mean", "budget"], ascending=False).iloc[0]["budget"])
        path = data.run.model_path(family, budget)
        if not path.is_file():
            raise ResultsError(f"{str(path)!r} is missing: figure 5 draws the best {family} model.")
        model = keras.saving.load_model(path, compile=False)
        label = f"{family} @ budget {fmt_budget(budget)}, first block"
        for kind, fig in model_pictures(model, family, label=label):
            fig.set_dpi(FIG5_DPI)
            drawn.append(Drawn(f"fig5_{family}_{kind}", fig,
                               f"{family} @ budget {fmt_budget(budget)}: {WHAT.get(kind, kind)}"))
    return drawn
