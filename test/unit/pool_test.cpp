// The pool (src/pool.hpp) step by step, with a fake connection and a manual clock: no socket, and
// the io_context advanced one handler at a time where an interleaving matters — the hand-over
// that races a waiter giving up, eviction by age and by the liveness probe, the pool-wait
// timeout, close() with waiters. Boost.MySQL tests its pool the same way (mock connection, mock
// timer).
#include <doctest/doctest.h>

#include "../../src/pool.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace asio = boost::asio;
using livefour::client_error;
using livefour::error_code;
using std::chrono::milliseconds;

namespace {

/// A clock the test moves by hand.
struct manual_clock {
    using rep = std::int64_t;
    using period = std::milli;
    using duration = std::chrono::duration<rep, period>;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = true;
    static inline time_point current{};
    static time_point now() noexcept { return current; }
    static void advance(duration d) noexcept { current += d; }
};

/// A connection that is alive until told otherwise, and remembers being closed.
struct fake_connection {
    explicit fake_connection(int i) : id(i) {}
    int id;
    bool is_alive = true;
    bool closed = false;
    int* closes = nullptr;  // counts closes after the connection is gone
    manual_clock::time_point last_used{};
    bool alive() const { return is_alive; }
    void close() {
        closed = true;
        if (closes) ++*closes;
    }
};

using pool_type = livefour::detail::basic_pool<fake_connection, manual_clock>;
using lease = pool_type::lease;

livefour::pool_options options(std::size_t max, milliseconds max_idle = milliseconds(30'000)) {
    livefour::pool_options o;
    o.max_connections = max;
    o.max_idle = max_idle;
    return o;
}

/// Runs what is ready (the context stops whenever it runs out of work: restart it first).
void poll(asio::io_context& ioc) {
    ioc.restart();
    ioc.poll();
}

/// Runs one ready handler.
void poll_one(asio::io_context& ioc) {
    ioc.restart();
    ioc.poll_one();
}

/// A waiter: acquire() spawned on `ioc` with its own cancellation signal.
struct waiter {
    asio::cancellation_signal signal;
    std::optional<lease> got;
    void start(asio::io_context& ioc, pool_type& p, milliseconds wait) {
        asio::co_spawn(ioc, p.acquire(wait),
                       asio::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e, lease l) {
                           REQUIRE_FALSE(e);
                           got = std::move(l);
                       }));
    }
};

/// The slot of the only connection of a pool of one, leased and opened (a fake with `id`).
std::unique_ptr<fake_connection> take_first(pool_type& p, int id) {
    lease l;
    REQUIRE(p.try_acquire(l));
    REQUIRE_FALSE(l.ec);
    REQUIRE(l.conn == nullptr);  // a free slot: the caller opens the connection
    return std::make_unique<fake_connection>(id);
}

}  // namespace

TEST_CASE("pool: a released connection is reused; a slot is granted up to max_connections") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(2));
    auto a = take_first(p, 1);
    lease second;
    REQUIRE(p.try_acquire(second));
    lease third;
    CHECK_FALSE(p.try_acquire(third));  // both slots taken: the caller must wait
    p.release(std::move(a), true);
    CHECK(p.stats().idle == 1);
    lease again;
    REQUIRE(p.try_acquire(again));
    REQUIRE(again.conn);
    CHECK(again.conn->id == 1);
    CHECK(p.stats().in_use == 2);
}

TEST_CASE("pool: idle connections are evicted by age and by the liveness probe") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(2, milliseconds(1000)));
    auto a = take_first(p, 1);
    auto b = take_first(p, 2);
    fake_connection* pa = a.get();
    fake_connection* pb = b.get();
    int closes = 0;
    pa->closes = pb->closes = &closes;
    p.release(std::move(a), true);
    manual_clock::advance(milliseconds(600));
    p.release(std::move(b), true);  // most recently used: taken first
    SUBCASE("age") {
        manual_clock::advance(milliseconds(500));  // a: 1100 ms idle, b: 500 ms
        lease l;
        REQUIRE(p.try_acquire(l));
        REQUIRE(l.conn);
        CHECK(l.conn->id == 2);  // young enough
        lease l2;
        REQUIRE(p.try_acquire(l2));
        CHECK(l2.conn == nullptr);  // `a` was too old: evicted, its slot granted afresh
        CHECK(closes == 1);
        CHECK(p.stats().evicted == 1);
    }
    SUBCASE("probe") {
        pb->is_alive = false;  // the server closed it while idle
        lease l;
        REQUIRE(p.try_acquire(l));
        REQUIRE(l.conn);
        CHECK(l.conn->id == 1);  // `b` found dead and evicted, `a` reused
        CHECK(closes == 1);
        CHECK(p.stats().evicted == 1);
        CHECK(p.stats().idle == 0);
    }
}

