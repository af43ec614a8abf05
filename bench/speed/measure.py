"""Interleaved timing and per-step peak memory for ``wsbench speed``.

Timing: every (variant, pass) pair is compiled (``tf.function`` on TensorFlow; ``jax.jit``
on JAX, see :mod:`bench.speed.jax_steps`) and run once to trace, then warm-up rounds, then
``repeats`` rounds; each round runs every pair once, starting at a different pair each round
(A B C …, B C … A, …), so a burst of load from other processes hits every row alike. A
sample is the mean of enough back-to-back calls to last at least
``min_sample_s``. Wall-clock and process CPU time are both recorded.

Memory: TensorFlow's default CPU allocator keeps no statistics, and process RSS deltas
mostly show what malloc caches. So the probe runs in a child process with
``TF_CPU_ALLOCATOR_USE_BFC=true``, which makes TensorFlow's CPU allocator count the bytes
it hands out; for each variant, after two untimed steps, the allocator's peak is reset and
one training step is run, three times. The figure is the largest of those steps' peak bytes
in use minus the bytes in use just before it (input batch, upstream gradient and every
variant's weights), i.e. the activations, gradients and temporaries the step itself needs.
JAX does not use that allocator; its rows carry XLA's plan for the step instead
(:mod:`bench.speed.jax_steps`), and ``mem_source`` says which figure a row has.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Dict, Hashable, List, Optional

MEMORY_ENV = "TF_CPU_ALLOCATOR_USE_BFC"
PROBE_STEPS = 3
#: ``mem_source`` of a TensorFlow row's ``step_mem_mb``.
MEM_SOURCE = "tf_allocator"


def compile_steps(variant, x):
    """The compiled training step and forward pass of one variant, as zero-argument callables.

    The training step returns the loss (so the forward pass cannot be pruned) and the
    gradients for the input and every trainable variable, through TensorFlow's
    ``GradientTape``, as a user's custom training loop or ``model.fit`` on TensorFlow does.
    """
    import tensorflow as tf

    fn, variables = variant.fn, list(variant.variables)

    @tf.function
    def train_step(x, upstream):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(fn(x) * upstream)
        return loss, tape.gradient(loss, [x] + variables)

    @tf.function
    def forward(x):
        return fn(x)

    out_shape = forward.get_concrete_function(x).structured_outputs.shape
    upstream = tf.random.normal(out_shape, seed=4)
    return (lambda: train_step(x, upstream)), (lambda: forward(x))


def matmul_peak_task(n: int):
    """A large float32 matmul, the machine's practical peak; returns (callable, FLOPs per call)."""
    import tensorflow as tf

    a = tf.random.normal([n, n], seed=1)
    b = tf.random.normal([n, n], seed=2)
    step = tf.function(lambda: tf.matmul(a, b))
    return step, 2.0 * n ** 3


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


def _tf_tasks(variants, shape, matmul_size: int):
    """(name → (train, forward), matmul peak task, its FLOPs, name → step MiB or None) on TensorFlow."""
    import tensorflow as tf

    x = tf.random.normal(shape.input_shape, seed=3)
    peak_step, peak_flops = matmul_peak_task(matmul_size)
    return {v.name: compile_steps(v, x) for v in variants}, peak_step, peak_flops


def _jax_tasks(variants, shape, matmul_size: int, notes: List[str]):
    """The same on JAX, plus XLA's planned step memory; a reference that JAX cannot trace (a
    plugin's formulation written in TensorFlow) is left out with a note."""
    from bench.speed import jax_steps

    x = jax_steps.input_batch(shape)
    compiled = {}
    for v in variants:
        try:
            compiled[v.name] = jax_steps.JaxSteps(v, x)
        except Exception as exc:  # noqa: BLE001 - any tracing failure of a yardstick is reported, not fatal
            if v.kind != "reference":
                raise
            notes.append(f"{v.name} is left out: JAX cannot trace it ({type(exc).__name__}: {str(exc)[:120]}); "
                         f"write the reference with keras.ops to time it on JAX.")
    peak_step, peak_flops = jax_steps.matmul_peak_task(matmul_size)
    steps = {name: (c.train, c.forward) for name, c in compiled.items()}
    return steps, peak_step, peak_flops, {name: c.step_memory_mb() for name, c in compiled.items()}


