// Fuzz target: the emulator's request side, fed by a hostile client. Arbitrary bytes are read as
// HTTP/1.1 requests (pipelined, up to a few per input) the way tools/emulator/session.hpp reads
// them — Beast's request_parser<buffer_body>, header limit 8 KiB (options::max_header_bytes), no
// parser body limit, the body pulled through a fixed chunk buffer, chunked framing decoded by
// Beast — and each piece goes where the session sends it: the Authorization value to
// verify_signature, a multipart body to multipart_stream_parser (in the slices the chunk buffer
// yields), a livegetfour body and a POST /_emulator/faults body to the service.
//
// Invariants besides "no crash, no UB, no leak, bounded allocation" (libFuzzer's -malloc_limit_mb):
//   * bytes held unparsed in the connection buffer never exceed the header limit plus one read
//     (a chunk-size line, its extensions or trailers must not grow the buffer without limit);
//   * buffer_body in small pieces yields the same body as string_body in one piece;
//   * the multipart parser's outcome does not depend on how the body is sliced, its limits hold,
//     and a body the independent strict decoder (rfc2046_decoder.hpp) accepts is accepted with
//     the same parts (names, filenames, content types, sizes, SHA-256, heads);
//   * verify_signature answers only documented codes; a plaintext signed with the right key never
//     gets 14, a corrupted MAC never gets 0; a signature from livefour's own signer is accepted
//     exactly when its times are valid.
// Input layout: the bytes the client sends, then a 40-byte block of control values (slicing,
// signature mode, clocks, small multipart limits); see fuzz_support.hpp split_controls().
#include "fuzz_support.hpp"
#include "rfc2046_decoder.hpp"

#include "auth.hpp"
#include "multipart_stream.hpp"
#include "options.hpp"
#include "service.hpp"

#include <livefour/detail/crypto.hpp>
#include <livefour/signer.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = boost::beast::http;
namespace emu = livefour::emulator;
using livefour::fuzz::require;

// The emulator's defaults (tools/emulator/options.hpp, session.hpp).
constexpr std::uint32_t header_limit = 8192;
constexpr std::uint64_t max_body_bytes = 6291456;
constexpr std::uint64_t control_body_limit = 256 * 1024;
// The maximum of the connection's read buffer: the emulator's own (tools/emulator/options.hpp,
// used by session.hpp). Beyond it Beast fails the read with http::error::buffer_overflow instead
// of growing the buffer; the session then answers 400 and closes.
constexpr std::size_t connection_buffer_max = emu::connection_buffer_max(header_limit);
constexpr int max_requests = 8;            // pipelined requests handled per input
constexpr std::size_t control_bytes = 40;  // see split_controls()

constexpr std::string_view appid = "1250000000";
constexpr std::string_view secret_id = "AKIDfuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";
constexpr std::string_view other_appid = "1250000001";
constexpr std::string_view other_secret_id = "AKIDotherotherotherotherotherother";
// Both credentials share one key, so that "signed with the right key" is knowable without
// parsing the plaintext the way the code under test does.
constexpr std::string_view secret_key = "fuzz-secret-key-fuzz-secret-key";

emu::auth_config auth_config() {
    emu::auth_config c;
    c.credentials.push_back({std::string(appid), std::string(secret_id), std::string(secret_key)});
    c.credentials.push_back({std::string(other_appid), std::string(other_secret_id), std::string(secret_key)});
    return c;
}

struct controls {
    std::uint32_t seed = 0;
    std::uint32_t max_slice = 1;
    std::size_t chunk_room = 1;    // the session's buffer_body chunk (64 KiB there)
    int sig_mode = 0;              // 0 raw header, 1 header value signed as plaintext, 2 same with a bad MAC
    std::int64_t now = 0;          // UNIX time of the signature check
    emu::multipart_limits limits;  // for the slicing-independence check
    // livefour's signer against the emulator's verifier
    std::int64_t sign_now = 0, sign_validity = 1, check_at = 0;
    std::uint32_t sign_rand = 0;
};

// ---------------------------------------------------------------------------------------------
// Signatures.

