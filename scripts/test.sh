#!/usr/bin/env bash
# The test command. On a fresh Debian machine (as root, or with sudo) it installs what
# the tests need - npm packages, a compiler, QEMU, Debian's 6.1, 5.10 and 6.12 kernels with their
# headers in the lab (from Debian's archive, not installed), DPDK's build tools and Debian's dpdk
# source - then typechecks, checks that dist/ is fresh and runs every
# test, the kernel tests in a VM included.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
# bubblewrap: the sandbox of every module build. meson, ninja, pkg-config, pyelftools and libnuma: the DPDK builds of the real-DPDK tests.
# chromium and two font packages (Arial's metrics, colour emoji): the PR comment rendered in a browser.
for pkg in git make gcc libc6-dev bubblewrap meson ninja-build pkg-config python3-pyelftools libnuma-dev xz-utils chromium fonts-liberation2 fonts-noto-color-emoji; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

$SUDO node dist/cli.js lab setup
# Debian's 5.10 and 6.12 beside the default 6.1, from Debian's archive: the kernel tests of vm-kernel.
$SUDO node dist/cli.js lab setup --kernel 5.10
$SUDO node dist/cli.js lab setup --kernel 6.12
# Debian's dpdk source package (upstream 22.11.x), for the tests that run the preset on real DPDK.
bash scripts/debian-dpdk.sh >/dev/null
npx tsc --noEmit
npx biome ci
node scripts/build.mjs --check
npx vitest run "$@"
