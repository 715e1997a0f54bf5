# dw_osc (included by src/CMakeLists.txt): OSC control over UDP. liblo (Debian liblo-dev) decodes
# and encodes the messages; the socket is ours so it can be bound to one address (liblo 0.31 binds
# every interface). Depends on dw_core only (ParamEditor, ActionTable).
add_library(dw_osc STATIC
  ${CMAKE_CURRENT_LIST_DIR}/osc_message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/osc_server.cpp)
target_include_directories(dw_osc PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(dw_osc PUBLIC dw_core PkgConfig::LIBLO)
dw_target_warnings(dw_osc)
