# OSC (label remote + control), included by tests/control/CMakeLists.txt so the web remote's
# tests/remote/CMakeLists.txt stays the api area's own.
dw_add_test(NAME test_osc
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/osc_server_test.cpp
  LIBS dw_osc dw_test_support
  LABELS "remote;control;concurrency")
# The real binary driven by `oscsend` (liblo-tools) and raw UDP (replies).
add_test(NAME control.osc_app
  COMMAND ${DW_TEST_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/osc_app_test.py $<TARGET_FILE:dreamwindow>)
set_tests_properties(control.osc_app PROPERTIES LABELS "remote;control" TIMEOUT 300)
