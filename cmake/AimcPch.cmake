# AIMC_PCH: precompiled headers for every C++ target of the project (on by default when
# AIMC_UNITY_BUILD is off, off by default when it is on: with 8 files to a unit, a target's header
# precompiled once costs more than it saves; 129 s without, 194 s with, for the Release tree).
#
# Why: a typical translation unit here spends more than half of its compile time parsing the same
# library headers (SystemC/TLM, Eigen, nlohmann/json, GoogleTest: 1.4-2.6 s each with GCC 12), and
# the README's test command builds the whole tree twice (Release, then sanitizers). Each target
# gets one private precompiled header with the standard headers and the library headers of what
# it links (found through its link libraries, transitively), so no target sees a header it could
# not include before. Sources still include what they use; the PCH only makes it cheaper.
#
# With ccache as compiler launcher, set CCACHE_SLOPPINESS=pch_defines,time_macros (or configure
# with -DAIMC_PCH=OFF), or ccache does not cache the objects that use a precompiled header.
if(AIMC_UNITY_BUILD)
  set(_aimc_pch_default OFF)
else()
  set(_aimc_pch_default ON)
endif()
option(AIMC_PCH "Precompile the standard and library headers of each C++ target" ${_aimc_pch_default})

# The library headers a link dependency brings (a dependency not named here brings none).
set(_aimc_pch_SystemC::systemc <systemc> <tlm>)
set(_aimc_pch_Eigen3::Eigen <Eigen/Dense>)
set(_aimc_pch_nlohmann_json::nlohmann_json <nlohmann/json.hpp>)
set(_aimc_pch_GTest::gtest <gtest/gtest.h>)
set(_aimc_pch_GTest::gtest_main <gtest/gtest.h>)
set(_aimc_pch_std <algorithm> <array> <cmath> <cstdint> <cstdio> <functional> <map> <memory>
    <optional> <sstream> <stdexcept> <string> <unordered_map> <utility> <vector>)

# Collects into ${out} the link dependencies of `target`, transitively through the project's own
# targets (LINK_LIBRARIES and INTERFACE_LINK_LIBRARIES; generator expressions are skipped).
function(_aimc_pch_deps target out)
  set(seen "")
  set(todo ${target})
  while(todo)
    list(POP_FRONT todo t)
    if(t IN_LIST seen OR NOT TARGET ${t})
      continue()
    endif()
    list(APPEND seen ${t})
    get_target_property(imported ${t} IMPORTED)
    set(props INTERFACE_LINK_LIBRARIES)
    if(NOT imported)
      get_target_property(type ${t} TYPE)
      if(NOT type STREQUAL "INTERFACE_LIBRARY")
        list(APPEND props LINK_LIBRARIES)
      endif()
    endif()
    foreach(p ${props})
      get_target_property(libs ${t} ${p})
      if(libs)
        foreach(l ${libs})
          if(NOT l MATCHES "^\\$<" AND TARGET ${l})
            get_target_property(aliased ${l} ALIASED_TARGET)
            if(aliased)
              list(APPEND todo ${aliased})
            endif()
            list(APPEND todo ${l})
          endif()
        endforeach()
      endif()
    endforeach()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# Gives every C++ target defined in `dir` and below its precompiled header.
function(aimc_precompile_headers dir)
  if(NOT AIMC_PCH)
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${targets})
    get_target_property(type ${t} TYPE)
    get_target_property(sources ${t} SOURCES)
    # C++ only: a target with C sources would get a C precompiled header of C++ headers.
    if(NOT type MATCHES "^(STATIC_LIBRARY|SHARED_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$" OR
       NOT sources MATCHES "\\.cpp(;|$)" OR sources MATCHES "\\.c(;|$)")
      continue()
    endif()
    _aimc_pch_deps(${t} deps)
    set(headers ${_aimc_pch_std})
    foreach(d ${deps})
      if(DEFINED _aimc_pch_${d})
        list(APPEND headers ${_aimc_pch_${d}})
      endif()
    endforeach()
    list(REMOVE_DUPLICATES headers)
    target_precompile_headers(${t} PRIVATE ${headers})
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(s ${subdirs})
    aimc_precompile_headers(${s})
  endforeach()
endfunction()
