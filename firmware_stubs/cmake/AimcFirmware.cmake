# aimc_add_firmware(<name> SOURCES <file.c>... [INCLUDE_DIRS <dir>...] [LIBRARIES <lib>...]
#                   [NO_RV32 | RV32_ONLY] [RV32_ROM_KIB <n>] [RV32_RAM_KIB <n>] [RV32_STACK_KIB <n>])
#
# Builds firmware written against the aimc HAL and driver (entry point aimc_fw_main, see
# firmware_stubs/include/aimc_fw.h) in up to three forms from the same sources:
#   <name>         the firmware linked with the in-VP runner (aimc_fw_runner): running it builds the
#                  chip from a platform YAML and runs the firmware against it in the same process,
#                  e.g. `<name> --platform my.yaml --set tile.adc.bits=6 -- firmware args`.
#   <name>-remote  a plain C program (aimc_hal_remote + aimc_fw_remote_main) that connects to a
#                  chip served by `aimc serve --listen ADDRESS`: `<name>-remote --connect ADDRESS
#                  firmware args`. Made only when the target aimc_hal_remote exists.
#   <name>.rv32.elf  bare-metal firmware for the VP's RV32IMAC core (`aimc fw run <name>.rv32.elf`;
#                  docs/firmware.md, "Firmware on the RV32 core"): the sources + the driver + the
#                  kit in firmware_stubs/riscv/ (main, trap vector, HAL aimc_hal_rv32, stdio on
#                  semihosting), cross-compiled with riscv64-unknown-elf-gcc and picolibc
#                  (-march=rv32imac -mabi=ilp32 -O2 -g, C11, the same warnings), linked for the
#                  memory map of aimc_rv32.h, next to <name>. Target <name>-rv32 (in ALL); its
#                  property AIMC_RV32_ELF and the variable <name>_RV32_ELF (set in the caller's
#                  scope) give the ELF's path. Made when the toolchain is there (the cache
#                  variable AIMC_RISCV_FIRMWARE below) and NO_RV32 is not given. RV32_ONLY: this
#                  form alone, for firmware written for the core (its interrupt services, wfi);
#                  nothing is built when the toolchain is missing. LIBRARIES are
#                  host libraries: they are not linked into it.
#                  RV32_ROM_KIB, RV32_RAM_KIB: the ROM and RAM the ELF is linked for; default 1024
#                  and 65536, the core's defaults (cpu.rom_kib, cpu.ram_kib of the platform).
#                  RV32_STACK_KIB: the stack at the top of RAM, default 256 (the examples' deepest
#                  call chain, firmware frames + printf + a trap frame, needs under 4 KiB; the
#                  rest of RAM above the data is the heap, where DMA buffers come from).
# The sources are compiled as C11 with warnings; INCLUDE_DIRS are added to every form, LIBRARIES
# to the two host forms. With AIMC_SANITIZE set (cmake/AimcSanitize.cmake), both host forms are
# built and linked with the same sanitizers as the libraries they link, also when called from a
# firmware team's own folder.
#
# AIMC_RISCV_FIRMWARE (cache, AUTO | ON | OFF; default AUTO): AUTO builds the RV32 forms when
# riscv64-unknown-elf-gcc (cache variable AIMC_RISCV_GCC) is found and links a picolibc
# rv32imac/ilp32 program with semihosting; ON stops the configure with the apt-get line when it
# does not; OFF never builds them.
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
# aimc_driver and aimc_hal_remote must exist before it. The RV32 form compiles the driver and the
# kit from source: firmware_stubs/{src,riscv,include} here, share/aimc/firmware/{src,riscv} and
# include/aimc in an installed package (aimcConfig.cmake sets AIMC_FIRMWARE_KIT_DIR and
# AIMC_FIRMWARE_INCLUDE_DIR before including this file).
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

