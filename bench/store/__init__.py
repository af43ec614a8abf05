"""Storage: a run's directory and every file in it (see :class:`RunDir`)."""

from bench.store.lock import RunInUse
from bench.store.rundir import RunDir
from bench.store.runs import check_run_name, check_writable, list_runs, newest_run, resolve_run
from bench.store.schema import BASELINE, CORRECT, CURVES, FINAL, THROUGHPUT, TRIALS, Table
from bench.store.tables import ResultsError

__all__ = ["BASELINE", "CORRECT", "CURVES", "FINAL", "THROUGHPUT", "TRIALS", "ResultsError", "RunDir", "RunInUse", "Table", "check_run_name",
           "check_writable", "list_runs", "newest_run", "resolve_run"]
