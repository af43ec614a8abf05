"""The bad-input battery: every case exits non-zero with a message naming the bad value (or
file) and what is accepted, and leaves results/ untouched, or, when resuming a stored run,
byte-for-byte unchanged.

Extends tests/test_cli_errors.py (which covers e.g. --families conv,nosuch, --dataset nosuch,
--budgets abc/0/-5000, --steps 0/-3, --tolerance 1.5/0, --run-name a/b, --budgets 10) with
the cases below. Most run `bench.cli.main` in-process; a few real processes check the exit
code, and plugins are tried in a subprocess with throwaway distributions on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.store import TRIALS
from bench.data import load_dataset

# A tiny but real run: 1 family, 1 trial, 1 epoch, 1 seed, no throughput.
BASE = ["bench", "--profile", "quick", "--families", "conv", "--max-trials", "1", "--steps", "10", "--eval-every", "5", "--seeds", "1",
        "--no-throughput"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", WSBENCH_DISABLE_PLUGINS="1")


def run_main(args, capsys):
    """(exit code, stderr) of `wsbench <args>` run in-process; argparse's own errors included."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse rejects a value of the wrong type before main's handler
        code = exc.code
    return code, capsys.readouterr().err


# ------------------------------------------------------------------ fresh runs: nothing written

FRESH_CASES = [
    # (extra args, substrings the message must hold: the bad value, then what is accepted)
    (["--families", "Conv"], ["'Conv'", "known families are", "'conv'"]),
    (["--families", "conv,conv"], ["'conv', 'conv'", "give each once"]),
    (["--dataset", "cifar100"], ["'cifar100'", "accepted: digits", ".npz"]),
    (["--budgets", "3000,abc"], ["'abc'", "not a number", "positive integers"]),
    (["--budgets", "2.5"], ["'2.5'", "positive integers"]),
    (["--budgets", "inf"], ["'inf'", "positive integers"]),
    (["--budgets", "1e400"], ["'1e400'", "positive integers"]),
    (["--budgets", "nan"], ["'nan'", "positive integers"]),
    (["--budgets", "-1"], ["'-1'", "positive integers"]),
    (["--budgets", "3000,12"], ["budget 12 cannot be met", "['conv']", "larger budget or a larger --tolerance"]),
    (["--tolerance", "-0.1"], ["-0.1", "fraction in (0, 1)"]),
    (["--tolerance", "1"], ["1.0", "fraction in (0, 1)"]),
    (["--tolerance", "nan"], ["nan", "fraction in (0, 1)"]),
    (["--margin", "0"], ["margin 0.0", "percentage points", "(0, 20]"]),
    (["--margin", "-1"], ["margin -1.0", "percentage points", "(0, 20]"]),
    (["--margin", "50"], ["margin 50.0", "percentage points", "(0, 20]"]),
    (["--margin", "one"], ["--margin", "invalid float value: 'one'"]),
    (["--max-trials", "-2"], ["max_trials=-2", "positive integer"]),
    (["--seeds", "-1"], ["seeds=-1", "positive integer"]),
    (["--batch-size", "0"], ["batch_size=0", "positive integer"]),
    (["--workers", "0"], ["workers=0", "positive integer"]),
    (["--workers", "-3"], ["workers=-3", "positive integer"]),
    (["--run-name", ".."], ["'..'", "plain name without path separators"]),
    (["--run-name", "../escape"], ["'../escape'", "plain name without path separators"]),
    (["--run-name", "a\\b"], ["'a\\\\b'", "plain name without path separators"]),
    (["--run-name", "/abs"], ["'/abs'", "plain name without path separators"]),
    # argparse refuses values of the wrong type itself, naming the value and the type
    (["--steps", "two"], ["--steps", "invalid int or 'auto' value: 'two'"]),
    (["--seeds", "auto", "--max-seeds", "2"], ["max_seeds=2", "integer >= 3"]),
    (["--seeds", "auto", "--max-seeds", "0"], ["max_seeds=0", "integer >= 3"]),
    (["--seeds", "auto", "--max-seeds", "abc"], ["--max-seeds", "invalid int value: 'abc'"]),
    (["--seeds", "0"], ["seeds=0", "positive integer or 'auto'"]),
    (["--steps", "auto", "--max-steps", "100"], ["max_steps=100", "at least 400"]),
    (["--steps", "12"], ["steps=12", "eval_every=5", "multiple"]),
    (["--threads", "-1"], ["threads=-1", "integer >= 0"]),
    (["--baseline-seeds", "-2"], ["baseline_seeds=-2", "integer >= 0"]),
    (["--tuner", "hyperband"], ["'hyperband'", "known tuners are", "quasirandom"]),
    (["--workers", "many"], ["--workers", "invalid int value: 'many'"]),
    (["--tolerance", "5%"], ["--tolerance", "invalid float value: '5%'"]),
]


