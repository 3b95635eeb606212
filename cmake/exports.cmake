# Figures, trace exports and the `plot` subcommand (docs/exports.md).
#   tilesim_plot     plot/: a canvas of primitives, its SVG writer and software rasteriser (stb_truetype
#                    text, stb_image_write PNG); knows nothing about the model
#   tilesim_exports  the figures and trace exports built from the model (scenarios/plot_*.cpp,
#                    scenarios/trace_export.cpp)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(STB QUIET stb)
endif()
find_path(TILESIM_STB_INCLUDE stb_truetype.h HINTS ${STB_INCLUDE_DIRS} PATH_SUFFIXES stb)
find_library(TILESIM_STB_LIBRARY stb HINTS ${STB_LIBRARY_DIRS})
if(NOT TILESIM_STB_INCLUDE OR NOT TILESIM_STB_LIBRARY)
  message(FATAL_ERROR "stb (stb_truetype, stb_image_write) not found: apt-get install libstb-dev")
endif()
# The font the figures measure and draw text with, found now so the binary knows where to look first;
# plot/font.cpp also searches at run time and names the package when nothing is there.
find_path(TILESIM_FONT_DIR DejaVuSans.ttf
  PATHS /usr/share/fonts/truetype/dejavu /usr/share/fonts/TTF /usr/share/fonts/dejavu /usr/local/share/fonts)
if(NOT TILESIM_FONT_DIR)
  message(STATUS "DejaVuSans.ttf not found: PNG figures need fonts-dejavu-core (or TILESIM_FONT) at run time")
endif()

add_library(tilesim_plot STATIC plot/canvas.cpp plot/svg.cpp plot/font.cpp plot/raster.cpp plot/chart.cpp plot/gantt.cpp)
target_include_directories(tilesim_plot PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_include_directories(tilesim_plot SYSTEM PUBLIC ${TILESIM_STB_INCLUDE})
target_link_libraries(tilesim_plot PUBLIC ${TILESIM_STB_LIBRARY})
if(TILESIM_FONT_DIR)
  target_compile_definitions(tilesim_plot PRIVATE TILESIM_FONT_DIR="${TILESIM_FONT_DIR}")
endif()
tilesim_warnings(tilesim_plot)

add_library(tilesim_exports STATIC scenarios/plot_figures.cpp scenarios/plot_timeline.cpp scenarios/trace_export.cpp)
target_link_libraries(tilesim_exports PUBLIC tilesim_scenarios tilesim_plot)
tilesim_warnings(tilesim_exports)

target_sources(tilesim PRIVATE cli/plot_command.cpp)
target_link_libraries(tilesim PRIVATE tilesim_exports)
