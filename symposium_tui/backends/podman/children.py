"""Processes the product starts (the podman service, ssh masters, test sshd) end with it."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the thread that forked it ends, even on SIGKILL of
    the parent (so fork from a thread that lives as long as the child)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
