"""Helpers for the DVC pipeline: reading DVC experiments, and running training stages side by side."""
