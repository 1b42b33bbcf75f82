#!/bin/sh
# Start sshd in the foreground on $SSH_PORT. A host key is made per container on first start, so
# no two taskspaces share one. sshd logs to /var/log/sshd.log, so the container's own output holds
# what its processes print, not health probes. With arguments, run them instead.
set -e
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
    ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
mkdir -p /run/sshd
echo "symposium: ${SYMPOSIUM_ROLE:-taskspace} container ready, sshd on port ${SSH_PORT:-2222}"
exec /usr/sbin/sshd -D -E /var/log/sshd.log -p "${SSH_PORT:-2222}" -h /etc/ssh/ssh_host_ed25519_key
