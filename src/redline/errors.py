"""Exception hierarchy: every error redline raises on purpose derives from RedlineError."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "LabelsError",
    "RedlineError",
    "ReportError",
    "StoreError",
    "SuiteError",
    "TargetError",
]


class RedlineError(Exception):
    """Root of all errors that redline raises on purpose.

    The CLI prints these without a traceback because their messages already
    name the bad value and the next step.
    """


class ConfigError(RedlineError, ValueError):
    """An invalid option, target spec or configuration value."""


class SuiteError(RedlineError, ValueError):
    """An invalid or unreadable suite file.

    Attributes:
        path: File the error was found in, when known.
        line: 1-based line number in that file, when known.
    """

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None
    ):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class LabelsError(RedlineError, ValueError):
    """An invalid or unreadable file of human labels.

    Attributes:
        path: File the error was found in.
        line: 1-based line number in that file, when known.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None):
        where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class ReportError(RedlineError, OSError):
    """A report that cannot be written to the requested folder."""


class StoreError(RedlineError, RuntimeError):
    """A failure to read or write the results database."""


class TargetError(RedlineError, RuntimeError):
    """A failed request to a target.

    Attributes:
        kind: Short machine-readable reason, such as ``http_500`` or ``timeout``.
        retryable: Whether sending the same request again may succeed.
        retry_after: Seconds the server asked the client to wait, when given.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "target_error",
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after
