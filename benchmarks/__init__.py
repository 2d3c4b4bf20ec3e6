"""Benchmarks: Solomon VRPTW vs PyVRP/VROOM, and ISP weeks at scale (see docs/BENCHMARKS.md)."""
