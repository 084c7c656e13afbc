# Install rules and the package that find_package(aimc) finds, kept apart from the target lists:
# included once at the end of the top-level CMakeLists.txt, after every target exists.
#
#   <prefix>/bin/aimc, aimc-regs                 the tools (exported as aimc::aimc, aimc::aimc-regs)
#   <prefix>/lib/libaimc_*.a                     the libraries (exported as aimc::<name without aimc_>)
#   <prefix>/include/aimc/                       model/ headers (chip/, config/, compiler/, sim/,
#                                                numerics/, ...), firmware_stubs/include, platforms/*.h
#   <prefix>/share/aimc/platforms/               the presets, and models/ with the bundled models
#                                                (the source tree's layout: the data folder of
#                                                platforms/data_dir.h)
#   <prefix>/share/aimc/firmware/                src/aimc_driver.c and riscv/ (the RV32 kit):
#                                                what aimc_add_firmware cross-compiles into
#                                                <name>.rv32.elf (firmware_stubs/cmake/AimcFirmware.cmake)
#   <prefix>/lib/cmake/aimc/                     aimcConfig.cmake, aimcConfigVersion.cmake,
#                                                aimcTargets.cmake, AimcFirmware.cmake
#
# What is exported is found, not listed: every library target defined under model/,
# firmware_stubs/ and platforms/ (a new library there is exported without touching this file).
# Its include folders are mapped to include/aimc by _aimc_map_includes below; an include folder
# outside model/, firmware_stubs/include and platforms/ stops the configure with a message naming
# it, so that the installed package never points into a source tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(AIMC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/aimc)
set(AIMC_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/aimc)
set(AIMC_INSTALL_DATADIR ${CMAKE_INSTALL_DATADIR}/aimc)

# Library targets defined in `dir` and the folders below it.
function(_aimc_collect_libraries dir out_var)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  set(found)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type MATCHES "^(STATIC|SHARED|INTERFACE)_LIBRARY$")
      list(APPEND found ${t})
    endif()
  endforeach()
  foreach(sub IN LISTS subdirs)
    _aimc_collect_libraries(${sub} sub_found)
    list(APPEND found ${sub_found})
  endforeach()
  set(${out_var} ${found} PARENT_SCOPE)
endfunction()

# The target's public include folders become $<BUILD_INTERFACE:source folder> plus
# $<INSTALL_INTERFACE:include/aimc[/sub]>, matching the install(DIRECTORY) rules below.
function(_aimc_map_includes target)
  get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT dirs)
    return()
  endif()
  set(mapped)
  foreach(d IN LISTS dirs)
    if(d MATCHES "^\\$<")  # already split into build and install forms by its owner
      list(APPEND mapped "${d}")
      continue()
    endif()
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${d})
    if(rel STREQUAL "model" OR rel STREQUAL "firmware_stubs/include" OR rel STREQUAL "platforms")
      set(inst ${AIMC_INSTALL_INCLUDEDIR})
    elseif(rel MATCHES "^model/([^.][^/]*)$")
      set(inst ${AIMC_INSTALL_INCLUDEDIR}/${CMAKE_MATCH_1})
    else()
      message(FATAL_ERROR
        "cmake/AimcInstall.cmake: target ${target} has the public include folder ${d}, which the "
        "installed package does not know: install its headers and map it in _aimc_map_includes, "
        "or give it as $<BUILD_INTERFACE:...>$<INSTALL_INTERFACE:...> in its CMakeLists.txt")
    endif()
    list(APPEND mapped "$<BUILD_INTERFACE:${d}>" "$<INSTALL_INTERFACE:${inst}>")
  endforeach()
  list(REMOVE_DUPLICATES mapped)
  set_property(TARGET ${target} PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${mapped}")
endfunction()

set(AIMC_EXPORTED_LIBRARIES)
foreach(dir model firmware_stubs platforms)
  _aimc_collect_libraries(${PROJECT_SOURCE_DIR}/${dir} libs)
  list(APPEND AIMC_EXPORTED_LIBRARIES ${libs})
endforeach()
list(REMOVE_DUPLICATES AIMC_EXPORTED_LIBRARIES)

foreach(t IN LISTS AIMC_EXPORTED_LIBRARIES)
  string(REGEX REPLACE "^aimc_" "" export_name ${t})
  set_target_properties(${t} PROPERTIES EXPORT_NAME ${export_name})
  # The same names in the build tree, for projects that add_subdirectory(aimc-vp).
  if(NOT TARGET aimc::${export_name})
    add_library(aimc::${export_name} ALIAS ${t})
  endif()
  _aimc_map_includes(${t})
  # SystemC is built for C++17: users of a C++ library must compile with it too.
  get_target_property(sources ${t} SOURCES)
  if(sources MATCHES "\\.cpp")
    target_compile_features(${t} INTERFACE cxx_std_17)
  endif()
endforeach()
add_executable(aimc::aimc ALIAS aimc)

# A package built with sanitizers (AIMC_SANITIZE, e.g. address,undefined) passes them on: its
# instrumented static libraries need the sanitizer runtimes at link time, and a user's code linked
# with them is best checked the same way.
if(AIMC_SANITIZE)
  foreach(t IN LISTS AIMC_EXPORTED_LIBRARIES)
    target_compile_options(${t} INTERFACE -fsanitize=${AIMC_SANITIZE})
    target_link_options(${t} INTERFACE -fsanitize=${AIMC_SANITIZE})
  endforeach()
endif()

install(TARGETS ${AIMC_EXPORTED_LIBRARIES} aimc aimc-regs EXPORT aimcTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/model/ DESTINATION ${AIMC_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/firmware_stubs/include/
        DESTINATION ${AIMC_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/platforms/ DESTINATION ${AIMC_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "models" EXCLUDE PATTERN "python" EXCLUDE
        PATTERN "sweeps" EXCLUDE)

# The data folder: presets and bundled models, in the source tree's layout.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/platforms/ DESTINATION ${AIMC_INSTALL_DATADIR}/platforms
        FILES_MATCHING PATTERN "*.yaml" PATTERN "models" EXCLUDE PATTERN "python" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/platforms/models/
        DESTINATION ${AIMC_INSTALL_DATADIR}/platforms/models)

# The plotting script `aimc plot` runs (docs/plots.md).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/plot_sweep.py DESTINATION ${AIMC_INSTALL_DATADIR}/scripts)

# Firmware sources the RV32 form of aimc_add_firmware compiles for the core (the headers are in
# include/aimc with the others).
install(FILES ${PROJECT_SOURCE_DIR}/firmware_stubs/src/aimc_driver.c
        DESTINATION ${AIMC_INSTALL_DATADIR}/firmware/src)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/firmware_stubs/riscv/
        DESTINATION ${AIMC_INSTALL_DATADIR}/firmware/riscv)

install(EXPORT aimcTargets NAMESPACE aimc:: DESTINATION ${AIMC_INSTALL_CMAKEDIR}
        FILE aimcTargets.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/aimcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/aimcConfig.cmake
  INSTALL_DESTINATION ${AIMC_INSTALL_CMAKEDIR}
  PATH_VARS AIMC_INSTALL_DATADIR AIMC_INSTALL_INCLUDEDIR)
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/aimcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/aimcConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/aimcConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/firmware_stubs/cmake/AimcFirmware.cmake
        DESTINATION ${AIMC_INSTALL_CMAKEDIR})
