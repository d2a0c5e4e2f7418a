# Sourced (not run) by the scripts that build Go binaries into the fedctl cache
# (testbed/build-binaries.sh, bench/kubefed/build.sh), so they agree on where the cache is, which Go
# they use, and that only one Go build runs at a time on a machine with few cores.
# The caller sets GO_BUILD_TAG (its log prefix) before sourcing and BIN (its output folder) before
# calling have / go_build_in.

CACHE="${FEDCTL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fedctl}"
WORK="$CACHE/work"

step() { echo "[$GO_BUILD_TAG] $(date +%H:%M:%S) $*" >&2; }
fail() { echo "[$GO_BUILD_TAG] FAILED building $1: $2 (log: $3)" >&2; tail -n 30 "$3" >&2; exit 1; }

# The Go toolchain on PATH, pinned (GOTOOLCHAIN=local: no silent toolchain download), static binaries.
go_require() {
  command -v go >/dev/null || { echo "$GO_BUILD_TAG: 'go' not found: is the Go toolchain (>= 1.26) installed?" >&2; exit 1; }
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
  mkdir -p "$WORK"
}

# One build at a time per cache (make e2e, `testbed up` and the KubeFed build may all ask at once); a
# second caller waits, then finds everything built. The lock lives until the calling script exits.
go_lock() {
  command -v flock >/dev/null || return 0
  exec 9>"$CACHE/build.lock"
  if ! flock -n 9; then
    step "another build is running (lock $CACHE/build.lock); waiting for it"
    flock 9
  fi
}

# go_build_setup "$@": with --print-dir, print $BIN and exit; otherwise check Go, create $BIN and wait
# for the build lock.
go_build_setup() {
  if [[ "${1:-}" == "--print-dir" ]]; then echo "$BIN"; exit 0; fi
  go_require
  mkdir -p "$BIN"
  go_lock
}

have() { for f in "$@"; do [[ -x "$BIN/$f" ]] || return 1; done; }

# go_build_in NAME MODULE_DIR LOG -- go build args...
go_build_in() {
  local name=$1 dir=$2 log=$3; shift 4
  step "building $name (log $log)"
  local t0=$SECONDS
  if ! (cd "$dir" && go build -trimpath "$@") >"$log" 2>&1; then fail "$name" "go build exited non-zero" "$log"; fi
  step "built $name in $((SECONDS - t0))s"
}
