#!/bin/sh
# symposium-signal progress|attention|done [MESSAGE]: tell the person how the work goes.
#   progress   what the agent is doing now (shown beside the taskspace)
#   attention  the agent needs the person (the dashboard marks the row, notifies, rings the bell)
#   done       the task is finished and waits for review
# Appends one JSON line {"time", "kind", "message"} to /agent/state/signals.jsonl, which is kept
# under 1 MiB (the oldest lines go). The message is one line of at most 500 bytes.
set -u
usage() {
    echo "usage: symposium-signal progress|attention|done [MESSAGE]" >&2
    exit 2
}
[ "$#" -ge 1 ] || usage
kind=$1
shift
case $kind in
    progress|attention|done) ;;
    -h|--help) echo "usage: symposium-signal progress|attention|done [MESSAGE]"; exit 0;;
    *) usage;;
esac
file=/agent/state/signals.jsonl
message=$(printf '%s' "$*" | tr '\n\r\t' '   ' | tr -d '\000-\037\177' | head -c 500 \
    | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
now=$(date +%s.%N | cut -c1-14)
line=$(printf '{"time": %s, "kind": "%s", "message": "%s"}' "$now" "$kind" "$message")
(
    flock 9
    printf '%s\n' "$line" >> "$file" || exit 1
    if [ "$(stat -c %s -- "$file" 2>/dev/null || echo 0)" -gt 1048576 ]; then
        tail -c 524288 -- "$file" | tail -n +2 > "$file.tmp" && mv -f -- "$file.tmp" "$file"
    fi
) 9>>/agent/state/.signals.lock
