#!/usr/bin/env bash
# cargo audit (RustSec) over both lockfiles (Cargo.lock, fuzz/Cargo.lock), offline, against the
# advisory snapshot committed in audit/rustsec (the advisory database is fetched from GitHub,
# which CI's network does not reach). Every warning fails (unsound and unmaintained crates too).
#
#   bash scripts/audit.sh                      check (CI runs this)
#   bash scripts/audit.sh --refresh DIR        retake the snapshot from a checkout of
#                                              github.com/rustsec/advisory-db at DIR
#
# The snapshot holds the advisories of every crate named in the lockfiles when it was taken
# (audit/rustsec/CRATES). A lockfile that names a crate not in that list fails the check until
# the snapshot is retaken, so a new dependency is never audited against nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
db=audit/rustsec
locks=(Cargo.lock fuzz/Cargo.lock)

names() { grep -h '^name = ' "${locks[@]}" | sed 's/^name = "\(.*\)"$/\1/' | sort -u; }

if [ "${1:-}" = "--refresh" ]; then
  src=${2:?usage: scripts/audit.sh --refresh ADVISORY_DB_DIR}
  rm -rf "$db"
  mkdir -p "$db/crates"
  cp "$src/LICENSE.txt" "$db/"
  names > "$db/CRATES"
  while read -r n; do
    if [ -d "$src/crates/$n" ]; then cp -r "$src/crates/$n" "$db/crates/"; fi
  done < "$db/CRATES"
  commit=$(git -C "$src" log -1 --format='%H %cs' 2>/dev/null || echo unknown)
  echo "rustsec/advisory-db $commit" > "$db/SNAPSHOT"
  echo "audit: snapshot of $(ls "$db/crates" | wc -l) crates with advisories, $(wc -l < "$db/CRATES") names ($commit)"
  exit 0
fi

new=$(comm -23 <(names) "$db/CRATES")
if [ -n "$new" ]; then
  echo "audit: crates in the lockfiles that the advisory snapshot did not look up:" >&2
  echo "$new" | sed 's/^/  /' >&2
  echo "audit: retake it: bash scripts/audit.sh --refresh <checkout of rustsec/advisory-db>" >&2
  exit 1
fi
echo "audit: advisories as of $(cut -d' ' -f2- "$db/SNAPSHOT")"
for lock in "${locks[@]}"; do
  cargo audit --db "$db" --no-fetch --stale --deny warnings --file "$lock"
done
