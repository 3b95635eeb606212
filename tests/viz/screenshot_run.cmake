# Renders one screenshot state and checks how tilesim-gui exited: status EXPECT_RC (0 unless given),
# the PNG written either way, and with a non-zero status every stderr line starting
# "tilesim-gui: error: " (a refused --set value is reported, not swallowed).
# Inputs: XVFB_RUN, GUI, ARGS (list), PNG, EXPECT_RC (optional), EXPECT_STDERR (optional regex).
#
# Xvfb and Mesa sometimes print a line of their own, or xvfb-run fails to start its server, on a busy
# machine (now and then a fresh-clone run lost one error-case test). tilesim-gui's output is
# deterministic, so a failure is retried once on a fresh server and the test fails only when both
# attempts fail; each attempt's failure is printed, so a stray line is on record.
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()

# Sets `problem` in the caller to "" when the attempt is good, else to what is wrong.
function(screenshot_attempt)
  file(REMOVE ${PNG})
  execute_process(COMMAND ${XVFB_RUN} -a -s "-screen 0 1920x1080x24" ${GUI} ${ARGS} --size 1600x900
                          --screenshot ${PNG}
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  set(problem "" PARENT_SCOPE)
  if(NOT rc EQUAL EXPECT_RC)
    set(problem "exited ${rc}, expected ${EXPECT_RC}; stderr:\n${err}" PARENT_SCOPE)
    return()
  endif()
  if(NOT EXISTS ${PNG})
    set(problem "wrote no ${PNG}" PARENT_SCOPE)
    return()
  endif()
  if(NOT EXPECT_RC EQUAL 0)
    string(STRIP "${err}" err_stripped)
    # Messages may contain ';' ("unknown preset 'nope'; choose ..."): not a CMake list separator here.
    string(REPLACE ";" "," err_stripped "${err_stripped}")
    string(REPLACE "\n" ";" lines "${err_stripped}")
    foreach(line IN LISTS lines)
      if(NOT line MATCHES "^tilesim-gui: error: ")
        set(problem "stderr line is not 'tilesim-gui: error: ...': ${line}" PARENT_SCOPE)
        return()
      endif()
    endforeach()
    if(DEFINED EXPECT_STDERR AND NOT err_stripped MATCHES "${EXPECT_STDERR}")
      set(problem "stderr does not match '${EXPECT_STDERR}':\n${err}" PARENT_SCOPE)
      return()
    endif()
  endif()
  message(STATUS "ok: exit ${rc}")
endfunction()

screenshot_attempt()
if(NOT problem STREQUAL "")
  message(STATUS "tilesim-gui ${ARGS}: attempt 1: ${problem}\nretrying once on a fresh X server")
  screenshot_attempt()
  if(NOT problem STREQUAL "")
    message(FATAL_ERROR "tilesim-gui ${ARGS}: attempt 2: ${problem}")
  endif()
endif()