def measure(shape, repeats: int, warmup: int = 1, threads: Optional[int] = None, memory: bool = True,
            matmul_size: int = 2048, min_sample_s: float = 0.02, log=print, families=None):
    """Builds, times and memory-probes every variant for ``shape`` (of ``families``, default all)
    on the active backend.

    Returns:
        (rows, notes, peak_gflop_s): one dict per variant with raw measurements.
    """
    from bench.environment import keras_backend
    from bench.speed.table import format_rounds
    from bench.speed.variants import build_variants

    variants, notes = build_variants(shape, families=families)
    on_jax = keras_backend() == "jax"
    if on_jax:
        steps, peak_step, peak_flops, planned = _jax_tasks(variants, shape, matmul_size, notes)
        variants = [v for v in variants if v.name in steps]
    else:
        steps, peak_step, peak_flops = _tf_tasks(variants, shape, matmul_size)
    # Training steps first, then forward passes, each in variant order: a row and its
    # reference run a few seconds apart in every round, which makes their ratio paired.
    tasks = {(name, "train"): train for name, (train, _) in steps.items()}
    tasks.update({(name, "fwd"): forward for name, (_, forward) in steps.items()})
    tasks[("matmul_peak", "peak")] = peak_step
    log(f"timing {len(variants)} variants x (train, forward) + matmul peak, {repeats} interleaved rounds ...")
    samples = time_interleaved(tasks, repeats=repeats, warmup=warmup, min_sample_s=min_sample_s,
                               progress=lambda msg: log(f"  {msg}"))
    peak_gflops = peak_flops / (summarize(samples[("matmul_peak", "peak")]["wall"])["median"] * 1e-3) / 1e9
    memory_mb: Dict[str, Optional[float]] = {v.name: None for v in variants}
    mem_source = ""
    if memory and on_jax:
        from bench.speed.jax_steps import MEM_SOURCE as mem_source

        memory_mb = planned
        notes.append("mem MiB on JAX is XLA's plan for the compiled step (temporaries + outputs, "
                     "compiled.memory_analysis()): JAX does not use TensorFlow's allocator, whose measured peak the "
                     "TensorFlow rows carry, and its CPU device keeps no statistics. Compare it with JAX rows only.")
    elif memory:
        log("probing the peak memory of one training step per variant (child process) ...")
        memory_mb, note = probe_memory(shape, [v.name for v in variants], threads=threads)
        mem_source = MEM_SOURCE
        if note:
            notes.append(note)
    rows = []
    for v in variants:
        tr, fw = samples[(v.name, "train")], samples[(v.name, "fwd")]
        t, f = summarize(tr["wall"]), summarize(fw["wall"])
        rows.append(dict(
            variant=v.name, family=v.family, kind=v.kind, route=v.route, compare_to=v.compare_to,
            train_ms=t["median"], train_iqr_ms=t["iqr"], train_min_ms=t["min"],
            train_cpu_ms=summarize(tr["cpu"])["median"],
            fwd_ms=f["median"], fwd_iqr_ms=f["iqr"], fwd_min_ms=f["min"], fwd_cpu_ms=summarize(fw["cpu"])["median"],
            macs_per_image=v.macs, step_mem_mb=memory_mb.get(v.name),
            mem_source=mem_source if memory_mb.get(v.name) is not None else "",
            train_rounds_ms=format_rounds(tr["wall"]), fwd_rounds_ms=format_rounds(fw["wall"]),
        ))
    return rows, notes, peak_gflops


# -- memory probe (runs in a child process) ---------------------------------------------------
def probe_memory(shape, names: List[str], threads: Optional[int] = None, timeout: float = 1800.0):
    """Peak extra memory of one training step per variant, measured in a child process.

    Args:
        shape: a ``SpeedShape``.
        names: variant names to probe.
        threads: intra-op threads for the child (None = TensorFlow's default).
        timeout: seconds before the child is abandoned.

    Returns:
        (name → MiB or None, note or ''): the note explains a failed probe.
    """
    env = dict(os.environ)
    env[MEMORY_ENV] = "true"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    request = json.dumps({"shape": asdict(shape), "names": list(names), "threads": threads})
    try:
        done = subprocess.run([sys.executable, "-m", "bench.speed.measure"], input=request, capture_output=True,
                              text=True, env=env, cwd=root, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {n: None for n in names}, f"memory probe timed out after {timeout:.0f} s"
    if done.returncode != 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return {n: None for n in names}, f"memory probe failed (exit {done.returncode}): {tail[0]}"
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    return {n: result.get(n) for n in names}, result.get("_note", "")


def _probe_main() -> int:
    """Child side of :func:`probe_memory`: reads the request on stdin, prints JSON MiB per variant."""
    request = json.loads(sys.stdin.read())
    import tensorflow as tf

    if request.get("threads"):
        tf.config.threading.set_intra_op_parallelism_threads(int(request["threads"]))
    from bench.speed.variants import SpeedShape, build_variants

    shape = SpeedShape(**request["shape"])
    variants, _ = build_variants(shape, only=request["names"])
    x = tf.random.normal(shape.input_shape, seed=3)
    out: Dict[str, object] = {}
    try:
        tf.config.experimental.get_memory_info("CPU:0")
    except ValueError as exc:
        print(json.dumps({"_note": f"allocator statistics unavailable: {exc}"}))
        return 0
    for variant in variants:
        train, _ = compile_steps(variant, x)
        train()
        result = train()
        del result
        peaks = []
        # The executor may order independent ops differently from step to step, and with
        # them what is alive at once: keep the largest of a few steps.
        for _ in range(PROBE_STEPS):
            tf.config.experimental.reset_memory_stats("CPU:0")
            before = tf.config.experimental.get_memory_info("CPU:0")["current"]
            result = train()
            peaks.append(tf.config.experimental.get_memory_info("CPU:0")["peak"] - before)
            del result
        out[variant.name] = max(peaks) / 2**20
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main())
