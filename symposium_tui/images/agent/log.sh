#!/bin/sh
# symposium-agent-log FILE LIMIT: what the agent's tmux pane prints (tmux pipe-pane), appended to
# FILE as it comes; at LIMIT bytes (at most one 4 KiB block more) FILE becomes FILE.1 and a new
# FILE begins. Nothing is lost at a rotation: each dd goes on reading the same pipe.
log=$1
limit=$2
size_of() { stat -c %s -- "$1" 2>/dev/null || echo 0; }
while :; do
    if [ -L "$log" ]; then
        rm -f -- "$log"  # the agent's own link: not written through
    fi
    before=$(size_of "$log")
    dd bs=4096 count=$(( (limit - before) / 4096 + 1 )) oflag=append conv=notrunc status=none of="$log" \
        || exit 0
    after=$(size_of "$log")
    if [ "$after" -le "$before" ]; then
        exit 0  # nothing more: tmux closed the pipe
    fi
    if [ "$after" -ge "$limit" ]; then
        mv -f -- "$log" "$log.1"
    fi
done
