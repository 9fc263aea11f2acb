"""Pure judging maths: aggregation, normalisation, diagnostics and assignment (numpy/scipy, no I/O)."""
