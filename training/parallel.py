"""Spreading per-record work of large datasets over worker processes.

Secret scanning and fingerprinting dominate a dataset build and are independent per record, so
they run in a process pool (one worker per usable CPU, at most MAX_WORKERS) once a dataset is large enough to repay the
start-up; small inputs stay in this process. Workers are spawned, not forked, so they inherit no
lock held by a thread of ours (the progress bar runs one).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

PARALLEL_FROM = 4000  # items; fewer are handled in this process
CHUNK = 500
MAX_WORKERS = 4  # past this the serial rest of a build dominates, and each worker costs memory

Result = TypeVar("Result")


def _usable_cpus() -> int:
    """CPUs this process may run on (respects taskset and cpusets, unlike os.cpu_count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def map_chunks(
    function: Callable[[list], list[Result]],
    items: Sequence[Any],
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> list[Result]:
    """`function` over consecutive chunks of `items`, results in input order. `function` takes a
    list and returns one result per item; it must be a module-level function (workers import
    it by name)."""
    workers = workers if workers is not None else min(_usable_cpus(), MAX_WORKERS)
    chunks = [list(items[i : i + CHUNK]) for i in range(0, len(items), CHUNK)]
    results: list[Result] = []
    if workers < 2 or len(items) < PARALLEL_FROM:
        for chunk in chunks:
            results.extend(function(chunk))
            if progress is not None:
                progress(len(results), len(items))
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
            for found in pool.map(function, chunks):
                results.extend(found)
                if progress is not None:
                    progress(len(results), len(items))
    except BrokenProcessPool:
        # Workers could not start (e.g. a __main__ read from stdin cannot be re-imported by a
        # spawned process): finish here, from the first chunk without a result.
        for chunk in chunks[len(results) // CHUNK :]:
            results.extend(function(chunk))
            if progress is not None:
                progress(len(results), len(items))
    return results
