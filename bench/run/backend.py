"""Setting up the process that trains: determinism and threads, the same in every process
of a run (the single process, ``--jobs`` workers, distributed workers)."""

from __future__ import annotations

import warnings


def configure_backend(config) -> None:
    """Makes training deterministic and gives TensorFlow ``config.threads`` threads per pool.

    One thread per process is the default: on these small models it is faster than TF's
    default pools (measured: 3 digits models in 18.3 s with one thread against 22.9 s with
    the defaults, on 2 cores), two ``--jobs`` processes then use both cores without fighting,
    and the same thread count in every process keeps float rounding, and so every number,
    the same for any ``--jobs``. ``threads=0`` keeps TensorFlow's defaults.
    """
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    if config.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(config.threads)
            tf.config.threading.set_inter_op_parallelism_threads(config.threads)
        except RuntimeError:  # TensorFlow already started in this process (e.g. a test runs in-process)
            warnings.warn(f"TensorFlow had already started; it keeps its thread pools, not threads={config.threads}",
                          stacklevel=2)
