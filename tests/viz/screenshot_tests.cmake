# Screenshot tests: tilesim-gui renders a state under xvfb-run and tilesim_png_check looks for each
# panel's colours where the layout puts them. Included from viz/CMakeLists.txt when xvfb-run exists.
#
# Regions are fractions of the 1600x900 window (viz/layout.h): controls x < 0.18; main view
# 0.18 < x < 0.71, y < 0.87 (two lanes: upper y < 0.45, lower y > 0.45; HBM x < 0.53, SRAM box
# x > 0.53); timeline below it; counters x > 0.71, y < 0.60; online softmax below them.
# Colours are viz/theme.h's: tensors Q 4C8DF6, K F5A623, V 3DBE7A, S E8554E, P B07CE8, O 2EC4C4,
# l/m/L C8B273; matrix background 1B1E23; compute / play head FFE14D; error box 5A1E1E, text FF6B6B;
# algorithms by their place in the definition table: 1st FF4FA3 (standard), 2nd 6FD3FF (flash),
# 3rd B4E35A (flash2).

set(SHOT_DIR ${CMAKE_CURRENT_BINARY_DIR}/screenshots)
# Fresh pictures every run: a stale PNG from an earlier build must not pass.
add_test(NAME "gui screenshots: clean" COMMAND ${CMAKE_COMMAND} -E rm -rf ${SHOT_DIR})
add_test(NAME "gui screenshots: mkdir" COMMAND ${CMAKE_COMMAND} -E make_directory ${SHOT_DIR})
set_tests_properties("gui screenshots: clean" PROPERTIES FIXTURES_SETUP gui_clean)
set_tests_properties("gui screenshots: mkdir" PROPERTIES FIXTURES_SETUP gui_dir FIXTURES_REQUIRED gui_clean)

