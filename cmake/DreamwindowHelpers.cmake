# Shared helpers for dreamwindow's targets.

# Warnings for the project's own code (never for third-party glue).
function(dw_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers>)
endfunction()

# dw_add_test(NAME name SOURCES a.cpp ... LIBS lib ... LABELS unit ... [TIMEOUT s])
# One GoogleTest executable registered with CTest, test cases discovered after build.
function(dw_add_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} dw_test_support GTest::gtest_main GTest::gmock)
  dw_target_warnings(${ARG_NAME})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  # Tests are listed after each build (cmake/DwDiscoverTests.cmake) into a file that CTest
  # includes; until the executable is built its tests simply do not exist yet.
  string(REPLACE ";" "," labels "${ARG_LABELS}")
  set(env "DW_SOURCE_DIR=${PROJECT_SOURCE_DIR},DW_SHARED_MODELS=${PROJECT_SOURCE_DIR}/../shared/models")
  set(list_file "${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_tests.cmake")
  add_custom_command(TARGET ${ARG_NAME} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D EXE=$<TARGET_FILE:${ARG_NAME}> -D OUT=${list_file}
            -D LABELS=${labels} -D TIMEOUT=${ARG_TIMEOUT} -D ENV=${env}
            -D WORKDIR=${CMAKE_CURRENT_BINARY_DIR}
            -P ${PROJECT_SOURCE_DIR}/cmake/DwDiscoverTests.cmake
    BYPRODUCTS ${list_file}
    VERBATIM)
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${ARG_NAME}_include.cmake")
  file(WRITE "${include_file}" "if(EXISTS \"${list_file}\")\n  include(\"${list_file}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()
