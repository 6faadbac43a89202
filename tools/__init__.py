"""The commands a user runs by hand, beside the pipeline: predict on photographs, the activation/resolution ablation,
offline plots and side-by-side training. Installed as console scripts (pyproject.toml: retina-predict, ...)."""