@pytest.mark.parametrize("args,expected", FRESH_CASES, ids=[" ".join(c[0]) for c in FRESH_CASES])
def test_bad_value_is_named_and_nothing_is_written(args, expected, tmp_path, capsys):
    results = tmp_path / "results"
    code, err = run_main([*BASE, "--results-dir", str(results), *args], capsys)
    assert code == 2
    for text in expected:
        assert text in err, err
    assert not results.exists()
    assert list(tmp_path.iterdir()) == []  # not even a probe left beside it


# ------------------------------------------------------------------ .npz datasets through the CLI

def valid_arrays():
    """A small, valid dataset: 3 classes of 8x8 grey images."""
    rng = np.random.default_rng(0)
    return {"x_train": rng.random((60, 8, 8)).astype("float32"), "y_train": np.arange(60) % 3,
            "x_test": rng.random((30, 8, 8)).astype("float32"), "y_test": np.arange(30) % 3}


def without(key):
    def mutate(arrays):
        del arrays[key]
    return mutate


def setter(key, fn):
    def mutate(arrays):
        arrays[key] = fn(arrays[key])
    return mutate


def nan_pixel(x):
    x = x.copy()
    x[4, 2, 3] = np.nan
    return x


def label_at(index, value, dtype=None):
    def fn(y):
        y = y.astype(dtype or y.dtype)
        y[index] = value
        return y
    return fn


NPZ_CASES = {
    "missing y_test": (without("y_test"), ["lacks key(s) y_test", "must hold x_train, y_train, x_test, y_test"]),
    "flat images": (setter("x_train", lambda x: x.reshape(60, 64)), ["x_train has shape (60, 64) (rank 2)",
                                                                     "accepted: rank 3"]),
    "NaN pixel": (setter("x_test", nan_pixel), ["x_test", "non-finite", "nan", "(4, 2, 3)", "finite numbers"]),
    "non-integer label": (setter("y_train", label_at(7, 1.5, "float64")),
                          ["non-integer label 1.5 at index 7", "whole numbers 0..K-1"]),
    "negative label": (setter("y_train", label_at(5, -1)), ["negative label -1 at index 5", "integers 0..K-1"]),
    "test label out of range": (setter("y_test", label_at(2, 7)), ["y_test holds label 7, out of range",
                                                                   "classes are 0..2"]),
    "one-hot labels": (setter("y_train", lambda y: np.eye(3)[y]), ["y_train has shape (60, 3)", "shape (N,)"]),
    "mismatched lengths": (setter("y_train", lambda y: y[:-1]), ["y_train has 59 labels but x_train has 60 images",
                                                                 "same length"]),
}


def write_npz(path: Path, mutate=None) -> Path:
    arrays = valid_arrays()
    if mutate:
        mutate(arrays)
    np.savez(path, **arrays)
    return path


def test_the_valid_npz_loads(tmp_path):
    """The control case: the bad .npz files below differ from this one by one defect each."""
    data = load_dataset(str(write_npz(tmp_path / "ok.npz")))
    assert data.num_classes == 3 and data.input_shape == (8, 8, 1)


