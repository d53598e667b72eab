"""Reproducible benchmarks (`make bench`): figures as ratios to a same-run baseline."""
