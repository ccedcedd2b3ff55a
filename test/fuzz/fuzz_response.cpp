// Fuzz target: the client's response path. Arbitrary bytes are read as an HTTP response by the
// client's own response_reader (src/response_reader.cpp, the reader detail::exchange runs) with the
// client's limits (header 16 KiB, body 4 MiB), then the body goes through
// parse_detect_response and parse_digits_response with the status. Invariants checked besides "no crash, no UB, no
// leak":
//   * a completed message never has a body over the parser's body limit, nor fields larger than
//     the header limit, and the bytes held unparsed in the read buffer never exceed the header
//     limit (plus one read) — chunk-size lines, chunk extensions and trailers included; the same
//     holds for small fuzzed limits, which small inputs can exceed;
//   * the parse result agrees with its error code (success ⇒ code 0 and the required field; an
//     API error ⇒ its value is the envelope's code; sim within 0..100);
//   * to_json() of a parsed result parses back to the same result (success and API errors).
// Input layout: the response bytes, then a 16-byte block of control values (slicing of the reads,
// small limits, the status used for the JSON-only pass); see fuzz_support.hpp split_controls().
#include "fuzz_support.hpp"

#include <livefour/diagnostics.hpp>
#include <livefour/error.hpp>
#include <livefour/types.hpp>

#include "../../src/response_reader.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace http = boost::beast::http;
using livefour::fuzz::require;

constexpr std::uint32_t client_header_limit = 16 * 1024;      // client_options::max_header_bytes
constexpr std::uint64_t client_body_limit = 4 * 1024 * 1024;  // client_options::max_response_bytes
constexpr std::size_t control_bytes = 16;                     // see split_controls()

// The most the client lets wait unparsed in its read buffer for a given header limit: the
// header limit plus one 64 KiB allowance for framing (response_reader's framing limit). Reads
// never exceed what is left of it, so the bound holds by construction; checked anyway.
std::size_t client_buffer_max(std::uint32_t header_limit) { return std::size_t{header_limit} + 64 * 1024; }

struct parsed_response {
    int status = 0;
    std::string body;
};

// The product's own reader (src/response_reader.cpp, which detail::exchange runs) fed by a
// stream that slices the input at random. nullopt when the exchange fails (a legitimate outcome).
std::optional<parsed_response> read_response(std::string_view wire, std::uint32_t seed, std::uint32_t max_slice,
                                             std::uint32_t header_limit, std::uint64_t body_limit) {
    using state = livefour::detail::response_reader::state;
    livefour::fuzz::sliced_stream stream(wire, seed, max_slice);
    boost::beast::flat_buffer buffer;
    livefour::detail::response_reader reader(buffer, header_limit, body_limit);
    const auto buffer_max = client_buffer_max(header_limit);
    // What the reader has not consumed is part of a header, a chunk-size line or trailer fields:
    // a reader that keeps more than that lets a server grow the client's buffer without limit.
    stream.on_read([&](std::size_t n) {
        require(buffer.size() + n <= buffer_max, "the client buffered more unparsed bytes than its maximum");
    });
    auto st = reader.parse();
    while (st == state::need_more) {
        const auto room = reader.prepare();
        // A zero-size read would spin: the reader must have failed instead.
        require(room.size() != 0, "the reader asked for a read with no room");
        boost::beast::error_code ec;
        const std::size_t n = stream.read_some(room, ec);
        st = n ? reader.commit(n) : reader.parse();
        if (ec && st == state::need_more) st = reader.fail_read(ec);
    }
    if (st == state::failed) {
        const auto& ec = reader.error();
        // A client_error, the end of the stream, or Beast's own parse error for a reply that is not
        // HTTP (a bad status line, a bad chunk): classify() calls that the server's fault.
        require(
            ec.category() == livefour::client_category() || ec == boost::asio::error::eof ||
                ec.category() == boost::beast::http::make_error_code(boost::beast::http::error::bad_version).category(),
            "the reader failed with a foreign error");
        return std::nullopt;
    }
    const auto& res = reader.message();
    require(res.body().size() <= body_limit, "response_parser accepted a body over body_limit");
    require(res.result_int() / 100 != 1, "an interim 1xx reply was taken for the answer");
    std::uint64_t field_bytes = res.reason().size();
    for (const auto& f : res) field_bytes += f.name_string().size() + f.value().size();
    // Trailer fields of a chunked body land here too: the header is bounded by the header limit,
    // a trailer (parsed whole) by the read buffer's maximum.
    require(field_bytes <= header_limit + buffer_max,
            "response_parser accepted header and trailer fields over header_limit plus the buffer maximum");
    return parsed_response{reader.status(), reader.take_body()};
}

