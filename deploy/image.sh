#!/usr/bin/env bash
# Builds the fedctl controller image without a container daemon and writes it as an OCI archive.
# Usage: deploy/image.sh OUT.tar [PACKAGE.tgz]
#   PACKAGE.tgz: an `npm pack` tarball of this checkout to use instead of packing it again.
# Load the result with `podman load -i OUT.tar`, or `skopeo copy oci-archive:OUT.tar docker://…`.
#
# What goes in, all from sources this project already uses:
#   a root filesystem of Debian packages (mmdebstrap: glibc and libstdc++, what the Node binary links),
#   the Node runtime of the `node` npm package (node_modules/node/bin/node, the same one tests run),
#   the packed npm package (`npm pack`: bin/ and dist/; its bundle needs no node_modules),
#   the CoreDNS binary the testbed builds (fedctl checks every Corefile with it before writing it).
# buildah assembles them from scratch with the vfs storage driver (no daemon, no overlay mounts,
# nothing pulled), in a temporary storage folder that is removed afterwards.
# deploy/Dockerfile builds the same image for those who have Docker.
set -euo pipefail

out="${1:?usage: deploy/image.sh OUT.tar}"
out="$(realpath -m "$out")"
package="${2:+$(realpath "$2")}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

step() { echo "[image] $(date +%H:%M:%S) $*" >&2; }
die() { echo "[image] FAILED: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap and buildah's vfs storage write root-owned files)"
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || die "'$tool' not found; install it: apt-get install buildah mmdebstrap (make image does)"
done
node="$repo/node_modules/node/bin/node"
[[ -x "$node" ]] || die "no Node runtime at $node; run npm ci first"
# npm and package scripts must run on the project's Node (PATH is how npm's `#!/usr/bin/env node` finds it).
export PATH="$repo/node_modules/.bin:$PATH"
version="$("$node" -p 'require("./package.json").version')"
coredns="$(bash testbed/build-binaries.sh --print-dir)/coredns"
[[ -x "$coredns" ]] || bash testbed/build-binaries.sh >/dev/null
[[ -x "$coredns" ]] || die "no CoreDNS binary at $coredns after testbed/build-binaries.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/fedctl-image.XXXXXX")"
bah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
ctr=""
cleanup() {
  [[ -n "$ctr" ]] && "${bah[@]}" rm "$ctr" >/dev/null 2>&1
  # vfs layers can hold files only root may remove; the storage is ours alone, so remove it whole.
  rm -rf "$work"
}
trap cleanup EXIT

t0=$SECONDS
if [[ -z "$package" ]]; then
  step "npm pack (builds dist/)"
  npm pack --silent --pack-destination "$work" >/dev/null || die "npm pack failed"
  package="$work/fedctl-$version.tgz"
fi
mkdir -p "$work/app"
tar -xzf "$package" -C "$work/app" || die "cannot unpack $package"

# extract: unpack the named packages and their dependencies, run no maintainer scripts, install no
# apt or dpkg: a root filesystem with just what a dynamically linked Node needs.
step "mmdebstrap (Debian bookworm: libc6, libstdc++6)"
mmdebstrap --quiet --variant=extract --include=libc6,libstdc++6,libgcc-s1 \
  bookworm "$work/rootfs.tar" >"$work/mmdebstrap.log" 2>&1 ||
  { tail -n 30 "$work/mmdebstrap.log" >&2; die "mmdebstrap failed (log above)"; }

step "buildah (from scratch, vfs storage)"
ctr="$("${bah[@]}" from scratch)"
"${bah[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
mkdir -p "$work/layer/usr/local/bin" "$work/layer/usr/local/lib/node_modules" "$work/layer/tmp"
cp "$node" "$coredns" "$work/layer/usr/local/bin/"
cp -a "$work/app/package" "$work/layer/usr/local/lib/node_modules/fedctl"
ln -s ../lib/node_modules/fedctl/bin/fedctl.js "$work/layer/usr/local/bin/fedctl"
chmod 1777 "$work/layer/tmp"
# The controller runs as 65532; /etc/passwd names it so tools that look the user up find one.
mkdir -p "$work/layer/etc"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nfedctl:x:65532:65532:fedctl:/tmp:/usr/sbin/nologin\n' >"$work/layer/etc/passwd"
printf 'root:x:0:\nfedctl:x:65532:\n' >"$work/layer/etc/group"
"${bah[@]}" copy "$ctr" "$work/layer" / >/dev/null
"${bah[@]}" config \
  --entrypoint '["/usr/local/bin/node", "/usr/local/lib/node_modules/fedctl/bin/fedctl.js"]' \
  --cmd controller \
  --user 65532:65532 \
  --workingdir /tmp \
  --env PATH=/usr/local/bin:/usr/bin:/bin \
  --env NODE_ENV=production \
  --env FEDCTL_COREDNS=/usr/local/bin/coredns \
  --port 8080 \
  --label org.opencontainers.image.title=fedctl \
  --label "org.opencontainers.image.version=$version" \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  "$ctr"
mkdir -p "$(dirname "$out")"
rm -f "$out"
"${bah[@]}" commit --quiet --format oci --disable-compression=false "$ctr" "oci-archive:$out:fedctl:$version" >/dev/null
step "wrote $out ($(du -h "$out" | cut -f1), fedctl:$version) in $((SECONDS - t0))s"
