// The OpenSSL side of tls_stream: a BIO of our own between OpenSSL and the socket buffers, and
// one function per SSL call that says what the operation needs next (see tls_stream.hpp).
#include "tls_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>

#include <cstring>
#include <new>

namespace livefour::detail {

namespace {

namespace asio = boost::asio;

/// Read size from the socket. Responses are small; one record (16 KiB + overhead) per read is
/// what asio::ssl::stream does too, and it keeps an idle pooled connection small.
constexpr std::size_t input_capacity = 17 * 1024;

/// Room reserved per TLS record before encrypting, so the output buffer does not grow (and copy)
/// in the middle of a write: header 5 + AEAD tag 16 + explicit nonce 8 (TLS 1.2) or content type
/// 1 (TLS 1.3), rounded up. Suites with larger expansion still work: the BIO grows the buffer.
constexpr std::size_t record_overhead = 64;
constexpr std::size_t record_payload = 16 * 1024;

/// Buffers up to this size are gathered into one record instead of one record each (Beast hands
/// the header over as one buffer per field). The area is per thread: a write step runs on one.
constexpr std::size_t stage_threshold = 4 * 1024;
thread_local char stage_area[16 * 1024];

}  // namespace

/// The BIO between OpenSSL and tls_stream's buffers. Writes append ciphertext to the output
/// buffer and never block — that is the point: SSL_write of 256 KiB yields all 16 records at
/// once. Reads hand out what the socket delivered and ask to be retried when it is used up.
struct tls_bio {
    static BIO_METHOD* method() {
        static BIO_METHOD* m = [] {
            BIO_METHOD* bm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "livefour tls_stream");
            if (bm) {
                BIO_meth_set_write_ex(bm, &write_ex);
                BIO_meth_set_read_ex(bm, &read_ex);
                BIO_meth_set_ctrl(bm, &ctrl);
                BIO_meth_set_create(bm, &create);
            }
            return bm;
        }();
        return m;
    }

    static tls_stream& stream(BIO* b) { return *static_cast<tls_stream*>(BIO_get_data(b)); }

    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }

    static int write_ex(BIO* b, const char* data, std::size_t len, std::size_t* written) {
        BIO_clear_retry_flags(b);
        auto& s = stream(b);
        if (!reserve(s, len)) return 0;  // OpenSSL reports a failed write; encrypt() names it
        std::memcpy(s.out_.get() + s.out_end_, data, len);
        s.out_end_ += len;
        *written = len;
        return 1;
    }

    static int read_ex(BIO* b, char* data, std::size_t len, std::size_t* read) {
        BIO_clear_retry_flags(b);
        auto& s = stream(b);
        const std::size_t avail = s.in_end_ - s.in_begin_;
        if (avail == 0) {
            BIO_set_retry_read(b);  // tls_stream reads the socket and runs the SSL call again
            return 0;
        }
        const std::size_t n = std::min(avail, len);
        std::memcpy(data, s.in_.get() + s.in_begin_, n);
        s.in_begin_ += n;
        if (s.in_begin_ == s.in_end_) s.in_begin_ = s.in_end_ = 0;
        *read = n;
        return 1;
    }

    static long ctrl(BIO* b, int cmd, long, void*) {
        auto& s = stream(b);
        switch (cmd) {
        case BIO_CTRL_FLUSH:  // OpenSSL flushes after each handshake flight; we send on return
            return 1;
        case BIO_CTRL_PENDING: return static_cast<long>(s.in_end_ - s.in_begin_);
        case BIO_CTRL_WPENDING: return static_cast<long>(s.out_end_ - s.out_begin_);
        default:  // no kTLS, no push/pop, no datagram controls
            return 0;
        }
    }

    /// Makes room for `more` bytes after the pending output; compacts or grows, never throws.
    static bool reserve(tls_stream& s, std::size_t more) {
        const std::size_t pending = s.out_end_ - s.out_begin_;
        if (s.out_cap_ - s.out_end_ >= more) return true;
        if (s.out_cap_ - pending >= more) {
            std::memmove(s.out_.get(), s.out_.get() + s.out_begin_, pending);
        } else {
            const std::size_t cap = std::max({pending + more, 2 * s.out_cap_, std::size_t{16 * 1024}});
            std::unique_ptr<char[]> grown(new (std::nothrow) char[cap]);
            if (!grown) {
                s.out_of_memory_ = true;
                return false;
            }
            if (pending) std::memcpy(grown.get(), s.out_.get() + s.out_begin_, pending);
            s.out_ = std::move(grown);
            s.out_cap_ = cap;
        }
        s.out_begin_ = 0;
        s.out_end_ = pending;
        return true;
    }
};

