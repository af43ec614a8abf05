"""bench.report.build: the report builds from the stored fixture alone, with readable errors."""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np
import pandas as pd
import pytest

from bench.report import tables as report_tables
from bench.report.build import ReportError, build_report
from bench.store import ResultsError, newest_run, resolve_run
from bench.report.pareto import correct_counts, pareto_front
from bench.stats.comparisons import compare_all
from results_fixture import FIXTURE_RUN, copy_fixture_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    run_dir = copy_fixture_run(tmp_path_factory.mktemp("results"))
    report = build_report(run_dir)
    return run_dir, report, report.read_text()


def test_every_figure_is_a_non_empty_png(built):
    run_dir, _, _ = built
    names = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert names == sorted(["fig1_accuracy_vs_params.png", "fig2_accuracy_vs_throughput.png", "fig3_throughput.png",
                            "fig4_tuning_curves.png", "fig5_sisws_similarity.png", "fig5_sisws_kernels.png",
                            "fig5_sisws_trainable_similarity.png", "fig5_sisws_trainable_kernels.png"])
    for name in names:
        path = run_dir / "figures" / name
        width, height = png_size(path)
        assert width >= 300 and height >= 200, name
        assert path.stat().st_size > 5000, name  # more than a blank canvas


def test_report_embeds_every_figure(built):
    run_dir, _, text = built
    for png in (run_dir / "figures").glob("*.png"):
        assert f"](figures/{png.name})" in text


def test_report_holds_metadata_header(built):
    _, _, text = built
    run = json.loads((FIXTURE_RUN / "run.json").read_text())
    sizes = run["dataset"]["sizes"]
    assert text.startswith(f"# wsbench report: {run['run_id']}")
    assert f"train {sizes['train']:,} / val {sizes['val']:,} / test {sizes['test']:,}" in text
    for value in (run["versions"]["tensorflow"], run["versions"]["keras"], run["git_commit"], run["hardware"]["cpu"],
                  "quasirandom: 3 trials run", "3 seeds", "300, 3,000", "60 optimizer steps", "2 seeds"):
        assert str(value) in text, value


def test_report_accuracy_table_matches_final_csv(built):
    # Recomputed here with plain pandas, independently of bench.report.stats.
    _, _, text = built
    final = pd.read_csv(FIXTURE_RUN / "final.csv")
    done = final[final["status"] == "completed"]
    for (family, budget), group in done.groupby(["family", "budget"]):
        acc = group["test_accuracy"]
        line = next(l for l in text.splitlines() if l.startswith(f"| {family} | {budget:,} |"))
        assert f"{acc.mean():.3f} ± {acc.std(ddof=1):.3f}" in line
        assert f"| {int(group['params'].iloc[0]):,} | {len(acc)} |" in line
    infeasible = final[final["status"] == "infeasible"].iloc[0]
    line = next(l for l in text.splitlines() if l.startswith(f"| {infeasible['family']} | {infeasible['budget']:,} |"))
    assert "**infeasible**" in line
    assert "### Against conv: the verdicts" in text and "p exact (seeds)" in text
    # The fixture predates per-image results: the report says its intervals hold the test images fixed.
    assert "**Intervals over seeds only.** This run predates per-image results (correct.csv)" in text


def test_report_throughput_table_matches_throughput_csv(built):
    _, _, text = built
    table = pd.read_csv(FIXTURE_RUN / "throughput.csv")
    for r in table.itertuples():
        line = next(l for l in text.splitlines()
                    if l.startswith(f"| {r.family} | {r.budget:,} | {r.params:,} | {r.macs_per_image:,} |"))
        assert f"{r.train_img_s:,.0f} ({r.train_img_s_min:,.0f}–{r.train_img_s_max:,.0f})" in line


def test_rebuilding_replaces_stale_figures(tmp_path):
    run_dir = copy_fixture_run(tmp_path)
    (run_dir / "figures").mkdir()
    stale = run_dir / "figures" / "fig5_oldfamily_similarity.png"
    stale.write_bytes(PNG_MAGIC)
    build_report(run_dir)
    assert not stale.exists()


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", ["run.json", "final.csv", "trials.csv", "throughput.csv"])
def test_missing_file_is_named(tmp_path, missing):
    run_dir = copy_fixture_run(tmp_path)
    (run_dir / missing).unlink()
    with pytest.raises(ReportError, match=missing.replace(".", r"\.")):
        build_report(run_dir)
    assert not (run_dir / "report.md").exists()


