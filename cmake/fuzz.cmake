# The fuzz target over scenario parsing, mask-file parsing and a bounded run (fuzz/fuzz_scenario.cpp).
#   - Always (with the tests): tilesim_fuzz_replay, the target as a plain program, and a ctest that
#     replays fuzz/regressions (inputs the fuzzer once crashed on) and the seed corpus fuzz/corpus.
#   - TILESIM_FUZZ=ON (clang only; preset "fuzz", scripts/fuzz.sh): tilesim_fuzz, linked with libFuzzer,
#     everything built with ASan and UBSan (the preset's flags) and toml++ compiled from its headers
#     with assertions that throw (fuzz/toml_assert.h), so its known bugs do not mask ours.
if(TILESIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "TILESIM_FUZZ=ON needs clang (libFuzzer): cmake --preset fuzz")
  endif()
  add_executable(tilesim_fuzz ${PROJECT_SOURCE_DIR}/fuzz/fuzz_scenario.cpp)
  target_compile_definitions(tilesim_fuzz PRIVATE TILESIM_FUZZ_TOML_ASSERT)
  target_link_libraries(tilesim_fuzz PRIVATE tilesim_scenarios)
  target_link_options(tilesim_fuzz PRIVATE -fsanitize=fuzzer)
  tilesim_warnings(tilesim_fuzz)
endif()

if(TILESIM_BUILD_TESTS AND NOT TILESIM_FUZZ)
  add_executable(tilesim_fuzz_replay ${PROJECT_SOURCE_DIR}/fuzz/fuzz_scenario.cpp ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
  target_link_libraries(tilesim_fuzz_replay PRIVATE tilesim_scenarios)
  tilesim_warnings(tilesim_fuzz_replay)
  add_test(NAME "fuzz: the regressions and the seed corpus replay clean"
           COMMAND tilesim_fuzz_replay ${PROJECT_SOURCE_DIR}/fuzz/regressions ${PROJECT_SOURCE_DIR}/fuzz/corpus)
endif()
