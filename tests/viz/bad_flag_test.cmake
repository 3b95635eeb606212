# Runs tilesim-gui with a bad flag and checks: non-zero exit, exactly one line on stderr starting
# "tilesim-gui:", and no screenshot file written. Inputs: GUI, ARGS (list), PNG.
execute_process(COMMAND ${GUI} ${ARGS} --screenshot ${PNG}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "tilesim-gui ${ARGS}: exited 0, expected an error")
endif()
string(STRIP "${err}" err_stripped)
string(FIND "${err_stripped}" "\n" newline)
if(NOT newline EQUAL -1 OR NOT err_stripped MATCHES "^tilesim-gui: ")
  message(FATAL_ERROR "tilesim-gui ${ARGS}: expected one 'tilesim-gui: ...' line on stderr, got:\n${err}")
endif()
if(EXISTS ${PNG})
  message(FATAL_ERROR "tilesim-gui ${ARGS}: left ${PNG} behind")
endif()
message(STATUS "ok: ${err_stripped}")
