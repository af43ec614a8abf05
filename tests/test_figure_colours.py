"""One colour and one marker per family, in every figure: every figure of a committed reference
run, the summary of the committed study and the figures of a real-image study summary (on
small made-up runs), drawn in memory (nothing under reference/ is written), with each
family's colour read off the matplotlib artists drawn for it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

import layers
from bench.report.data import load
from bench.report.figures import FIGURES, NotDrawn
from bench.report.style import family_gid, family_styles, ordered_families
from bench.study.figures import delta_figure, rank_figure
from bench.study.summary import known_answer, load as load_study, summarise
from made_up_runs import made_up_run

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_RUN = ROOT / "reference" / "default-digits"
STUDY_RUNS = [ROOT / "reference" / "study-shapes-aligned", ROOT / "reference" / "study-shapes-anywhere"]


def rgb(color) -> tuple:
    return tuple(round(float(v), 3) for v in to_rgb(color))


def artist_colours(artist) -> list:
    """The colours an artist is drawn in (a line's colour, a collection's faces or edges, a
    patch's face, a text's colour)."""
    if isinstance(artist, Line2D):
        return [artist.get_color()]
    if hasattr(artist, "get_facecolor") and hasattr(artist, "get_edgecolor") and hasattr(artist, "get_paths"):
        faces = [c for c in np.atleast_2d(artist.get_facecolor()) if len(c) and c[3] > 0]
        return faces or list(np.atleast_2d(artist.get_edgecolor()))
    if hasattr(artist, "get_facecolor"):
        return [artist.get_facecolor()]
    return [artist.get_color()]


def family_colours(figure, families) -> dict:
    """family → set of colours of the artists drawn for it (by their gid) and of its legend entry."""
    out: dict = {}
    for artist in figure.findobj():
        gid = artist.get_gid() or ""
        if gid.startswith("family:"):
            out.setdefault(gid.split(":", 1)[1], set()).update(rgb(c) for c in artist_colours(artist))
    for legend in [ax.get_legend() for ax in figure.axes] + list(figure.legends):
        if legend is None:
            continue
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            if text.get_text() in families:
                out.setdefault(text.get_text(), set()).update(rgb(c) for c in artist_colours(handle))
    return out


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """(figure name, figure) of every figure of the reference run, of the study summary and
    of a made-up real-image study's summary (Δ per dataset and the critical-difference diagram)."""
    data = load(REFERENCE_RUN)
    figures = []
    for name in FIGURES.names():
        try:
            figures += [(picture.name, picture.figure) for picture in FIGURES.get(name)(data)]
        except NotDrawn:
            continue  # e.g. learning curves: the reference predates curves.csv
    runs = load_study(STUDY_RUNS)
    figures.append(("study summary", delta_figure(runs, [known_answer(r.dataset) for r in runs])))
    parent = tmp_path_factory.mktemp("results")
    shifts = {"locally_connected": -10, "sisws": 5, "sisws_trainable": 2}
    real = summarise([made_up_run(parent, f"real-{d}", d, shifts, seed=i) for i, d in enumerate(("digits", "faces"))],
                     aggregate=True)
    figures += [("real study summary", delta_figure(real.runs)), ("real study ranks", rank_figure(real.ranks))]
    return data, figures


def test_every_family_has_one_colour_in_every_figure(drawn):
    data, figures = drawn
    families = set(data.families)
    expected = {f: rgb(color) for f, (color, _) in family_styles(families).items()}
    seen: dict = {}
    for name, figure in figures:
        for family, colours in family_colours(figure, families).items():
            assert colours == {expected[family]}, f"{family} in {name}: {colours} != {expected[family]}"
            seen.setdefault(family, []).append(name)
    # The figures that draw families drew every one of them, the study summary included.
    for name in ("fig1_accuracy_vs_params", "fig2_accuracy_vs_throughput", "fig3_throughput", "fig4_tuning_curves"):
        assert all(name in seen[f] for f in families), name
    assert all("study summary" in seen[f] for f in families - {"conv"})  # the summary plots Δ against conv
    made_up = {"conv", "locally_connected", "sisws", "sisws_trainable"}  # the families of the made-up runs
    assert all("real study summary" in seen[f] for f in made_up - {"conv"})
    assert all("real study ranks" in seen[f] for f in made_up)
    assert len(set(expected.values())) == len(families)


def test_colours_and_markers_follow_the_registry_whatever_the_run_holds():
    # conv keeps its colour and marker in a run without it, and a family the registry does not know
    # (an uninstalled plugin) comes after every registered one, the same in any order given.
    registered = layers.list_families()
    every = family_styles(registered)
    assert family_styles(["lrlc", "sisws"]) == {f: every[f] for f in ("lrlc", "sisws")}
    assert family_styles(["zz_plugin", "conv", "aa_plugin"]) == family_styles(["aa_plugin", "zz_plugin", "conv"])
    assert ordered_families(["zz_plugin", "coordconv", "aa_plugin", "conv"]) == ["conv", "coordconv", "aa_plugin",
                                                                                "zz_plugin"]
    styles = family_styles(registered + ["aa_plugin"])
    assert styles["aa_plugin"] not in [every[f] for f in registered]


def test_a_marker_never_means_a_budget(drawn):
    # Markers are the families' own: every marker drawn for a family is that family's marker.
    data, figures = drawn
    markers = {f: marker for f, (_, marker) in family_styles(data.families).items()}
    for name, figure in figures:
        for artist in figure.findobj(Line2D):
            gid = artist.get_gid() or ""
            if gid.startswith("family:") and artist.get_marker() not in (None, "None", "", " ", "x", "_", "|"):  # x: failed trial; _ |: bar caps
                family = gid.split(":", 1)[1]
                assert artist.get_marker() == markers[family], f"{family} in {name}"


def test_family_gids_name_the_family():
    assert family_gid("conv") == "family:conv"
