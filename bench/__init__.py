"""Load benchmarks of the Todo API against its baselines (`python -m bench`)."""
