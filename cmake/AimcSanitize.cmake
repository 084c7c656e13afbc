# AIMC_SANITIZE: sanitizers for everything this project builds (libraries, tools, tests and the
# firmware made by aimc_add_firmware), e.g. -DAIMC_SANITIZE=address,undefined. Empty: none.
# scripts/test.sh builds build-asan/ with address,undefined and runs the whole suite there.
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
  # Directory scope: every target below the top-level CMakeLists.txt, C and C++ alike.
  add_compile_options(${AIMC_SANITIZE_FLAGS})
  add_link_options(${AIMC_SANITIZE_FLAGS})
  message(STATUS "aimc: building with -fsanitize=${AIMC_SANITIZE}")
endif()
