"""Named run profiles: the settings `make bench` and the tests use.

A profile only supplies defaults; any flag given on the command line wins.
"""

from __future__ import annotations

PROFILES = {
    # The main job: every built-in family, three budgets, equal effort, 3 seeds; < 10 min on 2 cores,
    # where two cells at a time use both cores.
    "default": dict(dataset="digits", families="all", budgets=(3000, 10000, 30000), tuner="random", max_trials=3,
                    epochs=8, seeds=3, batch_size=128, patience=3, throughput_batch=128, throughput_repeats=5,
                    jobs=2),
    # A smoke run of the whole pipeline in well under 2 minutes.
    "quick": dict(dataset="digits", families="all", budgets=(3000,), tuner="random", max_trials=2, epochs=2,
                  seeds=2, batch_size=128, patience=2, throughput_batch=32, throughput_repeats=2, jobs=1),
}


def check_profile(name: str) -> dict:
    if name not in PROFILES:
        raise ValueError(f"profile {name!r} is not accepted: use one of {sorted(PROFILES)}.")
    return dict(PROFILES[name])
