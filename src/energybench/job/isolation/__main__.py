"""Command line of the runtime layer.

    python -m energybench.job.isolation build-cpu-image [--container-cli docker] [--tag energybench:cpu]
        [--repo-root .] [--id-file PATH] [--log PATH]

prints the image id (and writes it to --id-file atomically, for a pipeline rule's output).
"""

import argparse
import sys
from pathlib import Path

from energybench.run.files import write_atomic
from energybench.job.isolation.errors import ImageBuildError
from energybench.job.isolation.images import build_cpu_image
from energybench.job.isolation.spec import CONTAINER_RUNTIMES, CPU_IMAGE_TAG, DOCKER


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m energybench.job.isolation")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build-cpu-image", help="build the registry-free CPU benchmark image")
    build.add_argument("--container-cli", default=DOCKER, choices=CONTAINER_RUNTIMES)
    build.add_argument("--tag", default=CPU_IMAGE_TAG)
    build.add_argument("--repo-root", type=Path, default=Path.cwd())
    build.add_argument("--id-file", type=Path, help="write the image id here (atomically)")
    build.add_argument("--log", type=Path, help="append the build output here")
    args = parser.parse_args(argv)
    try:
        image_id = build_cpu_image(args.repo_root, args.tag, args.container_cli, args.log)
    except ImageBuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.id_file:
        write_atomic(args.id_file, image_id + "\n")
    print(image_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
