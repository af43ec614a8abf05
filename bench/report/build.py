"""``wsbench report`` / ``make report``: a run's stored results as report.md and figures.

Reads ``results/<run>/`` only (run.json, trials.csv, final.csv, throughput.csv and the saved
models for the SISWS pictures); it never trains. Writes ``report.md`` and
``figures/fig*.png`` into the run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

from bench.report import figures
from bench.report import tables
from bench.store import run_files
from bench.report.tables import fmt_budget
from bench.store.run_files import RunFilesError

SISWS_FAMILIES = ("sisws", "sisws_trainable")
FIGURE_GLOB = "fig[0-9]_*.png"


class ReportError(ValueError):
    """An unknown run, or a run directory missing a file the report needs (named)."""


def newest_run(results_dir: Path) -> Path:
    """The run in ``results_dir`` that started last (run.json's ``started``, then the
    directory's modification time).

    Raises:
        ReportError: ``results_dir`` does not exist or holds no run.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"results directory {str(results_dir)!r} does not exist: run `make bench` first, or "
                          f"name the directory that holds your runs.")
    runs = []
    for name in run_files.list_runs(results_dir):
        path = results_dir / name
        try:
            started = str(run_files.read_run_json(path).get("started") or "")
        except RunFilesError:
            started = ""
        runs.append((started, path.stat().st_mtime, name, path))
    if not runs:
        raise ReportError(f"no run in {str(results_dir)!r} (no subdirectory holds a {run_files.RUN_JSON}): "
                          f"run `make bench` first.")
    return max(runs)[3]


def resolve_run(results_dir: Path, run: str | None) -> Path:
    """The run directory for ``run`` (a name under ``results_dir`` or a path); the newest
    run when ``run`` is None or empty.

    Raises:
        ReportError: the run does not exist (naming the runs that do).
    """
    if not run:
        return newest_run(results_dir)
    candidate = Path(run)
    if not candidate.is_dir():
        candidate = Path(results_dir) / run
    if not candidate.is_dir():
        known = run_files.list_runs(results_dir)
        raise ReportError(f"unknown run {run!r}: neither {run!r} nor {str(Path(results_dir) / run)!r} is a "
                          f"directory; runs in {str(results_dir)!r}: {known if known else 'none'}.")
    return candidate


def _load(run_dir: Path):
    run = run_files.read_run_json(run_dir)
    final = run_files.read_table(run_dir, run_files.FINAL_CSV, hint="the run has no final evaluation yet")
    trials = run_files.read_table(run_dir, run_files.TRIALS_CSV, hint="the run has no tuning trials yet")
    throughput = run_files.read_table(run_dir, run_files.THROUGHPUT_CSV,
                                      hint=f"measure it with `wsbench throughput {run_dir}`")
    return run, final, trials, throughput


def _sisws_models(run_dir: Path, summary: pd.DataFrame) -> List[Tuple[str, object, Path]]:
    """(family, budget, model file) of the best-accuracy budget of each SISWS family.

    Raises:
        RunFilesError: that model's file is missing.
    """
    picks = []
    for family in SISWS_FAMILIES:
        done = summary[(summary["family"] == family) & (summary["status"] == "completed")]
        if done.empty:
            continue
        best = done.sort_values(["mean", "budget"], ascending=False).iloc[0]
        path = run_files.model_path(run_dir, family, best["budget"])
        if not path.is_file():
            raise RunFilesError(f"{str(path)!r} is missing: figure 5 draws the best {family} model.")
        picks.append((family, best["budget"], path))
    return picks


