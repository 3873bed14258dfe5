#!/usr/bin/env bash
# Holds every crate's `rust-version` to the truth, so a user on an older toolchain gets cargo's
# "requires rustc X" instead of a dependency's parse error:
#  1. no crate a workspace member builds with (its normal and build dependencies, resolved
#     for that member alone from Cargo.lock, as `cargo build -p` does) asks for a newer rustc
#     than the member declares (a crate's own rust-version, or 1.85 for edition 2024);
#  2. the core library (with and without `std`) and the firmware crate compile with the
#     toolchain the core declares (scripts/install-deps.sh installs it).
# The apps' and bindings' own code is not compiled at their minimum here (a workspace check
# with another toolchain compiles ~300 crates again); step 1 covers what they depend on.
set -euo pipefail
cd "$(dirname "$0")/.."
meta=$(mktemp "${TMPDIR:-/tmp}/msrv-meta.XXXXXX")
trees=$(mktemp -d "${TMPDIR:-/tmp}/msrv-trees.XXXXXX")
trap 'rm -rf "$meta" "$trees"' EXIT

cargo metadata -q --format-version 1 >"$meta"
members=$(python3 -c 'import json,sys
m = json.load(open(sys.argv[1]))
ws = set(m["workspace_members"])
print(" ".join(p["name"] for p in m["packages"] if p["id"] in ws))' "$meta")
for p in $members; do
    cargo tree -q --locked -p "$p" -e normal,build --prefix none -f '{p}' | awk '{print $1, $2}' | sort -u >"$trees/$p"
done
python3 - "$meta" "$trees" $members <<'EOF'
import json, sys
meta, trees, members = sys.argv[1], sys.argv[2], sys.argv[3:]
EDITION_MIN = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}
def key(v):
    return tuple(int(x) for x in v.split("."))
need_of = {}
declared = {}
for p in json.load(open(meta))["packages"]:
    rv = p.get("rust_version")
    ed = EDITION_MIN[p["edition"]]
    need_of[(p["name"], "v" + p["version"])] = max([ed] + ([rv] if rv else []), key=key)
    declared[p["name"]] = rv
bad = 0
for m in members:
    deps = [tuple(l.split()) for l in open(f"{trees}/{m}") if l.strip()]
    need, who = max(((need_of[d], d) for d in deps), key=lambda t: key(t[0]))
    have = declared.get(m)
    ok = have is not None and key(have) >= key(need)
    bad += not ok
    print(f"  {m}: declares {have}, needs {need} ({who[0]} {who[1]}){'' if ok else '  <- too low'}")
sys.exit(1 if bad else 0)
EOF

msrv=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
echo "  compiling the core and the firmware crate with Rust $msrv"
cargo "+$msrv" check -q --locked -p openmvproto
cargo "+$msrv" check -q --locked -p openmvproto --no-default-features
cargo "+$msrv" check -q --locked -p openmvproto-firmware --features host,controls
