# Runs sbd-bench engine, replay, import and e2e --baseline briefly with --json and
# checks what they print. Invoked by ctest as:
# cmake -DSBD_BENCH=... -DSBD_REPLAY=... -DSBD_LEDGER=... -P this.

# Runs sbd-bench with ARGN, fails unless it exits 0; sets `output` to stdout.
function(run_bench)
  execute_process(COMMAND ${SBD_BENCH} ${ARGN}
    OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr RESULT_VARIABLE code TIMEOUT 50)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "sbd-bench ${ARGN} exited with ${code}\nstdout: ${stdout}\nstderr: ${stderr}")
  endif()
  set(output "${stdout}" PARENT_SCOPE)
endfunction()

# Fails unless the median `key` in the JSON `output` is > `minimum`.
function(expect_above output key minimum)
  string(JSON value ERROR_VARIABLE error GET "${output}" median ${key})
  if(error)
    message(FATAL_ERROR "no median.${key} in the JSON (${error}): ${output}")
  endif()
  if(NOT value GREATER ${minimum})
    message(FATAL_ERROR "median.${key} is ${value}, expected > ${minimum}: ${output}")
  endif()
endfunction()

run_bench(engine --accounts 100 --transfers 20000 --naive-rows 200 --json)
expect_above("${output}" transfers_per_s 0)
expect_above("${output}" commit_p99_ms 0)
expect_above("${output}" batch_max 1)
expect_above("${output}" bulk_rows_per_s 0)
expect_above("${output}" naive_rows_per_s 0)
expect_above("${output}" ratio_vs_naive 0)
# The notifier stand-in encodes both messages of every transfer.
string(JSON messages GET "${output}" median messages_per_transfer)
if(NOT messages EQUAL 2)
  message(FATAL_ERROR "expected 2 messages per transfer, got ${messages}: ${output}")
endif()

run_bench(replay --events 20000 --accounts 100 --replay-binary ${SBD_REPLAY} --json)
expect_above("${output}" replay_events_per_s 0)
expect_above("${output}" open_events_per_s 0)
expect_above("${output}" projection_heap_mib 0)

run_bench(import --users 200 --entries 2000 --json)
expect_above("${output}" entries_per_s 0)
expect_above("${output}" append_events_per_s 0)
expect_above("${output}" reconciliations 0)

# End to end against sbd-ledger and, paired, the bare server: both deliver
# every message, and the CPU and ratio rows are there.
run_bench(e2e --baseline --clients 4 --ws 4 --duration 2 --server ${SBD_LEDGER} --json)
expect_above("${output}" transfers_per_s 0)
expect_above("${output}" bare_transfers_per_s 0)
expect_above("${output}" server_cpu_us_per_transfer 0)
expect_above("${output}" bare_server_cpu_us_per_transfer 0)
expect_above("${output}" vs_bare_transfers_per_s 0)
expect_above("${output}" vs_bare_cpu_per_transfer 0)
foreach(key messages_lost bare_messages_lost messages_duplicated bare_messages_duplicated
            messages_misdelivered bare_messages_misdelivered)
  string(JSON value GET "${output}" median ${key})
  if(NOT value EQUAL 0)
    message(FATAL_ERROR "median.${key} is ${value}, expected 0: ${output}")
  endif()
endforeach()

# A usage error is exit 2, not a silent default.
execute_process(COMMAND ${SBD_BENCH} engine --sync sometimes
  OUTPUT_QUIET ERROR_QUIET RESULT_VARIABLE code TIMEOUT 10)
if(NOT code EQUAL 2)
  message(FATAL_ERROR "sbd-bench engine --sync sometimes exited with ${code}, expected 2")
endif()
