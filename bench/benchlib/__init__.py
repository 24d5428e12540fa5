"""Helpers for bench/run: settings, processes, load generators, report."""
