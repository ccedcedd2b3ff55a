// livefour CLI — what went wrong and what was decided, in the CLI's language: flags instead of the
// library's option names, numbers in verdicts, and a hint only where its condition holds.
#pragma once

#include "config.hpp"

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/faceid/types.hpp>
#include <livefour/types.hpp>

#include <string>

namespace livefour::cli {

/// A failure as the CLI reports it (stderr lines, or the "error" member of --json).
struct error_info {
    std::string kind;      ///< "usage", "api" or "transport": what the exit status says
    std::string headline;  ///< the first line, in CLI terms
    std::string category;  ///< of the error code ("livefour.api", "system", ...; "usage")
    int value = 0;
    int http_status = 0;
    std::string server_message;  ///< the service's text, untrusted
    std::string server_code;     ///< faceid: `Response.Error.Code` as received
    std::string request_id;      ///< faceid: `Response.RequestId`, what Tencent's support asks for
    std::string detail;          ///< livefour's explanation, in CLI terms
    std::string hint;            ///< what to do, only when its condition holds
};

/// What the CLI knows about the operation besides ec and diagnostics.
struct failure_context {
    const settings& cfg;
    int reply_code = 0;            ///< legacy: the reply's `code` (0: no reply, or a success)
    bool billed = false;           ///< a detect call: not resent after a full send
    bool body_fully_sent = false;  ///< the last attempt's progress reached the body's length
    std::uint64_t body_bytes = 0;  ///< that length
};

/// The exit status of a failed operation: 3 when the service answered an error code (also after
/// the retries ran out: `code_answered`, the last reply carried one), 2 for input the library
/// refused, 4 otherwise. The one place this is decided.
int exit_for(const error_code& ec, bool code_answered);

error_info describe_failure(const error_code& ec, const diagnostics& diag, const failure_context& ctx);
error_info describe_usage(const std::string& message);

/// The library's option names in a text, replaced by the CLI's flags ("timeouts::stall" ->
/// "--stall-timeout"). The CLI test fails when a library name reaches the output.
std::string cli_terms(std::string text);

/// The verdict's line: "accepted (sim 87 >= threshold 70)", "not accepted: sim 55 < threshold 70".
/// `what_compared` names what a missing comparison was asked for ("--card was sent").
std::string verdict_text(const verdict& v, const detect_result& r, int threshold, const std::string& what_compared);

/// faceid: "accepted (sim 88.27 >= threshold 70)", "not accepted: sim 75.5 < threshold 80 (Result
/// Success)", "not accepted: <what the Result means> (Result FailedOperation.LipVoiceLow)".
std::string verdict_text(const faceid::verdict& v, const faceid::liveness_result& r, int threshold);

/// A similarity as a person (and JSON) writes it: the shortest text that reads back the same
/// number ("88.27", "70"), never an exponent for values in 0..100.
std::string number_text(double v);

/// decide()'s kind as the JSON spells it ("below_threshold").
const char* kind_name(verdict_kind k);

}  // namespace livefour::cli
