#!/usr/bin/env bash
# Installs what the test command needs, idempotently: fast when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
pkgs=(qemu-system-arm gcc-arm-none-eabi libnewlib-arm-none-eabi libjna-java cmake cbindgen valgrind
    xvfb xauth libgl1-mesa-dri libegl1 libgl1 libxkbcommon-x11-0)
missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "install-deps: apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y -q "${missing[@]}" >/dev/null ||
        { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

rustup target list --installed | grep -qx thumbv7em-none-eabihf || rustup target add thumbv7em-none-eabihf
rustup target list --installed | grep -qx x86_64-pc-windows-gnu || rustup target add x86_64-pc-windows-gnu
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# The core's minimum Rust (its rust-version), which scripts/check-msrv.sh compiles with.
msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
rustup toolchain list | grep -q "^$msrv-" || rustup toolchain install "$msrv" --profile minimal
# Miri (the firmware C API's unsafe code, scripts/test-all.sh) and the std sources it builds.
for c in miri rust-src; do
    rustup component list --toolchain nightly --installed | grep -q "^$c" || rustup component add --toolchain nightly "$c"
done
# mdbook and cargo-fuzz: prebuilt, in target/tools (scripts/tools.sh)
. scripts/tools.sh

# The real host peer: openmv 1.0.7 in a Python 3.12 venv.
scripts/openmv-venv.sh >/dev/null
