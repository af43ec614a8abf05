"""report.md: the run's metadata, accuracy, throughput and tuning tables, and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Tuple

from bench.report import formatting as fmt
from bench.report.data import ReportData
from bench.report.figures import Drawn
from bench.report.tables import tuning_effort

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
    return fmt.markdown_table(rows, ["", ""])


def _count(value) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "?"


def render_markdown(data: ReportData, figures: Sequence[Tuple[str, List[Drawn]]]) -> str:
    """The whole report.md text; ``figures`` holds (summary line, pictures) per figure, in order."""
    run, meta, summary, throughput = data.run, data.meta, data.summary, data.throughput
    run_id = meta.get("run_id", run.name)
    # No build timestamp: rebuilding from the same results must give the same file (no diff to commit).
    lines = [f"# wsbench report: {run_id}", "",
             f"Built by `wsbench report` from the stored results in `{run.name}/` alone (nothing was retrained; "
             f"`make report RUN={run.name}` rebuilds it).", ""]
    if data.in_progress is not None:
        lines += [f"> **This run is in progress** (pid {data.in_progress.get('pid', '?')} on host "
                  f"{data.in_progress.get('host', '?')}); the tables hold what it has recorded so far.", ""]
    elif meta.get("status") not in ("complete", "completed"):
        lines += [f"> **This run is not complete** (status: {meta.get('status', 'unknown')}): it was interrupted; "
                  f"rerun its command to resume. The tables hold what it has recorded so far.", ""]
    lines += ["## Run", "", metadata_markdown(meta), ""]

    lines += ["## Test accuracy", "",
              "Mean ± standard deviation of test accuracy over seeds, per family and parameter budget. "
              "**infeasible**: no configuration of the family lands within the budget's tolerance.", "",
              fmt.accuracy_pivot_markdown(summary), "",
              "### Details and difference from conv", "",
              "Actual parameter count of the tuned model; 95 % confidence interval from Student's t over seeds; "
              "Δ is the family's mean minus conv's mean at the same budget, with the two-sided Welch t-test "
              "p-value (scipy; n/a when either side has fewer than two seeds).", "",
              fmt.accuracy_detail_markdown(summary), ""]

    first = throughput.iloc[0] if len(throughput) else None
    setting = (f"batch {int(first['batch'])}, median of {int(first['repeats'])} timed repeats after warm-up "
               f"(min–max in parentheses), device {first['device']}") if first is not None else "no rows"
    lines += ["## Throughput", "",
              f"Best model of each family × budget; {setting}. MACs are the analytic multiply-accumulates per image "
              f"(family layers and the classifier). Peak RSS is the process's resident memory while measuring.", "",
              fmt.throughput_markdown(throughput, data.families), ""]

    lines += ["## Tuning effort", "",
              "Every family gets the same tuner and number of trials; infeasible trials are configurations that "
              "cannot meet the budget.", "", fmt.effort_markdown(tuning_effort(data.trials, data.families)), ""]
    lines += ["## Figures", ""] + figures_markdown(figures)
    return "\n".join(lines)


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
