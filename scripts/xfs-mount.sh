#!/usr/bin/env bash
# Mount a small reflink-capable XFS filesystem for the reflink tests (and CI).
#
# Usage: scripts/xfs-mount.sh [MOUNT_DIR]   (default /mnt/silo-xfs)
# Env:   SILO_XFS_IMAGE  backing image file (default /var/tmp/silo-xfs.img)
#        SILO_XFS_SIZE   image size for truncate (default 512M)
#
# Idempotent: if MOUNT_DIR is already an XFS mount it only prints it. Needs root (loop mount).
# Prints the mount point as the last line of stdout; progress goes to stderr.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

mnt="${1:-/mnt/silo-xfs}"
img="${SILO_XFS_IMAGE:-/var/tmp/silo-xfs.img}"
size="${SILO_XFS_SIZE:-512M}"

log() { echo "xfs-mount: $*" >&2; }

# Concurrent test processes (deno --parallel, bun) may call this at once: serialize them.
exec 9>"${img}.lock"
flock 9

if [ "$(findmnt -n -o FSTYPE --target "$mnt" 2>/dev/null || true)" = "xfs" ] &&
  mountpoint -q "$mnt"; then
  echo "$mnt"
  exit 0
fi

if [ "$(id -u)" != "0" ]; then
  log "must run as root to loop-mount $img at $mnt (try: sudo $0 $mnt)"
  exit 1
fi

if ! command -v mkfs.xfs >/dev/null 2>&1; then
  log "installing xfsprogs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq xfsprogs >&2 || {
    apt-get update -qq >&2
    apt-get install -y -qq xfsprogs >&2
  }
fi

if [ ! -f "$img" ]; then
  log "creating sparse image $img ($size)"
  mkdir -p "$(dirname "$img")"
  truncate -s "$size" "$img"
  mkfs.xfs -q -m reflink=1 "$img" >&2
elif ! blkid -p -s TYPE -o value "$img" 2>/dev/null | grep -qx xfs; then
  log "re-formatting $img (no XFS signature)"
  mkfs.xfs -q -f -m reflink=1 "$img" >&2
fi

mkdir -p "$mnt"
log "mounting $img at $mnt"
mount -o loop "$img" "$mnt" >&2
# World-writable with sticky bit, like /tmp: tests create their own subdirectories.
chmod 1777 "$mnt"
echo "$mnt"
