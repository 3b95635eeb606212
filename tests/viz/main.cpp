// Catch2 v2 entry point for the GUI's view-model and headless panel tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
