# Fails when firmware_stubs/include/aimc_regs.h or docs/registers.md differ from what aimc-regs
# generates from model/chip/register_table.h (fix: scripts/gen-regs.sh).
foreach(kind header doc)
  if(kind STREQUAL "header")
    set(committed ${SRC}/firmware_stubs/include/aimc_regs.h)
  else()
    set(committed ${SRC}/docs/registers.md)
  endif()
  execute_process(COMMAND ${GEN} ${kind} ${OUT}/fresh_${kind} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "aimc-regs ${kind} failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${committed} ${OUT}/fresh_${kind}
                  RESULT_VARIABLE diff)
  if(NOT diff EQUAL 0)
    message(FATAL_ERROR "${committed} is stale: run scripts/gen-regs.sh")
  endif()
endforeach()
message(STATUS "register header and reference are fresh")
