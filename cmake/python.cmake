# The `tilesim` Python module (pybind11, from Debian's pybind11-dev and python3-dev), built into the
# build folder beside the CLI: `sys.path.insert(0, "build"); import tilesim`. AUTO builds it when
# pybind11 is found.
set(TILESIM_PYTHON "AUTO" CACHE STRING "Build the tilesim Python module: ON, OFF or AUTO (when pybind11 is found)")
if(TILESIM_PYTHON STREQUAL "OFF")
  return()
endif()
set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 2.6 CONFIG QUIET)
if(NOT pybind11_FOUND)
  if(TILESIM_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "TILESIM_PYTHON=ON but pybind11 was not found: apt-get install pybind11-dev python3-dev")
  endif()
  message(STATUS "tilesim Python module: not built (pybind11 not found; apt-get install pybind11-dev python3-dev)")
  return()
endif()
# A shared module links the static model libraries, so their code must be position independent.
set_target_properties(tilesim_core tilesim_scenarios tilesim_plot tilesim_exports PROPERTIES POSITION_INDEPENDENT_CODE ON)
pybind11_add_module(tilesim_python MODULE python/tilesim_module.cpp cli/plot_command.cpp cli/output.cpp)
target_link_libraries(tilesim_python PRIVATE tilesim_exports CLI11::CLI11)
set_target_properties(tilesim_python PROPERTIES OUTPUT_NAME tilesim LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
tilesim_warnings(tilesim_python)
message(STATUS "tilesim Python module: ${PROJECT_BINARY_DIR}/tilesim${PYTHON_MODULE_EXTENSION} (Python ${Python_VERSION})")

if(TILESIM_BUILD_TESTS)
  enable_testing()
  add_test(NAME "python: tilesim.run and tilesim.sweep return the CLI's JSON"
           COMMAND ${Python_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_tilesim.py
                   $<TARGET_FILE_DIR:tilesim_python> $<TARGET_FILE:tilesim>)
endif()
