"""The product's own SSH key: made once with ssh-keygen, kept in the data dir."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from symposium_tui.core.errors import SymposiumError


def ensure_key(private: Path) -> Path:
    """Return the public key's path, generating the pair the first time."""
    public = private.with_name(private.name + ".pub")
    if private.exists() and public.exists():
        return public
    keygen = shutil.which("ssh-keygen")
    if keygen is None:
        raise SymposiumError("ssh-keygen is not installed",
                             hint="install the OpenSSH client (apt-get install openssh-client)")
    private.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in (private, public):
        stale.unlink(missing_ok=True)
    done = subprocess.run(
        [keygen, "-q", "-t", "ed25519", "-N", "", "-C", "symposium-tui", "-f", str(private)],
        capture_output=True, text=True)
    if done.returncode != 0:
        raise SymposiumError(f"ssh-keygen failed: {done.stderr.strip()}")
    return public
