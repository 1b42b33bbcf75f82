"""The labels that say an engine object is ours. Labels, not name prefixes, decide ownership."""

OWNER = "io.symposium.owner"
OWNER_VALUE = "symposium-tui"
TASKSPACE = "io.symposium.taskspace"
ROLE = "io.symposium.role"
# Images carry their own labels, never OWNER/ROLE: containers inherit image labels, and a container
# someone else starts from our image must not look like ours.
IMAGE_ROLE = "io.symposium.image"
IMAGE_RECIPE = "io.symposium.recipe"


def ours(role: str, taskspace: str | None = None) -> dict[str, str]:
    labels = {OWNER: OWNER_VALUE, ROLE: role}
    if taskspace is not None:
        labels[TASKSPACE] = taskspace
    return labels


def is_ours(labels: dict[str, str] | None) -> bool:
    return bool(labels) and labels.get(OWNER) == OWNER_VALUE

# Facts about a taskspace carried on its pod and containers, so `ls` can show them from the engine.
PROJECT = "io.symposium.project"
REPO = "io.symposium.repo"
TIER = "io.symposium.tier"
SECURITY = "io.symposium.security"
PROJECT_TYPE = "io.symposium.project-type"
MEMORY = "io.symposium.memory"  # bytes at creation; the registry holds the effective limit
CPU = "io.symposium.cpu"  # millicores at creation
STORAGE = "io.symposium.storage"  # bytes at creation
CREATED = "io.symposium.created"  # when the taskspace was made (its pod may be made again later)
START = "io.symposium.start"  # the commit the taskspace started from (40 hex digits)
BRANCH = "io.symposium.branch"  # the branch it works on, made at START
BASE = "io.symposium.base"  # on a workspace: the repository's base volume it reads a generation of
# What its agent runs (core.agent.AgentSpec): argv and extra environment as JSON, "RULE:LIMIT"
AGENT_COMMAND = "io.symposium.agent.command"
AGENT_ENV = "io.symposium.agent.env"
AGENT_RESTART = "io.symposium.agent.restart"
# Taskspace facts a pod made again (a level change) carries over from the pod before.
CARRIED = (PROJECT, REPO, TIER, PROJECT_TYPE, START, BRANCH, AGENT_COMMAND, AGENT_ENV, AGENT_RESTART)


def of_taskspace(taskspace: str) -> dict[str, str]:
    """The selector for every object of one taskspace."""
    return {OWNER: OWNER_VALUE, TASKSPACE: taskspace}


ALL_OURS = {OWNER: OWNER_VALUE}

# Every object one create makes carries its create's id: a create killed half-way (the journal in
# the state dir names the id) is finished off by removing exactly what it made.
CREATE = "io.symposium.create"


def taskspace_of(labels: dict[str, str] | None) -> str | None:
    """The taskspace an object belongs to, if its label holds a valid id. Whoever can label an
    object on an engine chooses this text; anything else (a path, a newline, a look-alike) is not a
    taskspace of ours and never reaches a file path, an SSH config line or a command."""
    from symposium_tui.core.ids import is_valid_id

    value = (labels or {}).get(TASKSPACE)
    return value if is_valid_id(value) else None
