"""The benchmark and the profiler: measurements of the mock, never imported by it."""
