"""report.md: the run's metadata, accuracy, throughput and tuning tables, and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

from bench.report import checks, sections
from bench.report import formatting as fmt
from bench.report.data import ReportData
from bench.report.figures import Drawn
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
                              f"{_get(protocol, 'validate_every_steps')} steps; checkpoint: "
                              f"{_get(protocol, 'checkpoint')}; not converged: {_get(protocol, 'not_converged_when')}"],
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


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "?"


def render_markdown(data: ReportData, figures: Sequence[Tuple[str, List[Drawn]]]) -> str:
    """The whole report.md text; ``figures`` holds (summary line, pictures) per figure, in order."""
    run, meta, summary, throughput = data.run, data.meta, data.summary, data.throughput
    comparison = checks.baseline_comparison(summary, data.baseline_summary, data.families)
    defects = checks.defects(comparison)
    # No build timestamp: rebuilding from the same results must give the same file (no diff to commit).
    lines = [f"# wsbench report: {meta.get('run_id', run.name)}", "",
             f"Built by `wsbench report` from the stored results in `{run.name}/` alone (nothing was retrained; "
             f"`make report RUN={run.name}` rebuilds it).", ""]
    if data.in_progress is not None:
        lines += [f"> **This run is in progress** (pid {data.in_progress.get('pid', '?')} on host "
                  f"{data.in_progress.get('host', '?')}); the tables hold what it has recorded so far.", ""]
    elif meta.get("status") not in ("complete", "completed"):
        lines += [f"> **This run is not complete** (status: {meta.get('status', 'unknown')}): it was interrupted; "
                  f"rerun its command to resume. The tables hold what it has recorded so far.", ""]
    lines += failures_markdown(data)
    lines += ["## The answer", ""] + sections.answer_markdown(data, comparison) + [""]
    lines += ["## Run", "", metadata_markdown(meta), ""]

    lines += ["## Test accuracy", "",
              "Mean ± standard deviation of test accuracy over seeds, per family and parameter budget, after tuning. "
              f"{fmt.NOT_CONVERGED}: a seed's validation accuracy was still improving in the last fifth of its steps; "
              f"{fmt.BELOW_BASELINE}: more than {checks.DEFECT:.0%} points below the family's plain recipe; "
              "**infeasible**: no configuration of the family lands within the budget's tolerance.", "",
              fmt.accuracy_pivot_markdown(summary, defects), ""]
    if not data.baseline_summary.empty:
        lines += ["### The plain recipe, untuned", "",
                  "Every hyperparameter at its default (the first trial of every search), trained by the same "
                  "protocol with the first seeds.", "", fmt.accuracy_pivot_markdown(data.baseline_summary), ""]
    lines += ["### Details and difference from conv", "",
              "Actual parameter count of the tuned model; 95 % confidence interval from Student's t over seeds; "
              "Δ is the family's test accuracy minus conv's at the same budget, paired seed by seed (seed i trains "
              "on the same batches in every family), with its 95 % t-interval and the paired t-test p-value.", "",
              fmt.accuracy_detail_markdown(summary), ""]

    lines += ["## Can the answer be trusted?", ""]
    if not comparison.empty:
        lines += ["### Tuned against the plain recipe", "",
                  f"A tuned cell more than {checks.DEFECT:.0%} points below its family's untuned recipe would be a "
                  f"defect of the protocol. Defects: {', '.join(defects) or 'none'}.", "",
                  sections.baseline_markdown(comparison), ""]
    lines += ["### Tuning effort, noise and search-space edges", "",
              "Every search ran the same number of trials to the end (a draw that cannot meet the budget is redrawn, "
              "not counted). The bootstrap column is the study-to-study spread: the best validation accuracy of the "
              "cell's search, resampled over its trials (as in the Deep Learning Tuning Playbook), next to the "
              "seed-to-seed spread of test accuracy. A best trial in the outer tenth of a shared range is named.", "",
              sections.noise_markdown(checks.tuning_noise(data.trials, summary, data.families),
                                      checks.edge_flags(meta, data.trials, data.final, data.families)), ""]

    first = throughput.iloc[0] if len(throughput) else None
    setting = (f"batch {int(first['batch'])}, median of {int(first['repeats'])} timed repeats after warm-up "
               f"(min–max in parentheses), device {first['device']}") if first is not None else (
        f"not measured: this run's profile skips the stage (`wsbench throughput {run.path}` measures it)")
    lines += ["## Throughput", "",
              f"Best model of each family × budget; {setting}. MACs are the analytic multiply-accumulates per image "
              f"(family layers and the classifier). Peak RSS is the process's resident memory while measuring.", "",
              fmt.throughput_markdown(throughput, data.families), ""]
    lines += ["## Figures", ""] + figures_markdown(figures)
    return "\n".join(lines)


def failures_markdown(data: ReportData) -> List[str]:
    """A note naming every cell in which a layer raised (see :mod:`bench.store.failures`), or nothing."""
    failures = run_failures(data.run)
    if not failures:
        return []
    return (["> **Failed cells**: an error was raised while a model was being built or trained, usually by the "
             "family's layer (the other cells ran; "
             "`wsbench check FAMILY` checks a family, and rerunning the run's command retrains only what failed):", ">"]
            + [f"> - {line}" for line in failure_lines(failures)] + [""])


def figures_markdown(figures: Sequence[Tuple[str, List[Drawn]]]) -> List[str]:
    """One section per figure: its picture, several under the figure's summary, or 'not drawn'."""
    lines = []
    for number, (summary, drawn) in enumerate(figures, start=1):
        if not drawn:
            lines += [f"### Figure {number}: not drawn", "", f"{summary} Nothing to draw in this run.", ""]
        elif len(drawn) == 1:
            caption = f"Figure {number}: {drawn[0].caption}"
            lines += [f"### {caption}", "", f"![{caption}](figures/{drawn[0].name}.png)", ""]
        else:
            lines += [f"### Figure {number}: {summary}", ""]
            for picture in drawn:
                lines += [f"**{picture.caption}**", "", f"![{picture.caption}](figures/{picture.name}.png)", ""]
    return lines