void check_signature(std::string_view header, const controls& c, const emu::auth_config& config) {
    static constexpr int documented[] = {0, 4, 5, 6, 9, 10, 11, 12, 14};
    std::string value(header);
    if (c.sig_mode != 0) {
        // Sign the header value as if it were a plaintext: the fuzzer then explores the plaintext
        // parser behind a valid MAC, which raw bytes almost never reach.
        const auto mac = livefour::detail::hmac_sha1(secret_key, header);
        std::string raw(reinterpret_cast<const char*>(mac.data()), mac.size());
        if (c.sig_mode == 2) raw[c.seed % raw.size()] ^= static_cast<char>(1 + c.seed % 255);
        value = livefour::detail::base64_encode(raw + std::string(header));
    }
    const auto r = emu::verify_signature(value, config, c.now);
    static const char* names[] = {"signature: 0",  "signature: 4",  "signature: 5",  "signature: 6", "signature: 9",
                                  "signature: 10", "signature: 11", "signature: 12", "signature: 14"};
    if (const auto* it = std::find(std::begin(documented), std::end(documented), r.code); it != std::end(documented))
        livefour::fuzz::count(names[it - std::begin(documented)]);
    require(std::find(std::begin(documented), std::end(documented), r.code) != std::end(documented),
            "verify_signature returned an undocumented code");
    if (c.sig_mode == 1) require(r.code != 14, "a correctly signed plaintext failed the HMAC check");
    if (c.sig_mode == 2) require(r.code != 0, "a corrupted MAC was accepted");
    if (r.code == 0) require(r.appid == appid || r.appid == other_appid, "accepted an unknown appid");
}

void check_signer(const controls& c, const emu::auth_config& config) {
    livefour::credentials creds;
    creds.appid = std::string(appid);
    creds.secret_id = std::string(secret_id);
    creds.secret_key = livefour::secret_string(secret_key);
    const livefour::signer s(std::move(creds));
    const std::int64_t expiry = c.sign_now + c.sign_validity;
    const auto header = s.sign(c.sign_now, expiry, c.sign_rand);
    const auto r = emu::verify_signature(header, config, c.check_at);
    const bool valid_times = expiry > c.check_at && c.sign_validity <= emu::max_signature_validity_s;
    require(r.code == (valid_times ? 0 : 9), "livefour's signature and the emulator's check disagree");
}

// ---------------------------------------------------------------------------------------------
// Multipart bodies.

bool same_parts(const std::vector<emu::part_info>& a, const std::vector<emu::part_info>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || a[i].filename != b[i].filename || a[i].content_type != b[i].content_type ||
            a[i].size != b[i].size || a[i].sha256_hex != b[i].sha256_hex || a[i].head != b[i].head)
            return false;
    }
    return true;
}

// Reported bugs that make the outcome depend on slicing (regressions/README.md), recognised by
// the error of the side whose limit check saw only part of the bytes: the preamble limit is only
// checked while no delimiter has been seen in the bytes fed so far, and the part header limit is
// applied to a header block whose blank line has only partly arrived.
const char* known_slicing_bug(const emu::multipart_stream_parser& a, const emu::multipart_stream_parser& b) {
    const auto either = [&](std::string_view e) { return a.error() == e || b.error() == e; };
    if (either("no boundary found in the body")) return "multipart-preamble-limit";
    if (either("part headers too large")) return "multipart-header-limit";
    return nullptr;
}

