#!/bin/sh
# Installs the product's layer (see Containerfile) as root: ROLE (dev or agent), LOGIN (a user of
# the image whose uid, home and shell the container's user shares; "" for none).
set -eu
role="$1"; login="$2"; here=/tmp/symposium-layer
user=developer
[ "$role" = agent ] && user=agent
need="sshd ssh-keygen git bash runuser useradd usermod getent"
[ "$role" = agent ] && need="$need tmux flock"
missing() {
    for cmd in $need; do
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || echo "$cmd"
    done
}
if [ -n "$(missing)" ] && command -v apt-get >/dev/null 2>&1; then
    echo "symposium: installing what the taskspace needs: $(missing | tr '\n' ' ')"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        openssh-server openssh-client git bash util-linux passwd tmux ca-certificates procps >/dev/null
fi
if [ -n "$(missing)" ]; then
    echo "symposium: the image lacks $(missing | tr '\n' ' ')- install openssh-server, git, tmux and" \
         "util-linux in it (the product adds them itself only where apt-get can)" >&2
    exit 1
fi
uid1000=$(getent passwd 1000 | cut -d: -f1 || true)
if getent passwd "$user" >/dev/null; then
    [ "$(id -u "$user")" = 1000 ] || { echo "symposium: the image's user $user is not uid 1000" >&2; exit 1; }
elif [ -n "$login" ]; then
    entry=$(getent passwd "$login") || { echo "symposium: remoteUser $login is not a user of the image" >&2; exit 1; }
    uid=$(echo "$entry" | cut -d: -f3); gid=$(echo "$entry" | cut -d: -f4); home=$(echo "$entry" | cut -d: -f6)
    [ "$uid" = 1000 ] || { echo "symposium: remoteUser $login has uid $uid; the workspace's files belong to uid 1000" >&2; exit 1; }
    useradd -o -u 1000 -g "$gid" -d "$home" -M -s /bin/bash "$user"
elif [ -n "$uid1000" ]; then
    useradd -o -u 1000 -g "$(id -g "$uid1000")" -m -d "/home/$user" -s /bin/bash "$user"
else
    getent group 1000 >/dev/null && group="-g 1000" || group="-U"
    useradd -u 1000 $group -m -d "/home/$user" -s /bin/bash "$user"
fi
usermod --password '*' "$user"
mkdir -p "$(getent passwd "$user" | cut -d: -f6)"
mkdir -p /etc/ssh/sshd_config.d /etc/symposium /etc/profile.d /usr/local/bin /run/sshd
rm -f /etc/ssh/ssh_host_*
install -m 0644 "$here/sshd_config" /etc/ssh/sshd_config.d/00-symposium.conf
grep -qi '^Include /etc/ssh/sshd_config.d/' /etc/ssh/sshd_config 2>/dev/null || \
    sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
install -m 0644 "$here/authorized_keys" /etc/symposium/authorized_keys
install -m 0755 "$here/entrypoint.sh" /usr/local/bin/symposium-entrypoint
install -m 0644 "$here/profile.sh" /etc/profile.d/symposium-workspace.sh
if [ -s "$here/project.env" ]; then
    # the repository's containerEnv (NAME=VALUE lines, checked by the product; the image's ENV has
    # them for the container's processes) for SSH sessions too: sshd takes only its first SetEnv
    # line, so they join that one
    conf=/etc/ssh/sshd_config.d/00-symposium.conf
    while IFS= read -r line; do
        case "$line" in
            SetEnv\ *) printf '%s' "$line"
                       while IFS= read -r pair; do printf ' "%s"' "$pair"; done < "$here/project.env"
                       echo ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < "$conf" > "$conf.new"
    mv "$conf.new" "$conf" && chmod 0644 "$conf"
fi
mkdir -p /workspace && chown "$user" /workspace
if [ "$role" = agent ]; then
    install -m 0755 "$here/supervise.sh" /usr/local/bin/symposium-supervise
    install -m 0755 "$here/agent-run.sh" /usr/local/bin/symposium-agent-run
    install -m 0755 "$here/signal.sh" /usr/local/bin/symposium-signal
    install -m 0755 "$here/log.sh" /usr/local/bin/symposium-agent-log
    install -m 0644 "$here/tmux.conf" /etc/symposium/tmux.conf
    mkdir -p /agent/state/tmux /agent/state/logs /agent/state/history
    chown -R agent /agent/state
    chmod 0755 /agent
fi
