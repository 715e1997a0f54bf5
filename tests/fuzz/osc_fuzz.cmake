# The OSC message handling (included at the end of tests/fuzz/CMakeLists.txt; see its header for
# the pattern): instrumented harness in the fuzz preset, corpus replay in normal builds.
if(DW_BUILD_FUZZ)
  add_executable(osc_message_fuzz ${CMAKE_CURRENT_LIST_DIR}/osc_message_fuzz.cpp
                 ${PROJECT_SOURCE_DIR}/src/remote/osc_message.cpp)
  target_compile_options(osc_message_fuzz PRIVATE -fsanitize=fuzzer,address -fno-omit-frame-pointer)
  target_link_options(osc_message_fuzz PRIVATE -fsanitize=fuzzer,address)
  target_include_directories(osc_message_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(osc_message_fuzz PRIVATE dw_core PkgConfig::LIBLO)
  dw_target_warnings(osc_message_fuzz)
elseif(TARGET dw_osc)
  add_executable(osc_message_fuzz_replay ${CMAKE_CURRENT_LIST_DIR}/osc_message_fuzz.cpp
                 ${CMAKE_CURRENT_LIST_DIR}/replay_main.cpp)
  target_link_libraries(osc_message_fuzz_replay PRIVATE dw_osc)
  dw_target_warnings(osc_message_fuzz_replay)
  add_test(NAME fuzz.osc_message_corpus_replay
           COMMAND osc_message_fuzz_replay ${DW_FUZZ_CORPUS}/osc_message)
  set_tests_properties(fuzz.osc_message_corpus_replay PROPERTIES LABELS "fuzz;remote" TIMEOUT 60)
endif()
