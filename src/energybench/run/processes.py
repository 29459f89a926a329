"""Process groups: the runs and servers energybench starts each lead their own group, so a
stop reaches every process they started."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def signal_group(group: int, signum: int) -> None:
    """Send ``signum`` to a process group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def group_members(group: int, proc: Path = Path("/proc")) -> Iterator[int]:
    """Pids of the processes of a process group that still run. Zombies do not count: they
    hold no memory or device, and an init that is slow to reap orphans (as in some containers)
    would keep them."""
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended while we looked
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state != "Z":
            yield int(stat.parent.name)


def process_group_alive(group: int, proc: Path = Path("/proc")) -> bool:
    """Whether any process of the group still runs (without /proc: whether a signal reaches it)."""
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        return True
    return any(True for _ in group_members(group, proc))


def cpus_pinned_in_group(group: int, proc: Path = Path("/proc")) -> set[int]:
    """The CPUs of the threads of a process group that are pinned, i.e. allowed fewer CPUs than
    the group's widest thread (its unpinned threads)."""
    allowed = []
    for pid in group_members(group, proc):
        for status in (proc / str(pid) / "task").glob("*/status"):
            try:
                line = next(
                    x for x in status.read_text().splitlines() if x.startswith("Cpus_allowed_list:")
                )
            except (OSError, StopIteration):
                continue
            allowed.append(parse_cpu_list(line.partition(":")[2]))
    if not allowed:
        return set()
    widest = max(allowed, key=len)
    return set().union(*(cpus for cpus in allowed if len(cpus) < len(widest)))


def parse_cpu_list(text: str) -> set[int]:
    """The CPUs of a kernel CPU list such as '0-3,8,10-11'."""
    cpus: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus
