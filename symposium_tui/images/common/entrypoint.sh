#!/bin/sh
# Start sshd on $SSH_PORT and keep the container up. A host key is made per container on first
# start, so no two taskspaces share one. sshd logs to /var/log/sshd.log, so the container's own
# output holds what its processes print, not health probes. If sshd stops, the container stays up
# and health checks report the SSH port as not answering. In the agent container the agent's
# tmux session is kept by symposium-supervise, as `agent`. With arguments, run them instead.
set -e
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
if [ ! -s /etc/ssh/ssh_host_ed25519_key ]; then
    ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
fi
mkdir -p /run/sshd
if ! /usr/sbin/sshd -t -h /etc/ssh/ssh_host_ed25519_key; then
    echo "symposium: the sshd configuration is invalid; stopping" >&2
    exit 1
fi
/usr/sbin/sshd -D -E /var/log/sshd.log -p "${SSH_PORT:-2222}" -h /etc/ssh/ssh_host_ed25519_key &
sshd_pid=$!
supervise_pid=
if [ "${SYMPOSIUM_ROLE:-}" = agent ] && [ -x /usr/local/bin/symposium-supervise ]; then
    runuser -u agent -- env HOME=/home/agent USER=agent LOGNAME=agent SHELL=/bin/bash \
        /usr/local/bin/symposium-supervise &
    supervise_pid=$!
fi
trap 'kill -TERM "$sshd_pid" $supervise_pid 2>/dev/null; exit 0' TERM INT
echo "symposium: ${SYMPOSIUM_ROLE:-taskspace} container ready, sshd on port ${SSH_PORT:-2222}"
while :; do
    sleep 2147483647 &
    wait $! || true
done
