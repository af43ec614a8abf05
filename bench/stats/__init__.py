"""Statistics of a run, shared by the run (which adds seeds where a verdict is open) and the
report (which states the verdicts): summaries over seeds, paired comparisons against the
reference family, and the verdicts built on them."""

#: The family every other family is compared with: hard weight sharing.
REFERENCE = "conv"
