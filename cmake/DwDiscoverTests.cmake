# Run at build time (POST_BUILD) by dw_add_test: lists a GoogleTest executable's tests and writes a
# CTest file that registers each one with its labels, timeout and environment. CMake's own
# gtest_discover_tests flattens list-valued properties (several labels, several environment
# variables), which is why the project has its own small version.
# Inputs: EXE, OUT, LABELS (comma-separated), TIMEOUT, ENV (comma-separated NAME=VALUE), WORKDIR.
execute_process(COMMAND "${EXE}" --gtest_list_tests
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc TIMEOUT 60)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cannot list the tests of ${EXE} (exit ${rc})")
endif()
string(REPLACE "," ";" labels "${LABELS}")
string(REPLACE "," ";" env "${ENV}")
# Inside the quoted property values below, a plain ';' separates list items.
string(JOIN ";" labels_arg ${labels})
string(JOIN ";" env_arg ${env})
set(script "")
set(suite "")
string(REPLACE "\n" ";" lines "${listing}")
foreach(line IN LISTS lines)
  if(line MATCHES "^([^ #][^ ]*)\\.( *#.*)?$")
    set(suite "${CMAKE_MATCH_1}")
  elseif(line MATCHES "^  ([^ #]+)")
    set(name "${suite}.${CMAKE_MATCH_1}")
    if(name MATCHES "DISABLED_")
      continue()
    endif()
    string(APPEND script
      "add_test([==[${name}]==] [==[${EXE}]==] [==[--gtest_filter=${name}]==])\n"
      "set_tests_properties([==[${name}]==] PROPERTIES LABELS \"${labels_arg}\" TIMEOUT ${TIMEOUT}"
      " ENVIRONMENT \"${env_arg}\" WORKING_DIRECTORY [==[${WORKDIR}]==]"
      " SKIP_REGULAR_EXPRESSION [==[\\[  SKIPPED \\]]==])\n")
  endif()
endforeach()
file(WRITE "${OUT}" "${script}")
