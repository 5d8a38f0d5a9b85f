"""Benchmarks (`make bench`): JSON figures, not pass/fail tests. See README.md here."""
