// Internal: a TLS client stream over beast::tcp_stream that hands the socket large writes.
//
// Why not asio::ssl::stream: its engine talks to OpenSSL through a ~17 KiB BIO pair, so every
// async_write_some encrypts one 16 KiB record and writes it with one syscall (plus a timer re-arm
// and a reactor round trip). Where a syscall costs about as much as encrypting 16 KiB (page-table
// isolation, virtualisation) that overhead rivals the cryptography. Here OpenSSL writes records
// into a BIO of ours that appends to one growable buffer: one async_write_some encrypts everything
// it is offered (the body writer's whole buffer, 256 KiB by default) into consecutive records and
// the socket gets them in one large write.
//
// Memory: a write encrypts into the output buffer and hands the records to the socket with one
// non-blocking send before its initiation returns; whatever the kernel took is gone and the buffer
// is freed at once. Only what the kernel refuses waits in the buffer for an asynchronous write
// (the client also waits for the socket to be writable before it produces the next body buffer,
// so that is rare). An upload in flight therefore holds no ciphertext most of the time, and the
// plaintext buffer is the thread's (see encode_into_thread_buffer). Reads use a 17 KiB buffer, as
// asio's stream does, allocated while a response is read; shrink_buffers() releases both.
//
// Semantics follow asio::ssl::stream so that callers need no changes: error codes come from
// asio's SSL category (ERR_get_error values), a peer's close_notify ends reads with
// asio::error::eof and a TCP close without one with ssl::error::stream_truncated; operations honour
// terminal cancellation through their cancellation slot (forwarded to the tcp_stream operations,
// whose timer is the caller's stall/handshake timeout), and a read waiting for the peer honours
// partial and total cancellation too.
//
// One operation at a time: a read and a write must not be in flight together (HTTP/1.1 as the
// client uses it never needs that). A second operation fails with asio::error::in_progress.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace livefour::detail {

/// TLS (client side) over a beast::tcp_stream, with OpenSSL driven directly. Satisfies Asio's
/// AsyncReadStream and AsyncWriteStream. Not movable: OpenSSL's BIO points back at the object.
class tls_stream {
public:
    using next_layer_type = boost::beast::tcp_stream;
    using executor_type = next_layer_type::executor_type;
    using error_code = boost::system::error_code;

    /// Upper bound on plaintext bytes encrypted by one async_write_some (the body writer's buffer
    /// is at most 4 MiB; the rest is room for the header that precedes the first body buffer).
    static constexpr std::size_t max_write_plaintext = 4 * 1024 * 1024 + 64 * 1024;

    /// Creates the SSL object from `ctx` (client mode). Throws system_error if OpenSSL cannot.
    tls_stream(const executor_type& ex, boost::asio::ssl::context& ctx);
    tls_stream(const tls_stream&) = delete;
    tls_stream& operator=(const tls_stream&) = delete;
    ~tls_stream();

    executor_type get_executor() noexcept { return next_.get_executor(); }
    next_layer_type& next_layer() noexcept { return next_; }
    const next_layer_type& next_layer() const noexcept { return next_; }
    /// The OpenSSL connection: SNI, expected host, sessions and verify results are set/read here.
    SSL* native_handle() noexcept { return ssl_; }

    /// Frees the ciphertext buffer if it grew large, and the read buffer if it holds nothing (call
    /// before and after sending a request: an upload in flight holds only its ciphertext, and an
    /// idle pooled connection does not keep the size of the last body write).
    void shrink_buffers() noexcept;

    /// Client handshake. Completion signature: void(error_code).
    template <class Token>
    auto async_handshake(Token&& token) {
        return boost::asio::async_compose<Token, void(error_code)>(io_op<handshake_step>(*this, {}), token, next_);
    }

    /// Reads decrypted bytes into the first non-empty buffer of `buffers`.
    /// Completion signature: void(error_code, std::size_t).
    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        boost::asio::mutable_buffer first;
        const auto end = boost::asio::buffer_sequence_end(buffers);
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end && first.size() == 0; ++it)
            first = boost::asio::mutable_buffer(*it);
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(io_op<read_step>(*this, {first}), token,
                                                                                next_);
    }

    /// Encrypts all of `buffers` (up to max_write_plaintext) and writes the records with as few
    /// socket writes as the kernel allows; completes once they are all written.
    /// Completion signature: void(error_code, std::size_t plaintext_bytes).
    ///
    /// The plaintext is read only inside this call: every byte offered (up to the cap) is
    /// encrypted before it returns, or the operation fails. Callers may reuse the buffers at once
    /// (the body writer does, see encode_into_thread_buffer).
    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return boost::asio::async_compose<Token, void(error_code, std::size_t)>(
            io_op<write_step<ConstBufferSequence>>(*this, {buffers}), token, next_);
    }

