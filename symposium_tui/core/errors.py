"""Errors the product reports to a person. Each carries the exit code the CLI uses and, where there
is one, the fix to try."""

from __future__ import annotations


class SymposiumError(Exception):
    """A failure explained in words; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(SymposiumError):
    """The person asked for something malformed; nothing was changed."""

    exit_code = 2


class ConfigError(SymposiumError):
    """A configuration file is unreadable or invalid."""

    exit_code = 2


class EngineUnavailable(SymposiumError):
    """No podman engine answered."""


class PodmanNotInstalled(EngineUnavailable):
    """There is no podman binary and no engine to talk to."""


class EngineError(SymposiumError):
    """The engine answered, but refused or failed an operation."""


class EngineNotFound(EngineError):
    """The engine has no object of that name (any more)."""


class EngineConflict(EngineError):
    """The engine refused because an object of that name already exists or is in use."""


class UnsavedWorkRefusal(SymposiumError):
    """A removal refused because the taskspace holds work that exists nowhere else."""

    def __init__(self, message: str, *, hint: str | None = None, work: object = None) -> None:
        super().__init__(message, hint=hint)
        self.work = work  # the UnsavedWork found
