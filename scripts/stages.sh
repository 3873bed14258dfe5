# Sourced by test-bindings.sh, test-docs.sh and test-python.sh (bash): stages that record
# their outcome and never abort the script. STAGE_AREA names the area in every line.
passed=0
failed=0
failed_names=()
stage() { # stage NAME COMMAND...: runs a stage and records its outcome
    local name=$1 t0=$SECONDS
    shift
    echo "=== $STAGE_AREA: $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $STAGE_AREA: $name passed ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== $STAGE_AREA: $name FAILED ($((SECONDS - t0)) s)"
    fi
}
# The last line of a script: "AREA: N passed, M failed", and its status (0: none failed).
stages_done() {
    if ((failed)); then
        echo "failed stages: ${failed_names[*]}"
    fi
    echo "$STAGE_AREA: $passed passed, $failed failed"
    ((failed == 0))
}
