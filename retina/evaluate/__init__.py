"""Scoring trained runs: the test set, another camera, their statistics and the study's claims."""
