// livefour — a snapshot of a client's connection pool (client::stats()).
#pragma once

#include <cstddef>
#include <cstdint>

namespace livefour {

/// A snapshot of the client's connection pool.
struct pool_stats {
    std::size_t in_use = 0;         ///< connections currently carrying a request
    std::size_t idle = 0;           ///< open connections waiting for reuse
    std::size_t waiters = 0;        ///< operations waiting for a free connection
    std::uint64_t created = 0;      ///< connections opened successfully over the client's life
    std::uint64_t reused = 0;       ///< requests sent on a kept-alive connection
    std::uint64_t evicted = 0;      ///< idle connections closed for age or found dead
    std::uint64_t requests = 0;     ///< HTTP exchanges started: attempts plus keep-alive resends
    std::uint64_t tls_resumed = 0;  ///< new connections whose TLS handshake resumed a session
};

}  // namespace livefour
