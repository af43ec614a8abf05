"""The family flags of `wsbench train`: declared by the families, added to the parser and checked here.

A family declares its extra flags (``Family.train_flags``, e.g. SISWS's ``--centroid-grid``)
and turns their values into layer keyword arguments (``Family.train_hyperparameters``).
Here the declarations of every registered family are merged into one argument group, a
flag given with a family that does not declare it is refused naming the families that do,
and the rest is handed to the family.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from typing import Any, Dict, List, Tuple


class TrainError(ValueError):
    """A flag value `wsbench train` cannot use; the message names it and what is accepted."""


def declared_flags() -> Dict[str, Tuple[Any, List[str]]]:
    """Option string → (its ``TrainFlag``, the families declaring it), in registration order.

    Families may declare the same flag (the two SISWS families share theirs); the first
    declaration provides its help and options.
    """
    import layers

    found: Dict[str, Tuple[Any, List[str]]] = {}
    for name in layers.list_families():
        for flag in layers.get_family(name).train_flags:
            found.setdefault(flag.flag, (flag, []))[1].append(name)
    return found


def add_family_flags(parser: argparse.ArgumentParser) -> None:
    """Adds every family's flags to ``parser``, each help naming the families that accept it."""
    group = parser.add_argument_group("family flags", "accepted only with the families named in [brackets]")
    for flag, families in declared_flags().values():
        # No default: None (False for store_true) must mean "not given".
        options = {k: v for k, v in flag.options.items() if k not in ("default", "dest")}
        group.add_argument(flag.flag, dest=flag.dest, help=f"{flag.help} [{', '.join(families)}]", **options)


class FamilyFlagsParser(argparse.ArgumentParser):
    """An ArgumentParser that adds the family flags the first time it parses or shows help.

    Reading the families imports every layer module, and with it TensorFlow (seconds);
    `wsbench` builds every subcommand's parser whatever the command, so the train parser
    waits until `train` is the command being parsed.
    """

    _family_flags_added = False

    def _add_family_flags(self) -> None:
        if not self._family_flags_added:
            self._family_flags_added = True
            add_family_flags(self)

    def parse_known_args(self, args=None, namespace=None):
        self._add_family_flags()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._add_family_flags()
        return super().format_help()

    def format_usage(self) -> str:
        self._add_family_flags()
        return super().format_usage()


def defer_family_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Makes ``parser`` add the family flags the first time it parses or shows help; returns it."""
    if not isinstance(parser, FamilyFlagsParser):
        # subparsers.add_parser() builds the parent's parser class; keep that class and put
        # the deferring step in front of it (the instance holds nothing either class lacks).
        parser.__class__ = type(f"FamilyFlags{type(parser).__name__}", (FamilyFlagsParser, type(parser)), {})
    return parser


def _given(value) -> bool:
    return value is not None and value is not False


def family_settings(args) -> Tuple[Dict[str, Any], Tuple[str, ...]]:
    """The layer keyword arguments and extra picture kinds ``--family`` and its flags ask for.

    Raises:
        FamilyError: an unknown family.
        TrainError: a flag the family does not declare, or values it cannot honour.
    """
    import layers

    family = layers.get_family(args.family)
    foreign: Dict[Tuple[str, Tuple[str, ...]], List[str]] = defaultdict(list)
    for flag, families in declared_flags().values():
        if args.family not in families and _given(getattr(args, flag.dest, None)):
            foreign[(flag.topic, tuple(families))].append(flag.flag)
    if foreign:
        parts = []
        for (topic, families), flags in foreign.items():
            verb = "applies" if len(flags) == 1 else "apply"
            who = f"the families with {topic} ({', '.join(families)})" if topic else f"--family {', '.join(families)}"
            parts.append(f"{', '.join(flags)} {verb} only to {who}")
        raise TrainError(f"{'; '.join(parts)}, not to --family {args.family!r}.")
    values = {flag.dest: getattr(args, flag.dest, None) for flag in family.train_flags}
    try:
        return dict(family.train_hyperparameters(values)), tuple(family.train_pictures(values))
    except TrainError:
        raise
    except ValueError as exc:
        raise TrainError(str(exc)) from None
