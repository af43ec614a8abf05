"""report.md: the run's metadata, accuracy, throughput and tuning tables, and its figures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence, Tuple

from bench.report import checks, sections
from bench.report import formatting as fmt
from bench.report.data import ReportData
from bench.report.figures import Drawn
from bench.stats import REFERENCE

def rebuild_command(run_dir: Path) -> str:
    """How to rebuild this report, for a run kept where ``run_dir`` is: `make report RUN=<name>`
    plus ``RESULTS=<its directory>`` when that is not ``results`` (relative to the working
    directory, the repository root for ``make``; absolute when outside it)."""
    parent = Path(run_dir).resolve().parent
    relative = os.path.relpath(parent, Path.cwd())
    where = str(parent) if relative.startswith("..") else relative
    if where == "results":
        return f"`make report RUN={run_dir.name}` (or `wsbench report {run_dir.name}`)"
    return (f"`make report RUN={run_dir.name} RESULTS={where}` (or `wsbench report --results-dir {where} "
            f"{run_dir.name}`)")

from bench.store.failures import failure_lines, run_failures

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
    protocol = run.get("protocol") or {}
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
        ["training protocol", f"{_get(protocol, 'steps')} optimizer steps ({_get(protocol, 'optimizer')}), batch "
                              f"{_get(protocol, 'batch_size')}, {_get(protocol, 'schedule')}; validation every "
                              f"{_get(protocol, 'eval_every', default=_get(protocol, 'validate_every_steps'))} steps; "
                              f"checkpoint: {_get(protocol, 'checkpoint')}; not converged: "
                              f"{_get(protocol, 'not_converged_when')}" + _steps_choice(run)
                              + (f"; {protocol['seeds_together']}" if protocol.get("seeds_together") else "")],
        ["tuner", f"{_get(cfg, 'tuner')}: {_get(cfg, 'max_trials')} trials run per family × budget — "
                  f"{_get(tuner, 'description')}; objective {_get(tuner, 'objective')}"],
        ["final evaluation", f"the best trial's configuration with {_get(cfg, 'seeds')} seeds (base seed "
                             f"{_get(cfg, 'seed')}); test split touched once per model"],
        ["plain-recipe baseline", f"every hyperparameter at its default, untuned, {_get(cfg, 'baseline_seeds')} "
                                  f"seeds (the same seeds, so seed i is paired across families and stages)"],
        ["backbone", f"depth {_get(cfg, 'depth')}, head {_get(cfg, 'head')}, {cfg.get('padding', 'same')} padding; "
                     f"profile {_get(cfg, 'profile')}"],
        ["Keras backend", f"{cfg.get('backend') or 'tensorflow (not recorded by this run)'}, "
                          f"{cfg.get('threads', '?')} thread(s) per process"],
        ["command", f"`{_get(run, 'command')}`"],
        ["versions", ", ".join(f"{k.replace('_', '-')} {v}" for k, v in versions.items()) or "unknown"],
        ["hardware", f"{_get(hw, 'cpu')}, {_get(hw, 'cores')} cores, {_get(hw, 'ram_gb')} GB RAM, "
                     f"GPU: {_get(hw, 'gpu')}"],
        ["git commit", f"`{_get(run, 'git_commit')}`"],
        ["started / ended", f"{_get(run, 'started')} / {_get(run, 'ended', default='—')} "
                            f"(status: {_get(run, 'status')})"],
    ]
    return fmt.markdown_table(rows, ["", ""])


def _steps_choice(run: dict) -> str:
    """How ``--steps auto`` chose the steps, when it did."""
    choice = run.get("steps_choice")
    if not choice:
        return ""
    tried = ", ".join(f"{look['steps']:,}" for look in choice.get("looks", []))
    return (f"; steps chosen by --steps auto (every family's plain recipe at budget {choice['budget']:,}, looked at "
            f"{tried} steps): {choice['reason']}")


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "?"


def render_markdown(data: ReportData, figures: Sequence[Tuple[str, List[Drawn], str]]) -> str:
    """The whole report.md text; ``figures`` holds (summary, pictures, why not drawn) per
    figure, in order (see :func:`bench.report.build.draw_figures`)."""
    run, meta, summary, throughput = data.run, data.meta, data.summary, data.throughput
    comparison = checks.baseline_comparison(summary, data.baseline_summary, data.families)
    defects = checks.defects(comparison)
    # No build timestamp: rebuilding from the same results must give the same file (no diff to commit).
    lines = [f"# wsbench report: {meta.get('run_id', run.name)}", "",
             f"Built by `wsbench report` from the stored results in `{run.name}/` alone (nothing was retrained; "
             f"{rebuild_command(run.path)} rebuilds it).", ""]
    if data.in_progress is not None:
        lines += [f"> **This run is in progress** (pid {data.in_progress.get('pid', '?')} on host "
                  f"{data.in_progress.get('host', '?')}); the tables hold what it has recorded so far.", ""]
    elif meta.get("status") not in ("complete", "completed"):
        lines += [f"> **This run is not complete** (status: {meta.get('status', 'unknown')}): it was interrupted; "
                  f"rerun its command to resume. The tables hold what it has recorded so far.", ""]
    lines += failures_markdown(data)
    lines += ["## The answer", ""] + sections.answer_markdown(data, comparison) + [""]
    lines += ["## Run", "", metadata_markdown(meta), ""]

    resampled = "seeds and test images" if summary["images_resampled"].all() else "seeds only (the run predates " \
                                                                                "per-image results)"
    lines += ["## Test accuracy", "",
              "Mean ± standard deviation of test accuracy over seeds, per family and parameter budget, after tuning. "
              f"{fmt.NOT_CONVERGED}: a seed's validation accuracy was still improving in the last fifth of its steps; "
              f"{fmt.BELOW_BASELINE}: more than {fmt.points(checks.DEFECT)} below the family's plain recipe; "
              "**infeasible**: no configuration of the family lands within the budget's tolerance.", "",
              fmt.accuracy_pivot_markdown(summary, defects), ""]
    if not data.baseline_summary.empty:
        lines += ["### The plain recipe, untuned", "",
                  "Every hyperparameter at its default (the first trial of every search), trained by the same "
                  "protocol with the first seeds.", "", fmt.accuracy_pivot_markdown(data.baseline_summary), ""]
    lines += ["### Details", "",
              f"Actual parameter count of the tuned model, seeds, and the 95 % interval of the mean over {resampled}. "
              f"summary.csv holds one row per cell with these, the verdicts against {REFERENCE} and the training "
              f"throughput: the table to paste.",
              "", fmt.accuracy_detail_markdown(summary), ""]
    lines += [f"### Against {REFERENCE}: the verdicts", "",
              f"Δ is the family's test accuracy minus {REFERENCE}'s at the same budget, paired seed by seed (seed i "
              f"trains on the same batches in every family) on whole test images, in percentage points, with its 95 % "
              f"interval over {resampled}. *p exact*: the sign-flip permutation test over seeds (cannot go below "
              f"2^(1 − seeds)); *p t*: the t test over seeds and test images; *p Holm*: the larger of the two, "
              f"corrected over the run's comparisons. *Detectable*: the difference this run finds with 80 % power at "
              f"the first Holm step; the next column, the seeds that would bring it to the margin.", "",
              sections.comparisons_markdown(data), ""]

    lines += ["## Can the answer be trusted?", ""]
    if not comparison.empty:
        lines += ["### Tuned against the plain recipe", "",
                  f"A tuned cell whose mean over the seeds both stages trained falls more than "
                  f"{fmt.points(checks.DEFECT)} below its family's untuned recipe would be a defect of the protocol. "
                  f"Defects: {', '.join(defects) or 'none'}.", "",
                  sections.baseline_markdown(comparison), ""]
    val_images = int(((meta.get("dataset") or {}).get("sizes") or {}).get("val") or 0)
    lines += ["### Tuning effort, and whether tuning could rank", "",
              "Every search ran the same number of trials to the end (a draw that cannot meet the budget is redrawn, "
              "not counted). The best trial's lead over the plain recipe (trial 0) on the validation split, in "
              "images, against what that split resolves (one standard error, at least one image): within it, the "
              "search picked its configuration on noise. A best trial in the outer tenth of a shared range is named.",
              "", sections.lead_markdown(checks.tuning_lead(data.trials, summary, data.families, max(val_images, 1)),
                                         checks.edge_flags(meta, data.trials, data.final, data.families)), ""]

    lines += throughput_section(data)
    lines += ["## Figures", ""] + figures_markdown(figures)
    return "\n".join(lines)


def throughput_section(data: ReportData) -> List[str]:
    """## Throughput: how it was measured, what it is (and what ``wsbench speed`` is), the table."""
    throughput = data.throughput
    if throughput.empty:
        return ["## Throughput", "", f"Not measured: this run's profile skips the stage (`wsbench throughput "
                                     f"{data.run.path}` measures it).", ""]
    first = throughput.iloc[0]
    batch, repeats, device = int(first["batch"]), int(first["repeats"]), first["device"]
    if str(first.get("timing")) == "interleaved":
        how = (f"all timed together after the run in {repeats} interleaved rounds (each round times every model's "
               f"training step, inference call and batch-1 call once, in rotating order, so load from other "
               f"processes hits every model alike); median over rounds, the slowest and fastest round in parentheses")
    else:
        how = (f"median of {repeats} timed repeats after warm-up, one model after another (min–max in parentheses; "
               f"this run predates interleaved rounds)")
    text = [f"Best model of each family × budget; {how}; batch {batch}, device {device}. What is timed is the whole "
            f"tuned model at its budget (its solved widths, Keras `train_on_batch` with Adam), so families meet at "
            f"equal parameters. `wsbench speed` times something else: one layer's training step at equal shape (the "
            f"same filters for every family). A family whose layer is slower there can train faster here, with "
            f"fewer filters at the same budget; the two do not contradict each other. MACs are the analytic "
            f"multiply-accumulates per image (family layers and the classifier)."]
    if "step_mem_mb" in throughput and throughput["step_mem_mb"].astype(float).notna().any():
        text.append("Step memory is TensorFlow's allocator peak during one training step above what was in use "
                    "before it (activations, gradients and temporaries), each model measured in a fresh process "
                    "(with TensorFlow, whatever the run's backend).")
    elif "peak_rss_mb" in throughput:
        text.append("This run recorded the measuring process's peak resident memory, which rose with the order in "
                    "which models were measured; it is not shown. A run made now records each model's step memory, "
                    "measured in a fresh process.")
    return ["## Throughput", "", " ".join(text), "", fmt.throughput_markdown(throughput, data.families), ""]


