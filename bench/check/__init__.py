"""``wsbench check``: the conformance checks of a layer family, built-in or plugin.

What the harness relies on when it benchmarks a family (its parameter-count and MAC formulas,
its output shapes, finite outputs and gradients, saving and loading, its config, the budget
solver, the same numbers on every installed Keras backend) is checked here, on any
registered family, in seconds. The project's own tests run the same checks
(``tests/test_family_check.py``), so what a plugin author runs and what the project tests
cannot drift apart. :func:`bench.check.suite.check_families` runs them;
:mod:`bench.check.command` is the sub-command.

This package imports nothing heavy at import time: ``wsbench --help`` lists its command.
"""
