// The executor every connection runs on: a strand of the server's
// io_context, named by its concrete type rather than any_io_executor, so
// posting to it (an answer from the ledger's writer thread, a batch of
// notifications) and the work guard each Beast operation keeps are direct
// calls instead of type-erased copies and `prefer` lookups.
//
// SessionStream's rate policy is our own (unlimited) SessionRatePolicy, so
// that Beast's websocket stream tears the connection down with
// sbd::async_teardown (websocket_teardown.h) instead of Beast's own.
//
// Thread-safety: type names only. A strand runs one handler at a time, so
// whatever a session touches only from handlers on its strand needs no lock.
#ifndef SBD_TRANSPORT_SESSION_STRAND_H_
#define SBD_TRANSPORT_SESSION_STRAND_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>

#include "transport/websocket_teardown.h"

namespace sbd {

using SessionStrand = boost::asio::strand<boost::asio::io_context::executor_type>;
using SessionSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, SessionStrand>;
using SessionStream =
    boost::beast::basic_stream<boost::asio::ip::tcp, SessionStrand, SessionRatePolicy>;

}  // namespace sbd

#endif  // SBD_TRANSPORT_SESSION_STRAND_H_
