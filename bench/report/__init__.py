"""The report: report.md and figures built from a stored run alone."""
