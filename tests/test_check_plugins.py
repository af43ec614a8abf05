"""Issue 23's two buggy third-party families, installed by entry point (tests/buggy_plugins.py),
through `wsbench check` and `wsbench bench`, then fixed.

- ``halfcount`` (param_count returns half the true count): `wsbench check` exits 1 on its
  param_count line; `wsbench bench` exits 2 before training, naming the family and both
  counts, and writes nothing. Fixed, `wsbench check` passes and the family runs (its cell of
  the run below, made with halfcount already fixed), every row at its model's count.
- ``depthmult_bug`` (its layer raises with depth_multiplier=1, its default): `wsbench check`
  names that value; `wsbench bench --families conv,depthmult_bug` finishes conv's cell,
  records the failing cell with the error, exits 1 without a traceback and leaves no litter;
  the report names the cell. Fixed, rerunning the command retrains only what failed.
- The README's own example family, ``my_conv``, installed the same way, passes `wsbench check`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from buggy_plugins import LAYERS_MODULE, write_site
from row_params import rows_against_models

pytestmark = pytest.mark.slow(seconds=90)  # seven real `wsbench` processes, three or four at a time
REPO = Path(__file__).resolve().parent.parent
RUN = "dm"
#: Every check but the cross-backend one (its subprocess adds nothing to the buggy families' findings).
BUT_BACKENDS = ("builds", "param_count", "macs", "output_shape", "finite", "save_load", "get_config", "budget")
CONTAINED = ["bench", "--profile", "quick", "--families", "conv,halfcount,depthmult_bug", "--budgets", "3000", "--max-trials", "2",
             "--steps", "10", "--eval-every", "5", "--seeds", "1", "--baseline-seeds", "1", "--no-throughput",
             "--run-name", RUN]


def write_readme_family(site: Path) -> None:
    """The README's example family (the code block of "Add your own family") as a plugin."""
    text = (REPO / "README.md").read_text()
    code = text[text.index("# my_package/my_family.py"):]
    (site / "my_family.py").write_text(code[:code.index("```")])
    info = site / "my_family-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-family\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[wsbench.families]\nmy_conv = my_family\n")


def start(site: Path, *args: str) -> subprocess.Popen:
    """`wsbench <args>` with the plugins of ``site`` installed (plugins enabled)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("WSBENCH_DISABLE_PLUGINS", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(REPO), env.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen):
    out, _ = proc.communicate(timeout=900)
    return proc.returncode, out


class Done(NamedTuple):
    check_buggy: tuple
    refused: tuple
    contained: tuple
    report: tuple  # `wsbench report` of the failed run (a copy of it: the resume runs meanwhile)
    listing: list  # the run directory after the failed run: top level, then any *.lock or hidden file below
    tables_before: dict
    check_fixed: tuple
    resumed: tuple
    results: Path


def tables(run_dir: Path) -> dict:
    return {t: pd.read_csv(run_dir / f"{t}.csv", dtype={"trial_id": str, "seed": str, "trial": str})
            for t in ("trials", "final", "baseline")}


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Done:
    buggy = write_site(tmp_path_factory.mktemp("buggy"))
    half_fixed = write_site(tmp_path_factory.mktemp("half_fixed"), fixed=["halfcount"])
    fixed = write_site(tmp_path_factory.mktemp("fixed"), fixed=["halfcount", "depthmult_bug"])
    write_readme_family(fixed)
    results = tmp_path_factory.mktemp("results")
    # The buggy plugins (the run: with halfcount fixed already), three processes side by side.
    procs = [start(buggy, "check", "halfcount", "depthmult_bug", "--checks", ",".join(BUT_BACKENDS)),
             start(buggy, "bench", "--profile", "quick", "--families", "conv,halfcount", "--budgets", "10000",
                   "--results-dir", str(results / "refused")),
             start(half_fixed, *CONTAINED, "--results-dir", str(results))]
    check_buggy, refused, contained = (finish(p) for p in procs)
    run_dir = results / RUN
    listing = [sorted(p.name for p in run_dir.iterdir()),
               sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*")
                      if p.name.endswith(".lock") or p.name.startswith("."))]
    before = tables(run_dir)
    shutil.copytree(run_dir, results / "copy" / RUN)
    # Both fixed: the checks pass and the run resumes; the report of the failed run meanwhile.
    procs = [start(buggy, "report", RUN, "--results-dir", str(results / "copy")),
             start(fixed, "check", "halfcount", "depthmult_bug", "my_conv"),
             start(fixed, *CONTAINED, "--results-dir", str(results))]
    report, check_fixed, resumed = (finish(p) for p in procs)
    # The plugin's layer class, so that this process can load its saved models (no family is registered).
    sys.path.insert(0, str(fixed))
    try:
        importlib.import_module(LAYERS_MODULE)
    finally:
        sys.path.remove(str(fixed))
    return Done(check_buggy, refused, contained, report, listing, before, check_fixed, resumed, results)


def lines(out: str, family: str) -> dict:
    """check name → its line in `wsbench check`'s output for ``family``."""
    return {line.split()[1]: line for line in out.splitlines() if line.startswith(family + " ")}


