"""The report: figures, provenance, the markdown report, plots, the experiments and budget tables."""
