#!/bin/bash
# symposium-agent-run: the agent's tmux session runs this, as user `agent`, in /workspace.
# It runs the agent's command (SYMPOSIUM_AGENT_ARGV, shell words the product quoted) with its
# environment (SYMPOSIUM_AGENT_ENV: export lines; secrets are read from /agent/auth here, never
# put in the container's environment), and restarts it by SYMPOSIUM_AGENT_RESTART:
#   on-failure: after a non-zero exit; always: after any exit; never: not.
# Restarts wait 1, 2, 4 ... 30 s; after SYMPOSIUM_AGENT_RESTART_LIMIT quick failures in a row (a
# run of a minute or more starts the count again) it gives up. Every exit is a line of
# logs/exits.jsonl; the state is one line of logs/agent.status. Whatever ends the agent, the
# session then holds a login shell, so attaching always works.
state=/agent/state
logs=$state/logs
rule=${SYMPOSIUM_AGENT_RESTART:-on-failure}
limit=${SYMPOSIUM_AGENT_RESTART_LIMIT:-5}
cd /workspace 2>/dev/null || cd

status() {
    printf '%s\n' "$*" > "$logs/.agent.status.$$" 2>/dev/null \
        && mv -f -- "$logs/.agent.status.$$" "$logs/agent.status" 2>/dev/null
}

exited() {  # time code seconds-it-ran
    printf '{"time": %s, "code": %s, "ran": %s}\n' "$1" "$2" "$3" >> "$logs/exits.jsonl" 2>/dev/null
    if [ "$(wc -l < "$logs/exits.jsonl" 2>/dev/null || echo 0)" -gt 400 ]; then
        tail -n 200 -- "$logs/exits.jsonl" > "$logs/.exits.$$" && mv -f -- "$logs/.exits.$$" "$logs/exits.jsonl"
    fi
}

shell() {  # the session holds a login shell from here on
    printf '\nsymposium: %s\nsymposium: this is a shell in /workspace; detach with Ctrl-b d\n' "$1"
    exec bash -l
}

if [ -z "${SYMPOSIUM_AGENT_ARGV:-}" ]; then
    status "state=none"
    exec bash -l
fi
eval "set -- $SYMPOSIUM_AGENT_ARGV"
if [ -n "${SYMPOSIUM_AGENT_ENV:-}" ]; then
    eval "$SYMPOSIUM_AGENT_ENV" || { status "state=gave-up code=0 at=$(date +%s) reason=env"; shell "the agent's environment could not be read (see above)"; }
fi

failures=0
delay=1
while :; do
    started=$(date +%s)
    status "state=running since=$started restarts=$failures"
    # Ctrl-C reaches the agent (a trapped signal is the default again in the child), not this loop.
    trap : INT QUIT
    "$@"
    code=$?
    trap - INT QUIT
    ended=$(date +%s)
    ran=$((ended - started))
    exited "$ended" "$code" "$ran"
    if [ "$rule" = never ] || { [ "$rule" = on-failure ] && [ "$code" -eq 0 ]; }; then
        status "state=exited code=$code at=$ended"
        shell "the agent exited with code $code (restart: $rule)"
    fi
    case $code in
        126|127)
            status "state=gave-up code=$code at=$ended reason=not-found"
            shell "the agent's command could not be run (exit code $code: not found or not executable)";;
    esac
    if [ "$ran" -ge 60 ]; then
        failures=0
        delay=1
    fi
    failures=$((failures + 1))
    if [ "$failures" -gt "$limit" ]; then
        status "state=gave-up code=$code at=$ended reason=failing restarts=$((failures - 1))"
        shell "the agent exited with code $code $failures times in a row; not restarted again"
    fi
    status "state=restarting code=$code at=$ended next=$((ended + delay)) restarts=$failures"
    printf '\nsymposium: the agent exited with code %s; restarting in %ss (%s of %s)\n' \
        "$code" "$delay" "$failures" "$limit"
    sleep "$delay"
    delay=$((delay * 2))
    if [ "$delay" -gt 30 ]; then
        delay=30
    fi
done
