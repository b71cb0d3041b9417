"""Pure-Python engines: scoring, allocation, matching, clinic scheduling, statistics.

Nothing here imports Django or a domain app (an import-linter contract checks it). Domain apps
adapt plain data in and out, so each engine can be unit-tested and benchmarked on its own.
"""
