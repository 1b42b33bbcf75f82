# Shared set-up for scripts/dashboard and scripts/test: sourced, not run.
# Installs what is missing (as root, from Debian's archive) or says exactly what to install.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SYMPOSIUM_VENV:-$REPO/.venv}"

say() { printf '%s\n' "setup: $*" >&2; }

# ensure_packages COMMAND:PACKAGE ... — install the Debian packages whose command is missing.
ensure_packages() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ "${#missing[@]}" -eq 0 ] || install_packages "${missing[@]}"
}

# install_packages PACKAGE ... — apt-get as root (or passwordless sudo), else say what to run.
install_packages() {
    local missing=("$@") sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; fi
    fi
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
        say "installing ${missing[*]} (apt-get)"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    else
        say "missing: ${missing[*]}"
        say "install them with: sudo apt-get install ${missing[*]}   (Fedora: sudo dnf install ${missing[*]})"
        exit 1
    fi
}

# ensure_debs PACKAGE ... — install the Debian packages that dpkg does not list as installed
# (for pieces that are no command on PATH). Without dpkg, doctor checks them instead.
ensure_debs() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q ' installed$' || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] || install_packages "${missing[@]}"
}

ensure_system() {
    ensure_packages podman:podman runc:runc mmdebstrap:mmdebstrap ssh:openssh-client \
        ssh-keygen:openssh-client git:git conmon:conmon
    # Only recommended by podman, so absent after --no-install-recommends, and needed by name:
    # the pause binary of every pod's infra container, and both network stacks (the product's
    # own engine uses netavark; CNI is what a new machine gets, and the tests run on both).
    ensure_debs catatonit netavark aardvark-dns containernetworking-plugins
    # isolated/restricted taskspaces: firewall rules (iptables), project disks (mount -o loop)
    ensure_packages iptables:iptables iptables-restore:iptables losetup:mount
}

python_bin() {
    local py
    for py in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$py" ] || continue
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$py"; return 0
        fi
    done
    say "Python 3.11 or newer is needed (tomllib); install python3 (>= 3.11)"
    exit 1
}

# ensure_venv EXTRAS — a virtualenv with the project installed (editable), refreshed when
# pyproject.toml changes.
ensure_venv() {
    local extras="$1" py stamp want
    py="$(python_bin)"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
            install_packages python3-venv
        fi
        say "creating $VENV"
        "$py" -m venv "$VENV"
    fi
    stamp="$VENV/.symposium-installed"
    want="$(sha256sum "$REPO/pyproject.toml" | cut -c1-16)-$extras"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages into $VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        if [ -n "$extras" ]; then
            "$VENV/bin/python" -m pip install -q -e "$REPO[$extras]"
        else
            "$VENV/bin/python" -m pip install -q -e "$REPO"
        fi
        echo "$want" >"$stamp"
    fi
    # The package is installed editable: its modules' bytecode is written here, once, so no
    # command compiles them again at start (with PYTHONDONTWRITEBYTECODE set, Python never would:
    # that cost every CLI process 0.4 s). Stale files are rewritten; unchanged ones are kept.
    "$VENV/bin/python" -m compileall -q -j 0 "$REPO/symposium_tui" "$REPO/testbed" "$REPO/tests" \
        "$REPO/benchmarks" >/dev/null 2>&1 || true
}