function(tilesim_screenshot_test name)
  cmake_parse_arguments(T "" "EXPECT_RC;EXPECT_STDERR" "ARGS;CHECKS" ${ARGN})
  set(png ${SHOT_DIR}/${name}.png)
  if(NOT T_EXPECT_RC)
    set(T_EXPECT_RC 0)
  endif()
  add_test(NAME "gui screenshot: ${name}"
           COMMAND ${CMAKE_COMMAND} -DXVFB_RUN=${XVFB_RUN} -DGUI=$<TARGET_FILE:tilesim-gui> "-DARGS=${T_ARGS}"
                   -DPNG=${png} -DEXPECT_RC=${T_EXPECT_RC} "-DEXPECT_STDERR=${T_EXPECT_STDERR}"
                   -P ${CMAKE_CURRENT_LIST_DIR}/screenshot_run.cmake)
  # LeakSanitizer (asan preset) reports the X server's and Mesa's allocations, not ours. One X server
  # at a time: xvfb-run -a picks a free display number, and two started together can pick the same.
  set_tests_properties("gui screenshot: ${name}" PROPERTIES FIXTURES_SETUP shot_${name} FIXTURES_REQUIRED gui_dir
                       TIMEOUT 180 ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0" RESOURCE_LOCK xvfb)
  add_test(NAME "gui check: ${name}" COMMAND tilesim_png_check ${png} ${T_CHECKS})
  set_tests_properties("gui check: ${name}" PROPERTIES FIXTURES_REQUIRED shot_${name})
endfunction()

# Standard attention half-way: S has filled HBM in its lane, its race bar carries S; FlashAttention's
# lane below never gets S into HBM.
tilesim_screenshot_test(standard-mid
  ARGS classroom --algorithm standard --rival flash --progress 0.5
  CHECKS --expect "S tiles written to HBM (standard lane):0.18,0.08,0.53,0.44:E8554E/1B1E23:4000"
         --at-most "S tiles written to HBM (flash lane):0.18,0.50,0.53,0.84:E8554E/1B1E23:2500"
         --expect "Q, K tiles in HBM:0.18,0.08,0.53,0.44:4C8DF6/1B1E23:1500"
         --expect "S in standard's race bar:0.71,0.0,1.0,0.2:E8554E:200"
         --expect "S rows in SRAM (the softmax pass):0.53,0.05,0.71,0.45:E8554E:300"
         --expect "play head:0.18,0.87,0.71,1.0:FFE14D:40"
         --expect "algorithm colours:0.18,0.0,1.0,0.87:FF4FA3:100")

# FlashAttention a third of the way: its SRAM holds K_j, V_j, Q_i, O_i, S_ij and l_i, m_i; O has
# been written; the online softmax strip has K/V blocks folded in.
tilesim_screenshot_test(flash-mid
  ARGS classroom --algorithm flash --rival standard --progress 0.3
  CHECKS --expect "O written to HBM:0.18,0.08,0.53,0.44:2EC4C4/1B1E23:1000"
         --at-most "S never in HBM (flash lane):0.18,0.08,0.53,0.44:E8554E/1B1E23:2500"
         --expect "K buffer in SRAM:0.53,0.05,0.71,0.45:F5A623:150"
         --expect "V buffer in SRAM:0.53,0.05,0.71,0.45:3DBE7A:150"
         --expect "Q buffer in SRAM:0.53,0.05,0.71,0.45:4C8DF6:150"
         --expect "l, m buffers in SRAM:0.53,0.05,0.71,0.45:C8B273:20"
         --expect "online softmax K/V strip:0.71,0.60,1.0,1.0:F5A623:100"
         --expect "flash colour:0.18,0.0,0.71,0.1:6FD3FF:100")

# Forward then backward in one lane: three quarters through, FlashAttention is in its backward
# (Algorithm 4): S and P recomputed on chip (tinted and hatched in their "never written" boxes),
# dQ written, dO read, dK in SRAM; the scrub bar marks where the backward begins.
tilesim_screenshot_test(backward
  ARGS classroom --set pass=forward+backward --algorithm flash --rival standard --progress 0.75
  CHECKS --expect "S recomputed, tinted:0.18,0.05,0.53,0.44:E8554E/16181C:1500"
         --expect "recompute hatching:0.18,0.05,0.53,0.44:F4F4F4/E8554E:60"
         --expect "dQ written:0.18,0.05,0.53,0.44:9DC0FA/1B1E23:300"
         --expect "dO in HBM:0.18,0.05,0.53,0.44:8CDEDE/1B1E23:300"
         --expect "dK in SRAM:0.53,0.05,0.71,0.45:F9CE86:100"
         --expect "pass boundary on the scrub bar:0.18,0.87,0.71,1.0:FFFFFF:30")

# The plots: every algorithm's curve, the dashed theory curves and the current-N marker.
tilesim_screenshot_test(plots
  ARGS classroom --panel plots
  CHECKS --expect "standard curve:0.18,0.0,0.71,0.87:FF4FA3:300"
         --expect "flash curve:0.18,0.0,0.71,0.87:6FD3FF:300"
         --expect "flash2 curve:0.18,0.0,0.71,0.87:B4E35A:300"
         --expect "current-N marker:0.18,0.0,0.71,0.87:FFE14D:100"
         --expect "upper plot has data:0.18,0.05,0.71,0.45:FF4FA3:100"
         --expect "lower plot has data:0.18,0.48,0.71,0.87:6FD3FF:100")

# An invalid combination: explicit K/V blocks of 64 rows cannot fit a 384-byte SRAM. Each lane shows
# a red box with the reason and the fix instead of an animation.
tilesim_screenshot_test(invalid-block
  ARGS classroom --set block_cols=64 --algorithm flash
  CHECKS --expect "error box:0.18,0.0,0.71,0.87:5A1E1E:20000"
         --expect "error text:0.18,0.0,0.71,0.87:FF6B6B:200")

# An invalid value: N = 0 is refused by the key table; the message sits under the N field, is said
# on stderr, and the headless run exits 2 (after writing the picture).
tilesim_screenshot_test(invalid-value
  ARGS classroom --set seq_len=0
  EXPECT_RC 2 EXPECT_STDERR "--set seq_len=0: .*seq_len"
  CHECKS --expect "message under the N field:0.0,0.2,0.18,0.5:FF6B6B:40"
         --expect "views keep the last valid scenario:0.18,0.08,0.53,0.44:4C8DF6/1B1E23:1500")

# A value of a key with no field of its own (a hardware preset that does not exist) used to vanish:
# now it is listed in red at the top of the controls, said on stderr, and the run exits 2.
tilesim_screenshot_test(invalid-preset
  ARGS classroom --set hardware=nope
  EXPECT_RC 2 EXPECT_STDERR "--set hardware=nope: .*nope"
  CHECKS --expect "the refused value, in the controls:0.0,0.0,0.18,0.25:FF6B6B:40"
         --expect "views keep the classroom:0.18,0.08,0.53,0.44:4C8DF6/1B1E23:1500")

# A big problem, decimated trace and aggregated tiles: still a readable picture.
tilesim_screenshot_test(big-n
  ARGS gpt2-medium --set seq_len=8192 --progress 0.3
  CHECKS --expect "S filling HBM:0.18,0.08,0.53,0.44:E8554E/1B1E23:2000"
         --expect "race bars:0.71,0.0,1.0,0.2:E8554E:100")

# The timeline view: FlashAttention-2's sample SM under ping-pong, tensor-core bars (green) and SFU
# bars (vermilion) in the main view, the waves strip (teal) and the busy bars below.
tilesim_screenshot_test(timeline
  ARGS classroom --panel timeline --algorithm flash2 --set schedule=pingpong
  CHECKS --expect "tensor-core bars:0.18,0.05,0.71,0.87:3DBE7A:300"
         --expect "SFU bars:0.18,0.05,0.71,0.87:E8554E:100"
         --expect "copy-engine bars:0.18,0.05,0.71,0.87:56B4E9:100"
         --expect "full waves:0.18,0.05,0.71,0.87:2EC4C4:100")

# The roofline view: the roof (near white) and a marker per algorithm in its colour.
tilesim_screenshot_test(roofline
  ARGS gpt2-medium --set seq_len=256 --panel roofline
  CHECKS --expect "the roof:0.18,0.05,0.71,0.87:F4F4F4:300"
         --expect "standard marker:0.18,0.05,0.71,0.87:FF4FA3:80"
         --expect "flash marker:0.18,0.05,0.71,0.87:6FD3FF:80"
         --expect "flash2 marker:0.18,0.05,0.71,0.87:B4E35A:80")

# The threads view: FlashAttention-2's four blocks on the classroom machine (one SM, one block per
# SM) run in four waves, each its colour (threads_panel.cpp's palette); the block's warps split
# Q_i and S_ij into bands below.
tilesim_screenshot_test(threads
  ARGS classroom --algorithm flash2 --panel threads --progress 0.3
  CHECKS --expect "wave 1:0.18,0.1,0.5,0.35:8DD3C7:2000"
         --expect "wave 2:0.18,0.1,0.5,0.35:FFFFB3:2000"
         --expect "wave 3:0.18,0.1,0.5,0.35:BEBADA:2000"
         --expect "wave 4:0.18,0.1,0.5,0.35:FB8072:2000"
         --expect "warp bands in Q_i and S_ij:0.4,0.6,0.71,0.87:9FB4D9:1000"
         --expect "Q tiles beside the grid:0.45,0.1,0.71,0.45:4C8DF6/1B1E23:300")

# Bad flags: one line on stderr, a non-zero exit, and no PNG left behind.
foreach(bad "--frames;abc" "--frobnicate" "--set;seqlen=4" "--algorithm;fast" "--progress;2" "--frames" "a;b")
  string(REPLACE ";" " " label "${bad}")
  add_test(NAME "gui bad flag: ${label}"
           COMMAND ${CMAKE_COMMAND} -DGUI=$<TARGET_FILE:tilesim-gui> "-DARGS=${bad}" -DPNG=${SHOT_DIR}/bad.png
                   -P ${CMAKE_CURRENT_LIST_DIR}/bad_flag_test.cmake)
  set_tests_properties("gui bad flag: ${label}" PROPERTIES FIXTURES_REQUIRED gui_dir)
endforeach()