# -- a param_count that disagrees with its layer --------------------------------------------------
def test_check_fails_the_param_count_line_of_the_half_count(done):
    code, out = done.check_buggy
    assert code == 1, out
    found = lines(out, "halfcount")
    assert tuple(found) == BUT_BACKENDS  # what --checks asked for, in order
    assert found["param_count"].split()[2] == "FAIL"
    assert "expected 76 (the built layer's trainable parameters); found 38 (param_count)" in found["param_count"]
    assert found["output_shape"].split()[2] == "ok" and found["save_load"].split()[2] == "ok"
    assert "Traceback" not in out


def test_bench_refuses_the_half_count_before_training_and_writes_nothing(done):
    code, out = done.refused
    assert code == 2, out
    message = out.strip().splitlines()[-1]
    assert message.startswith("wsbench: error: family 'halfcount'") and "`wsbench check halfcount`" in message
    assert "8×8×1 input" in message  # the shape (digits)
    formula, built = (int(n.replace(",", "")) for n in re.findall(
        r"gives ([\d,]+) trainable parameters .* has ([\d,]+) ", message)[0])
    assert 1.5 * formula < built < 2.5 * formula  # the true count is about twice the formula's
    assert "trial" not in out and not (done.results / "refused").exists()


def test_fixed_the_check_passes_and_the_family_runs_at_its_model_count(done):
    code, out = done.check_fixed
    assert code == 0, out
    for family in ("halfcount", "depthmult_bug", "my_conv"):  # my_conv: the README's example
        found = lines(out, family)
        assert set(found) == {"builds", "param_count", "macs", "output_shape", "finite", "save_load", "get_config",
                              "budget", "backends"}, out
        # 'skip' only where there is no other backend to compare with (the dev extra installs JAX).
        other = "ok" if importlib.util.find_spec("jax") else "skip"
        assert [line.split()[2] for line in found.values()] == ["ok"] * 8 + [other], out
    # The run made with halfcount fixed passed the check before training and trained its cell.
    final = done.tables_before["final"]
    half = final[final["family"] == "halfcount"]
    assert list(half["status"]) == ["completed"] and abs(int(half["params"].iloc[0]) - 3000) <= 150


# -- a layer that raises at its default --------------------------------------------------------------
def test_check_names_the_hyperparameter_value_that_raises(done):
    _, out = done.check_buggy
    builds = lines(out, "depthmult_bug")["builds"]
    assert builds.split()[2] == "FAIL"
    assert "ValueError: depth_multiplier=1 is not supported by this layer" in builds
    assert "always with depth_multiplier=1" in builds


def test_the_run_finishes_conv_records_the_failing_cell_and_exits_1_without_a_traceback(done):
    code, out = done.contained
    assert code == 1, out
    assert "Traceback" not in out
    error = "ValueError: depth_multiplier=1 is not supported by this layer"
    t = done.tables_before
    mine = t["trials"][t["trials"]["family"] == "depthmult_bug"]
    assert list(mine["status"]) == ["failed", "failed"] and (mine["reason"] == error).all()  # the search went on
    assert (t["trials"][t["trials"]["family"] != "depthmult_bug"]["status"] == "completed").all()
    for table in ("final", "baseline"):
        frame = t[table]
        assert (frame[frame["family"] != "depthmult_bug"]["status"] == "completed").all()
        failed = frame[frame["family"] == "depthmult_bug"]
        assert list(failed["status"]) == ["failed"] and error in failed["reason"].iloc[0]
    # The printed tables and the closing message name the failed cell.
    assert re.search(r"depthmult_bug\s+failed", out)
    assert "1 family × budget cell failed" in out and "depthmult_bug @ 3,000:" in out
    assert "`wsbench check depthmult_bug`" in out


def test_no_lock_file_or_other_litter_is_left(done):
    top, hidden_or_locks = done.listing
    assert top == sorted(["run.json", "run.lock", "trials.csv", "final.csv", "baseline.csv", "correct.csv",
                          "curves.csv", "summary.csv", "models", "tuner", "tensorboard"])
    assert hidden_or_locks == ["run.lock"]  # the run's writer lock, documented; no *.csv.lock, no temporary file


def test_the_failed_run_ends_with_a_summary_csv_naming_the_failed_cell(done):
    summary = pd.read_csv(done.results / "copy" / RUN / "summary.csv").set_index("family")
    assert summary.loc["depthmult_bug", "status"] == "failed" and summary.loc["depthmult_bug", "seeds"] == 0
    assert summary.loc["conv", "status"] == "completed" and summary.loc["conv", "verdict"] == "reference"


def test_the_report_names_the_failed_cell(done):
    code, out = done.report
    assert code == 0, out
    text = (done.results / "copy" / RUN / "report.md").read_text()
    assert "> **Failed cells**" in text and "> - depthmult_bug @ 3,000: 2 trials failed" in text


def test_resuming_after_the_fix_retrains_only_what_failed(done):
    code, out = done.resumed
    assert code == 0, out
    assert "retraining what failed" in out
    assert "[conv | budget" not in out and "[halfcount | budget" not in out  # nothing of theirs trained again
    before, after = done.tables_before, tables(done.results / RUN)
    for table, frame in after.items():
        assert (frame["status"] == "completed").all(), (table, frame)
        kept = lambda f: f[f["family"] != "depthmult_bug"].reset_index(drop=True)  # noqa: E731
        pd.testing.assert_frame_equal(kept(frame), kept(before[table]), check_dtype=False)
    assert len(after["trials"][after["trials"]["family"] == "depthmult_bug"]) == 2
    problems, checked = rows_against_models(done.results / RUN)  # final and baseline rows of all three families
    assert not problems and checked == 6
