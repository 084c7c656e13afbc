# aimc_add_firmware(<name> SOURCES <file.c>... [INCLUDE_DIRS <dir>...] [LIBRARIES <lib>...])
#
# Builds firmware written against the aimc HAL and driver (entry point aimc_fw_main, see
# firmware_stubs/include/aimc_fw.h) in two forms from the same sources:
#   <name>         the firmware linked with the in-VP runner (aimc_fw_runner): running it builds the
#                  chip from a platform YAML and runs the firmware against it in the same process,
#                  e.g. `<name> --platform my.yaml --set tile.adc.bits=6 -- firmware args`.
#   <name>-remote  a plain C program (aimc_hal_remote + aimc_fw_remote_main) that connects to a
#                  chip served by `aimc serve --listen ADDRESS`: `<name>-remote --connect ADDRESS
#                  firmware args`. Made only when the target aimc_hal_remote exists.
# The sources are compiled as C11 with warnings; INCLUDE_DIRS and LIBRARIES are added to both forms.
# With AIMC_SANITIZE set (cmake/AimcSanitize.cmake), both forms are built and linked with the same
# sanitizers as the libraries they link, also when called from a firmware team's own folder.
#
# Targets it needs: aimc_driver (firmware_stubs/), aimc_fw_runner (platforms/) and, for the remote
# form, aimc_hal_remote and aimc_fw_remote_main (firmware_stubs/). aimc_fw_runner may be defined
# after the call (CMake resolves link names at generation); aimc_hal_remote must exist before it.
# A firmware team's own project (see docs/firmware.md):
#   add_subdirectory(path/to/aimc-vp aimc-vp EXCLUDE_FROM_ALL)
#   aimc_add_firmware(my_fw SOURCES src/main.c src/app.c)
function(aimc_add_firmware name)
  cmake_parse_arguments(PARSE_ARGV 1 FW "" "" "SOURCES;INCLUDE_DIRS;LIBRARIES")
  if(NOT FW_SOURCES)
    message(FATAL_ERROR "aimc_add_firmware(${name}): no SOURCES given")
  endif()
  if(FW_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aimc_add_firmware(${name}): unknown arguments: ${FW_UNPARSED_ARGUMENTS}")
  endif()
  set(_fw_warnings -Wall -Wextra -pedantic)
  set(_fw_sanitize "")
  if(AIMC_SANITIZE)
    set(_fw_sanitize -fsanitize=${AIMC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  endif()

  # In the VP's process: the runner provides main() and builds the chip.
  add_executable(${name} ${FW_SOURCES})
  set_target_properties(${name} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_include_directories(${name} PRIVATE ${FW_INCLUDE_DIRS})
  target_link_libraries(${name} PRIVATE aimc_driver aimc_fw_runner ${FW_LIBRARIES})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:C>:${_fw_warnings}> ${_fw_sanitize})
  target_link_options(${name} PRIVATE ${_fw_sanitize})

  # Against `aimc serve`: a plain C program, nothing of the VP linked in.
  if(TARGET aimc_hal_remote)
    add_executable(${name}-remote ${FW_SOURCES})
    set_target_properties(${name}-remote PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                                                    C_EXTENSIONS OFF)
    target_include_directories(${name}-remote PRIVATE ${FW_INCLUDE_DIRS})
    target_link_libraries(${name}-remote PRIVATE aimc_fw_remote_main aimc_hal_remote aimc_driver
                                                 ${FW_LIBRARIES})
    target_compile_options(${name}-remote PRIVATE $<$<COMPILE_LANGUAGE:C>:${_fw_warnings}>
                                                  ${_fw_sanitize})
    target_link_options(${name}-remote PRIVATE ${_fw_sanitize})
  endif()
endfunction()
