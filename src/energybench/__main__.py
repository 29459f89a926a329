"""`python -m energybench`, or `python <checkout>/src/energybench` as the workflow's rules
run it, or the installed `energybench` script: the `energybench` command. The commands a
benchmark executes start from energybench.job.entry alone, every other from energybench.cli,
which neither the run's code digest nor the engine image holds."""

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

from energybench.job import entry  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if entry.executes(argv):
        return entry.main(argv)
    from energybench import cli

    return cli.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