# ---- The RV32 form: toolchain and kit ----
if(NOT DEFINED AIMC_FIRMWARE_KIT_DIR)
  get_filename_component(AIMC_FIRMWARE_KIT_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
endif()
if(NOT DEFINED AIMC_FIRMWARE_INCLUDE_DIR)
  set(AIMC_FIRMWARE_INCLUDE_DIR "${AIMC_FIRMWARE_KIT_DIR}/include")
endif()
set(AIMC_RISCV_FIRMWARE AUTO CACHE STRING
    "Also build <name>.rv32.elf for the VP's RV32 core: AUTO (when the toolchain is there), ON, OFF")
set_property(CACHE AIMC_RISCV_FIRMWARE PROPERTY STRINGS AUTO ON OFF)
set(_aimc_riscv_apt "apt-get install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf")

# _aimc_riscv_toolchain(): decides once whether the RV32 forms are built; the answer goes into the
# global properties AIMC_RV32_ENABLED, AIMC_RV32_GCC, AIMC_RV32_KIT_DIR, AIMC_RV32_INCLUDE_DIR,
# AIMC_RV32_ROM_BASE and AIMC_RV32_RAM_BASE (read from aimc_rv32.h: one definition of the map).
function(_aimc_riscv_toolchain)
  set_property(GLOBAL PROPERTY AIMC_RV32_ENABLED OFF)
  string(TOUPPER "${AIMC_RISCV_FIRMWARE}" mode)
  if(NOT mode MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "AIMC_RISCV_FIRMWARE='${AIMC_RISCV_FIRMWARE}': expected AUTO, ON or OFF")
  endif()
  if(mode STREQUAL "OFF")
    message(STATUS "aimc: RV32 firmware (<name>.rv32.elf): off (AIMC_RISCV_FIRMWARE=OFF)")
    return()
  endif()
  set(why "")
  set(kit ${AIMC_FIRMWARE_KIT_DIR})
  set(map_header ${AIMC_FIRMWARE_INCLUDE_DIR}/aimc_rv32.h)
  find_program(AIMC_RISCV_GCC NAMES riscv64-unknown-elf-gcc
               DOC "The RISC-V cross compiler for <name>.rv32.elf (aimc_add_firmware)")
  if(NOT EXISTS ${kit}/riscv/aimc_hal_rv32.c OR NOT EXISTS ${kit}/src/aimc_driver.c OR
     NOT EXISTS ${map_header})
    set(why "the firmware kit is not at ${kit}/{riscv,src} and ${map_header}")
  elseif(NOT AIMC_RISCV_GCC OR NOT EXISTS "${AIMC_RISCV_GCC}")
    set(why "riscv64-unknown-elf-gcc not found (AIMC_RISCV_GCC=${AIMC_RISCV_GCC})")
  else()
    execute_process(COMMAND ${AIMC_RISCV_GCC} -print-file-name=picolibc.specs
                    OUTPUT_VARIABLE specs OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT IS_ABSOLUTE "${specs}" OR NOT EXISTS "${specs}")
      set(why "${AIMC_RISCV_GCC} finds no picolibc.specs (picolibc-riscv64-unknown-elf)")
    else()
      # What a firmware link needs, tried on a program of one line.
      set(dir ${CMAKE_BINARY_DIR}/CMakeFiles/aimc-rv32-check)
      file(MAKE_DIRECTORY ${dir})
      file(WRITE ${dir}/check.c "int main(void) { return 0; }\n")
      execute_process(COMMAND ${AIMC_RISCV_GCC} -march=rv32imac -mabi=ilp32
                              --specs=picolibc.specs --oslib=semihost --crt0=semihost
                              -o ${dir}/check.elf ${dir}/check.c -lm
                      RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
      if(NOT rc EQUAL 0)
        string(REGEX REPLACE "\n.*" "" err "${err}")
        set(why "${AIMC_RISCV_GCC} cannot link an rv32imac picolibc program (${err})")
      endif()
    endif()
  endif()
  if(why)
    if(mode STREQUAL "ON")
      message(FATAL_ERROR "AIMC_RISCV_FIRMWARE=ON, but ${why}. On Debian: ${_aimc_riscv_apt}")
    endif()
    message(STATUS "aimc: RV32 firmware (<name>.rv32.elf): off, ${why} (${_aimc_riscv_apt})")
    return()
  endif()
  file(STRINGS ${map_header} bases REGEX "^#define AIMC_RV_(ROM|RAM)_BASE ")
  foreach(line IN LISTS bases)
    if(line MATCHES "^#define AIMC_RV_(ROM|RAM)_BASE (0x[0-9A-Fa-f]+)u?")
      set_property(GLOBAL PROPERTY AIMC_RV32_${CMAKE_MATCH_1}_BASE ${CMAKE_MATCH_2})
    endif()
  endforeach()
  get_property(rom GLOBAL PROPERTY AIMC_RV32_ROM_BASE)
  get_property(ram GLOBAL PROPERTY AIMC_RV32_RAM_BASE)
  if(NOT rom OR NOT ram)
    message(FATAL_ERROR "${map_header}: no AIMC_RV_ROM_BASE or AIMC_RV_RAM_BASE (0x... hex)")
  endif()
  set_property(GLOBAL PROPERTY AIMC_RV32_ENABLED ON)
  set_property(GLOBAL PROPERTY AIMC_RV32_GCC ${AIMC_RISCV_GCC})
  set_property(GLOBAL PROPERTY AIMC_RV32_KIT_DIR ${kit})
  set_property(GLOBAL PROPERTY AIMC_RV32_INCLUDE_DIR ${AIMC_FIRMWARE_INCLUDE_DIR})
  message(STATUS "aimc: RV32 firmware (<name>.rv32.elf): on, ${AIMC_RISCV_GCC} with picolibc")
endfunction()
_aimc_riscv_toolchain()

# _aimc_add_rv32_firmware(<name> <out_dir> <rom_kib> <ram_kib> <stack_kib> SOURCES ...
# INCLUDE_DIRS ...): the custom commands that compile each source (with a depfile, so header edits
# rebuild) and link <out_dir>/<name>.rv32.elf, and the target <name>-rv32.
function(_aimc_add_rv32_firmware name out_dir rom_kib ram_kib stack_kib)
  cmake_parse_arguments(PARSE_ARGV 5 RV "" "" "SOURCES;INCLUDE_DIRS")
  get_property(gcc GLOBAL PROPERTY AIMC_RV32_GCC)
  get_property(kit GLOBAL PROPERTY AIMC_RV32_KIT_DIR)
  get_property(inc GLOBAL PROPERTY AIMC_RV32_INCLUDE_DIR)
  get_property(rom_base GLOBAL PROPERTY AIMC_RV32_ROM_BASE)
  get_property(ram_base GLOBAL PROPERTY AIMC_RV32_RAM_BASE)
  set(arch -march=rv32imac -mabi=ilp32)
  set(cflags ${arch} -O2 -g -std=c11 -Wall -Wextra -pedantic --specs=picolibc.specs
             -ffunction-sections -fdata-sections)
  foreach(d IN LISTS RV_INCLUDE_DIRS)
    get_filename_component(d "${d}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND cflags -I${d})
  endforeach()
  list(APPEND cflags -I${inc} -I${kit}/riscv)
  set(sources)
  foreach(src IN LISTS RV_SOURCES)
    get_filename_component(src "${src}" ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND sources ${src})
  endforeach()
  list(APPEND sources ${kit}/src/aimc_driver.c ${kit}/riscv/aimc_rv_main.c
       ${kit}/riscv/aimc_hal_rv32.c ${kit}/riscv/aimc_rv_trap.c ${kit}/riscv/aimc_rv_stdio.c
       ${kit}/riscv/aimc_rv_vector.S)
  set(obj_dir ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/${name}-rv32.dir)
  set(objects)
  set(i 0)
  foreach(src IN LISTS sources)
    get_filename_component(base ${src} NAME)
    set(obj ${obj_dir}/${i}-${base}.o)  # the index keeps equal file names apart
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_C_COMPILER_LAUNCHER} ${gcc} ${cflags} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src}
      DEPFILE ${obj}.d
      COMMENT "Building RV32 object ${name}-rv32.dir/${i}-${base}.o"
      VERBATIM)
    list(APPEND objects ${obj})
    math(EXPR i "${i} + 1")
  endforeach()
  math(EXPR rom_bytes "${rom_kib} * 1024" OUTPUT_FORMAT HEXADECIMAL)
  math(EXPR ram_bytes "${ram_kib} * 1024" OUTPUT_FORMAT HEXADECIMAL)
  math(EXPR stack_bytes "${stack_kib} * 1024" OUTPUT_FORMAT HEXADECIMAL)
  set(elf ${out_dir}/${name}.rv32.elf)
  # picolibc.ld places ROM and RAM from these symbols; -T after the --defsym options, or the
  # script's DEFINED(__stack_size) does not see them.
  add_custom_command(OUTPUT ${elf}
    COMMAND ${gcc} ${arch} --specs=picolibc.specs --oslib=semihost --crt0=semihost
            -Wl,--defsym=__flash=${rom_base} -Wl,--defsym=__flash_size=${rom_bytes}
            -Wl,--defsym=__ram=${ram_base} -Wl,--defsym=__ram_size=${ram_bytes}
            -Wl,--defsym=__stack_size=${stack_bytes} -T picolibc.ld
            -Wl,-Map=${out_dir}/${name}.rv32.map -o ${elf} ${objects} -lm
    DEPENDS ${objects}
    BYPRODUCTS ${out_dir}/${name}.rv32.map
    COMMENT "Linking RV32 firmware ${name}.rv32.elf (ROM ${rom_kib} KiB, RAM ${ram_kib} KiB)"
    VERBATIM)
  add_custom_target(${name}-rv32 ALL DEPENDS ${elf})
  set_target_properties(${name}-rv32 PROPERTIES AIMC_RV32_ELF ${elf})
