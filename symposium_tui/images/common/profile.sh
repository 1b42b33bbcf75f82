# Login shells over SSH start in the project, not in the home directory.
if [ -n "${SSH_CONNECTION:-}" ] && [ "$PWD" = "$HOME" ] && [ -d /workspace ]; then
    cd /workspace || true
fi
