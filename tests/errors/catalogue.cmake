# The hostile-input catalogue (tests/errors/catalogue.toml, docs/errors.md): one ctest entry per case,
# each running the real program; GUI cases (ids starting "gui-") need tilesim-gui and xvfb-run.
set(TILESIM_CATALOGUE ${CMAKE_CURRENT_LIST_DIR}/catalogue.toml)
add_executable(tilesim_catalogue ${CMAKE_CURRENT_LIST_DIR}/catalogue_runner.cpp)
target_link_libraries(tilesim_catalogue PRIVATE tomlplusplus::tomlplusplus)
tilesim_warnings(tilesim_catalogue)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TILESIM_CATALOGUE})

set(catalogue_paths --tilesim $<TARGET_FILE:tilesim> --source ${PROJECT_SOURCE_DIR})
set(have_gui OFF)
if(TARGET tilesim-gui AND XVFB_RUN)
  set(have_gui ON)
  list(APPEND catalogue_paths --gui $<TARGET_FILE:tilesim-gui> --xvfb ${XVFB_RUN})
endif()

file(STRINGS ${TILESIM_CATALOGUE} id_lines REGEX "^id = \"[^\"]+\"")
foreach(line IN LISTS id_lines)
  string(REGEX REPLACE "^id = \"([^\"]+)\".*" "\\1" id "${line}")
  if(id MATCHES "^gui-" AND NOT have_gui)
    continue()
  endif()
  add_test(NAME "errors: ${id}" COMMAND tilesim_catalogue ${TILESIM_CATALOGUE} --case ${id} ${catalogue_paths})
  set_tests_properties("errors: ${id}" PROPERTIES TIMEOUT 300)
  if(id MATCHES "^gui-")
    set_tests_properties("errors: ${id}" PROPERTIES RESOURCE_LOCK xvfb)
  endif()
endforeach()
add_test(NAME "errors: docs/errors.md lists every case of the catalogue"
         COMMAND tilesim_catalogue ${TILESIM_CATALOGUE} --check-doc ${PROJECT_SOURCE_DIR}/docs/errors.md)