def build_report(run_dir: Path, in_progress: Optional[dict] = None) -> Path:
    """Writes ``run_dir/report.md`` and ``run_dir/figures/*.png`` from the stored results.

    Figures: fig1_accuracy_vs_params, fig2_accuracy_vs_throughput, fig3_throughput,
    fig4_tuning_curves, and for the best sisws / sisws_trainable model (if the run has one)
    fig5_<family>_similarity and fig5_<family>_kernels.

    Args:
        run_dir: results/<run>.
        in_progress: the details of the process writing the run now (see
            :meth:`bench.store.results.RunDir.holder`), or None.

    Returns:
        The path of report.md.

    Raises:
        ReportError: the run directory, run.json, final.csv, trials.csv, throughput.csv or
            a model file figure 5 needs is missing (named in the message), or a table lacks
            a schema column.
    """
    run_dir = Path(run_dir)
    try:
        run, final, trials, throughput = _load(run_dir)
        families = tables.family_order(run, final, trials, throughput)
        summary = tables.accuracy_summary(final, families)
        sisws = _sisws_models(run_dir, summary)
    except RunFilesError as exc:
        raise ReportError(str(exc)) from exc
    if summary.empty:
        raise ReportError(f"{str(run_dir / run_files.FINAL_CSV)!r} has no rows: nothing to report yet.")

    styles = figures.family_styles(families)
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    for stale in fig_dir.glob(FIGURE_GLOB):  # a rerun must not leave figures of an earlier report
        stale.unlink()
    tolerance = (run.get("config") or {}).get("tolerance")
    budgets = sorted(set(summary["budget"]) | set(trials["budget"]), key=float)
    curves = tables.best_so_far(trials)
    no_model = [(r.family, r.budget) for r in summary.itertuples(index=False) if r.status != "completed"]
    drawn: Dict[str, Path] = {
        "fig1": figures.save(figures.accuracy_vs_params(summary, styles, tolerance=tolerance),
                             fig_dir / "fig1_accuracy_vs_params.png"),
        "fig2": figures.save(figures.accuracy_vs_throughput(summary, throughput, styles),
                             fig_dir / "fig2_accuracy_vs_throughput.png"),
        "fig3": figures.save(figures.throughput_bars(throughput, families, styles, missing=no_model),
                             fig_dir / "fig3_throughput.png"),
        "fig4": figures.save(figures.tuning_curves(curves, families, budgets, styles),
                             fig_dir / "fig4_tuning_curves.png"),
    }
    fig5 = []
    for family, budget, path in sisws:
        for kind, fig in figures.sisws_figures(path, family, budget):
            fig5.append((family, budget, kind, figures.save(fig, fig_dir / f"fig5_{family}_{kind}.png")))

    text = render_markdown(run_dir, run, summary, throughput, tables.tuning_effort(trials, families), drawn, fig5,
                           in_progress)
    report = run_dir / "report.md"
    run_files.write_text_atomic(report, text)
    return report


# -- report.md --------------------------------------------------------------------------------------
def _get(mapping, *keys, default="unknown"):
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping or mapping[key] in (None, ""):
            return default
        mapping = mapping[key]
    return mapping


def metadata_markdown(run: dict) -> str:
    """The run's metadata as a two-column table."""
    cfg = run.get("config") or {}
    data = run.get("dataset") or {}
    sizes = data.get("sizes") or {}
    shape = "×".join(str(v) for v in data.get("input_shape", [])) or "unknown"
    tuner = run.get("tuner") or {}
    stopping = tuner.get("early_stopping") or {}
    stop_text = (f"; early stopping on {stopping.get('monitor')} (patience {stopping.get('patience')})"
                 if stopping else (f"; early stopping patience {cfg['patience']}" if "patience" in cfg else ""))
    versions = run.get("versions") or {}
    hw = run.get("hardware") or {}
    budgets = ", ".join(f"{int(b):,}" for b in cfg.get("budgets", [])) or "unknown"
    tolerance = cfg.get("tolerance")
    rows = [
        ["dataset", f"{_get(data, 'name')}: input {shape}, {_get(data, 'num_classes')} classes; split "
                    f"train {_count(sizes.get('train'))} / val {_count(sizes.get('val'))} / "
                    f"test {_count(sizes.get('test'))}"],
        ["families", ", ".join(cfg.get("families", [])) or "unknown"],
        ["parameter budgets", budgets + (f" trainable parameters (each model within ±{tolerance:.0%})"
                                         if isinstance(tolerance, (int, float)) else "")],
        ["tuner", f"{_get(cfg, 'tuner')}: {_get(cfg, 'max_trials')} trials per family × budget, up to "
                  f"{_get(cfg, 'epochs')} epochs each, batch size {_get(cfg, 'batch_size')}, objective "
                  f"{_get(tuner, 'objective', default='val_accuracy')}{stop_text}"],
        ["final evaluation", f"{_get(cfg, 'seeds')} seeds (base seed {_get(cfg, 'seed')}), test split touched once"],
        ["backbone", f"depth {_get(cfg, 'depth')}, head {_get(cfg, 'head')}; profile {_get(cfg, 'profile')}"],
        ["command", f"`{_get(run, 'command')}`"],
        ["versions", ", ".join(f"{k.replace('_', '-')} {v}" for k, v in versions.items()) or "unknown"],
        ["hardware", f"{_get(hw, 'cpu')}, {_get(hw, 'cores')} cores, {_get(hw, 'ram_gb')} GB RAM, "
                     f"GPU: {_get(hw, 'gpu')}"],
        ["git commit", f"`{_get(run, 'git_commit')}`"],
        ["started / ended", f"{_get(run, 'started')} / {_get(run, 'ended', default='—')} "
                            f"(status: {_get(run, 'status')})"],
    ]
    return tables.markdown_table(rows, ["", ""])


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "?"


