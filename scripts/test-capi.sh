#!/bin/sh
# The C ABI end to end (GitHub issue 4). Idempotent; run from anywhere.
#  1. include/openmvproto.h matches what cbindgen generates from src/capi;
#  2. CMake builds libopenmvproto through cargo (release, feature capi) into target/cmake,
#     with the C tests, the header-only compile checks and the C / C++ examples; ctest runs them;
#  3. the C tests again under AddressSanitizer + LeakSanitizer (target/cmake-asan), or under
#     valgrind with OMV_CAPI_MEMCHECK=valgrind: zero errors, zero leaks;
#  4. packaging: `cargo cinstall` when cargo-c >= 0.10 is installed (Debian's 0.9.14 cannot
#     read this crate's dependency graph), else `cmake --install`; checks the .so and its
#     SONAME, the .a, the .pc and the header, then builds examples/c/save_frame.c against the
#     installed copy through pkg-config (and through find_package(openmvproto) after a CMake
#     install) and runs it against the virtual cam.
# Needs cmake, a C/C++ compiler, cbindgen (Debian 0.24.3), pkg-config; valgrind for step 3b.
# Uses $CARGO_TARGET_DIR (default ./target) for every cargo build (cargo-c: its cargo-c/
# subdirectory), and the release omv-vcam in it (built if missing). OMV_JOBS sets build
# parallelism (default 2); OMV_CAPI_PACKAGER=cmake|cargo-c forces the packaging path.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
case "$CARGO_TARGET_DIR" in
/*) ;;
*) CARGO_TARGET_DIR="$root/$CARGO_TARGET_DIR" ;;
esac
jobs=${OMV_JOBS:-2}
vcam="$CARGO_TARGET_DIR/release/omv-vcam"
memcheck=${OMV_CAPI_MEMCHECK:-asan}
start=$(date +%s)
step() {
    printf '\n== [%ss] %s\n' "$(($(date +%s) - start))" "$*"
}

step "header"
scripts/check-header.sh

step "omv-vcam"
if [ ! -x "$vcam" ]; then
    scripts/release-build.sh
fi
echo "$vcam"

step "cmake build (target/cmake)"
cmake -S . -B target/cmake -DCMAKE_BUILD_TYPE=Release \
    -DOPENMVPROTO_CARGO_TARGET_DIR="$CARGO_TARGET_DIR" -DOMV_VCAM_EXE="$vcam" >/dev/null
cmake --build target/cmake -j "$jobs"

step "ctest"
ctest --test-dir target/cmake --output-on-failure -j "$jobs"

case "$memcheck" in
asan)
    step "C tests under AddressSanitizer + LeakSanitizer (target/cmake-asan)"
    cmake -S . -B target/cmake-asan -DCMAKE_BUILD_TYPE=Debug -DOPENMVPROTO_SANITIZE=address \
        -DOPENMVPROTO_BUILD_EXAMPLES=OFF \
        -DOPENMVPROTO_CARGO_TARGET_DIR="$CARGO_TARGET_DIR" -DOMV_VCAM_EXE="$vcam" >/dev/null
    cmake --build target/cmake-asan -j "$jobs"
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
        ctest --test-dir target/cmake-asan --output-on-failure -j "$jobs" -R '^c_'
    ;;
valgrind)
    step "C tests under valgrind (target/cmake)"
    for t in test_device_callback test_misuse test_host_vcam test_threads test_wait_frame; do
        echo "-- valgrind $t"
        OMV_VCAM="$vcam" valgrind --quiet --error-exitcode=1 --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
            "target/cmake/$t"
    done
    ;;
*)
    echo "OMV_CAPI_MEMCHECK must be asan or valgrind" >&2
    exit 2
    ;;
esac

step "packaging"
stage="$root/target/capi-install"
rm -rf "$stage"
packager=${OMV_CAPI_PACKAGER:-}
if [ -z "$packager" ]; then
    packager=cmake
    case "$(cargo cbuild --version 2>/dev/null || true)" in
    *" 0.1"[0-9].* | *" 0."[2-9][0-9].* | *" "[1-9].*) packager=cargo-c ;;
    esac
fi
if [ "$packager" = cargo-c ]; then
    echo "cargo-c: $(cargo cbuild --version)"
    # cargo-c embeds its own cargo, whose fingerprints of shared build scripts and proc-macros
    # differ from the system cargo's: in one target directory each would rebuild the other's.
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/cargo-c" \
        cargo cinstall --release --features capi --library-type cdylib --library-type staticlib \
        --prefix "$stage" --libdir "$stage/lib" --includedir "$stage/include"
else
    echo "cargo-c >= 0.10 not installed: the CMake build's libraries (cargo rustc --crate-type" \
        "cdylib,staticlib -C link-arg=-Wl,-soname,libopenmvproto.so.0), installed by cmake --install"
    cmake --install target/cmake --prefix "$stage" >/dev/null
fi
lib="$stage/lib"
so=$(find "$lib" -maxdepth 1 -name 'libopenmvproto.so.*.*' -type f | head -n 1)
[ -n "$so" ] || { echo "no versioned libopenmvproto.so in $lib" >&2; exit 1; }
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
echo "shared: $so (SONAME $soname)"
[ "$soname" = "libopenmvproto.so.0" ] || { echo "unexpected SONAME '$soname'" >&2; exit 1; }
[ -e "$lib/$soname" ] && [ -e "$lib/libopenmvproto.so" ] || { echo "missing .so links" >&2; exit 1; }
[ -f "$lib/libopenmvproto.a" ] || { echo "missing libopenmvproto.a" >&2; exit 1; }
[ -f "$lib/pkgconfig/openmvproto.pc" ] || { echo "missing openmvproto.pc" >&2; exit 1; }
[ -f "$stage/include/openmvproto.h" ] || { echo "missing include/openmvproto.h" >&2; exit 1; }
cmp -s "$stage/include/openmvproto.h" include/openmvproto.h || { echo "installed header differs" >&2; exit 1; }
nm -D --defined-only "$so" | grep -q ' T omv_host_open_tcp$' || { echo "omv_ symbols not exported" >&2; exit 1; }
echo "static: $lib/libopenmvproto.a; pkg-config: $lib/pkgconfig/openmvproto.pc"

export PKG_CONFIG_PATH="$lib/pkgconfig"
echo "pkg-config: $(pkg-config --modversion openmvproto) $(pkg-config --cflags --libs openmvproto)"
consumer="$root/target/capi-consumer"
rm -rf "$consumer"
mkdir -p "$consumer"
# shellcheck disable=SC2046
cc -std=c99 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags openmvproto) \
    examples/c/save_frame.c -o "$consumer/save_frame" $(pkg-config --libs openmvproto) \
    -Wl,-rpath,"$lib"
sh tests/c/with_vcam.sh "$vcam" "$consumer/save_frame" @ADDR@ "$consumer/frame.ppm"
head -c 2 "$consumer/frame.ppm" | grep -q P6

if [ -f "$lib/cmake/openmvproto/openmvprotoConfig.cmake" ]; then
    step "find_package(openmvproto) from the install"
    mkdir -p "$consumer/cmake"
    cat >"$consumer/cmake/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(omv_consumer C)
find_package(openmvproto 0.1 REQUIRED)
add_executable(save_frame "$root/examples/c/save_frame.c")
target_link_libraries(save_frame PRIVATE openmvproto::openmvproto)
CMAKE
    cmake -S "$consumer/cmake" -B "$consumer/cmake/build" -DCMAKE_PREFIX_PATH="$stage" >/dev/null
    cmake --build "$consumer/cmake/build" >/dev/null
    sh tests/c/with_vcam.sh "$vcam" "$consumer/cmake/build/save_frame" @ADDR@ "$consumer/frame2.ppm"
fi

step "C ABI checks passed"
