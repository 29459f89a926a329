#!/bin/sh
# Print the pinned requirements an engine image installs: requirements/ci.txt without torch
# (each image brings its own build: the CPU wheel, or the CUDA base image's) and without what
# only the host needs (Snakemake and its SLURM plugin drive containers; Jinja2 renders the
# site and markdown-it-py (with mdurl) its methodology page; pytest, pytest-xdist (with execnet)
# and Selenium test them; ruff and import-linter (with grimp) lint them).
# Usage: engine-requirements.sh requirements/ci.txt > engine.txt
set -eu
grep -vE '^(torch|snakemake|snakemake-executor-plugin-slurm|Jinja2|MarkupSafe|markdown-it-py|mdurl|pytest|pytest-xdist|execnet|selenium|ruff|import-linter|grimp)([=<>!~ ;[]|$)' "$1"
