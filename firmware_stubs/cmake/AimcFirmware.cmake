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
# The in-VP form's default platform is the bundled preset of the aimc data folder
# (platforms/data_dir.h): the function writes the file aimc-data-dir next to <name>, naming the
# source tree (in this tree, or with add_subdirectory) or the installed share/aimc (installed
# package, where aimcConfig.cmake sets AIMC_FIRMWARE_DATA_DIR before including this file).
#
# Targets it needs: aimc_driver (firmware_stubs/), aimc_fw_runner (platforms/) and, for the remote
# form, aimc_hal_remote and aimc_fw_remote_main (firmware_stubs/); from an installed package the
# same targets as aimc::driver, aimc::fw_runner, aimc::hal_remote and aimc::fw_remote_main.
# aimc_fw_runner may be defined after the call (CMake resolves link names at generation);
# aimc_driver and aimc_hal_remote must exist before it.
# A firmware team's own project (see docs/firmware.md):
#   find_package(aimc REQUIRED)       # an installed package, or:
#   add_subdirectory(path/to/aimc-vp aimc-vp EXCLUDE_FROM_ALL)
#   aimc_add_firmware(my_fw SOURCES src/main.c src/app.c)
if(NOT DEFINED AIMC_FIRMWARE_DATA_DIR)
  get_filename_component(AIMC_FIRMWARE_DATA_DIR "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
# A global property: the function runs in the caller's scope, which may not see this file's.
set_property(GLOBAL PROPERTY AIMC_FIRMWARE_DATA_DIR "${AIMC_FIRMWARE_DATA_DIR}")

# _aimc_data_dir_marker(<target>): writes the file aimc-data-dir, naming the data folder, next to
# the target's executable, once per output folder (file(GENERATE) refuses two rules for one file).
function(_aimc_data_dir_marker target)
  get_target_property(out_dir ${target} RUNTIME_OUTPUT_DIRECTORY)
  if(NOT out_dir)
    set(out_dir ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  get_property(done GLOBAL PROPERTY AIMC_DATA_DIR_MARKERS)
  if(out_dir IN_LIST done)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY AIMC_DATA_DIR_MARKERS ${out_dir})
  get_property(data_dir GLOBAL PROPERTY AIMC_FIRMWARE_DATA_DIR)
  file(GENERATE OUTPUT $<TARGET_FILE_DIR:${target}>/aimc-data-dir CONTENT "${data_dir}\n")
endfunction()

function(aimc_add_firmware name)
  cmake_parse_arguments(PARSE_ARGV 1 FW "" "" "SOURCES;INCLUDE_DIRS;LIBRARIES")
  if(NOT FW_SOURCES)
    message(FATAL_ERROR "aimc_add_firmware(${name}): no SOURCES given")
  endif()
  if(FW_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "aimc_add_firmware(${name}): unknown arguments: ${FW_UNPARSED_ARGUMENTS}")
  endif()
  set(_fw_warnings -Wall -Wextra -pedantic)
  # The source tree's targets, or an installed package's (namespaced) ones.
  if(TARGET aimc_driver)
    set(_lib aimc_)
  elseif(TARGET aimc::driver)
    set(_lib aimc::)
  else()
    message(FATAL_ERROR "aimc_add_firmware(${name}): no target aimc_driver or aimc::driver: "
                        "find_package(aimc) or add_subdirectory(aimc-vp) first")
  endif()
  set(_fw_sanitize "")
  if(AIMC_SANITIZE)
    set(_fw_sanitize -fsanitize=${AIMC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  endif()

  # In the VP's process: the runner provides main() and builds the chip.
  add_executable(${name} ${FW_SOURCES})
  set_target_properties(${name} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_include_directories(${name} PRIVATE ${FW_INCLUDE_DIRS})
  target_link_libraries(${name} PRIVATE ${_lib}driver ${_lib}fw_runner ${FW_LIBRARIES})
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:C>:${_fw_warnings}> ${_fw_sanitize})
  target_link_options(${name} PRIVATE ${_fw_sanitize})
  _aimc_data_dir_marker(${name})

  # Against `aimc serve`: a plain C program, nothing of the VP linked in.
  if(TARGET ${_lib}hal_remote)
    add_executable(${name}-remote ${FW_SOURCES})
    set_target_properties(${name}-remote PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON
                                                    C_EXTENSIONS OFF)
    target_include_directories(${name}-remote PRIVATE ${FW_INCLUDE_DIRS})
    target_link_libraries(${name}-remote PRIVATE ${_lib}fw_remote_main ${_lib}hal_remote
                                                 ${_lib}driver ${FW_LIBRARIES})
    target_compile_options(${name}-remote PRIVATE $<$<COMPILE_LANGUAGE:C>:${_fw_warnings}>
                                                  ${_fw_sanitize})
    target_link_options(${name}-remote PRIVATE ${_fw_sanitize})
  endif()
endfunction()
