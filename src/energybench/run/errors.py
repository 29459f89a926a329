"""Errors of a run that its caller tells apart: a user's configuration error, and a full disk."""

import errno
import os


class ConfigError(Exception):
    """A user error in configuration, reported as one paragraph without a traceback."""


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