private:
    friend struct tls_bio;

    /// What an OpenSSL step needs before the operation can go on (cf. asio's engine::want).
    enum class want {
        nothing,           ///< done: complete the operation
        output,            ///< write the pending records, then complete
        output_and_retry,  ///< write the pending records, then run the step again
        input_and_retry,   ///< read from the socket, then run the step again
    };

    // The OpenSSL side, in tls_stream.cpp. Each runs one SSL call and says what it needs next.
    want do_handshake(error_code& ec);
    want do_read(boost::asio::mutable_buffer b, error_code& ec, std::size_t& n);
    // One write step: write_begin(), write_add() per buffer while it returns true, write_end().
    // Small buffers (header fields, chunk framing, a small body) are gathered into one record;
    // large ones are encrypted straight from the caller's buffer, records back to back in the
    // output buffer.
    void write_begin() noexcept { wr_ = {}; }
    bool write_add(boost::asio::const_buffer b);
    want write_end(error_code& ec, std::size_t& n);
    bool flush_staged();
    /// Encrypts [p, p+len) into the output buffer: returns the bytes taken (all of them unless it
    /// fails — then wr_.ec).
    std::size_t encrypt(const void* p, std::size_t len);
    /// Maps a transport eof: a clean TLS close (close_notify received) stays eof, else truncation.
    error_code map_eof(const error_code& ec) const;
    /// What follows an SSL call's `result` (1 = success), given what it left in the output buffer.
    want next_step(int result, error_code& ec);
    /// The error of a failed SSL call, in asio's SSL category like asio::ssl::stream reports it.
    error_code failure(int ssl_error);

    boost::asio::const_buffer pending_output() const noexcept {
        return {out_.get() + out_begin_, out_end_ - out_begin_};
    }
    void consume_output(std::size_t n) noexcept;
    /// Writes pending output with one non-blocking send; frees the output buffer if all of it
    /// went. False (with `ec`) when the connection failed; the output is then discarded.
    bool write_now(error_code& ec);
    void discard_output() noexcept { out_begin_ = out_end_ = 0; }
    boost::asio::mutable_buffer input_space();
    void commit_input(std::size_t n) noexcept { in_end_ += n; }
    bool begin_op() noexcept { return !std::exchange(busy_, true); }
    void end_op() noexcept { busy_ = false; }

    struct handshake_step {
        want operator()(tls_stream& s, error_code& ec, std::size_t&) const { return s.do_handshake(ec); }
    };
    struct read_step {
        boost::asio::mutable_buffer buffer;
        want operator()(tls_stream& s, error_code& ec, std::size_t& n) const { return s.do_read(buffer, ec, n); }
    };
    template <class ConstBufferSequence>
    struct write_step {
        ConstBufferSequence buffers;
        want operator()(tls_stream& s, error_code& ec, std::size_t& n) const {
            // Every buffer of the sequence goes into the same output: Beast's header (one buffer
            // per field) and the first body buffer leave in one socket write.
            s.write_begin();
            const auto end = boost::asio::buffer_sequence_end(buffers);
            for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it)
                if (!s.write_add(boost::asio::const_buffer(*it))) break;
            return s.write_end(ec, n);
        }
    };

    /// One operation: runs its step, moves records between the socket and OpenSSL's BIO until the
    /// step is done. Intermediate socket operations get the operation's cancellation slot through
    /// async_compose, so a terminal cancellation aborts a blocked read or write.
    template <class Step>
    struct io_op {
        io_op(tls_stream& stream, Step st) : s(stream), step(std::move(st)) {}

        tls_stream& s;
        Step step;
        enum class io : unsigned char { start, writing, reading, posted } state = io::start;
        bool owns_stream = false;  // this operation passed the one-at-a-time check
        want pending = want::nothing;
        error_code result;
        std::size_t bytes = 0;

        template <class Self>
        void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
            switch (state) {
            case io::start:
                if (!s.begin_op()) {
                    result = boost::asio::error::in_progress;
                    return post_completion(self);
                }
                owns_stream = true;
                return run(self, true);
            case io::posted: return finish(self);
            case io::writing:
                if (ec) {
                    s.discard_output();  // the stream is broken: never send the rest of a record later
                    if (!result) result = ec;
                    return finish(self);
                }
                s.consume_output(n);
                if (s.pending_output().size() != 0) {
                    if (self.cancelled() == boost::asio::cancellation_type::none) return write_more(self);
                    s.discard_output();  // cancelled between two partial writes: abandon the rest
                    result = boost::asio::error::operation_aborted;
                    return finish(self);
                }
                if (pending == want::output || result) return finish(self);
                break;
            case io::reading:
                if (ec) {
                    result = ec == boost::asio::error::eof ? s.map_eof(ec) : ec;
                    return finish(self);
                }
                s.commit_input(n);
                break;
            }
            if (self.cancelled() != boost::asio::cancellation_type::none) {
                result = boost::asio::error::operation_aborted;
                return finish(self);
            }
            run(self, false);
        }

    private:
        template <class Self>
        void run(Self& self, bool first) {
            pending = step(s, result, bytes);
            switch (pending) {
            case want::output:
            case want::output_and_retry: return write_more(self);
            case want::input_and_retry:
                state = io::reading;
                // A read that waits for the peer can stop at any point without losing anything
                // (bytes already received stay buffered for the next read), so it honours every
                // cancellation type. Writes and the handshake change the TLS state: terminal only.
                if constexpr (std::is_same_v<Step, read_step>)
                    self.reset_cancellation_state(boost::asio::enable_total_cancellation());
                return s.next_.async_read_some(s.input_space(), std::move(self));
            case want::nothing:
                if (first) return post_completion(self);
                return finish(self);
            }
        }

        template <class Self>
        void write_more(Self& self) {
            if constexpr (!std::is_same_v<Step, handshake_step> && !std::is_same_v<Step, read_step>) {
                if (state == io::start) {
                    // Hand the records to the socket before this initiation returns: what the
                    // kernel takes now needs no buffer any more, and the buffer is released at
                    // once rather than when the completion runs (with many uploads per thread,
                    // completions queue up behind each other's encryption, each holding its
                    // buffer). Only what the kernel refuses waits for an asynchronous write.
                    error_code ec;
                    if (!s.write_now(ec)) {
                        result = ec;
                        return post_completion(self);
                    }
                    if (s.pending_output().size() == 0) return post_completion(self);
                }
            }
            state = io::writing;
            if constexpr (std::is_same_v<Step, read_step>)  // e.g. a key update reply: see above
                self.reset_cancellation_state(boost::asio::enable_terminal_cancellation());
            s.next_.async_write_some(s.pending_output(), std::move(self));
        }

        // Completing inside the initiating function is not allowed: go through the executor.
        template <class Self>
        void post_completion(Self& self) {
            state = io::posted;
            boost::asio::post(s.next_.get_executor(),
                              boost::asio::append(std::move(self), error_code{}, std::size_t{0}));
        }

        template <class Self>
        void finish(Self& self) {
            if (owns_stream) s.end_op();
            if (result) bytes = 0;
            if constexpr (std::is_same_v<Step, handshake_step>)
                self.complete(result);
            else
                self.complete(result, bytes);
        }
    };

    next_layer_type next_;
    SSL* ssl_ = nullptr;
    bool busy_ = false;
    bool out_of_memory_ = false;  // the BIO could not grow the output buffer
    struct write_state {
        std::size_t taken = 0;      // plaintext accepted so far (encrypted or staged)
        std::size_t encrypted = 0;  // plaintext turned into records
        std::size_t staged = 0;     // small buffers gathered, not yet encrypted
        bool stopped = false;
        error_code ec;
    } wr_;
    std::unique_ptr<char[]> out_;  // records waiting for the socket: [out_begin_, out_end_)
    std::size_t out_cap_ = 0, out_begin_ = 0, out_end_ = 0;
    std::unique_ptr<char[]> in_;  // received bytes OpenSSL has not consumed: [in_begin_, in_end_)
    std::size_t in_begin_ = 0, in_end_ = 0;
};

}  // namespace livefour::detail
