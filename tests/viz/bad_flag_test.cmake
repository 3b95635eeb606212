# Runs tilesim-gui with a bad flag and checks: exit status 2, exactly one line on stderr starting
# "tilesim-gui: error: ", and no screenshot file written. Inputs: GUI, ARGS (list), PNG.
execute_process(COMMAND ${GUI} ${ARGS} --screenshot ${PNG}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2)
  message(FATAL_ERROR "tilesim-gui ${ARGS}: exited ${rc}, expected 2")
endif()
string(STRIP "${err}" err_stripped)
string(FIND "${err_stripped}" "\n" newline)
if(NOT newline EQUAL -1 OR NOT err_stripped MATCHES "^tilesim-gui: error: ")
  message(FATAL_ERROR "tilesim-gui ${ARGS}: expected one 'tilesim-gui: error: ...' line on stderr, got:\n${err}")
endif()
if(EXISTS ${PNG})
  message(FATAL_ERROR "tilesim-gui ${ARGS}: left ${PNG} behind")
endif()
message(STATUS "ok: ${err_stripped}")
