"""The training step, forward pass, matmul peak and step memory of ``wsbench speed`` on JAX.

A variant is a function of its input that reads Keras variables (a built layer, or a
reference formulation reading the layer's weights). On JAX it becomes a pure function of
(weight values, input) by running it inside a ``keras.StatelessScope`` that maps each
trainable variable to the value passed in: what ``Layer.stateless_call`` does, and it also
covers the reference functions, which read ``layer.kernel`` and the like. The training step
is ``jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))``: the loss (so the forward pass
cannot be pruned) and the gradients for every trainable weight and for the input, the same
quantities TensorFlow's ``GradientTape`` step computes. Each callable compiles ahead of time
(``lower(...).compile()``) and blocks on its result (``jax.block_until_ready``): JAX
dispatches asynchronously, so a call that returned has not necessarily computed anything.

Memory: the TensorFlow probe reads TensorFlow's CPU allocator, which JAX does not use, and
JAX's CPU device keeps no allocation statistics (``memory_stats()`` is None). The figure
here is XLA's own plan for the compiled step (``compiled.memory_analysis()``): its
temporary buffers (packed by liveness: the peak of what is alive at once) plus its outputs
(loss and gradients): the extra memory one step needs besides its inputs. It is a plan, not
a measurement, so it is only compared with other JAX rows (``mem_source`` says which).
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple

#: ``mem_source`` of a JAX row's ``step_mem_mb``.
MEM_SOURCE = "xla_plan"


def _pure(variant) -> Tuple[Callable, list]:
    """``(values, x) -> output`` for a variant, and its trainable variables' current values."""
    import keras

    fn, variables = variant.fn, list(variant.variables)

    def pure(values, x):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn(x)

    return pure, [variable.value for variable in variables]


class JaxSteps:
    """A variant's compiled training step and forward pass on a fixed input.

    Attributes:
        train: zero-argument callable, one blocking training step.
        forward: zero-argument callable, one blocking forward pass.
    """

    def __init__(self, variant, x):
        import jax
        import jax.numpy as jnp

        pure, values = _pure(variant)
        out = jax.eval_shape(pure, values, x)
        upstream = jax.random.normal(jax.random.key(4), out.shape, out.dtype)

        def loss(values, x):
            return jnp.sum(pure(values, x) * upstream)

        self._train = jax.jit(jax.value_and_grad(loss, argnums=(0, 1))).lower(values, x).compile()
        self._forward = jax.jit(pure).lower(values, x).compile()
        self.train = lambda: jax.block_until_ready(self._train(values, x))
        self.forward = lambda: jax.block_until_ready(self._forward(values, x))

    def step_memory_mb(self) -> Optional[float]:
        """XLA's planned extra memory of one training step in MiB (see the module doc), or None
        when this XLA does not report it."""
        analysis = self._train.memory_analysis()
        if analysis is None:
            return None
        return (analysis.temp_size_in_bytes + analysis.output_size_in_bytes) / 2**20


def input_batch(shape):
    """The timed input batch, float32 normal, on JAX's default device."""
    import jax

    return jax.random.normal(jax.random.key(3), shape.input_shape, "float32")


def matmul_peak_task(n: int):
    """A large float32 matmul, the machine's practical peak; returns (blocking callable, FLOPs per call)."""
    import jax

    a = jax.random.normal(jax.random.key(1), (n, n), "float32")
    b = jax.random.normal(jax.random.key(2), (n, n), "float32")
    matmul = jax.jit(lambda a, b: a @ b).lower(a, b).compile()
    return (lambda: jax.block_until_ready(matmul(a, b))), 2.0 * n ** 3
