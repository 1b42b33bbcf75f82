#!/bin/bash
# The seed's create path (container-orchestration.md: create-taskspace-pod, setup-cow-project-storage,
# setup-agent-persistence, setup-build-cache, start-taskspace-containers) as one script, corrected
# only where it cannot run as written: the port lookup names the real pod, the project volume is a
# plain volume seeded from the base (the seed's overlay options name no paths), and the throwaway
# containers use the product's image instead of pulling alpine/rust images from a registry.
#
#   PODMAN="podman --root ... --runroot ..." AGENT_IMAGE=... DEV_IMAGE=... SEED_SLEEP=2 \
#       seed_create.sh ID REPO
# SEED_SLEEP=0 is the hand-made baseline: the same objects made with the podman CLI, no sleeps.
set -euo pipefail
TASKSPACE_ID="$1"
PROJECT_REPO="$2"
POD_NAME="taskspace-$TASKSPACE_ID"
BASE="seed-base-$(basename "$PROJECT_REPO")"
P=($PODMAN)

"${P[@]}" pod create --name "$POD_NAME" --infra-name "$POD_NAME-infra" --hostname "$TASKSPACE_ID" \
    --publish 127.0.0.1::2222 --publish 127.0.0.1::2223 --memory=4g --cpus=2 >/dev/null
DEV_PORT=$("${P[@]}" port "$POD_NAME-infra" 2222 2>/dev/null | cut -d: -f2 || true)
AGENT_PORT=$("${P[@]}" port "$POD_NAME-infra" 2223 2>/dev/null | cut -d: -f2 || true)

# setup-cow-project-storage
if ! "${P[@]}" volume exists "$BASE"; then
    "${P[@]}" run --rm --network none -v "$BASE:/base" -v "$PROJECT_REPO:/src:ro" --entrypoint git \
        "$AGENT_IMAGE" -c safe.directory='*' clone -q /src /base/repo
fi
"${P[@]}" volume create "$POD_NAME-project" >/dev/null
"${P[@]}" run --rm --network none -v "$BASE:/base:ro" -v "$POD_NAME-project:/project" --entrypoint sh \
    "$AGENT_IMAGE" -c 'cp -a /base/repo/. /project/'

# setup-agent-persistence
"${P[@]}" volume create "$POD_NAME-agent-state" >/dev/null
"${P[@]}" run --rm --network none -v "$POD_NAME-agent-state:/state" --entrypoint sh "$AGENT_IMAGE" -c '
    mkdir -p /state/tmux /state/logs /state/history; chmod 755 /state/*'

# setup-build-cache (python)
"${P[@]}" volume create "$POD_NAME-build-cache" >/dev/null
"${P[@]}" run --rm --network none -v "$POD_NAME-build-cache:/cache" --entrypoint sh "$AGENT_IMAGE" -c \
    'mkdir -p /cache/pip /cache/pycache'

# start-taskspace-containers
"${P[@]}" run -d --pod "$POD_NAME" --name "$POD_NAME-agent" \
    -v "$POD_NAME-project:/workspace" -v "$POD_NAME-agent-state:/agent/state" "$AGENT_IMAGE" >/dev/null
sleep "${SEED_SLEEP:-2}"
"${P[@]}" run -d --pod "$POD_NAME" --name "$POD_NAME-dev" \
    -v "$POD_NAME-project:/workspace" -v "$POD_NAME-build-cache:/workspace/.build-cache" "$DEV_IMAGE" >/dev/null
echo "dev_port=$DEV_PORT agent_port=$AGENT_PORT"