def test_missing_sisws_model_is_named(tmp_path):
    run_dir = copy_fixture_run(tmp_path)
    model = run_dir / "models" / "sisws_trainable__3000.keras"  # the budget figure 5 draws: its best
    model.unlink()
    with pytest.raises(ReportError, match=model.name):
        build_report(run_dir)


def test_missing_column_is_named(tmp_path):
    run_dir = copy_fixture_run(tmp_path)
    final = pd.read_csv(run_dir / "final.csv").drop(columns=["test_accuracy"])
    final.to_csv(run_dir / "final.csv", index=False)
    with pytest.raises(ReportError, match="test_accuracy"):
        build_report(run_dir)


def test_unknown_run_names_known_runs(tmp_path):
    copy_fixture_run(tmp_path, "real_run")
    with pytest.raises(ResultsError, match=r"'nope'.*real_run"):
        resolve_run(tmp_path, "nope")
    with pytest.raises(ReportError, match="nope"):
        build_report(tmp_path / "nope")


def test_newest_run_by_start_time(tmp_path):
    for name, started in [("b_old", "2024-01-02T00:00:00"), ("a_new", "2024-03-01T00:00:00")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(json.dumps({"run_id": name, "started": started}))
    (tmp_path / "not_a_run").mkdir()
    os.utime(tmp_path / "b_old", (2e9, 2e9))  # a later mtime must not beat a later start
    assert newest_run(tmp_path) == tmp_path / "a_new"
    assert resolve_run(tmp_path, None) == tmp_path / "a_new"
    assert resolve_run(tmp_path, "b_old") == tmp_path / "b_old"


def test_newest_run_errors(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        newest_run(tmp_path / "absent")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ResultsError, match="no run"):
        newest_run(tmp_path)


# -- pieces ------------------------------------------------------------------------------------------
def test_pareto_front_counts_whole_images_and_needs_throughput_beyond_its_spread():
    # Cells (correct test images of 360 × 3 seeds, throughput slowest–fastest round):
    #   A 1068, 10–12k   B 1068, 20–22k (same images as A, faster beyond the spread: dominates A)
    #   C 1070, 19–23k   (more images than B, overlapping throughput: neither dominates the other)
    #   D 1050, 30–40k   (fewest images but fastest: dominated by nobody)
    #   E 1050, 5–6k     (dominated by every other cell)
    correct, images = [1068, 1068, 1070, 1050, 1050], [1080] * 5
    low, high = [10e3, 20e3, 19e3, 30e3, 5e3], [12e3, 22e3, 23e3, 40e3, 6e3]
    assert pareto_front(correct, images, low, high).tolist() == [False, True, True, True, False]
    # Float means that differ by rounding alone are one count: the tie is exact.
    final = pd.DataFrame({"family": ["a"] * 3 + ["b"] * 3, "budget": [1] * 6, "status": ["completed"] * 6,
                          "test_accuracy": [356 / 360 + 1e-9, 356 / 360, 356 / 360 - 1e-9] + [356 / 360] * 3})
    counts = correct_counts(final, 360).set_index("family")
    assert counts.loc["a", "correct"] == counts.loc["b", "correct"] == 1068 and counts.loc["a", "images"] == 1080
    with pytest.raises(ValueError, match="test_images=0"):
        correct_counts(final, 0)


def test_each_family_is_compared_with_conv_seed_by_seed_on_whole_images():
    images = 50
    final = pd.DataFrame({
        "family": ["conv"] * 3 + ["sisws"] * 3 + ["lrlc"],
        "budget": [100] * 7, "seed": ["0", "1", "2"] * 2 + [""], "status": ["completed"] * 6 + ["infeasible"],
        "reason": [""] * 6 + ["too small"],
        "test_accuracy": [45 / 50, 47 / 50, 46 / 50, 40 / 50, 43 / 50, 41 / 50, math.nan],
        "params": [99] * 3 + [101] * 3 + [math.nan], "converged": [True] * 5 + [False, True],
    })
    families = ["conv", "sisws", "lrlc"]
    summary = report_tables.accuracy_summary(final, families, images)
    compared = compare_all(report_tables.cells_of(summary), families, margin=0.01).set_index("family")
    table = report_tables.with_comparisons(summary, compared.reset_index()).set_index("family")
    # Paired differences of −5, −4, −5 images (read back as counts, not rounded fractions).
    assert table.loc["sisws", "outcomes"].correct.tolist() == [40, 43, 41]
    diffs = [-5 / 50, -4 / 50, -5 / 50]
    assert table.loc["sisws", "diff_vs_reference"] == pytest.approx(sum(diffs) / 3)
    sd = math.sqrt(sum((d - sum(diffs) / 3) ** 2 for d in diffs) / 2)
    t = (sum(diffs) / 3) / (sd / math.sqrt(3))
    assert compared.loc["sisws", "p_t"] == pytest.approx(1 - abs(t) / math.sqrt(2 + t * t))  # df = 2 closed form
    assert compared.loc["sisws", "p_signflip"] == 0.25  # all three seeds the same way: 2/8
    assert compared.loc["sisws", "p"] == 0.25 and compared.loc["sisws", "verdict"] == "inconclusive"
    assert table.loc["sisws", "not_converged"] == 1
    assert math.isnan(table.loc["conv", "p_value"]) and "lrlc" not in compared.index
    assert table.loc["lrlc", "status"] == "infeasible" and table.loc["lrlc", "n"] == 0
    assert table.loc["lrlc", "reason"] == "too small"


def test_an_accuracy_interval_never_reaches_past_one():
    # Three seeds at 49, 50 and 50 of 50 images: mean ± t(2)·se reaches past 1.000.
    final = pd.DataFrame({"family": ["conv"] * 3, "budget": [100] * 3, "seed": ["0", "1", "2"],
                          "status": ["completed"] * 3, "reason": [""] * 3,
                          "test_accuracy": [49 / 50, 1.0, 1.0], "params": [99] * 3, "converged": [True] * 3})
    row = report_tables.accuracy_summary(final, ["conv"], 50).iloc[0]
    assert row["ci_high"] == 1.0 and 0.9 < row["ci_low"] < row["mean"] < 1.0


def test_run_without_sisws_skips_figure_5(tmp_path):
    # Only conv and a family the registry does not know (a plugin that is not installed here).
    run_dir = copy_fixture_run(tmp_path)
    for name in ("final.csv", "trials.csv", "throughput.csv"):
        table = pd.read_csv(run_dir / name)
        table = table[~table["family"].str.startswith("sisws_trainable")]
        table["family"] = table["family"].replace({"sisws": "my_plugin"})
        table.to_csv(run_dir / name, index=False)
    text = build_report(run_dir).read_text()
    names = sorted(p.name for p in (run_dir / "figures").glob("*.png"))
    assert names == ["fig1_accuracy_vs_params.png", "fig2_accuracy_vs_throughput.png", "fig3_throughput.png",
                     "fig4_tuning_curves.png"]
    assert "Figure 5: not drawn" in text
    assert "| my_plugin | 3,000 |" in text


def test_run_without_curves_says_why_figure_6_is_missing(built):
    _, _, text = built
    section = text[text.index("### Figure 6"):]
    assert section.startswith("### Figure 6: not drawn")
    assert "This run has no curves.csv: it was made before wsbench kept every model's validation history" in section


def synthetic_curves(run_dir, steps=(20, 40, 60)):
    """curves.csv rows for every completed final and baseline model of the fixture, with known values."""
    rows = []
    for stage in ("final", "baseline"):
        table = pd.read_csv(run_dir / f"{stage}.csv")
        for r in table[table["status"] == "completed"].itertuples(index=False):
            for k, step in enumerate(steps):
                value = 0.5 + 0.1 * k + 0.01 * (int(r.seed) % 3)
                rows.append({"run_id": "run_small", "stage": stage, "family": r.family, "budget": int(r.budget),
                             "trial": "0", "seed": str(int(r.seed)), "step": step, "loss": 2.0 - value,
                             "val_accuracy": value, "val_loss": 1.5 - value})
    return rows


def test_learning_curves_draw_median_and_range_over_seeds(tmp_path):
    from bench.report.data import load
    from bench.report.figures import FIGURES
    from bench.store import RunDir

    run_dir = copy_fixture_run(tmp_path)
    rows = synthetic_curves(run_dir)
    RunDir(run_dir).append("curves", rows)
    [drawn] = FIGURES.get("fig6_learning_curves")(load(run_dir))
    frame = pd.DataFrame(rows)
    want = frame[frame["stage"] == "final"].groupby(["family", "budget", "step"])["val_accuracy"]
    budget = int(frame["budget"].min())
    ax = next(ax for ax in drawn.figure.axes if ax.get_ylabel() == "validation accuracy")  # the first budget's
    line = next(line for line in ax.get_lines() if line.get_gid() == "family:conv")
    np.testing.assert_allclose(line.get_ydata(), want.median().loc[("conv", budget)].to_numpy())
    np.testing.assert_array_equal(line.get_xdata(), [20, 40, 60])
    band = next(c for c in ax.collections if c.get_gid() == "family:conv")
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(want.min().loc[("conv", budget)].min())
    assert ys.max() == pytest.approx(want.max().loc[("conv", budget)].max())
    text = build_report(run_dir).read_text()
    assert "![Figure 6: learning curves of the final models" in text
    assert (run_dir / "figures" / "fig6_learning_curves.png").stat().st_size > 5000


def test_a_feature_the_layers_lack_is_refused_before_anything_is_written(tmp_path):
    run_dir = copy_fixture_run(tmp_path)
    with pytest.raises(ReportError, match=r"feature=999 is not accepted"):
        build_report(run_dir, feature=999)
    assert not (run_dir / "report.md").exists() and not (run_dir / "figures").exists()
    with pytest.raises(ReportError, match=r"feature=-1 is not accepted"):
        build_report(run_dir, feature=-1)


def test_rebuild_line_names_a_command_for_the_run_s_directory(built):
    run_dir, _, text = built
    where = run_dir.parent  # a temporary directory: outside the working directory, named absolutely
    assert f"`make report RUN=run_small RESULTS={where}` (or `wsbench report --results-dir {where} run_small`)" in text


def test_summary_csv_matches_final_and_throughput_csv(built):
    # One row per family × budget, recomputed here with plain pandas from the stored tables.
    run_dir, _, _ = built
    summary = pd.read_csv(run_dir / "summary.csv")
    final = pd.read_csv(FIXTURE_RUN / "final.csv")
    throughput = pd.read_csv(FIXTURE_RUN / "throughput.csv").set_index(["family", "budget"])
    assert len(summary) == final.groupby(["family", "budget"]).ngroups
    assert (summary["dataset"] == "digits").all()
    done = final[final["status"] == "completed"]
    conv = done[done["family"] == "conv"].set_index(["budget", "seed"])["test_accuracy"]
    for (family, budget), group in done.groupby(["family", "budget"]):
        row = summary[(summary["family"] == family) & (summary["budget"] == budget)].iloc[0]
        acc = group["test_accuracy"]
        assert row["status"] == "completed" and row["seeds"] == len(acc)
        assert row["mean"] == pytest.approx(acc.mean(), abs=1e-6)
        assert row["std"] == pytest.approx(acc.std(ddof=1), abs=1e-6)
        assert row["ci_low"] <= row["mean"] <= row["ci_high"] and row["ci_over"] == "seeds"
        assert row["converged_seeds"] == int(group["converged"].sum())
        assert row["params"] == int(group["params"].median())
        assert row["train_img_s"] == pytest.approx(throughput.loc[(family, budget), "train_img_s"])
        if family == "conv":
            assert row["verdict"] == "reference" and math.isnan(row["delta_vs_conv"])
            continue
        paired = group.set_index("seed")["test_accuracy"] - conv.loc[budget]
        assert row["delta_vs_conv"] == pytest.approx(paired.mean(), abs=1e-6)
        assert row["delta_ci_low"] <= row["delta_vs_conv"] <= row["delta_ci_high"]
        assert row["verdict"] in ("better", "worse", "equivalent", "inconclusive") and 0 <= row["p_holm"] <= 1
    for r in final[final["status"] == "infeasible"].itertuples():
        row = summary[(summary["family"] == r.family) & (summary["budget"] == r.budget)].iloc[0]
        assert row["status"] == "infeasible" and row["seeds"] == 0 and "no configuration" in row["reason"]
        assert math.isnan(row["mean"]) and pd.isna(row["verdict"])  # no model: no verdict


def test_bench_prints_a_verdict_for_every_family_when_the_families_were_left_to_the_default(tmp_path):
    """`wsbench bench` without --families (config.families == ()) prints the verdicts of every
    family the run stored, each against conv at each budget."""
    from bench.run.command import verdict_table
    from bench.run.config import BenchConfig
    from bench.store.rundir import RunDir
    from made_up_runs import BUDGETS, FAMILIES, made_up_run

    run = made_up_run(tmp_path, "defaults", shifts={"locally_connected": -30}, seeds=3)
    table = verdict_table(RunDir(run), BenchConfig(seeds=3))
    assert list(table.index) == [f for f in FAMILIES if f != "conv"] and sorted(table.columns) == sorted(BUDGETS)
    assert table.map(lambda cell: cell.endswith("(n=3)")).all().all(), table
    assert table.loc["locally_connected"].str.startswith("-8.3").all(), table  # 30 of 360 images
