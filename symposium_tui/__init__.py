"""symposium-tui: taskspaces on podman, from a terminal dashboard or a script."""

__version__ = "0.1.0"
