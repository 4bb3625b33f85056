# shellcheck shell=bash
# Bookkeeping of what a test script started, so that its exit trap stops
# exactly that: the processes it spawned (by PID), the network namespaces it
# created and the temporary folders it made. Nothing is matched by name.
#
# Source it, then call cleanup_trap once; register with cleanup_add_*.

CLEANUP_PIDS=()
CLEANUP_NETNS=()
CLEANUP_DIRS=()
CLEANUP_DONE=no

cleanup_add_pid()
{
	CLEANUP_PIDS+=("$1")
}

cleanup_add_netns()
{
	CLEANUP_NETNS+=("$1")
}

cleanup_add_dir()
{
	CLEANUP_DIRS+=("$1")
}

# True while PID runs: a zombie child waiting to be reaped counts as gone.
cleanup_alive()
{
	local stat

	kill -0 "$1" 2>/dev/null || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# Stop one PID: SIGTERM, up to TIMEOUT seconds (default 5), then SIGKILL.
# Forgets the PID so the exit trap does not signal it again.
cleanup_kill_pid()
{
	local pid=$1 timeout=${2:-5} i kept=() p

	if cleanup_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < timeout * 10; i++)); do
			cleanup_alive "$pid" || break
			sleep 0.1
		done
		if cleanup_alive "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true

	for p in "${CLEANUP_PIDS[@]}"; do
		[ "$p" = "$pid" ] || kept+=("$p")
	done
	CLEANUP_PIDS=("${kept[@]}")
}

# Undo everything registered, newest first: processes, namespaces, folders.
cleanup_run()
{
	local i pids=("${CLEANUP_PIDS[@]}")

	[ "$CLEANUP_DONE" = no ] || return 0
	CLEANUP_DONE=yes

	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		cleanup_kill_pid "${pids[i]}" 5
	done
	for ((i = ${#CLEANUP_NETNS[@]} - 1; i >= 0; i--)); do
		ip netns delete "${CLEANUP_NETNS[i]}" 2>/dev/null || true
	done
	for ((i = ${#CLEANUP_DIRS[@]} - 1; i >= 0; i--)); do
		if [ -n "${CLEANUP_DIRS[i]}" ] && [ -d "${CLEANUP_DIRS[i]}" ]; then
			rm -rf -- "${CLEANUP_DIRS[i]}"
		fi
	done
	CLEANUP_NETNS=()
	CLEANUP_DIRS=()
}

# Run cleanup_run on every way out; an interrupt still exits non-zero.
cleanup_trap()
{
	trap cleanup_run EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
