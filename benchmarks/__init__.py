"""Speed goals of the framework, measured side by side in one run: `python -m benchmarks.run` (docs/benchmarks.md)."""
