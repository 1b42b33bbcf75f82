#!/bin/sh
# symposium-supervise: keeps the agent's tmux session alive, as user `agent`, for as long as the
# container runs (the entrypoint starts it; no dashboard needs to be open). The session runs
# symposium-agent-run, which runs (and restarts) the agent itself. The session's terminal output
# goes to /agent/state/logs/agent-output.log (symposium-agent-log), kept across restarts of the
# agent, the container and the pod, and rotated to agent-output.log.1 at SYMPOSIUM_AGENT_LOG_BYTES.
set -u
state=/agent/state
logs=$state/logs
socket=$state/tmux/agent.sock
log=$logs/agent-output.log
limit=${SYMPOSIUM_AGENT_LOG_BYTES:-4194304}
case $limit in ""|*[!0-9]*) limit=4194304;; esac
tmux() { command tmux -f /etc/symposium/tmux.conf -S "$socket" "$@"; }

mkdir -p "$state/tmux" "$logs" "$state/history" 2>/dev/null
chmod 700 "$state/tmux" 2>/dev/null
# The task handed over at create, kept in the agent state (the agent may edit its copy).
if [ -f /agent/task.md ] && [ ! -e "$state/task.md" ] && [ ! -L "$state/task.md" ]; then
    cp /agent/task.md "$state/task.md" 2>/dev/null
fi

writer="exec /usr/local/bin/symposium-agent-log $log $limit"

while :; do
    if ! tmux has-session -t agent 2>/dev/null; then
        rm -f -- "$socket"
        # The pipe is set in the same command, before the agent can print anything.
        tmux new-session -d -s agent -n agent -x 200 -y 50 -c /workspace /usr/local/bin/symposium-agent-run \; \
            pipe-pane -t agent -o "$writer" 2>>"$logs/supervise.log" || { sleep 2; continue; }
    elif [ "$(tmux display-message -p -t agent '#{pane_pipe}' 2>/dev/null)" = 0 ]; then
        tmux pipe-pane -t agent -o "$writer" 2>/dev/null  # its writer ended: a new one
    fi
    sleep 2
done
