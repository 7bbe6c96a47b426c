"""The package's typed errors: callers catch a class, never search an error's text.

Every error a user can cause is a `SeminarError`; the CLI prints its message as one line and
exits 2. Those that are bad arguments are also `ValueError`s, so plain Python callers that
catch `ValueError` keep working.
"""

__all__ = ["LockedError", "RunConflict", "SeminarError", "TrainingDiverged", "UnsafeFileError",
           "UsageError"]


class SeminarError(Exception):
    """Base class of every error the package raises on purpose."""


class UsageError(SeminarError, ValueError):
    """An argument, option or file the user gave cannot be used; the message says the fix."""


class RunConflict(UsageError):
    """A run directory or model file holds something that disagrees with the command."""


class LockedError(SeminarError, OSError):
    """Another live process holds the lock of a run directory or output file."""


class UnsafeFileError(UsageError):
    """A file is refused before it is opened: too big, unexpected members, or a refused config."""


class TrainingDiverged(SeminarError, RuntimeError):
    """The loss became non-finite, or training ended worse than it began.

    `diverged_at` is `(epoch, batch, loss)` where the training engine's NaN guard stopped
    training (None when unknown).
    """

    def __init__(self, message, diverged_at=None):
        super().__init__(message)
        self.diverged_at = diverged_at