bool same(const livefour::digits_result& a, const livefour::digits_result& b) {
    return a.code == b.code && a.message == b.message && a.validate_data == b.validate_data;
}

bool same(const livefour::detect_result& a, const livefour::detect_result& b) {
    return a.code == b.code && a.message == b.message && a.live_status == b.live_status && a.live_msg == b.live_msg &&
           a.compare_status == b.compare_status && a.compare_msg == b.compare_msg && a.sim == b.sim &&
           a.photo == b.photo;
}

// The error code must tell the truth about the result it came with.
template <class Result>
void check_outcome(const livefour::error_code& ec, const Result& r, const livefour::diagnostics& diag, int status) {
    require(diag.http_status() == status, "diagnostics lost the HTTP status");
    if (!ec) {
        require(r.code == 0, "success with a non-zero code");
        require(diag.client_message().empty(), "success with a client message");
    } else if (ec.category() == livefour::api_category()) {
        require(ec.value() == r.code && r.code != 0, "API error that is not the envelope's code");
    } else {
        require(ec.category() == livefour::client_category(), "error of a foreign category");
        require(ec == livefour::client_error::non_json_response || ec == livefour::client_error::malformed_response,
                "parse error other than non_json_response/malformed_response");
        require(!diag.client_message().empty(), "parse error without an explanation");
    }
    if (ec) {
        // Exercised for coverage and for crashes in the message tables; the values are free.
        (void)ec.message();
        (void)livefour::condition_of(ec);
        (void)livefour::is_retryable(ec);
        (void)livefour::is_fatal_for_connection(ec);
    }
}

void parse_body(std::string_view body, int status) {
    livefour::diagnostics diag;

    livefour::detect_result detect;
    const auto ec = livefour::parse_detect_response(body, status, detect, diag);
    livefour::fuzz::count(!ec                                               ? "detect: success"
                          : ec.category() == livefour::api_category()       ? "detect: API error"
                          : ec == livefour::client_error::non_json_response ? "detect: non-JSON"
                                                                            : "detect: malformed");
    check_outcome(ec, detect, diag, status);
    if (!ec) require(detect.live_status.has_value(), "detect success without live_status");
    if (detect.sim) require(*detect.sim >= 0 && *detect.sim <= 100, "sim outside 0..100");
    if (!ec || ec.category() == livefour::api_category()) {
        const auto v = livefour::decide(detect, {.threshold = status % 101, .require_comparison = (status & 1) != 0});
        require(v.accepted() == !v.reason, "verdict reason disagrees with accepted()");
        (void)detect.decode_photo();
        livefour::detect_result again;
        livefour::diagnostics d2;
        const auto ec2 = livefour::parse_detect_response(livefour::to_json(detect), status, again, d2);
        require(ec2 == ec || (ec2 && ec2.category() == livefour::api_category() && ec2 == ec),
                "to_json(detect) parses back to another outcome");
        require(same(detect, again), "to_json(detect) parses back to another result");
    }

    livefour::digits_result digits;
    const auto dec = livefour::parse_digits_response(body, status, digits, diag);
    check_outcome(dec, digits, diag, status);
    if (!dec || dec.category() == livefour::api_category()) {
        livefour::digits_result again;
        livefour::diagnostics d2;
        const auto ec2 = livefour::parse_digits_response(livefour::to_json(digits), status, again, d2);
        require(ec2 == dec, "to_json(digits) parses back to another outcome");
        require(same(digits, again), "to_json(digits) parses back to another result");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = livefour::fuzz::split_controls(data, size, control_bytes);
    FuzzedDataProvider fdp(reinterpret_cast<const std::uint8_t*>(in.controls.data()), in.controls.size());
    const auto seed = fdp.ConsumeIntegral<std::uint32_t>();
    const auto max_slice = fdp.ConsumeIntegralInRange<std::uint32_t>(1, 4096);
    const auto small_header = fdp.ConsumeIntegralInRange<std::uint32_t>(16, 1024);
    const auto small_body = fdp.ConsumeIntegralInRange<std::uint64_t>(0, 512);
    const auto raw_status = fdp.ConsumeIntegralInRange<int>(0, 599);
    const std::string_view wire = in.bytes;

    // The client's real limits.
    if (auto res = read_response(wire, seed, max_slice, client_header_limit, client_body_limit)) {
        livefour::fuzz::count(res->body.empty() ? "HTTP response parsed (empty body)" : "HTTP response parsed");
        parse_body(res->body, res->status);
    }
    // Limits small enough for a fuzzed input to cross them.
    (void)read_response(wire, seed ^ 0x5a5a5a5au, max_slice, small_header, small_body);
    // The JSON layer alone, whatever the framing: most inputs never make it through HTTP parsing.
    parse_body(wire, raw_status);
    return 0;
}
