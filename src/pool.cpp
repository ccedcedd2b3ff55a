// The client's pool: basic_pool (pool.hpp) over pooled_connection, compiled once here.
#include "pool.hpp"

#include "pooled_connection.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace livefour::detail {

bool pooled_connection::alive() {
    // A server that closed an idle keep-alive connection has sent FIN (or RST): peek without
    // blocking. Anything readable on an idle HTTP/1.1 connection is also a reason to drop it.
    auto& sock = conn.lowest().socket();
    if (!sock.is_open()) return false;
    char byte;
    const ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

template class basic_pool<pooled_connection>;

}  // namespace livefour::detail
