#!/bin/sh
# Start sshd in the foreground on $SSH_PORT. A host key is made per container on first start, so
# no two taskspaces share one. With arguments, run them instead (probes, one-off commands).
set -e
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
    ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
mkdir -p /run/sshd
exec /usr/sbin/sshd -D -e -p "${SSH_PORT:-2222}" -h /etc/ssh/ssh_host_ed25519_key
