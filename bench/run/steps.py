"""``--steps auto``: one step count for every model of a run, chosen from the data before tuning.

Every family's plain recipe is trained at the middle budget with N steps and with 2N (seed =
the run seed; all families as one program, :mod:`bench.run.training`). N starts at
:data:`START_STEPS` and doubles while, for any family, the 2N model beats the N model beyond
what the validation split resolves, or the N model itself is still improving in its last
fifth — both by the one rule of :mod:`bench.run.convergence`, and each with a p-value that
survives Holm's correction over every family's two (:func:`still_open`) — up to
``max_steps``. The chosen N then trains every trial, seed and baseline model, so the protocol
stays equal.

Only the validation split is used. The choice, every probed result and the reason it
stopped are recorded in run.json (``steps_choice``), and a resumed run reads them back
instead of probing again.
"""

from __future__ import annotations

import functools
import time
from typing import Any, Dict, List, Sequence

import numpy as np

from bench.run.convergence import Check, improvement_p
from bench.run.protocol import START_STEPS, Protocol
from bench.stats.verdicts import ALPHA, holm

def probe_budget(budgets: Sequence[int]) -> int:
    """The budget the probe trains at: the middle one (of two middle ones, the larger: the
    default profile's 3k and 10k probe at 10k, where the three-budget profile it replaced
    probed)."""
    ordered = sorted(budgets)
    return ordered[len(ordered) // 2]


def train_recipes(config, dataset, families: Sequence[str], budget: int, steps: int) -> Dict[str, Dict[str, Any]]:
    """family → what its plain recipe at ``budget`` reached with ``steps`` steps: validation
    accuracy and loss, whether it converged, and its best check's per-image results."""
    import keras

    from bench.compat import release_tf_graphs
    from bench.run.evaluation import recipe
    from bench.run.hypermodel import BudgetedHyperModel
    from bench.run.training import train_together

    keras.backend.clear_session()
    release_tf_graphs()
    protocol = Protocol.of(config, steps)
    models, rates = [], set()
    for family in families:
        hypermodel = BudgetedHyperModel(family, dataset.input_shape, dataset.num_classes, budget, config, protocol)
        hp = recipe(hypermodel)
        keras.utils.set_random_seed(config.seed)
        model = hypermodel.build(hp)
        model.name = f"{family}_recipe"
        models.append(model)
        rates.add(hp.values["learning_rate"])
    (rate,) = rates  # the recipe's learning rate is a shared default: the same for every family
    results = train_together(models, [config.seed] * len(models), dataset.x_train, dataset.y_train, dataset.x_val,
                             dataset.y_val, protocol, rate, dataset.num_classes)
    return {family: {"val_accuracy": r.val_accuracy, "val_loss": r.val_loss, "converged": r.converged,
                     "improving_p": r.improving_p,
                     "correct": None if r.best_check is None else np.asarray(r.best_check.correct),
                     "loss": None if r.best_check is None else np.asarray(r.best_check.loss)}
            for family, r in zip(families, results)}


def _probe_handler(config, families, budget):
    """A --jobs worker's handler of probe tasks (a step count)."""
    from bench import backend
    from bench.data import load_dataset

    backend.configure(config)
    dataset = load_dataset(config.dataset, val_fraction=config.val_fraction, seed=config.seed)

    def handle(steps, emit):
        emit("probe", (steps, train_recipes(config, dataset, families, budget, steps)))
    return handle


#: The questions the probe asks of each family, by the p-value that answers each.
QUESTIONS = ("p_doubling", "p_improving")  # 2N beats N; N's last fifth beats the rest of it


def still_open(entries: Dict[str, Dict[str, float]], alpha: float = ALPHA) -> List[str]:
    """The families that still gain from more steps: a p-value of theirs (those of
    :data:`QUESTIONS` the look asked: at the cap, doubling is not tried), each 1 unless the
    rule of :mod:`bench.run.convergence` counts the gain, at most ``alpha`` after Holm's
    correction over every p-value of the look."""
    asked = [(f, entry[key]) for f, entry in entries.items() for key in QUESTIONS if key in entry]
    if not asked:
        return []
    adjusted = holm([p for _, p in asked])
    return sorted({f for (f, _), p in zip(asked, adjusted) if p <= alpha}, key=list(entries).index)


def _check(result: Dict[str, Any], step: int):
    if result["correct"] is None:
        return None
    return Check(step, result["correct"], result["loss"])


def choose_steps(config, dataset, families: Sequence[str], jobs: int = 1, say=print) -> Dict[str, Any]:
    """Chooses the run's step count (see the module docstring); returns the record run.json keeps.

    Args:
        config: the validated configuration (``steps='auto'``).
        dataset: the loaded dataset.
        families: the families that can meet the probe budget.
        jobs: programs trained side by side (the first look trains N and 2N at once).
        say: where progress lines go.
    """
    from bench.run.parallel import run_in_workers

    budget = probe_budget(config.budgets)
    trained: Dict[int, Dict[str, Dict[str, Any]]] = {}

    def train(counts: List[int]) -> None:
        counts = [c for c in counts if c not in trained]
        if not counts:
            return
        say(f"wsbench: --steps auto: training every family's plain recipe at budget {budget:,} with "
            f"{' and '.join(f'{c:,}' for c in counts)} steps")
        if jobs > 1 and len(counts) > 1:
            run_in_workers(functools.partial(_probe_handler, config, tuple(families), budget), counts, jobs,
                           on_event=lambda kind, payload: trained.__setitem__(*payload), what="step probes")
        else:
            for count in counts:
                trained[count] = train_recipes(config, dataset, families, budget, count)

    looks, n = [], START_STEPS
    while True:
        doubled = min(2 * n, config.max_steps)
        train([n] + ([doubled] if doubled > n else []))
        look = {"steps": n, "families": {}}
        for family in families:
            now = trained[n][family]
            entry = {"val_accuracy": now["val_accuracy"], "val_loss": now["val_loss"], "converged": now["converged"],
                     "p_improving": now["improving_p"]}
            if doubled > n:
                later = trained[doubled][family]
                before, after = _check(now, n), _check(later, doubled)
                entry["p_doubling"] = 1.0 if before is None or after is None else \
                    improvement_p(before, after, dataset.num_classes)
                entry.update(doubled_val_accuracy=later["val_accuracy"], doubled_val_loss=later["val_loss"])
            look["families"][family] = entry
        open_ = still_open(look["families"])
        for family, entry in look["families"].items():
            entry["gains"] = family in open_
        looks.append(look)
        if doubled == n:  # at the cap: doubling is not tried, only whether N still improves
            reason = (f"the cap, --max-steps {config.max_steps:,}, was reached, " +
                      (f"with {', '.join(open_)} still gaining" if open_ else
                       f"with no family still improving at {n:,} (Holm over the {len(families)} p-values)"))
            break
        if not open_:
            reason = f"doubling to {doubled:,} steps changed no family's validation result beyond noise, and none " \
                     f"was still improving at {n:,} (Holm over the {2 * len(families)} p-values)"
            break
        say(f"wsbench: --steps auto: {', '.join(open_)} still gain(s) beyond {n:,} steps; doubling")
        n = doubled
    say(f"wsbench: --steps auto chose {n:,} steps: {reason}")
    return {"steps": n, "budget": budget, "seed": config.seed, "reason": reason, "capped": doubled == n,
            "looks": looks}


def settle_protocol(run, config, dataset, infeasible, jobs: int) -> Protocol:
    """The run's training protocol, recorded in run.json: its fixed steps, or with ``--steps
    auto`` the count chosen from the data (:mod:`bench.run.steps`), probed once and then read
    back on every resume."""
    steps = None
    if config.steps == "auto":
        record = run.read_run().get("steps_choice")
        if not record:
            budget = probe_budget(config.budgets)
            record = choose_steps(config, dataset, [f for f in config.families if (f, budget) not in infeasible],
                                  jobs=jobs)
            run.update_run(steps_choice=record)
        steps = record["steps"]
    protocol = Protocol.of(config, steps)
    run.update_run(protocol=protocol.describe())
    return protocol


def stored_protocol(run, config, wait_s: float = 3600) -> Protocol:
    """The protocol the chief of a distributed run settled (a worker waits for its choice of
    steps, if the run chooses them)."""
    if config.steps != "auto":
        return Protocol.of(config)
    deadline = time.time() + wait_s
    while True:
        record = run.read_run().get("steps_choice") if run.run_json.exists() else None
        if record:
            return Protocol.of(config, record["steps"])
        if time.time() > deadline:
            raise RuntimeError(f"the chief of run {config.run_name!r} did not choose its steps within {wait_s:.0f} s")
        time.sleep(1.0)