tls_stream::tls_stream(const executor_type& ex, boost::asio::ssl::context& ctx) : next_(ex) {
    BIO_METHOD* method = tls_bio::method();
    ssl_ = method ? SSL_new(ctx.native_handle()) : nullptr;
    BIO* bio = ssl_ ? BIO_new(method) : nullptr;
    if (!bio) {
        error_code ec(static_cast<int>(ERR_get_error()), asio::error::get_ssl_category());
        if (ssl_) SSL_free(ssl_);
        throw boost::system::system_error(ec, "tls_stream");
    }
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio);  // one BIO both ways: the SSL object owns one reference
    // No SSL_MODE_ENABLE_PARTIAL_WRITE: SSL_write must encrypt everything it is given (it would
    // stop after one record). Moving buffers: a retried write may come from a copied sequence.
    // Released buffers: an idle pooled connection does not keep OpenSSL's 2 x ~17 KiB.
    SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    // TLS 1.2 renegotiation could make a write wait for the peer in the middle of a request; an API
    // client has no use for it (and it has a history of attacks). TLS 1.3 has none.
    SSL_set_options(ssl_, SSL_OP_NO_RENEGOTIATION);
    SSL_set_connect_state(ssl_);
}

tls_stream::~tls_stream() { SSL_free(ssl_); }

void tls_stream::shrink_buffers() noexcept {
    if (out_begin_ == out_end_) {
        out_.reset();
        out_cap_ = out_begin_ = out_end_ = 0;
    }
    // The read buffer is only needed while a response arrives; an upload in flight (and an idle
    // pooled connection) should not hold 17 KiB of it. Reallocating per response is cheap.
    if (in_begin_ == in_end_) in_.reset();
}

void tls_stream::consume_output(std::size_t n) noexcept {
    out_begin_ += n;
    if (out_begin_ >= out_end_) out_begin_ = out_end_ = 0;
}

bool tls_stream::write_now(error_code& ec) {
    auto& sock = next_.socket();
    // Asio's own non-blocking mode is internal to its reactor; a synchronous send must ask for it.
    if (!sock.non_blocking()) {
        sock.non_blocking(true, ec);
        if (ec) return ec = {}, true;  // leave it to the asynchronous write
    }
    const std::size_t n = sock.write_some(pending_output(), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = {};
        return true;
    }
    if (ec) {
        discard_output();
        return false;
    }
    consume_output(n);
    if (out_begin_ == out_end_) shrink_buffers();
    return true;
}

boost::asio::mutable_buffer tls_stream::input_space() {
    // OpenSSL only asks for input once it consumed all there was (see tls_bio::read_ex).
    if (!in_) in_ = std::make_unique_for_overwrite<char[]>(input_capacity);
    return {in_.get() + in_end_, input_capacity - in_end_};
}

tls_stream::error_code tls_stream::map_eof(const error_code& ec) const {
    if (ec != asio::error::eof) return ec;
    // A peer that closes properly sends close_notify first; a bare FIN may have cut the stream.
    if (in_end_ != in_begin_ || (SSL_get_shutdown(ssl_) & SSL_RECEIVED_SHUTDOWN) == 0)
        return asio::ssl::error::stream_truncated;
    return ec;
}

tls_stream::error_code tls_stream::failure(int ssl_error) {
    // Same codes as asio::ssl::stream, so callers (and tests) classify failures as before.
    const unsigned long e = ERR_get_error();
    if (out_of_memory_) {
        out_of_memory_ = false;
        return std::make_error_code(std::errc::not_enough_memory);
    }
    switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN: return map_eof(asio::error::eof);
    case SSL_ERROR_SYSCALL:
        if (e == 0) return asio::ssl::error::unspecified_system_error;
        [[fallthrough]];
    default: return {static_cast<int>(e), asio::error::get_ssl_category()};
    }
}

