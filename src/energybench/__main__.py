"""`python -m energybench`, or `python <checkout>/src/energybench` as the workflow's rules
run it: the `energybench` command (energybench.cli)."""

import os
import sys

if not __package__:
    # Run as a folder, Python put the package's own folder first on sys.path: put the folder
    # holding it there instead, and first on PYTHONPATH for the run this command starts, so
    # both import this checkout's energybench before any other (under `--sdm conda` Snakemake
    # clears PYTHONPATH).
    SRC = os.path.dirname(os.path.abspath(sys.path[0]))
    sys.path[0] = SRC
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))

from energybench.cli import main  # noqa: E402

raise SystemExit(main())
