"""Several stored runs side by side (``wsbench compare``, in :mod:`bench.cli`): on one dataset, how far each cell,
verdict and ranking of the families agree between runs (another ``--seed``, CPU, backend or
protocol); across datasets, the verdicts against the reference per dataset. Read from the
stored runs alone, through :func:`bench.report.data.load`.

Importing this package loads nothing heavy (``wsbench --help`` stays fast); see
:mod:`bench.compare.tables` for :func:`~bench.compare.tables.compare`.
"""
