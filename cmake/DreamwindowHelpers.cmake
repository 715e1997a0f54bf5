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
  gtest_discover_tests(${ARG_NAME}
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "DW_SOURCE_DIR=${PROJECT_SOURCE_DIR};DW_SHARED_MODELS=${PROJECT_SOURCE_DIR}/../shared/models"
               SKIP_RETURN_CODE 77
    DISCOVERY_TIMEOUT 60)
endfunction()
