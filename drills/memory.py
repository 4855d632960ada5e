"""Resident memory of a process and everything it started, read from /proc.

PSS (proportional set size) rather than RSS: PostgreSQL's backends share its buffers, and
summing their RSS would count those pages once per backend. For a single process PSS and
RSS differ only by the libraries it shares with others. Shared memory segments (PostgreSQL's
buffer pool, sized once by `shared_buffers` and filled as pages are first read) are kept
apart from the rest, which is where a leak would show.
"""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def pss_kib(pid: int) -> tuple[int, int]:
    """(PSS, of which shared memory segments) of one process, in KiB."""
    fields: dict[str, int] = {}
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("Pss", "Pss_Shmem"):
                fields[key] = int(rest.split()[0])
    except OSError:
        pass  # the process ended between listing and reading
    return fields.get("Pss", 0), fields.get("Pss_Shmem", 0)


def resident_mib(pid: int) -> tuple[float, float]:
    """(private, shared) resident memory of `pid` and its descendants, in MiB; private excludes shared segments."""
    pss = shmem = 0
    for p in tree(pid):
        total, shared = pss_kib(p)
        pss, shmem = pss + total, shmem + shared
    return (pss - shmem) / 1024, shmem / 1024