@pytest.mark.parametrize("case", list(NPZ_CASES))
def test_bad_npz_is_refused_through_the_cli(case, tmp_path, capsys):
    mutate, expected = NPZ_CASES[case]
    path = write_npz(tmp_path / "data.npz", mutate)
    before = path.read_bytes()
    results = tmp_path / "results"
    code, err = run_main([*BASE, "--dataset", str(path), "--budgets", "300", "--results-dir", str(results)], capsys)
    assert code == 2
    assert str(path) in err, err
    for text in expected:
        assert text in err, err
    assert not results.exists()
    assert path.read_bytes() == before


def test_a_bad_npz_gives_a_nonzero_process_exit(tmp_path):
    path = write_npz(tmp_path / "data.npz", setter("y_train", lambda y: y[:-1]))
    proc = subprocess.run([sys.executable, "-m", "bench.cli", *BASE, "--dataset", str(path), "--results-dir",
                           str(tmp_path / "results")], capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "wsbench: error:" in proc.stderr and "59 labels but x_train has 60 images" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------ unwritable results directories

def test_results_dir_under_a_regular_file(tmp_path, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a directory\n")
    results = blocker / "results"
    code, err = run_main([*BASE, "--results-dir", str(results)], capsys)
    assert code == 2
    assert str(results) in err and "is a file, not a directory" in err and "writable --results-dir" in err, err
    assert blocker.read_text() == "a file, not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_results_dir_where_nothing_can_be_created(tmp_path, capsys):
    """/proc refuses new entries even to root, who passes every permission check."""
    results = Path("/proc") / f"wsbench-results-{os.getpid()}"
    code, err = run_main([*BASE, "--results-dir", str(results)], capsys)
    assert code == 2
    assert str(results) in err and "not writable" in err and "cannot create anything in /proc" in err, err
    assert "writable --results-dir" in err
    assert not results.exists()


# ------------------------------------------------------------------ resuming a stored run

RUN = "stored"
PROJECT = "tuner/conv__3000"


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    """A finished tiny run, made once, in-process; tests work on copies of it."""
    results = tmp_path_factory.mktemp("stored")
    assert main([*BASE, "--run-name", RUN, "--results-dir", str(results)]) == 0
    return results / RUN


def snapshot(root: Path) -> dict:
    """Every file under ``root`` (relative path → bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def copy_run(stored_run: Path, tmp_path: Path) -> Path:
    results = tmp_path / "results"
    shutil.copytree(stored_run, results / RUN)
    return results


def truncate(nbytes):
    def mutate(path: Path):
        path.write_bytes(path.read_bytes()[:-nbytes])
    return mutate


def drop_a_field(path: Path):
    """Removes the last field of the first data row but keeps its newline."""
    lines = path.read_text().splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n").rsplit(",", 1)[0] + "\n"
    path.write_text("".join(lines))


def rename_column(old, new):
    def mutate(path: Path):
        path.write_text(path.read_text().replace(old, new, 1))
    return mutate


def write(data: bytes):
    def mutate(path: Path):
        path.write_bytes(data)
    return mutate


# (file in the run, corruption, substrings the message must hold besides the file's path)
CORRUPTIONS = {
    "trials.csv cut mid-row": ("trials.csv", truncate(30), ["is corrupted", "cut short"]),
    "trials.csv row missing a field": ("trials.csv", drop_a_field, ["is corrupted",
                                                                    f"line 2 has {len(TRIALS.columns) - 1} fields",
                                                                    f"header {len(TRIALS.columns)}"]),
    "trials.csv binary garbage": ("trials.csv", write(b"\x00\xff\xfe\x01garbage\n"), ["is corrupted"]),
    "trials.csv empty": ("trials.csv", write(b""), ["is corrupted"]),
    "trials.csv column renamed": ("trials.csv", rename_column("val_accuracy", "val_acc"),
                                  ["columns ['val_accuracy'] are missing"]),
    "final.csv cut mid-row": ("final.csv", truncate(10), ["is corrupted", "cut short"]),
    "run.json not JSON": ("run.json", truncate(40), ["is corrupted"]),
    "trial.json cut short": (f"{PROJECT}/trial_0/trial.json", truncate(200), ["is corrupted", "JSONDecodeError"]),
    "trial.json without its keys": (f"{PROJECT}/trial_0/trial.json", write(b"{}"),
                                    ["is corrupted", "JSON object with keys ['hyperparameters', 'status', "
                                                     "'trial_id']"]),
    "oracle.json garbage": (f"{PROJECT}/oracle.json", write(b"\x00not json"), ["is corrupted"]),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_corrupted_file_is_named_and_the_run_is_left_unchanged(case, stored_run, tmp_path, capsys):
    name, corrupt, expected = CORRUPTIONS[case]
    results = copy_run(stored_run, tmp_path)
    target = results / RUN / name
    assert target.is_file()
    corrupt(target)
    before = snapshot(results)
    code, err = run_main([*BASE, "--run-name", RUN, "--results-dir", str(results)], capsys)
    assert code == 2
    assert str(target) in err, err
    for text in expected:
        assert text in err, err
    assert "new run name" in err or "new --run-name" in err, err
    assert snapshot(results) == before


@pytest.mark.parametrize("args,differs", [
    (["--steps", "20"], "steps: 10 → 20"),
    (["--families", "conv,sisws"], "families: ['conv'] → ['conv', 'sisws']"),
    (["--seed", "3"], "seed: 0 → 3"),
    (["--padding", "circular"], "padding: 'same' → 'circular'"),
    (["--max-seeds", "8"], "max_seeds: 10 → 8"),
    (["--margin", "2"], "margin: 1.0 → 2.0"),
], ids=["steps", "families", "seed", "padding", "max-seeds", "margin"])
def test_resuming_with_another_configuration_is_refused_saying_what_differs(args, differs, stored_run, tmp_path,
                                                                           capsys):
    results = copy_run(stored_run, tmp_path)
    before = snapshot(results)
    code, err = run_main([*BASE, "--run-name", RUN, "--results-dir", str(results), *args], capsys)
    assert code == 2
    assert f"run '{RUN}'" in err and differs in err and "another configuration" in err, err
    assert "rerun with the same settings" in err and "new --run-name" in err
    assert snapshot(results) == before


def test_the_intact_stored_run_resumes(stored_run, tmp_path, capsys):
    """The control case: the same command on an undamaged copy succeeds and adds no row."""
    results = copy_run(stored_run, tmp_path)
    tables = {t: (results / RUN / t).read_bytes() for t in ("trials.csv", "final.csv")}
    code, _ = run_main([*BASE, "--run-name", RUN, "--results-dir", str(results)], capsys)
    assert code == 0
    assert {t: (results / RUN / t).read_bytes() for t in tables} == tables
    assert json.loads((results / RUN / "run.json").read_text())["status"] == "complete"


def test_a_run_stored_before_a_setting_existed_resumes_as_if_it_had_the_default(stored_run, tmp_path, capsys):
    """run.json of a run made before `padding` existed has no such key: it was padded with zeros
    (the default), so the same command still resumes it (the committed reference runs rely on it)."""
    results = copy_run(stored_run, tmp_path)
    run_json = results / RUN / "run.json"
    stored = json.loads(run_json.read_text())
    del stored["config"]["padding"]
    run_json.write_text(json.dumps(stored))
    table = (results / RUN / "final.csv").read_bytes()
    code, err = run_main([*BASE, "--run-name", RUN, "--results-dir", str(results)], capsys)
    assert code == 0, err
    assert (results / RUN / "final.csv").read_bytes() == table
    code, err = run_main([*BASE, "--run-name", RUN, "--results-dir", str(results), "--padding", "circular"], capsys)
    assert code == 2 and "padding: 'same' → 'circular'" in err, err


def test_a_corrupted_resume_gives_a_nonzero_process_exit(stored_run, tmp_path):
    results = copy_run(stored_run, tmp_path)
    target = results / RUN / PROJECT / "trial_0" / "trial.json"
    truncate(200)(target)
    before = snapshot(results)
    proc = subprocess.run([sys.executable, "-m", "bench.cli", *BASE, "--run-name", RUN, "--results-dir",
                           str(results)], capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"wsbench: error: {target} is corrupted" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(results) == before


# ------------------------------------------------------------------ plugins, through the CLI

BROKEN_MODULE = 'raise ImportError("wsbench_cli_broken needs missing_dependency_abc")\n'
DUPLICATE_MODULE = textwrap.dedent('''
    from layers import Family, register_family


    @register_family("conv")
    class ShadowConv(Family):
        description = "Tries to take the built-in conv's name."
''')
PLUGINS = [  # distribution, version, module, source, entry point name
    ("wsbench-cli-broken", "0.1", "wsbench_cli_broken", BROKEN_MODULE, "broken_family"),
    ("wsbench-cli-dup", "0.2", "wsbench_cli_dup", DUPLICATE_MODULE, "dup_family"),
]

# Runs several CLI commands in one process (TensorFlow is imported once) and reports their
# exit codes and output; ends with the broken plugin's bench so the process exit code is its.
PROBE = textwrap.dedent('''
    import contextlib, io, json, sys
    from bench.cli import main

    def cli(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return {"code": code, "out": out.getvalue(), "err": err.getvalue()}

    results, base = sys.argv[1], sys.argv[2:]
    report = {
        "families": cli("families"),
        "dup": cli(*base, "--families", "dup_family", "--results-dir", results),
        "conv": cli(*base, "--families", "conv", "--run-name", "builtin", "--results-dir", results),
    }
    print("REPORT " + json.dumps(report), flush=True)
    sys.exit(main([*base, "--families", "broken_family", "--run-name", "broken", "--results-dir", results]))
''')


@pytest.fixture(scope="module")
def plugin_probe(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    for dist, version, module, source, entry_point in PLUGINS:
        (site / f"{module}.py").write_text(source)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[wsbench.families]\n{entry_point} = {module}\n")
    env = {k: v for k, v in ENV.items() if k != "WSBENCH_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), str(Path.cwd()), env.get("PYTHONPATH", "")]))
    results = tmp_path_factory.mktemp("plugin_results")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(results), *BASE], capture_output=True, text=True,
                          timeout=600, env=env)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("REPORT ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
    return {"report": json.loads(line[len("REPORT "):]), "code": proc.returncode, "stderr": proc.stderr,
            "results": results}


def test_families_lists_a_plugin_that_failed_to_import(plugin_probe):
    families = plugin_probe["report"]["families"]
    assert families["code"] == 0
    broken = next(l for l in families["out"].splitlines() if l.startswith("broken_family"))
    assert "plugin (failed)" in broken
    assert "'broken_family'" in broken and "wsbench-cli-broken 0.1" in broken
    assert "missing_dependency_abc" in broken
    assert any(l.startswith("conv ") and "built-in" in l for l in families["out"].splitlines())


def test_bench_with_a_plugin_that_failed_to_import_exits_nonzero_naming_it(plugin_probe):
    assert plugin_probe["code"] == 2
    err = plugin_probe["stderr"]
    assert "wsbench: error: plugin entry point 'broken_family' (wsbench_cli_broken)" in err, err[-2000:]
    assert "failed to import" in err and "missing_dependency_abc" in err
    assert not (plugin_probe["results"] / "broken").exists()


def test_built_in_families_still_run_beside_a_broken_plugin(plugin_probe):
    conv = plugin_probe["report"]["conv"]
    assert conv["code"] == 0, conv["err"][-2000:]
    run = plugin_probe["results"] / "builtin"
    assert (run / "final.csv").is_file() and (run / "models" / "conv__3000.keras").is_file()


def test_a_plugin_taking_an_existing_name_is_refused(plugin_probe):
    report = plugin_probe["report"]
    dup = next(l for l in report["families"]["out"].splitlines() if l.startswith("dup_family"))
    assert "plugin (failed)" in dup and "'conv' is already registered" in dup and "wsbench-cli-dup 0.2" in dup
    conv_lines = [l for l in report["families"]["out"].splitlines() if l.split() and l.split()[0] == "conv"]
    assert len(conv_lines) == 1 and "built-in" in conv_lines[0]
    assert report["dup"]["code"] == 2
    assert "'dup_family'" in report["dup"]["err"] and "'conv' is already registered" in report["dup"]["err"]
