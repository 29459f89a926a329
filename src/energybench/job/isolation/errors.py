"""Errors a user can hit when a run is launched or an image is built."""


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


class ImageBuildError(RuntimeError):
    """A benchmark image could not be built; the message says why and where the log is."""