void check_limits(const emu::multipart_stream_parser& p, const emu::multipart_limits& l) {
    require(p.parts().size() <= l.max_parts, "more parts than max_parts");
    for (const auto& part : p.parts()) {
        if (part.filename) {
            require(part.head.size() <= l.file_head_bytes, "file head over file_head_bytes");
        } else {
            require(part.size <= l.max_value_bytes, "text part over max_value_bytes accepted");
            require(part.complete(), "text part kept incompletely");
        }
        require(part.head.size() <= part.size, "head longer than the part");
        require(part.sha256_hex.size() == 64, "part without a SHA-256");
    }
    require(p.failed() == !p.error().empty(), "failed() and error() disagree");
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

// The streaming parser against the strict independent decoder, default limits.
void check_against_decoder(std::string_view body, std::string_view boundary) {
    const auto decoded = livefour::fuzz::decode_multipart(body, boundary);
    if (!decoded) return;
    const emu::multipart_limits l;
    bool over_limit = decoded->size() > l.max_parts;
    for (const auto& d : *decoded) {
        // Quoted-string escapes are where the two legitimately differ (the strict decoder takes
        // them verbatim); and the comparison needs a form-data part with a name.
        const auto has_backslash = [](const std::optional<std::string>& s) {
            return s && s->find('\\') != std::string::npos;
        };
        if (d.disposition_type != "form-data" || !d.name || has_backslash(d.name) || has_backslash(d.filename)) return;
        if (d.header_bytes > l.max_part_header_bytes || (!d.filename && d.body.size() > l.max_value_bytes))
            over_limit = true;
    }
    emu::multipart_stream_parser p(boundary, l);
    p.feed(body);
    const bool ok = p.finish();
    if (over_limit) {
        require(!ok, "a body over the parser's limits was accepted");
        return;
    }
    require(ok, "the emulator rejected a multipart body the strict decoder accepts");
    livefour::fuzz::count("multipart: agreed with the strict decoder");
    require(p.parts().size() == decoded->size(), "part count differs from the strict decoder");
    for (std::size_t i = 0; i < decoded->size(); ++i) {
        const auto& d = (*decoded)[i];
        const auto& e = p.parts()[i];
        require(e.name == *d.name, "part name differs from the strict decoder");
        require(e.filename == d.filename, "filename differs from the strict decoder");
        require(e.content_type.has_value() == d.content_type.has_value() &&
                    (!d.content_type || *e.content_type == trim(*d.content_type)),
                "content type differs from the strict decoder");
        require(e.size == d.body.size(), "part size differs from the strict decoder");
        require(e.sha256_hex == livefour::detail::to_hex(livefour::detail::sha256(d.body)),
                "part SHA-256 differs from the strict decoder");
        const std::size_t keep = d.filename ? l.file_head_bytes : l.max_value_bytes;
        require(e.head == d.body.substr(0, keep), "part head differs from the strict decoder");
    }
}

// ---------------------------------------------------------------------------------------------
// One connection.

class connection {
public:
    connection(std::string_view wire, const controls& c)
        : c_(c), stream_(wire, c.seed, c.max_slice), buffer_(connection_buffer_max), chunk_(c.chunk_room),
          svc_(emu::service_config{.auth = auth_config()}), auth_(auth_config()) {
        stream_.on_read([this](std::size_t n) { check_buffer(n); });
    }

    void run() {
        for (int i = 0; i < max_requests; ++i)
            if (!one_request()) return;
    }

private:
    using parser_type = http::request_parser<http::buffer_body>;

    // Called before every read is committed: what the parser left unconsumed is part of a header,
    // a chunk-size line or trailer fields, and must stay within the header limit (plus the read).
    void check_buffer(std::size_t n) {
        const std::size_t bound = std::max<std::size_t>(header_limit + c_.max_slice, connection_buffer_max);
        require(buffer_.size() + n <= bound, "the connection buffered more unparsed bytes than its maximum");
    }

    // session::read_body: the body through the fixed chunk buffer. False: the connection breaks.
    bool read_body(parser_type& p, std::string& whole, std::uint64_t max, emu::multipart_stream_parser* mp) {
        std::uint64_t total = 0;
        while (!p.is_done()) {
            auto& body = p.get().body();
            body.data = chunk_.data();
            body.size = chunk_.size();
            boost::beast::error_code ec;
            http::read_some(stream_, buffer_, p, ec);  // one transport read at a time, as the session
            if (ec == http::error::need_buffer) ec = {};
            if (ec) return false;
            const std::size_t got = chunk_.size() - body.size;
            total += got;
            if (max != 0 && total > max) return false;  // the session answers 23 and closes
            const std::string_view piece(chunk_.data(), got);
            if (mp) mp->feed(piece);
            whole.append(piece);
        }
        return true;
    }

    bool one_request() {
        if (stream_.remaining() == 0 && buffer_.size() == 0) return false;
        const std::size_t start_unread = stream_.remaining() + buffer_.size();
        parser_type parser;
        parser.header_limit(header_limit);
        parser.body_limit(boost::none);
        boost::beast::error_code ec;
        http::read_header(stream_, buffer_, parser, ec);
        if (ec) return false;  // the session answers 400/431 or just closes
        livefour::fuzz::count("request header parsed");

        auto& req = parser.get();
        check_signature(req[http::field::authorization], c_, auth_);
        const std::string_view target = req.target();
        const std::string path(target.substr(0, target.find('?')));
        const auto now_tp = std::chrono::steady_clock::time_point{} + std::chrono::seconds(c_.now);
        emu::signature_check authenticated{0, std::string(appid)};  // as an authenticated client could
        std::string body;
        bool ok = true;

        if (path.starts_with("/_emulator/")) {
            ok = read_body(parser, body, control_body_limit, nullptr);
            if (ok && path == "/_emulator/faults" && req.method() == http::verb::post) {
                (void)svc_.add_faults(body, now_tp);
                (void)svc_.faults_json();
            }
        } else if (const auto ep = emu::endpoint_for_path(path)) {
            if (const auto len = parser.content_length(); len && *len > max_body_bytes) return false;
            const auto fault = svc_.take_fault(*ep, now_tp);
            if (fault && fault->replaces_reply()) (void)svc_.fault_reply(*fault);
            if (*ep == emu::endpoint::livegetfour) {
                ok = read_body(parser, body, max_body_bytes, nullptr);
                if (ok) (void)svc_.livegetfour(authenticated, body);
            } else if (const auto boundary = emu::form_data_boundary(req[http::field::content_type])) {
                emu::multipart_stream_parser sliced(*boundary, c_.limits);
                ok = read_body(parser, body, max_body_bytes, &sliced);
                if (ok) {
                    const bool sliced_ok = sliced.finish();
                    check_limits(sliced, c_.limits);
                    emu::multipart_stream_parser whole(*boundary, c_.limits);
                    whole.feed(body);
                    const bool whole_ok = whole.finish();
                    const char* known = known_slicing_bug(whole, sliced);
                    if ((whole_ok != sliced_ok || whole.error() != sliced.error() ||
                         !same_parts(whole.parts(), sliced.parts())) &&
                        !(known && livefour::fuzz::tolerated(known))) {
                        std::fprintf(stderr, "whole: %s, %zu parts, error '%s'\nsliced: %s, %zu parts, error '%s'\n",
                                     whole_ok ? "ok" : "failed", whole.parts().size(), whole.error().c_str(),
                                     sliced_ok ? "ok" : "failed", sliced.parts().size(), sliced.error().c_str());
                        livefour::fuzz::violated("the multipart outcome depends on how the body is sliced");
                    }
                    check_against_decoder(body, *boundary);
                    livefour::fuzz::count(sliced_ok ? "multipart: accepted" : "multipart: rejected");
                    if (sliced_ok) (void)svc_.detect(*ep, authenticated, sliced.parts());
                }
            } else {
                ok = read_body(parser, body, max_body_bytes, nullptr);
            }
        } else {
            ok = read_body(parser, body, max_body_bytes, nullptr);
        }
        if (!ok) return false;
        livefour::fuzz::count(parser.chunked() ? "request complete (chunked)" : "request complete");
        check_dechunking(start_unread, body);
        return req.keep_alive();
    }

    // Beast's buffer_body in small pieces must agree with string_body over the same bytes.
    void check_dechunking(std::size_t start_unread, const std::string& body) {
        const std::size_t end_unread = stream_.remaining() + buffer_.size();
        const std::string_view all = stream_.original();
        const std::string_view message = all.substr(all.size() - start_unread, start_unread - end_unread);
        http::request_parser<http::string_body> p;
        p.header_limit(header_limit);
        p.body_limit(boost::none);
        p.eager(true);
        boost::beast::error_code ec;
        const std::size_t used = p.put(boost::asio::buffer(message.data(), message.size()), ec);
        require(!ec && p.is_done() && used == message.size(), "string_body cannot parse what buffer_body parsed");
        require(p.get().body() == body, "buffer_body and string_body decode different bodies");
    }

    controls c_;
    livefour::fuzz::sliced_stream stream_;
    boost::beast::flat_buffer buffer_;
    std::vector<char> chunk_;
    emu::service svc_;
    emu::auth_config auth_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = livefour::fuzz::split_controls(data, size, control_bytes);
    FuzzedDataProvider fdp(reinterpret_cast<const std::uint8_t*>(in.controls.data()), in.controls.size());
    controls c;
    c.seed = fdp.ConsumeIntegral<std::uint32_t>();
    c.max_slice = fdp.ConsumeIntegralInRange<std::uint32_t>(1, 4096);
    c.chunk_room = fdp.ConsumeIntegralInRange<std::size_t>(1, 65536);
    c.sig_mode = fdp.ConsumeIntegralInRange<int>(0, 2);
    c.now = fdp.ConsumeIntegralInRange<std::int64_t>(0, 4'000'000'000);
    if (fdp.ConsumeBool()) {  // small limits that small inputs can cross
        c.limits.max_part_header_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 512);
        c.limits.max_parts = fdp.ConsumeIntegralInRange<std::size_t>(0, 8);
        c.limits.max_value_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 512);
        c.limits.file_head_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 64);
        c.limits.max_preamble_bytes = fdp.ConsumeIntegralInRange<std::size_t>(0, 512);
    }
    c.sign_now = fdp.ConsumeIntegralInRange<std::int64_t>(0, 4'000'000'000);
    c.sign_validity = fdp.ConsumeIntegralInRange<std::int64_t>(1, emu::max_signature_validity_s + 10);
    c.check_at = c.sign_now + fdp.ConsumeIntegralInRange<std::int64_t>(-1000, emu::max_signature_validity_s + 10);
    c.sign_rand = fdp.ConsumeIntegral<std::uint32_t>();
    const std::string_view wire = in.bytes;

    const auto config = auth_config();
    check_signer(c, config);
    connection(wire, c).run();
    return 0;
}
