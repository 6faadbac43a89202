"""Vessel measurement: the vessel graph, smooth centrelines, and the morphology measures."""
