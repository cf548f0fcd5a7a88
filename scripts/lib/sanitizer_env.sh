# The environment the sanitized suite runs in (scripts/sanitize sources it; source it to run one
# test of build/asan by hand: `source scripts/lib/sanitizer_env.sh; ctest --test-dir build/asan -R NAME`).
# Needs BLOCKLENS_ROOT. docs/sanitizers.md says why each option is there.
# shellcheck shell=bash

export QT_QPA_PLATFORM=offscreen
# halt_on_error is ASan's default; UBSan aborts by itself (-fno-sanitize-recover). Leaks are
# reported (and fail the test) except those of the libraries we do not build, listed in
# scripts/lib/lsan.supp with the reason for each.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$BLOCKLENS_ROOT/scripts/lib/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# Qt Test aborts a test function after 5 minutes by default; under ASan the slowest (the linear-time
# tests, the training tests) can take longer on a loaded machine. CTest's --timeout still bounds
# the whole test.
export QTEST_FUNCTION_TIMEOUT="${QTEST_FUNCTION_TIMEOUT:-1500000}"
