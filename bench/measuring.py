"""Measuring steps: interleaved timing rounds and TensorFlow's allocator peak.

Shared by ``wsbench speed`` (one layer's step per variant, :mod:`bench.speed.measure`) and a
run's throughput stage (each tuned model's step, :mod:`bench.run.throughput`), so both time
and weigh the same way.

Timing (:func:`time_interleaved`): every task is run once to trace, then warm-up rounds,
then ``repeats`` rounds; each round runs every task once, starting at a different task each
round (A B C …, B C … A, …), so a burst of load from other processes hits every task alike.
A sample is the mean of enough back-to-back calls to last at least ``min_sample_s``.

Memory (:func:`step_peak_mib`): TensorFlow's default CPU allocator keeps no statistics, and
process RSS mostly shows what malloc caches (and grows with everything a process did
before). With ``TF_CPU_ALLOCATOR_USE_BFC=true`` (:data:`MEMORY_ENV`, set before TensorFlow
starts, hence in a child process: :func:`run_child`) the CPU allocator counts the bytes it
hands out; a step's figure is the allocator's peak during the step minus the bytes in use
just before it, i.e. the activations, gradients and temporaries the step itself needs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Hashable, List, Optional

MEMORY_ENV = "TF_CPU_ALLOCATOR_USE_BFC"
#: Steps probed per task; the largest is kept (the executor may order independent ops
#: differently from step to step, and with them what is alive at once).
PROBE_STEPS = 3
#: The repository root, for children run with ``python -m``.
ROOT = Path(__file__).resolve().parent.parent


def time_interleaved(tasks: Dict[Hashable, Callable[[], object]], repeats: int, warmup: int = 1,
                     min_sample_s: float = 0.02, progress: Optional[Callable[[str], None]] = None):
    """Times every task, interleaved round by round.

    Args:
        tasks: name → zero-argument callable (one call = one step).
        repeats: timed rounds.
        warmup: untimed rounds after tracing.
        min_sample_s: each sample repeats the call until it lasts about this long.
        progress: optional callback for one-line progress messages.

    Returns:
        name → {'wall': [seconds per call, one per round], 'cpu': [...], 'calls': calls per sample}.
    """
    calls = {}
    for name, task in tasks.items():
        task()  # trace and compile
        start = time.perf_counter()
        task()
        elapsed = max(time.perf_counter() - start, 1e-6)
        calls[name] = max(1, min(1000, round(min_sample_s / elapsed)))
    names = list(tasks)
    for _ in range(warmup):
        for name in names:
            for _ in range(calls[name]):
                tasks[name]()
    samples = {name: {"wall": [], "cpu": [], "calls": calls[name]} for name in names}
    for round_index in range(repeats):
        offset = round_index % len(names)
        for name in names[offset:] + names[:offset]:
            n = calls[name]
            wall0, cpu0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                tasks[name]()
            samples[name]["wall"].append((time.perf_counter() - wall0) / n)
            samples[name]["cpu"].append((time.process_time() - cpu0) / n)
        if progress:
            progress(f"round {round_index + 1}/{repeats} done")
    return samples


def summarize(values: List[float]) -> Dict[str, float]:
    """Median, interquartile range and minimum of a list of seconds, in milliseconds."""
    ms = sorted(v * 1e3 for v in values)
    if len(ms) >= 2:
        q1, _, q3 = statistics.quantiles(ms, n=4, method="inclusive")
    else:
        q1 = q3 = ms[0]
    return {"median": statistics.median(ms), "iqr": q3 - q1, "min": ms[0]}


def step_peak_mib(step: Callable[[], object], steps: int = PROBE_STEPS) -> float:
    """MiB the allocator's peak rose above what was in use before, the largest over
    ``steps`` calls of ``step`` (already traced). Needs :data:`MEMORY_ENV` set when
    TensorFlow started.

    Raises:
        ValueError: TensorFlow's CPU allocator keeps no statistics in this process.
    """
    import tensorflow as tf

    peaks = []
    for _ in range(steps):
        tf.config.experimental.reset_memory_stats("CPU:0")
        before = tf.config.experimental.get_memory_info("CPU:0")["current"]
        result = step()
        peaks.append(tf.config.experimental.get_memory_info("CPU:0")["peak"] - before)
        del result
    return max(peaks) / 2**20


def run_child(module: str, request: dict, timeout: float, env: Optional[Dict[str, str]] = None):
    """Runs ``python -m module`` with ``request`` as JSON on stdin and :data:`MEMORY_ENV` set.

    Returns:
        (the last JSON object the child printed, or {}; a note saying why the child failed, or '').
    """
    env = dict(os.environ if env is None else env)
    env[MEMORY_ENV] = "true"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run([sys.executable, "-m", module], input=json.dumps(request), capture_output=True,
                              text=True, env=env, cwd=str(ROOT), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {}, f"memory probe timed out after {timeout:.0f} s"
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {}, f"memory probe failed (exit {done.returncode}): {tail[0]}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), ""
