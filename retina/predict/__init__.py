"""Photographs through a trained model: the prediction, its measures, and when to doubt it."""
