# Renders one screenshot state and checks how tilesim-gui exited: status EXPECT_RC (0 unless given),
# the PNG written either way, and with a non-zero status every stderr line starting
# "tilesim-gui: error: " (a refused --set value is reported, not swallowed).
# Inputs: XVFB_RUN, GUI, ARGS (list), PNG, EXPECT_RC (optional), EXPECT_STDERR (optional regex).
if(NOT DEFINED EXPECT_RC)
  set(EXPECT_RC 0)
endif()
execute_process(COMMAND ${XVFB_RUN} -a -s "-screen 0 1920x1080x24" ${GUI} ${ARGS} --size 1600x900 --screenshot ${PNG}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "tilesim-gui ${ARGS}: exited ${rc}, expected ${EXPECT_RC}; stderr:\n${err}")
endif()
if(NOT EXISTS ${PNG})
  message(FATAL_ERROR "tilesim-gui ${ARGS}: wrote no ${PNG}")
endif()
if(NOT EXPECT_RC EQUAL 0)
  string(STRIP "${err}" err_stripped)
  # Messages may contain ';' ("unknown preset 'nope'; choose ..."): not a CMake list separator here.
  string(REPLACE ";" "," err_stripped "${err_stripped}")
  string(REPLACE "\n" ";" lines "${err_stripped}")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^tilesim-gui: error: ")
      message(FATAL_ERROR "tilesim-gui ${ARGS}: stderr line is not 'tilesim-gui: error: ...': ${line}")
    endif()
  endforeach()
  if(DEFINED EXPECT_STDERR AND NOT err_stripped MATCHES "${EXPECT_STDERR}")
    message(FATAL_ERROR "tilesim-gui ${ARGS}: stderr does not match '${EXPECT_STDERR}':\n${err}")
  endif()
endif()
message(STATUS "ok: exit ${rc}")
