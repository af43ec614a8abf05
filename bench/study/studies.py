"""The registered studies: each a profile run on several datasets, with what each dataset's
run changes in it, summarised together (``wsbench study NAME``).

- ``shapes``: the controlled pair under the ``study`` profile; each dataset has a known
  answer (:mod:`bench.study.answers`), and the two are built to disagree, so they are shown
  side by side and never aggregated.
- ``real``: real images (digits, mnist-5k, faces) under the ``default`` profile (``--steps
  auto``, ``--seeds auto``), each at budgets and a backbone depth it can hold, and an
  aggregate over datasets and budgets (:mod:`bench.study.aggregate`, :mod:`bench.study.ranks`).

Importing this module loads nothing heavy (``wsbench study --help`` stays fast).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Tuple


@dataclass(frozen=True)
class Study:
    """Runs of one profile on several datasets, summarised together.

    Attributes:
        profile: the profile every run starts from (:data:`bench.run.config.PROFILES`).
        datasets: the datasets, one run each, in the order of the summary.
        description: what the study asks, and what each dataset's run is.
        prefix: run names are ``<prefix>-<dataset>``; the summary goes to ``study-<name>``.
        settings: settings every run of the study changes in the profile.
        per_dataset: dataset → the settings its run changes on top (budgets, depth, ...).
        aggregate: whether the summary aggregates over datasets and budgets (never for
            datasets built to disagree).
    """

    profile: str
    datasets: Tuple[str, ...]
    description: str
    prefix: str = "study"
    settings: Mapping[str, Any] = field(default_factory=dict)
    per_dataset: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    aggregate: bool = False

    def config(self, dataset: str, **changes):
        """The (unvalidated) configuration of the study's run on ``dataset``: the profile,
        the study's settings, the dataset's, then ``changes`` (results_dir, seed, jobs, ...)."""
        from bench.run.config import profile

        settings = {**self.settings, **self.per_dataset.get(dataset, {}), **changes}
        return dataclasses.replace(profile(self.profile), dataset=dataset, run_name=f"{self.prefix}-{dataset}",
                                   **settings)


#: The real-image study's runs: the default profile (every family; --steps auto, --seeds auto
#: up to 10; 2 trials, the first the plain recipe) without the untuned baseline and the
#: throughput stage, which a 2-core machine cannot also afford in about an hour and a half.
#: Budgets and depth per dataset, from the parameters and time each can hold:
#: - digits (8×8): depth 2, the default budgets: two 3×3 blocks already see the whole image.
#: - mnist-5k (28×28): depth 3, so that a pooled feature sees most of a digit (22×22 pixels
#:   with 3×3 kernels, 36×36 with 5×5; depth 2 sees 10-16 pixels, and conv at 10k had not
#:   converged in 400 steps there); 10k and 30k, where locally_connected is infeasible (a
#:   locally connected first layer alone has 28·28·9 weights per filter); at most 800 steps.
#: - faces (25×25, 200 images, 40 for testing): depth 3 at 3k and 10k, the small models a
#:   160-image training and validation set can hold; every test image is 2.5 points;
#:   locally_connected is infeasible (it needs 20k at depth 2, 30k at depth 3, for 1-3 filters).
REAL = Study(
    "default", ("digits", "mnist-5k", "faces"),
    "real images: digits (8×8, depth 2: a pooled feature sees a 10-16 pixel window, as wide as the image; budgets "
    "3k/10k/30k), "
    "mnist-5k (28×28 real MNIST digits, depth 3: 22-36 pixels, most of a digit, where two blocks would see 10-16, "
    "only part of it; 10k/30k) and faces (25×25, 200 images, depth 3, 3k/10k), where locally_connected is "
    "infeasible; verdicts "
    "against conv per dataset and budget, and an aggregate over them (probability of beating conv, interquartile "
    "mean of Δ, average ranks)",
    prefix="real", settings={"baseline_seeds": 0, "throughput": False},
    per_dataset={"digits": {"depth": 2, "budgets": (3000, 10000, 30000)},
                 "mnist-5k": {"depth": 3, "budgets": (10000, 30000), "max_steps": 800},
                 "faces": {"depth": 3, "budgets": (3000, 10000)}},
    aggregate=True)

STUDIES: Dict[str, Study] = {
    "shapes": Study("study", ("shapes-aligned", "shapes-anywhere"),
                    "the controlled pair: position-aware families must win on shapes-aligned, conv must hold its own "
                    "on shapes-anywhere"),
    "real": REAL,
}
