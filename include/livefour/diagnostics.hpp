// livefour — what went wrong, beyond the error_code.
//
// As in Boost.MySQL, text that came from the server is kept apart from livefour's own text: the
// server's message is untrusted input (it may be long, odd or crafted) and must not be mistaken for
// a diagnosis, nor pasted into places that trust it.
#pragma once

#include <livefour/error.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace livefour {

/// Details of an operation: the last exchange's HTTP status, the server's `message`, livefour's
/// explanation, and the attempts the retry loop made.
class diagnostics {
public:
    /// One retry: the error that caused it and the backoff before the next attempt.
    struct retry_record {
        error_code error;
        std::chrono::milliseconds delay{0};
    };

    /// One exchange the operation started, in order, whatever became of it.
    struct attempt_record {
        /// Why this exchange was started.
        enum class kind : unsigned char {
            first,             ///< the operation's first attempt
            retry,             ///< a retry after a failed attempt and its backoff
            keepalive_resend,  ///< at once, on a new connection: the reused one was found closed
                               ///< by the server before any reply byte (the keep-alive race)
        };
        int attempt = 1;                  ///< the retry loop's attempt number (a resend keeps it)
        kind why = kind::first;           ///< why it was started
        error_code error;                 ///< how it ended (success: clear)
        int http_status = 0;              ///< the reply's status, 0 without a reply
        bool connection_reused = false;   ///< it ran on a kept-alive connection from the pool
        bool request_fully_sent = false;  ///< every request byte went out
        bool response_started = false;    ///< a reply byte arrived
    };

    /// HTTP status of the response; 0 when no response was received.
    int http_status() const noexcept { return http_status_; }
    /// The envelope's "message" as sent by the server (untrusted). For a non-JSON body, a short,
    /// sanitised excerpt of that body.
    const std::string& server_message() const noexcept { return server_message_; }
    /// livefour's own explanation of the failure (empty on success).
    const std::string& client_message() const noexcept { return client_message_; }
    /// The request id the service gave the last reply (API 3.0 `Response.RequestId`), also on
    /// errors: what Tencent's support asks for. Empty when none.
    const std::string& request_id() const noexcept { return request_id_; }
    /// The service's own error code as a string (API 3.0 `Response.Error.Code`), kept verbatim
    /// also when livefour does not know it (faceid::errc::unknown). Empty when none.
    const std::string& server_code() const noexcept { return server_code_; }
    /// The last reply's body exactly as received (untrusted; at most max_response_bytes), empty
    /// when no reply arrived. For printing or logging the service's own words, e.g. fields this
    /// version of livefour does not parse.
    const std::string& reply_body() const noexcept { return reply_body_; }

    /// Attempts the operation made (exchanges started, transparent keep-alive resends excluded);
    /// 0 when it failed before sending anything.
    int attempts() const noexcept { return attempts_; }
    /// The retries, in order; empty when the first attempt settled the operation.
    const std::vector<retry_record>& retries() const noexcept { return retries_; }
    /// Every exchange started, keep-alive resends included, in order (billing audits: a resend
    /// reached the server too, though the server cannot have acted on it).
    const std::vector<attempt_record>& attempt_log() const noexcept { return log_; }

    /// Resets to the state of "no response, no attempt".
    void clear() noexcept {
        http_status_ = 0;
        server_message_.clear();
        client_message_.clear();
        reply_body_.clear();
        request_id_.clear();
        server_code_.clear();
        attempts_ = 0;
        retries_.clear();
        log_.clear();
    }
    /// Forgets the previous attempt's response (status and messages), keeping the attempt log.
    void clear_response() noexcept {
        http_status_ = 0;
        server_message_.clear();
        client_message_.clear();
        reply_body_.clear();
        request_id_.clear();
        server_code_.clear();
    }
    /// Counts one attempt.
    void count_attempt() noexcept { ++attempts_; }
    /// Logs one retry.
    void add_retry(error_code ec, std::chrono::milliseconds delay) { retries_.push_back({ec, delay}); }
    /// Logs one exchange.
    void add_attempt(const attempt_record& r) { log_.push_back(r); }
    /// Sets the HTTP status.
    void set_http_status(int status) { http_status_ = status; }
    /// Sets the server's message.
    void set_server_message(std::string msg) { server_message_ = std::move(msg); }
    /// Sets livefour's explanation.
    void set_client_message(std::string msg) { client_message_ = std::move(msg); }
    /// Sets the service's request id.
    void set_request_id(std::string id) { request_id_ = std::move(id); }
    /// Sets the service's error code string.
    void set_server_code(std::string code) { server_code_ = std::move(code); }
    /// Keeps the reply's body.
    void set_reply_body(std::string body) { reply_body_ = std::move(body); }
    /// Sets all three at once.
    void assign(int http_status, std::string server_msg, std::string client_msg) {
        http_status_ = http_status;
        server_message_ = std::move(server_msg);
        client_message_ = std::move(client_msg);
    }

private:
    int http_status_ = 0;
    std::string server_message_;
    std::string client_message_;
    std::string reply_body_;
    std::string request_id_;
    std::string server_code_;
    int attempts_ = 0;
    std::vector<retry_record> retries_;
    std::vector<attempt_record> log_;
};

}  // namespace livefour
