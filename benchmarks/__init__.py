"""Benchmarks of the slow paths on data of realistic size; see BENCHMARKS.md."""