endfunction()

function(aimc_add_firmware name)
  cmake_parse_arguments(PARSE_ARGV 1 FW "NO_RV32;RV32_ONLY" "RV32_ROM_KIB;RV32_RAM_KIB;RV32_STACK_KIB"
                        "SOURCES;INCLUDE_DIRS;LIBRARIES")
  if(FW_NO_RV32 AND FW_RV32_ONLY)
    message(FATAL_ERROR "aimc_add_firmware(${name}): NO_RV32 and RV32_ONLY exclude each other")
  endif()
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

  get_property(rv32 GLOBAL PROPERTY AIMC_RV32_ENABLED)
  if(FW_RV32_ONLY AND NOT rv32)
    message(STATUS "aimc_add_firmware(${name}): RV32_ONLY, and no RV32 toolchain: not built")
    return()
  endif()
  if(FW_RV32_ONLY)
    set(out_dir ${CMAKE_CURRENT_BINARY_DIR})  # no host forms: the ELF is target <name>-rv32 alone
  else()
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
  endif()

  # On the VP's RV32 core: the same sources, cross-compiled with the driver and the kit.
  if(rv32 AND NOT FW_NO_RV32)
    # Defaults: the core's (cpu.rom_kib 1024, cpu.ram_kib 65536); the stack: see the top.
    foreach(kv ROM_KIB:1024 RAM_KIB:65536 STACK_KIB:256)
      string(REPLACE ":" ";" kv ${kv})
      list(GET kv 0 key)
      list(GET kv 1 default)
      if(NOT DEFINED FW_RV32_${key})
        set(FW_RV32_${key} ${default})
      elseif(NOT FW_RV32_${key} MATCHES "^[1-9][0-9]*$")
        message(FATAL_ERROR "aimc_add_firmware(${name}): RV32_${key} '${FW_RV32_${key}}' is not "
                            "a positive whole number of KiB")
      endif()
    endforeach()
    # ROM from 0x2000_0000 up to the chip's window at 0x4000_0000; RAM from 0x8000_0000 to 4 GiB.
    if(FW_RV32_ROM_KIB GREATER 524288 OR FW_RV32_RAM_KIB GREATER 2097152)
      message(FATAL_ERROR "aimc_add_firmware(${name}): RV32_ROM_KIB ${FW_RV32_ROM_KIB} (at most "
                          "524288) or RV32_RAM_KIB ${FW_RV32_RAM_KIB} (at most 2097152) does not "
                          "fit the core's memory map (aimc_rv32.h)")
    endif()
    if(NOT FW_RV32_STACK_KIB LESS FW_RV32_RAM_KIB)
      message(FATAL_ERROR "aimc_add_firmware(${name}): RV32_STACK_KIB ${FW_RV32_STACK_KIB} leaves "
                          "no RAM of RV32_RAM_KIB ${FW_RV32_RAM_KIB} for data and heap")
    endif()
    if(NOT FW_RV32_ONLY)
      get_target_property(out_dir ${name} RUNTIME_OUTPUT_DIRECTORY)
      if(NOT out_dir)
        set(out_dir ${CMAKE_CURRENT_BINARY_DIR})
      endif()
    endif()
    _aimc_add_rv32_firmware(${name} ${out_dir} ${FW_RV32_ROM_KIB} ${FW_RV32_RAM_KIB}
                            ${FW_RV32_STACK_KIB} SOURCES ${FW_SOURCES}
                            INCLUDE_DIRS ${FW_INCLUDE_DIRS})
    set(${name}_RV32_ELF ${out_dir}/${name}.rv32.elf PARENT_SCOPE)
  endif()
endfunction()