def render_markdown(run_dir: Path, run: dict, summary: pd.DataFrame, throughput: pd.DataFrame,
                    effort: pd.DataFrame, drawn: Dict[str, Path], fig5: Sequence[tuple],
                    in_progress: Optional[dict] = None) -> str:
    """The whole report.md text."""
    run_id = run.get("run_id", run_dir.name)
    families = list(dict.fromkeys(summary["family"]))
    rel = lambda p: Path(p).relative_to(run_dir).as_posix()  # noqa: E731
    # No build timestamp: rebuilding from the same results must give the same file (no diff to commit).
    lines = [f"# wsbench report: {run_id}", "",
             f"Built by `wsbench report` from the stored results in `{run_dir.name}/` alone (nothing was retrained; "
             f"`make report RUN={run_dir.name}` rebuilds it).", ""]
    if in_progress is not None:
        lines += [f"> **This run is in progress** (pid {in_progress.get('pid', '?')} on host "
                  f"{in_progress.get('host', '?')}); the tables hold what it has recorded so far.", ""]
    elif run.get("status") not in ("complete", "completed"):
        lines += [f"> **This run is not complete** (status: {run.get('status', 'unknown')}): it was interrupted; "
                  f"rerun its command to resume. The tables hold what it has recorded so far.", ""]
    lines += ["## Run", "", metadata_markdown(run), ""]

    lines += ["## Test accuracy", "",
              "Mean ± standard deviation of test accuracy over seeds, per family and parameter budget. "
              "**infeasible**: no configuration of the family lands within the budget's tolerance.", "",
              tables.accuracy_pivot_markdown(summary), "",
              "### Details and difference from conv", "",
              "Actual parameter count of the tuned model; 95 % confidence interval from Student's t over seeds; "
              "Δ is the family's mean minus conv's mean at the same budget, with the two-sided Welch t-test "
              "p-value (scipy; n/a when either side has fewer than two seeds).", "",
              tables.accuracy_detail_markdown(summary), ""]

    first = throughput.iloc[0] if len(throughput) else None
    setting = (f"batch {int(first['batch'])}, median of {int(first['repeats'])} timed repeats after warm-up "
               f"(min–max in parentheses), device {first['device']}") if first is not None else "no rows"
    lines += ["## Throughput", "",
              f"Best model of each family × budget; {setting}. MACs are the analytic multiply-accumulates per image "
              f"(family layers and the classifier). Peak RSS is the process's resident memory while measuring.", "",
              tables.throughput_markdown(throughput, families), ""]

    lines += ["## Tuning effort", "",
              "Every family gets the same tuner and number of trials; infeasible trials are configurations that "
              "cannot meet the budget.", "", tables.effort_markdown(effort), ""]

    captions = {
        "fig1": "Figure 1: test accuracy against actual parameter count (mean and 95 % CI over seeds, log x).",
        "fig2": "Figure 2: test accuracy against training throughput; the Pareto frontier is ringed.",
        "fig3": "Figure 3: training and inference throughput and batch-1 latency by family and budget.",
        "fig4": "Figure 4: tuning curves, best-so-far validation accuracy against trial index.",
    }
    lines += ["## Figures", ""]
    for key, caption in captions.items():
        lines += [f"### {caption}", "", f"![{caption}]({rel(drawn[key])})", ""]
    if fig5:
        lines += ["### Figure 5: what SISWS learned", "",
                  "For the best-accuracy budget of each SISWS family, its first block: the centroids drawn over the "
                  "similarity map, each output cell coloured by its dominant centroid; and the locally weighted "
                  "kernels Σ_s S_s(i, j)·W_s at sampled output positions, tinted by the dominant centroid.", ""]
        for family, budget, kind, path in fig5:
            what = "centroids and similarity map" if kind == "similarity" else "locally weighted kernels"
            lines += [f"**{family} @ budget {fmt_budget(budget)}: {what}**", "",
                      f"![{family} {what}]({rel(path)})", ""]
    else:
        lines += ["### Figure 5: not drawn", "",
                  "The run has no completed `sisws` or `sisws_trainable` model to draw.", ""]
    return "\n".join(lines)
