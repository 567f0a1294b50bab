# WebSocket side tests (owned by the WebSocket side; included from
# tests/transport/CMakeLists.txt).

find_package(Boost 1.81 REQUIRED COMPONENTS json)

# The blocking WebSocket test client. Its own library so sbd_test_support
# does not have to list it; link it next to sbd_test_support.
add_library(sbd_websocket_test_client STATIC
  ${PROJECT_SOURCE_DIR}/tests/support/websocket_client.cc
)
target_include_directories(sbd_websocket_test_client PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(sbd_websocket_test_client
  PUBLIC Boost::headers Boost::json absl::status absl::statusor absl::strings Threads::Threads)

# The Notifier with recording sinks, and the WebSocket session in process (a
# real Ledger on an in-memory log, a real client over loopback).
sbd_add_test(transport_websocket_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/websocket_notifier_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/websocket_session_test.cc
  LIBS sbd_transport sbd_websocket_test_client)

# End to end against the real sbd-ledger binary (and sbd-replay, which must
# agree with what the server answered).
sbd_add_test(transport_websocket_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/websocket_e2e_test.cc
  LIBS sbd_test_support sbd_websocket_test_client)
target_compile_definitions(transport_websocket_e2e_test PRIVATE
  SBD_REPLAY_BINARY="$<TARGET_FILE:sbd-replay>")
add_dependencies(transport_websocket_e2e_test sbd-replay)

# POST /admin/transfer, the service role and --open-accounts-on-first-use,
# end to end (HTTP and WebSocket; the log read back through the store, and
# sbd-replay --notifications).
sbd_add_test(transport_admin_transfer_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/admin_transfer_e2e_test.cc
  LIBS sbd_test_support sbd_websocket_test_client sbd_store)
target_compile_definitions(transport_admin_transfer_e2e_test PRIVATE
  SBD_REPLAY_BINARY="$<TARGET_FILE:sbd-replay>")
add_dependencies(transport_admin_transfer_e2e_test sbd-replay)
sbd_add_test(transport_first_use_e2e_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/first_use_e2e_test.cc
  LIBS sbd_test_support sbd_websocket_test_client sbd_store)
