# OSC (label remote + control), included by tests/control/CMakeLists.txt so the web remote's
# tests/remote/CMakeLists.txt stays the api area's own.
dw_add_test(NAME test_osc
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/osc_server_test.cpp
  LIBS dw_osc dw_test_support
  LABELS "remote;control")
