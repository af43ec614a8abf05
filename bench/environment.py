"""Where code runs: library versions, hardware, the compute device and the git commit.

The one place the harness asks; run.json, throughput.csv and speed.csv record what it says.
"""

from __future__ import annotations

import functools
import importlib
import os
import platform
import subprocess
from pathlib import Path
from typing import Any, Dict, Sequence

#: Libraries every record names; a missing optional one is recorded as 'not installed'.
LIBRARIES = ("tensorflow", "keras", "keras_tuner", "numpy")


def keras_backend() -> str:
    """The backend Keras runs in this process, without importing Keras if nothing has yet
    (then the one it would choose: ``KERAS_BACKEND``, else TensorFlow; ~/.keras is not read)."""
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def library_versions(extra: Sequence[str] = ()) -> Dict[str, str]:
    """{'python': …, 'tensorflow': …, …} for :data:`LIBRARIES` plus ``extra`` (e.g. 'tf_keras'),
    plus 'jax' and 'jaxlib' when Keras runs on JAX."""
    versions = {"python": platform.python_version()}
    if keras_backend() == "jax":
        extra = (*extra, *(name for name in ("jax", "jaxlib") if name not in extra))
    for name in (*LIBRARIES, *extra):
        try:
            versions[name] = str(importlib.import_module(name).__version__)
        except ImportError:
            versions[name] = "not installed"
    return versions


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list:
    """Names of the GPUs TensorFlow sees (none on a CPU machine)."""
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


def hardware() -> Dict[str, Any]:
    """CPU model, cores, RAM and GPUs, as run.json records them."""
    import psutil

    gpus = gpu_names()
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "gpu": ", ".join(gpus) if gpus else "none"}


def device() -> str:
    """'GPU: <name>' when the backend computes on a GPU, else 'CPU (<model>)'.

    Under JAX it is JAX's default device (TensorFlow then only feeds the data)."""
    if keras_backend() == "jax":
        import jax

        first = jax.devices()[0]
        return f"GPU: {first.device_kind}" if first.platform == "gpu" else f"CPU ({cpu_model()})"
    gpus = gpu_names()
    return f"GPU: {gpus[0]}" if gpus else f"CPU ({cpu_model()})"


def git_commit() -> str:
    """The commit of the checkout wsbench runs from, or 'unknown'."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
