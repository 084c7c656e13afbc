# AIMC_SANITIZE: sanitizers for everything this project builds (libraries, tools, tests and the
# firmware made by aimc_add_firmware), e.g. -DAIMC_SANITIZE=address,undefined. Empty: none.
# scripts/test.sh builds build-asan/ with clang, address,undefined,float-cast-overflow and the
# fuzz targets (AIMC_FUZZ below), and runs the whole suite and each fuzzer there.
#
# -fno-sanitize-recover=all turns every UBSan finding into an error exit, so that a test cannot
# pass with a report in its log; -fno-omit-frame-pointer keeps ASan's fast unwinder's stacks
# whole; -g1 (line tables) names file and line in the reports at little build cost.
set(AIMC_SANITIZE "" CACHE STRING
    "Sanitizers to build with, as for -fsanitize= (e.g. address,undefined); empty: none")
set(AIMC_SANITIZE_FLAGS "")
if(AIMC_SANITIZE)
  set(AIMC_SANITIZE_FLAGS -fsanitize=${AIMC_SANITIZE} -fno-omit-frame-pointer
                          -fno-sanitize-recover=all -g1)
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=${AIMC_SANITIZE}")
  set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=${AIMC_SANITIZE}")
  check_cxx_source_compiles("int main() { return 0; }" AIMC_SANITIZE_WORKS)
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(NOT AIMC_SANITIZE_WORKS)
    message(FATAL_ERROR "AIMC_SANITIZE=${AIMC_SANITIZE}: the compiler cannot build and link with "
                        "-fsanitize=${AIMC_SANITIZE} (is libasan/libubsan installed?)")
  endif()
  # SystemC's QuickThreads coroutines: Debian's libsystemc annotates its stack switches for ASan,
  # but not the exit of a finished SC_THREAD, after which ASan keeps the dead coroutine's stack
  # bounds, ignores __asan_handle_no_return (its warning names google/sanitizers#189) and leaves
  # stale redzones on the real stack; with GCC, the next libc call that writes a local there
  # reports a stack-buffer-overflow that is not one. GCC's stack instrumentation is therefore off:
  # heap and global checks (use-after-free, overflows of heap buffers) and all of UBSan stay on.
  # Clang (the sanitizer pass of scripts/test.sh) runs the whole suite with it on, without a report.
  if("${AIMC_SANITIZE}" MATCHES "(^|,)address(,|$)" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND AIMC_SANITIZE_FLAGS --param=asan-stack=0)
  endif()
  # Directory scope: every target below the top-level CMakeLists.txt, C and C++ alike.
  add_compile_options(${AIMC_SANITIZE_FLAGS})
  add_link_options(${AIMC_SANITIZE_FLAGS})
  message(STATUS "aimc: building with -fsanitize=${AIMC_SANITIZE}")
endif()

# AIMC_FUZZ: libFuzzer targets in tests/fuzz (clang only; scripts/fuzz.sh configures build-fuzz/
# with clang and AIMC_SANITIZE=address,undefined). Everything is built with coverage feedback
# (-fsanitize=fuzzer-no-link); only the fuzz targets link libFuzzer's main.
option(AIMC_FUZZ "Build the libFuzzer targets in tests/fuzz (clang)" OFF)
if(AIMC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AIMC_FUZZ=ON needs clang (libFuzzer): configure with "
                        "CC=clang CXX=clang++, as scripts/fuzz.sh does")
  endif()
  # Coverage feedback everywhere except the numerics' hot loops (cmake/fuzz-coverage-ignore.txt):
  # no fuzz target steers by them, and their counters would slow the sanitizer pass's test suite
  # (scripts/test.sh builds it with AIMC_FUZZ=ON) several fold.
  add_compile_options(-fsanitize=fuzzer-no-link
                      -fsanitize-coverage-ignorelist=${PROJECT_SOURCE_DIR}/cmake/fuzz-coverage-ignore.txt)
  message(STATUS "aimc: building the libFuzzer targets (tests/fuzz)")
endif()
