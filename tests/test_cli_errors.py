"""Bad command-line input: a message naming the value and what is accepted, a non-zero
exit, and nothing written under the results directory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.cli import main

CASES = [
    (["--families", "conv,nosuch"], "'nosuch'", "known families"),
    (["--dataset", "nosuch"], "nosuch", "digits"),
    (["--tuner", "grid"], "'grid'", "random"),
    (["--budgets", "abc"], "'abc'", "positive integers"),
    (["--budgets", "0"], "'0'", "positive"),
    (["--budgets", "-5000"], "'-5000'", "positive"),
    (["--budgets", "5000,"], "5000,", "comma-separated"),
    (["--max-trials", "0"], "max_trials=0", "positive integer"),
    (["--steps", "0"], "steps=0", "positive integer"),
    (["--steps", "-3"], "steps=-3", "positive integer"),
    (["--eval-every", "0"], "eval_every=0", "positive integer"),
    (["--seeds", "0"], "seeds=0", "positive integer"),
    (["--tolerance", "1.5"], "1.5", "(0, 1)"),
    (["--tolerance", "0"], "0", "(0, 1)"),
    (["--run-name", "a/b"], "'a/b'", "path separators"),
    (["--budgets", "10"], "10", "cannot be met"),
    (["--profile", "huge"], "'huge'", "default"),
    (["--jobs", "0"], "jobs=0", "positive integer"),
    (["--jobs", "2", "--workers", "2"], "--jobs 2", "one or the other"),
]


@pytest.mark.parametrize("args,value,accepted", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_bench_input_exits_nonzero_naming_the_value_and_writes_nothing(args, value, accepted, tmp_path, capsys):
    results = tmp_path / "results"
    code = main(["bench", "--results-dir", str(results), *args])
    err = capsys.readouterr().err
    assert code != 0
    assert value in err and accepted in err, err
    assert not results.exists()


def test_the_process_exit_code_is_nonzero_for_bad_input(tmp_path):
    # Every log level shown: TensorFlow's start-up lines, which two of its libraries logged
    # before logging was set up (so twice), come out once each.
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "bench", "--families", "nosuch", "--results-dir",
                           str(tmp_path / "r")], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="0"))
    assert proc.returncode == 2
    assert "unknown family 'nosuch'" in proc.stderr
    assert not (tmp_path / "r").exists()
    messages = [line.split("] ", 1)[1] for line in proc.stderr.splitlines() if line[1:5].isdigit() and "] " in line]
    assert len(messages) == len(set(messages)), proc.stderr
    assert "absl::InitializeLog" not in proc.stderr


def test_families_lists_every_builtin_with_its_source(capsys):
    assert main(["families"]) == 0
    out = capsys.readouterr().out
    for name in ("conv", "locally_connected", "sisws", "sisws_trainable", "lrlc", "coordconv"):
        assert name in out
    assert "built-in" in out


def test_check_of_an_unknown_family_exits_2_naming_it_and_the_known_ones(capsys):
    assert main(["check", "conv", "nosuch"]) == 2
    err = capsys.readouterr()
    assert "unknown family 'nosuch'" in err.err and "'lrlc'" in err.err
    assert "conv " not in err.out  # refused before any check ran


def test_check_with_an_unknown_check_exits_2_naming_it_and_the_known_ones(capsys):
    assert main(["check", "conv", "--checks", "param_count,speed"]) == 2
    err = capsys.readouterr().err
    assert "'speed'" in err and "param_count" in err and "backends" in err
