#!/usr/bin/env bash
# Usage: scripts/build-deb.sh [output-dir]
# Builds the Debian package (npm run deb): compiles the TypeScript, installs the production
# dependencies into a staging tree (the working tree's node_modules/ is left alone), runs
# dpkg-buildpackage there and leaves diststore_<version>_<arch>.deb (with its .buildinfo and
# .changes) in output-dir, build/ by default. The last line of output is the .deb's path.
# Exit 0 when built, 1 when a step failed, 2 on bad usage or a missing tool.
set -euo pipefail

usage() { echo "usage: scripts/build-deb.sh [output-dir]" >&2; }
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  -*) usage; exit 2 ;;
esac
if [ $# -gt 1 ]; then usage; exit 2; fi

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/build}" && cd "${1:-$root/build}" && pwd)
cd "$root"

for tool in node npm dpkg-buildpackage dpkg-parsechangelog dh; do
  if ! command -v "$tool" >/dev/null; then
    echo "build-deb: $tool is missing (apt-get install debhelper dpkg-dev; node and npm 20+)" >&2
    exit 2
  fi
done

# The package version is debian/changelog's; it must be the one package.json names.
version=$(dpkg-parsechangelog -S Version)
npm_version=$(node -p 'require("./package.json").version')
if [ "$version" != "$npm_version" ]; then
  echo "build-deb: debian/changelog is at $version, package.json at $npm_version;" \
    "add a debian/changelog entry for $npm_version (dch -v $npm_version)" >&2
  exit 1
fi

# A fresh staging dir per run, so concurrent builds do not meet; kept when a step fails.
mkdir -p "$root/build"
stage=$(mktemp -d "$root/build/stage.XXXXXX")
tree="$stage/diststore-$version"
mkdir "$tree"
trap 'echo "build-deb: failed; the staging tree is kept in $stage" >&2; exit 1' ERR

echo "build-deb: compiling into $tree/dist"
# Into the staging tree rather than dist/, so that no stale output of a removed source ships.
npm run build -- --outDir "$tree/dist"

echo "build-deb: installing the production dependencies"
cp package.json package-lock.json README.md "$tree/"
# pm2 only runs the development fleet (npm start); the package's nodes run under systemd.
(cd "$tree" && npm pkg delete dependencies.pm2)
# Without pm2, package.json no longer matches the lockfile, which `npm ci` would refuse;
# `npm install` with the lockfile installs the locked versions of the rest.
(cd "$tree" && npm install --omit=dev --no-audit --no-fund --loglevel=error)
# The native addon must load with this node, or the package would be useless.
(cd "$tree" && node --input-type=module -e 'await import("lmdb")')

echo "build-deb: building the package"
cp -r debian "$tree/"
(cd "$tree" && dpkg-buildpackage -b -us -uc)

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
base="diststore_${version}_${arch}"
mv "$stage/$base.deb" "$stage/$base.buildinfo" "$stage/$base.changes" "$out/"
trap - ERR
rm -rf "$stage"
echo "$out/$base.deb"
