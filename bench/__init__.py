"""Load generator, baselines and orchestration of `make bench` (docs/performance.md)."""
