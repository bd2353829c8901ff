#!/usr/bin/env bash
# Real DPDK for the test suite: Debian's `dpdk` source package (upstream DPDK 22.11.x, with
# kernel/linux/kni, lib/kni, drivers/net/kni and app/test-pmd), unpacked once. Enables Debian's
# deb-src entries when apt has none. Prints the tree's directory on stdout.
# usage: scripts/debian-dpdk.sh [DIR]   (default $AB_DEBIAN_DPDK_DIR or /var/cache/alloc-balance/debian-dpdk)
set -euo pipefail
dir=${1:-${AB_DEBIAN_DPDK_DIR:-/var/cache/alloc-balance/debian-dpdk}}
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

has_source() { [ "$(apt-cache showsrc dpdk 2>/dev/null | grep -c '^Package: dpdk$')" -gt 0 ]; }

if ! has_source; then
  deb822=/etc/apt/sources.list.d/debian.sources
  if [ -f "$deb822" ]; then
    sed -e 's/^Types:.*/Types: deb-src/' "$deb822" | $SUDO tee /etc/apt/sources.list.d/alloc-balance-deb-src.sources >/dev/null
  elif [ -f /etc/apt/sources.list ] && grep -q '^deb .*debian' /etc/apt/sources.list; then
    grep '^deb .*debian' /etc/apt/sources.list | sed 's/^deb /deb-src /' | $SUDO tee /etc/apt/sources.list.d/alloc-balance-deb-src.list >/dev/null
  else
    echo "debian-dpdk: no Debian apt source to derive a deb-src entry from; add one for the dpdk source package" >&2
    exit 1
  fi
  echo "debian-dpdk: enabled deb-src entries; apt-get update" >&2
  $SUDO apt-get update -qq
  has_source || { echo "debian-dpdk: apt still knows no dpdk source package" >&2; exit 1; }
fi

version=$(apt-cache showsrc dpdk | awk '/^Version:/ {print $2}' | sort -V | tail -n 1)
tree="$dir/$version"
if [ ! -f "$tree/.unpacked" ]; then
  $SUDO mkdir -p "$dir"
  tmp=$($SUDO mktemp -d "$dir/.download-XXXXXX")
  trap '$SUDO rm -rf "$tmp"' EXIT
  echo "debian-dpdk: apt-get source --download-only dpdk=$version" >&2
  (cd "$tmp" && $SUDO apt-get source --download-only -qq "dpdk=$version" 2>&1 | grep -v 'unsandboxed' >&2 || true)
  orig=$(ls "$tmp"/dpdk_*.orig.tar.* 2>/dev/null | head -n 1)
  [ -n "$orig" ] || { echo "debian-dpdk: apt-get source dpdk=$version downloaded no orig tarball" >&2; exit 1; }
  $SUDO tar -xf "$orig" -C "$tmp"
  top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
  [ -d "$top/kernel/linux/kni" ] || { echo "debian-dpdk: $orig has no kernel/linux/kni (KNI was removed in DPDK 23.11)" >&2; exit 1; }
  $SUDO rm -rf "$tree"
  $SUDO mv "$top" "$tree"
  $SUDO touch "$tree/.unpacked"
fi
echo "$tree"