def failures_markdown(data: ReportData) -> List[str]:
    """A note naming every cell in which a layer raised (see :mod:`bench.store.failures`), or nothing."""
    failures = run_failures(data.run)
    if not failures:
        return []
    return (["> **Failed cells**: an error was raised while a model was being built or trained, usually by the "
             "family's layer (the other cells ran; "
             "`wsbench check FAMILY` checks a family, and rerunning the run's command retrains only what failed):", ">"]
            + [f"> - {line}" for line in failure_lines(failures)] + [""])


def figures_markdown(figures: Sequence[Tuple[str, List[Drawn], str]]) -> List[str]:
    """One section per figure: its picture, several under the figure's summary, or why it is
    not drawn (the figure's own reason, else 'nothing to draw')."""
    lines = []
    for number, (summary, drawn, why_not) in enumerate(figures, start=1):
        if not drawn:
            lines += [f"### Figure {number}: not drawn", "", f"{summary} {why_not or 'Nothing to draw in this run.'}",
                      ""]
        elif len(drawn) == 1:
            caption = f"Figure {number}: {drawn[0].caption}"
            lines += [f"### {caption}", "", f"![{caption}](figures/{drawn[0].name}.png)", ""]
        else:
            lines += [f"### Figure {number}: {summary}", ""]
            for picture in drawn:
                lines += [f"**{picture.caption}**", "", f"![{picture.caption}](figures/{picture.name}.png)", ""]
    return lines