TEST_CASE("pool: waiters are served first in, first out") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(1));
    auto a = take_first(p, 1);
    waiter w1, w2;
    w1.start(ioc, p, milliseconds(0));
    w2.start(ioc, p, milliseconds(0));
    poll(ioc);
    CHECK(p.stats().waiters == 2);
    p.release(std::move(a), true);
    poll(ioc);
    REQUIRE(w1.got);
    REQUIRE(w1.got->conn);
    CHECK_FALSE(w2.got);
    p.release(std::move(w1.got->conn), false);  // not reusable: w2 gets the slot without it
    poll(ioc);
    REQUIRE(w2.got);
    CHECK_FALSE(w2.got->ec);
    CHECK(w2.got->conn == nullptr);
    CHECK(p.stats().in_use == 1);
}

TEST_CASE("pool: a hand-over that races a waiter giving up loses no slot") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(1));
    auto a = take_first(p, 7);
    waiter w;
    w.start(ioc, p, milliseconds(0));
    poll(ioc);
    REQUIRE(p.stats().waiters == 1);
    SUBCASE("the cancellation and the hand-over land in the same turn") {
        // Both are queued before the waiter runs: its receive gets the connection, and its
        // coroutine then finds itself cancelled.
        w.signal.emit(asio::cancellation_type::terminal);
        p.release(std::move(a), true);
    }
    SUBCASE("the cancellation cut the receive, then a releaser chose the waiter anyway") {
        w.signal.emit(asio::cancellation_type::terminal);
        poll_one(ioc);                  // the receive completes with an error; the waiter has not run
        p.release(std::move(a), true);  // it is still first in line: the connection goes to its channel
    }
    poll(ioc);
    REQUIRE(w.got);
    CHECK(w.got->ec == asio::error::operation_aborted);
    CHECK(w.got->conn == nullptr);
    // The connection went back: idle, and the next caller gets it.
    const auto st = p.stats();
    CHECK(st.idle == 1);
    CHECK(st.in_use == 0);
    CHECK(st.waiters == 0);
    lease l;
    REQUIRE(p.try_acquire(l));
    REQUIRE(l.conn);
    CHECK(l.conn->id == 7);
}

TEST_CASE("pool: a waiter that got its connection before a cancellation arrived keeps it") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(1));
    auto a = take_first(p, 7);
    waiter w;
    w.start(ioc, p, milliseconds(0));
    poll(ioc);
    p.release(std::move(a), true);
    poll(ioc);  // the waiter has completed
    w.signal.emit(asio::cancellation_type::terminal);
    poll(ioc);
    REQUIRE(w.got);
    CHECK_FALSE(w.got->ec);
    REQUIRE(w.got->conn);
    CHECK(w.got->conn->id == 7);
    CHECK(p.stats().in_use == 1);
}

TEST_CASE("pool: the wait for a connection is bounded (pool_wait_timeout)") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(1));
    auto a = take_first(p, 1);
    waiter w;
    w.start(ioc, p, milliseconds(5));
    ioc.run_for(std::chrono::seconds(5));  // the only pending work is the waiter's timer
    REQUIRE(w.got);
    CHECK(w.got->ec == client_error::pool_wait_timeout);
    CHECK(p.stats().waiters == 0);
    // The slot is still the first lease's: released, it is not handed to the waiter that left.
    p.release(std::move(a), true);
    CHECK(p.stats().idle == 1);
}

TEST_CASE("pool: close() fails the waiters, closes idle connections and refuses new leases") {
    asio::io_context ioc;
    pool_type p(ioc.get_executor(), options(2));
    auto a = take_first(p, 1);
    auto b = take_first(p, 2);
    int closes = 0;
    a->closes = b->closes = &closes;
    p.release(std::move(a), true);  // idle
    lease held;
    REQUIRE(p.try_acquire(held));  // takes `a` again
    REQUIRE(held.conn);
    waiter w;
    w.start(ioc, p, milliseconds(0));
    poll(ioc);
    REQUIRE(p.stats().waiters == 1);
    p.release(std::move(b), true);  // goes to the waiter, not idle
    poll(ioc);
    REQUIRE(w.got);
    waiter w2;
    w2.start(ioc, p, milliseconds(0));
    poll(ioc);
    p.close();
    poll(ioc);
    REQUIRE(w2.got);
    CHECK(w2.got->ec == client_error::pool_closed);
    lease after;
    REQUIRE(p.try_acquire(after));
    CHECK(after.ec == client_error::pool_closed);
    // Connections in use when the pool closed are closed when they come back.
    p.release(std::move(held.conn), true);
    p.release(std::move(w.got->conn), true);
    CHECK(closes == 2);
    CHECK(p.stats().idle == 0);
}
