"""Secrets (tokens, API keys): which runs need them, which they must not see, and how they
reach a container.

A run sees only the secrets its own model declares: every other model's (named when the
workflow is parsed) and every variable that looks secret by its name or value is withheld
from it on every runtime (energybench.job.isolation.commands).

`docker run -e NAME` and `--env-file` copy the value into the container's stored
configuration, where `docker inspect` shows it to anyone allowed to list containers. So a
container gets its secrets as a file instead: written by the job in a private directory
(memory-backed `/dev/shm` where there is one), mounted into the container, read and deleted
by the run as it starts, and removed by the job when the run ends whatever happened. Only the
variable holding the file's path is in the container's configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path

from energybench.run.backend_registry import backend_class
from energybench.run.settings import is_local_dataset, is_local_model
from energybench.run.schema import model_setting_schema

SECRETS_FILE_ENV = "ENERGYBENCH_SECRETS_FILE"
HUB_TOKENS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
# The names of every secret the models of the workflow declare (comma-separated): put in the
# environment when the workflow is parsed, so each job withholds the others' from its run.
DECLARED_SECRETS_ENV = "ENERGYBENCH_DECLARED_SECRETS"
_MEMORY_DIR = Path("/dev/shm")
# Words of a variable's name (split at `_`) that say it holds a secret: OPENAI_API_KEY,
# AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN, PGPASSWORD, DOCKER_AUTH_CONFIG ...
_SECRET_WORDS = (
    "KEY",
    "TOKEN",
    "PASS",
    "PWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "AUTH",
    "AUTHORIZATION",
    "BEARER",
    "PAT",
    "COOKIE",
)
# Parts of a word that say so wherever they stand (DBPASSWORD, CLIENTSECRETS), and endings
# (APIKEY, ACCESSTOKEN).
_SECRET_PARTS = ("PASSWORD", "PASSWD", "SECRET")
_SECRET_ENDINGS = ("KEY", "TOKEN")
# Names that contain such a word but hold no secret: the working directory, the Hugging Face
# hub's own switches (HF_HUB_DISABLE_IMPLICIT_TOKEN, ...), which a run may need, and ours,
# which hold names and paths.
_NOT_SECRET = re.compile(rf"^(PWD|OLDPWD|HF_HUB_.*|{DECLARED_SECRETS_ENV}|{SECRETS_FILE_ENV})$")
# A value that is a URL with a password (postgres://user:pass@host/db); proxies excepted, which
# a run needs to reach the network.
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")


def uses_hub(run_config: Mapping) -> bool:
    """Whether the run loads its model or its dataset from the Hugging Face Hub (or cache)."""
    from_hub = "tiny" not in run_config and not is_local_model(run_config["id"])
    return from_hub or not is_local_dataset(run_config["dataset"])


def needed_secrets(run_config: Mapping) -> tuple[str, ...]:
    """Names of the variables this run reads: Hub tokens only when it uses the Hub (a public
    model needs none), and whatever its backend declares (an external endpoint's API key
    variable)."""
    names = HUB_TOKENS if uses_hub(run_config) else ()
    return names + tuple(_declared_secrets(run_config))


def looks_secret(name: str, value: str = "") -> bool:
    """Whether an environment variable, by its name or its value, looks like a secret."""
    if _NOT_SECRET.match(name.upper()):
        return False
    words = name.upper().split("_")
    if any(
        word in _SECRET_WORDS
        or word.endswith(_SECRET_ENDINGS)
        or any(part in word for part in _SECRET_PARTS)
        for word in words
    ):
        return True
    return bool(_URL_WITH_PASSWORD.match(value)) and not name.lower().endswith("_proxy")


def declared_secrets_environment(run_configs: Iterable[Mapping]) -> dict[str, str]:
    """DECLARED_SECRETS_ENV for the jobs: the names (never the values) of every secret the
    models declare."""
    names = {name for cfg in run_configs for name in _declared_secrets(cfg)}
    return {DECLARED_SECRETS_ENV: ",".join(sorted(names))}


def withheld_secrets(run_config: Mapping, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The variables a run must not see: the Hub tokens and every other model's declared
    secret, and anything in ``environ`` that looks secret, unless this run needs it."""
    declared = set(filter(None, environ.get(DECLARED_SECRETS_ENV, "").split(",")))
    looking = {name for name, value in environ.items() if looks_secret(name, value)}
    return tuple(sorted((set(HUB_TOKENS) | declared | looking) - set(needed_secrets(run_config))))


def _declared_secrets(run_config: Mapping) -> dict[str, str]:
    """The secrets the run's backend declares: variable name -> the setting naming it."""
    return backend_class(run_config["backend"]).secrets(dict(run_config))


def unset_secrets(run_config: Mapping) -> list[str]:
    """A sentence for each secret the run's backend declares whose variable is not set here,
    naming the setting. The variable's name is never repeated: a key pasted where the name
    belongs must not reach the terminal, a log or CI output."""
    problems = []
    for variable, setting in _declared_secrets(run_config).items():
        if not os.environ.get(variable):
            example = (model_setting_schema(setting).get("examples") or [None])[0]
            problems.append(
                f"{setting} names an environment variable that is not set here; it "
                "must be the NAME of the variable holding the key"
                + (f" (e.g. {example})" if example else "")
                + ", exported before the workflow starts, never the key itself"
            )
    return problems


@contextlib.contextmanager
def secrets_file(names: tuple[str, ...], environ: Mapping[str, str]) -> Iterator[Path | None]:
    """A file holding the values of ``names`` set in ``environ``, readable by this user only,
    in a directory removed on exit; None when none of them is set."""
    values = {name: environ[name] for name in names if environ.get(name)}
    if not values:
        yield None
        return
    base = _MEMORY_DIR if _MEMORY_DIR.is_dir() and os.access(_MEMORY_DIR, os.W_OK) else None
    directory = Path(tempfile.mkdtemp(prefix="energybench-secrets-", dir=base))  # mode 0700
    try:
        path = directory / "secrets.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(values, out)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def load_secrets_file(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """In the run: move the secrets of the file named by SECRETS_FILE_ENV into ``environ``
    and delete the file, so it is gone even if the job that wrote it is killed later.
    Returns the names loaded."""
    path = environ.pop(SECRETS_FILE_ENV, None)
    if not path:
        return []
    try:
        with open(path) as f:
            values = json.load(f)
    except (OSError, ValueError) as exc:  # e.g. a container command repeated by hand
        print(
            f"energybench: the secrets file named by {SECRETS_FILE_ENV} cannot be read "
            f"({type(exc).__name__}); going on without its secrets",
            file=sys.stderr,
        )
        return []
    with contextlib.suppress(OSError):
        os.unlink(path)
    environ.update(values)
    return sorted(values)
