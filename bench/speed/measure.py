"""Interleaved timing and per-step peak memory for ``wsbench speed``.

Timing: every (variant, pass) pair is compiled (``tf.function`` on TensorFlow; ``jax.jit``
on JAX, see :mod:`bench.speed.jax_steps`) and timed in interleaved rounds
(:func:`bench.measuring.time_interleaved`: each round runs every pair once, in rotating
order). Wall-clock and process CPU time are both recorded.

Memory: in a child process with TensorFlow's counting CPU allocator
(:mod:`bench.measuring`); for each variant, after two untimed steps, the largest of three
training steps' peak bytes above the bytes in use just before it (input batch, upstream
gradient and every variant's weights), i.e. the activations, gradients and temporaries the
step itself needs. JAX does not use that allocator; its rows carry XLA's plan for the step
instead (:mod:`bench.speed.jax_steps`), and ``mem_source`` says which figure a row has.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Dict, List, Optional

from bench.measuring import run_child, step_peak_mib, summarize, time_interleaved  # noqa: F401 (re-exported)

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
    request = {"shape": asdict(shape), "names": list(names), "threads": threads}
    result, note = run_child("bench.speed.measure", request, timeout)
    return {n: result.get(n) for n in names}, note or result.get("_note", "")


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
        out[variant.name] = step_peak_mib(train)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main())
