#!/usr/bin/env bash
# The test command. On a fresh Debian machine (as root, or with sudo) it installs what the tests
# need, then runs them in two tiers so that a mistake the fast checks catch stops it in about a minute:
#   1. npm packages; lint, typecheck, dist/ freshness and the unit tests (no kernel lab, no root);
#   2. a compiler, QEMU, Debian's 6.1, 5.10 and 6.12 kernels with their headers in the lab (from
#      Debian's archive, not installed), DPDK's build tools and Debian's dpdk source; then the kernel tests (*.vm.test.ts, in a VM) and the real-DPDK tests, last and alone.
# With arguments (`npm test -- test/lab/run-in-guest.vm.test.ts`, `-t name`), the same set-up and
# checks, then `vitest run` with those arguments instead of the two tiers.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_ensure() {
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

# The unit tier: git (worktree tests), cpio (archives listed by the real cpio), bubblewrap and python3
# (the build sandbox, probed from inside), make (the helper modules' Makefiles read through their
# shared fragment); chromium and two font packages (Arial's metrics, colour emoji): the PR comment
# rendered in a browser.
apt_ensure git cpio bubblewrap python3 make chromium fonts-liberation2 fonts-noto-color-emoji
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# Cheapest first: lint (about a second), types, dist/ freshness, then the unit tier (under 30 s).
npx biome ci
npx tsc --noEmit
node scripts/build.mjs --check
if [ $# -eq 0 ]; then npx vitest run --project unit; fi

# The kernel tier: make, gcc and libc6-dev, the module builds; meson, ninja, pkg-config, pyelftools and libnuma, the DPDK builds of the real-DPDK tests.
# linux-headers-amd64: the target: host tests run the action inside a lab VM standing for a runner,
# which builds against /lib/modules/<release>/build as a runner with the headers package does.
apt_ensure make gcc libc6-dev meson ninja-build pkg-config python3-pyelftools libnuma-dev xz-utils linux-headers-amd64
$SUDO node dist/cli.js lab setup
# Debian's 5.10 and 6.12 beside the default 6.1, from Debian's archive: the kernel tests of vm-kernel.
$SUDO node dist/cli.js lab setup --kernel 5.10
$SUDO node dist/cli.js lab setup --kernel 6.12
# A QEMU that emulates the 82576 (igb, QEMU 8.0 on) for the tests of vm-nics, from Debian's backports when the runner's is older.
$SUDO node dist/cli.js lab setup --qemu
# Debian's dpdk source package (upstream 22.11.x), for the tests that run the preset on real DPDK.
bash scripts/debian-dpdk.sh >/dev/null
if [ $# -eq 0 ]; then
  npx vitest run --project kernel --project real-dpdk
else
  npx vitest run "$@"
fi
