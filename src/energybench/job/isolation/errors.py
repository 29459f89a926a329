"""Errors a user can hit when a run is launched or an image is built."""

import errno
import os


class LaunchError(RuntimeError):
    """A model's run could not be launched or did not finish successfully.

    `cause` is a short machine-readable tag (one of the `CAUSE_*` constants) so callers can
    record it in the report; the message is the one paragraph a user reads.
    """

    def __init__(self, message: str, *, model_key: str, cause: str, exit_code: int | None = None):
        super().__init__(message)
        self.model_key = model_key
        self.cause = cause
        self.exit_code = exit_code


CAUSE_RUNTIME_UNAVAILABLE = "runtime_unavailable"
CAUSE_IMAGE_MISSING = "image_missing"
CAUSE_IMAGE_ARCHITECTURE = "image_architecture"
CAUSE_BAD_MOUNT = "bad_mount"
CAUSE_ENGINE_REFUSED = "engine_refused"
CAUSE_KILLED = "killed"
CAUSE_EXIT_NONZERO = "exit_nonzero"
CAUSE_TIMEOUT = "timeout"
CAUSE_INTERRUPTED = "interrupted"

# The run's exit code when something outside the model stopped it (a full disk): the job is
# then interrupted, to be redone, rather than failed for good. (EX_TEMPFAIL of sysexits.h.)
EXIT_INTERRUPTED = 75
_OUT_OF_SPACE = (errno.ENOSPC, errno.EDQUOT)
# Libraries that catch the OSError and raise their own error keep at least its text.
_OUT_OF_SPACE_TEXT = tuple(os.strerror(code) for code in _OUT_OF_SPACE)


def out_of_space(error: BaseException | None) -> bool:
    """Whether ``error``, or an error it arose from, is a full disk or an exceeded quota."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in _OUT_OF_SPACE:
            return True
        if any(text in str(error) for text in _OUT_OF_SPACE_TEXT):
            return True
        error = error.__cause__ or error.__context__
    return False


class ImageBuildError(RuntimeError):
    """A benchmark image could not be built; the message says why and where the log is."""
