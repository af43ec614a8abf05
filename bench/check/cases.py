"""The cases a family is checked on, and their layers, built once and shared by the checks.

A spread of input shapes, filters, kernel sizes, strides and paddings (odd and even, square
and not, strides above the kernel), crossed with the family's own configurations: its
defaults, configurations drawn from its search space (:func:`bench.run.search_space.
family_configurations`), its hard-sharing configuration, and any the caller adds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

import numpy as np

#: (input H, W, C), filters, kernel, strides, padding.
GEOMETRIES = (
    ((7, 9, 2), 4, 3, 1, "valid"),
    ((8, 8, 3), 3, (2, 3), 2, "same"),
    ((5, 6, 1), 1, 1, (1, 2), "valid"),
    ((6, 7, 2), 5, 5, 3, "same"),
    ((9, 5, 1), 2, (4, 2), (3, 2), "valid"),
)
#: Configurations drawn from a family's search space, besides its defaults.
SAMPLES = 6
BATCH = 2


@dataclass(frozen=True)
class Case:
    """One layer to build: its input shape, the convolution's arguments and the family's options."""

    input_shape: Tuple[int, int, int]
    filters: int
    kernel_size: Any
    strides: Any
    padding: str
    hp: Mapping[str, Any] = field(default_factory=dict)

    @property
    def args(self) -> tuple:
        """(filters, kernel_size, strides, padding), as ``Family.build`` and the formulas take them."""
        return self.filters, self.kernel_size, self.strides, self.padding

    def describe(self) -> str:
        shape = "×".join(map(str, self.input_shape))
        return (f"{shape} input, {self.filters} filters, kernel {self.kernel_size}, strides {self.strides}, "
                f"{self.padding}, {dict(self.hp)}")


def configurations(name: str, samples: int = SAMPLES, extra: Iterable[Mapping[str, Any]] = ()) -> List[Dict[str, Any]]:
    """The family's layer keyword arguments to check: defaults, ``samples`` draws from its search
    space, its hard-sharing configuration and ``extra``, without repeats."""
    from bench.run.search_space import family_configurations, family_keywords
    from layers import get_family

    family = get_family(name)
    found = [family_keywords(name, values) for values in family_configurations(name, samples=samples)]
    if isinstance(family.hard_sharing_hp, dict):
        found.append(dict(family.hard_sharing_hp))
    found += [dict(options) for options in extra]
    unique = {repr(sorted(hp.items(), key=lambda kv: kv[0])): hp for hp in found}
    return list(unique.values())


@dataclass
class Built:
    """A case's layer, built and called on a random batch, or the error that stopped it."""

    case: Case
    layer: Any = None
    x: Optional[np.ndarray] = None
    y: Optional[np.ndarray] = None
    error: str = ""


class FamilyUnderCheck:
    """A family with its configurations and cases; each case's layer is built once, on demand.

    Args:
        name: a registered family.
        samples: configurations drawn from its search space.
        extra: further configurations (layer keyword arguments) to check.
    """

    def __init__(self, name: str, samples: int = SAMPLES, extra: Iterable[Mapping[str, Any]] = ()):
        from layers import get_family

        self.name, self.family = name, get_family(name)
        self.configurations = configurations(name, samples, extra)
        self.cases = [Case(shape, filters, kernel, strides, padding, hp)
                      for hp in self.configurations for shape, filters, kernel, strides, padding in GEOMETRIES]
        self._built: Dict[int, Built] = {}

    def new_layer(self, case: Case):
        """A fresh layer of ``case`` (not yet built)."""
        return self.family.build(*case.args, **case.hp)

    def built_case(self, index: int) -> Built:
        """Case ``index``, built and called on a random batch (or with the error it raised), once."""
        if index not in self._built:
            self._built[index] = build_case(self, self.cases[index], index)
        return self._built[index]

    @property
    def built(self) -> List[Built]:
        """Every case, built and called on a random batch (or with the error it raised)."""
        return [self.built_case(index) for index in range(len(self.cases))]

    @property
    def working(self) -> List[Built]:
        """The cases that built and ran."""
        return [b for b in self.built if not b.error]

    def spread(self, ends: bool = False) -> List[Built]:
        """A few working cases, without building the others: per configuration (with ``ends``,
        the first and the last only), the first geometry (in turn, so that every geometry comes
        up) whose case works."""
        out, per, n = [], len(GEOMETRIES), len(self.configurations)
        for i in sorted({0, n - 1}) if ends else range(n):
            for j in range(per):
                built = self.built_case(i * per + (i + j) % per)
                if not built.error:
                    out.append(built)
                    break
        return out


def build_case(under: FamilyUnderCheck, case: Case, index: int) -> Built:
    """Builds ``case``'s layer with seeded weights and calls it on a seeded random batch."""
    import keras

    from bench.run.containment import error_text

    keras.utils.set_random_seed(1234 + index)
    x = np.random.default_rng(index).normal(size=(BATCH,) + tuple(case.input_shape)).astype("float32")
    try:
        layer = under.new_layer(case)
        y = np.asarray(layer(x))
    except Exception as exc:  # noqa: BLE001 - whatever the family's layer raises is the finding
        return Built(case, x=x, error=error_text(exc))
    return Built(case, layer, x, y)
