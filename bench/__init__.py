"""The benchmark and the profiler: measurements of the mock, never imported by it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