tls_stream::want tls_stream::next_step(int result, error_code& ec) {
    const bool output = out_end_ != out_begin_;
    if (result == 1) return output ? want::output : want::nothing;
    const int err = SSL_get_error(ssl_, result);
    if (err == SSL_ERROR_WANT_READ) return output ? want::output_and_retry : want::input_and_retry;
    if (err == SSL_ERROR_WANT_WRITE) return want::output_and_retry;  // our BIO never asks; be safe
    ec = failure(err);
    return output ? want::output : want::nothing;  // send the alert, then report
}

tls_stream::want tls_stream::do_handshake(error_code& ec) {
    ERR_clear_error();
    return next_step(SSL_do_handshake(ssl_), ec);
}

tls_stream::want tls_stream::do_read(boost::asio::mutable_buffer b, error_code& ec, std::size_t& n) {
    n = 0;
    if (b.size() == 0) return want::nothing;
    ERR_clear_error();
    // SSL_read handles what is not application data by itself: TLS 1.3 session tickets and key
    // updates (any reply lands in the output buffer and is flushed before completing).
    const int r = SSL_read_ex(ssl_, b.data(), b.size(), &n);
    if (r != 1) n = 0;
    return next_step(r, ec);
}

bool tls_stream::write_add(boost::asio::const_buffer b) {
    if (wr_.stopped) return false;
    const std::size_t take = std::min(b.size(), max_write_plaintext - wr_.taken);
    if (take == 0) return b.size() == 0;  // skip empty buffers; stop at the cap
    if (take <= stage_threshold && wr_.staged + take <= sizeof(stage_area)) {
        std::memcpy(stage_area + wr_.staged, b.data(), take);
        wr_.staged += take;
        wr_.taken += take;
        return true;
    }
    if (!flush_staged()) return false;
    const std::size_t done = encrypt(b.data(), take);
    wr_.encrypted += done;
    wr_.taken += done;
    if (done < take) wr_.stopped = true;
    return !wr_.stopped;
}

bool tls_stream::flush_staged() {
    if (wr_.staged == 0) return true;
    const std::size_t staged = std::exchange(wr_.staged, 0);
    // All or nothing (no partial-write mode): a failure fails the whole write.
    if (encrypt(stage_area, staged) == staged) {
        wr_.encrypted += staged;
        return true;
    }
    wr_.taken -= staged;
    wr_.stopped = true;
    return false;
}

tls_stream::want tls_stream::write_end(error_code& ec, std::size_t& n) {
    if (!wr_.stopped) flush_staged();
    n = wr_.encrypted;
    ec = wr_.ec;
    const bool output = out_end_ != out_begin_;
    // All or nothing: either every offered byte became records, or the write fails. Never a
    // retry that reads the caller's buffers again.
    return output ? want::output : want::nothing;
}

std::size_t tls_stream::encrypt(const void* p, std::size_t len) {
    if (!tls_bio::reserve(*this, len + (len / record_payload + 1) * record_overhead)) {
        out_of_memory_ = false;
        wr_.ec = std::make_error_code(std::errc::not_enough_memory);
        return 0;
    }
    ERR_clear_error();
    std::size_t written = 0;
    const int r = SSL_write_ex(ssl_, p, len, &written);
    if (r == 1) return written;
    const int err = SSL_get_error(ssl_, r);
    // A write never waits for the peer: renegotiation is refused (constructor), TLS 1.3 handles
    // key updates and tickets on reads, and the BIO never blocks. Should OpenSSL still ask for
    // input, fail rather than retry later: a write's plaintext must not be read after its
    // initiation returns (the body writer may reuse the buffer, see encode_into_thread_buffer).
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        wr_.ec = asio::error::operation_not_supported;
    } else {
        wr_.ec = failure(err);
    }
    return 0;
}

}  // namespace livefour::detail
