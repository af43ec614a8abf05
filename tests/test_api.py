"""bench.api, the Python API: the README's example runs as written (a real, tiny benchmark in
this process, then its tables, its report and the committed references), and bad input is a
ValueError naming the value."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from bench import api

pytestmark = pytest.mark.slow(seconds=25)  # trains 6 tiny models in this process

ROOT = Path(__file__).resolve().parent.parent


def readme_examples() -> list:
    """The Python blocks of the README's "From Python" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## From Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_readme_example_runs_as_written(tmp_path, monkeypatch):
    run_block, report_block = readme_examples()
    # The notebook starts at the repository's root: here a fresh directory with its reference runs.
    (tmp_path / "reference").symlink_to(ROOT / "reference")
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(run_block, "README.md (From Python, 1)", "exec"), scope)
    run_dir = tmp_path / "results" / "notebook"
    assert scope["run_dir"] == Path("results") / "notebook" and run_dir.is_dir()
    # The run's own end wrote summary.csv (no report has been built yet).
    assert (run_dir / "summary.csv").is_file() and not (run_dir / "report.md").exists()
    run = scope["run"]
    assert sorted(zip(run.summary["family"], run.summary["budget"])) == [("conv", 3000), ("sisws", 3000)]
    assert run.summary.set_index("family").loc["sisws", "verdict"] in ("better", "worse", "equivalent", "inconclusive")
    assert len(run.final) == 4 and len(run.trials) == 2 and run.baseline.empty and len(run.curves) > 0
    stored = pd.read_csv(run_dir / "summary.csv")
    assert stored["mean"].tolist() == pytest.approx(run.summary["mean"].tolist())
    exec(compile(report_block, "README.md (From Python, 2)", "exec"), scope)
    assert scope["report_md"].resolve() == (run_dir / "report.md").resolve() and scope["report_md"].is_file()
    digits = pd.read_csv(ROOT / "reference" / "default-digits" / "final.csv")
    cells, budgets = len(digits.groupby(["family", "budget"])), digits["budget"].nunique()
    assert len(scope["digits"].summary) == cells and len(scope["seeds"].ranks) == budgets
    # Run again, it resumes: nothing is retrained, no row is added.
    final = (run_dir / "final.csv").read_bytes()
    exec(compile(run_block, "README.md (From Python, 1)", "exec"), scope)
    assert (run_dir / "final.csv").read_bytes() == final


def test_bad_input_names_the_value():
    with pytest.raises(ValueError, match=r"setting 'stpes' is not accepted: use one of \[.*'steps'"):
        api.config("quick", stpes=10)
    with pytest.raises(ValueError, match=r"profile 'fast' is not accepted"):
        api.config("fast")
    with pytest.raises(ValueError, match=r"unknown run 'nope'"):
        api.load("nope", results_dir=ROOT / "reference")
    with pytest.raises(ValueError, match=r"compare needs two or more runs, got 1"):
        api.compare(ROOT / "reference" / "default-digits")


def test_load_reads_an_old_run_and_the_cli_report_calls_the_api(tmp_path):
    import shutil

    from bench.cli import main

    copy = tmp_path / "run_small"
    shutil.copytree(ROOT / "tests" / "fixtures" / "run_small", copy)  # made before correct.csv and curves.csv
    run = api.load(copy)
    assert run.curves.empty and set(run.summary["ci_over"]) - {""} == {"seeds"}  # "": a cell without an interval
    assert (run.summary["verdict"] == "reference").sum() == 2  # conv at each of its two budgets
    assert not (copy / "summary.csv").exists()
    assert main(["report", str(copy)]) == 0
    assert pd.read_csv(copy / "summary.csv")["family"].tolist() == api.load(copy).summary["family"].tolist()
    assert os.path.getsize(copy / "report.md") > 1000
