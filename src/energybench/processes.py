"""Process groups: the runs and servers energybench starts each lead their own group, so a
stop reaches every process they started."""

from __future__ import annotations

import contextlib
import os


def signal_group(group: int, signum: int) -> None:
    """Send ``signum`` to a process group; a group that is already gone is not an error."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)
