// Fuzz target: multipart/form-data encoding round trip. The input describes a form — boundary,
// text fields and file parts from memory or from a user byte_source (sized, unsized, short reads,
// or lying about its size), write buffer size — which livefour encodes, either with
// detail::multipart_encoder directly or through Beast's serializer (request<multipart_body>,
// chunked when a source is unsized, then de-framed by Beast's request_parser). The bytes are
// decoded by the RFC 2046 splitter of rfc2046_decoder.hpp, written for the fuzz targets and
// sharing nothing with livefour or with the emulator's parser, and must give back exactly the parts that went in.
//
// Forms that prepare() rejects must be rejected for a documented reason (include/livefour/
// multipart.hpp): a bad boundary or no parts (invalid_argument), an empty name or CR/LF/NUL in
// a name, value, filename or content type (invalid_field), in-memory bytes that contain the
// delimiter (invalid_argument). A valid form must be accepted. A lying source must make the
// writer fail with file_changed_size, never produce a wrong body.
#include "fuzz_support.hpp"
#include "rfc2046_decoder.hpp"

#include <livefour/detail/multipart_body.hpp>
#include <livefour/multipart.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace http = boost::beast::http;
using livefour::body_source;
using livefour::client_error;
using livefour::error_code;
using livefour::multipart_form;
using livefour::fuzz::require;

constexpr std::size_t max_parts = 8;
constexpr std::size_t max_total_body = 512 * 1024;  // keeps an iteration in the millisecond range

// ---------------------------------------------------------------------------------------------
// A user byte_source: in-memory bytes handed out in short reads, optionally lying about its size.

class test_source final : public livefour::byte_source {
public:
    test_source(std::string bytes, bool sized, int lie, std::uint32_t seed, std::uint32_t max_read)
        : bytes_(std::move(bytes)), sized_(sized), lie_(lie), rng_(seed), max_read_(max_read) {}

    std::optional<std::uint64_t> size() const override {
        if (!sized_) return std::nullopt;
        return static_cast<std::uint64_t>(static_cast<std::int64_t>(bytes_.size()) + lie_);
    }
    std::size_t read(std::span<char> out, error_code& ec) override {
        ec = {};
        std::size_t n = std::min(out.size(), bytes_.size() - pos_);
        if (max_read_ != 0 && n > 1) n = std::min<std::size_t>(n, rng_.between(1, max_read_));  // short read
        std::memcpy(out.data(), bytes_.data() + pos_, n);
        pos_ += n;
        return n;
    }
    void rewind(error_code& ec) override {
        ec = {};
        pos_ = 0;
    }

    const std::string& bytes() const noexcept { return bytes_; }
    bool lies() const noexcept { return sized_ && lie_ != 0; }

private:
    std::string bytes_;
    std::size_t pos_ = 0;
    bool sized_;
    int lie_;
    livefour::fuzz::xorshift rng_;
    std::uint32_t max_read_;  // 0: full reads
};

// ---------------------------------------------------------------------------------------------
// What the form holds, as the test knows it.

struct expected_part {
    std::string name;
    bool file = false;
    std::string filename;
    std::string content_type;
    std::string body;
    bool custom = false;  // bytes from a test_source (not checked for the delimiter by prepare())
};

bool has_crlf_nul(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) != s.npos; }

bool valid_boundary(std::string_view b) {
    static constexpr std::string_view extra = "'()+_,-./:=?";
    return !b.empty() && b.size() <= 70 && std::all_of(b.begin(), b.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               extra.find(c) != extra.npos;
    });
}

// The documented escaping of names and filenames: '"' is sent as %22, every other byte as is.
std::string wire_param(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"')
            out += "%22";
        else
            out += c;
    }
    return out;
}

// Every documented reason the form could be refused for, as error codes.
std::set<error_code> rejection_reasons(std::string_view boundary, const std::vector<expected_part>& parts) {
    std::set<error_code> why;
    if (!valid_boundary(boundary)) why.insert(client_error::invalid_argument);
    if (parts.empty()) why.insert(client_error::invalid_argument);
    const std::string delimiter = "--" + std::string(boundary);
    for (const auto& p : parts) {
        if (p.name.empty() || has_crlf_nul(p.name)) why.insert(client_error::invalid_field);
        if (!p.file && has_crlf_nul(p.body)) why.insert(client_error::invalid_field);
        if (p.file && (has_crlf_nul(p.filename) || has_crlf_nul(p.content_type)))
            why.insert(client_error::invalid_field);
        if (!p.custom && p.body.find(delimiter) != std::string::npos) why.insert(client_error::invalid_argument);
    }
    return why;
}

// The boundary parameter of a Content-Type value, quoted or not (RFC 2045 §5.1).
std::optional<std::string> boundary_of(std::string_view ct) {
    constexpr std::string_view prefix = "multipart/form-data; boundary=";
    if (ct.substr(0, prefix.size()) != prefix) return std::nullopt;
    ct.remove_prefix(prefix.size());
    if (ct.size() >= 2 && ct.front() == '"' && ct.back() == '"') return std::string(ct.substr(1, ct.size() - 2));
    if (ct.find_first_of("\"()<>@,;:\\/[]?= ") != ct.npos) return std::nullopt;  // would need quotes
    return std::string(ct);
}

void check_parts(const std::vector<livefour::fuzz::decoded_part>& got, const std::vector<expected_part>& want) {
    require(got.size() == want.size(), "decoded part count differs");
    for (std::size_t i = 0; i < want.size(); ++i) {
        const auto& g = got[i];
        const auto& w = want[i];
        require(g.disposition_type == "form-data", "disposition is not form-data");
        require(g.name && *g.name == wire_param(w.name), "part name differs");
        require(g.body == w.body, "part body differs");
        if (w.file) {
            require(g.filename && *g.filename == wire_param(w.filename), "filename differs");
            const std::string ct =
                w.content_type.empty() ? std::string(livefour::content_type_for(w.filename)) : w.content_type;
            require(g.content_type && *g.content_type == ct, "content type differs");
        } else {
            require(!g.filename && !g.content_type, "text field with a filename or a content type");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The two writers.

// multipart_encoder directly: checks the buffer discipline (capacity, every buffer but the last
// exactly full) on the way.
std::string encode_direct(const std::shared_ptr<multipart_form>& form, error_code& ec) {
    livefour::detail::multipart_encoder enc(form);
    enc.start(ec);
    if (ec) return {};
    const auto length = form->content_length();
    std::size_t cap = std::clamp<std::size_t>(form->write_buffer_size, 16 * 1024, 4 * 1024 * 1024);
    if (length && *length < cap) cap = static_cast<std::size_t>(*length);
    require(enc.buffer_capacity() == cap, "encoder buffer capacity is not the documented clamp");
    std::string out;
    bool short_seen = false;
    for (;;) {
        const auto bytes = enc.next(ec);
        if (ec) return {};
        if (bytes.empty()) break;
        require(!short_seen, "a buffer that is not the last one is not full");
        require(bytes.size() <= cap, "encoder produced more than its capacity");
        short_seen = bytes.size() < cap;
        out.append(bytes.data(), bytes.size());
    }
    require(enc.done(), "encoder stopped without the closing delimiter");
    error_code again;
    require(enc.next(again).empty() && !again, "encoder produced bytes after the end");
    return out;
}

// A SyncWriteStream that keeps the bytes Beast writes, in whatever pieces it writes them.
struct sink {
    std::string data;
    template <class Buffers>
    std::size_t write_some(const Buffers& bufs, error_code& ec) {
        ec = {};
        std::size_t n = 0;
        for (auto it = boost::asio::buffer_sequence_begin(bufs); it != boost::asio::buffer_sequence_end(bufs); ++it) {
            const boost::asio::const_buffer b = *it;
            data.append(static_cast<const char*>(b.data()), b.size());
            n += b.size();
        }
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& bufs) {
        error_code ec;
        return write_some(bufs, ec);
    }
};

// Through Beast: the request as the client sends it, read back by Beast's parser (which undoes
// the chunked framing). Returns the body; checks the framing headers.
std::string encode_beast(const std::shared_ptr<multipart_form>& form, bool force_chunked, std::uint32_t seed,
                         error_code& ec) {
    http::request<livefour::detail::multipart_body> req{http::verb::post, "/face/livedetectfour", 11};
    req.set(http::field::host, "fuzz.invalid");
    req.body() = form;
    livefour::detail::apply_payload_headers(req, force_chunked);
    const bool chunked = force_chunked || !form->content_length();
    require(req.chunked() == chunked, "apply_payload_headers chose the wrong framing");
    sink out;
    http::write(out, req, ec);
    if (ec) return {};

    livefour::fuzz::sliced_stream in(out.data, seed, 70000);
    boost::beast::flat_buffer buffer;
    http::request_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    error_code read_ec;
    http::read(in, buffer, parser, read_ec);
    require(!read_ec, "Beast cannot read back the request livefour wrote");
    require(in.remaining() == 0 && buffer.size() == 0, "bytes after the request");
    const auto& got = parser.get();
    require(got.chunked() == chunked, "Transfer-Encoding differs from the framing decision");
    if (!chunked)
        require(got[http::field::content_length] == std::to_string(*form->content_length()),
                "Content-Length differs from content_length()");
    const auto b = boundary_of(got[http::field::content_type]);
    require(b && *b == form->boundary(), "Content-Type does not carry the boundary");
    return got.body();
}

// ---------------------------------------------------------------------------------------------
// Reading the form from the input.

std::string fuzzed_string(FuzzedDataProvider& fdp, std::size_t max) {
    std::string s = fdp.ConsumeRandomLengthString(max);
    if (fdp.ConsumeBool()) {
        // Mostly-valid strings reach the encoder more often: strip what prepare() refuses.
        for (auto& c : s)
            if (c == '\r' || c == '\n' || c == '\0') c = '_';
    }
    return s;
}

std::string fuzzed_boundary(FuzzedDataProvider& fdp) {
    static constexpr std::string_view bchars =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?";
    switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return {};                                 // livefour's random boundary
    case 1: return fdp.ConsumeRandomLengthString(80);  // anything, usually invalid
    default: {
        std::string b(fdp.ConsumeIntegralInRange<std::size_t>(1, 70), 'x');
        for (auto& c : b) c = bchars[fdp.ConsumeIntegralInRange<std::size_t>(0, bchars.size() - 1)];
        return b;
    }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider fdp(data, size);
    auto form = std::make_shared<multipart_form>(fuzzed_boundary(fdp));
    form->write_buffer_size = fdp.ConsumeIntegralInRange<std::size_t>(16 * 1024, 64 * 1024);
    const int writer = fdp.ConsumeIntegralInRange<int>(0, 2);  // direct, Beast, Beast forced chunked
    const bool twice = fdp.ConsumeBool();
    const std::uint32_t seed = fdp.ConsumeIntegral<std::uint32_t>();

    std::vector<expected_part> want;
    std::vector<std::shared_ptr<test_source>> sources;
    const auto nparts = fdp.ConsumeIntegralInRange<std::size_t>(0, max_parts);
    std::size_t total = 0;
    for (std::size_t i = 0; i < nparts && fdp.remaining_bytes() > 0; ++i) {
        expected_part p;
        p.name = fuzzed_string(fdp, 40);
        const int kind = fdp.ConsumeIntegralInRange<int>(0, 2);  // field, memory file, custom file
        std::string body = fuzzed_string(fdp, 300);
        // Repeating the bytes gives bodies larger than the write buffer from small inputs.
        const auto repeat = fdp.ConsumeIntegralInRange<std::size_t>(1, kind == 0 ? 4 : 600);
        if (!body.empty() && total + body.size() * repeat <= max_total_body) {
            std::string big;
            big.reserve(body.size() * repeat);
            for (std::size_t r = 0; r < repeat; ++r) big += body;
            body = std::move(big);
        }
        total += body.size();
        p.body = body;
        if (kind == 0) {
            form->add_field(p.name, body);
        } else {
            p.file = true;
            p.filename = fuzzed_string(fdp, 40);
            p.content_type = fdp.ConsumeBool() ? std::string{} : fuzzed_string(fdp, 30);
            if (kind == 1) {
                form->add_file(p.name, body_source::memory(body, p.filename, p.content_type));
            } else {
                p.custom = true;
                const bool sized = fdp.ConsumeBool();
                const int lie = fdp.ConsumeIntegralInRange<int>(0, 15) == 0 ? (fdp.ConsumeBool() ? 1 : -1) : 0;
                const auto max_read = fdp.ConsumeIntegralInRange<std::uint32_t>(0, 5000);
                auto src = std::make_shared<test_source>(body, sized, body.empty() && lie < 0 ? 0 : lie,
                                                         seed + static_cast<std::uint32_t>(i), max_read);
                sources.push_back(src);
                form->add_file(p.name, body_source::custom(src, p.filename, p.content_type));
            }
        }
        want.push_back(std::move(p));
    }

    const std::string boundary = form->boundary();
    const auto reasons = rejection_reasons(boundary, want);
    const error_code prep = form->prepare();
    if (prep) {
        livefour::fuzz::count("prepare rejected");
        require(reasons.count(prep) == 1, "prepare() rejected a form for an undocumented reason");
        require(!form->prepared() && !form->content_length(), "a rejected form looks prepared");
        require(!form->error_detail().empty(), "a rejection without error_detail()");
        return 0;
    }
    require(reasons.empty(), "prepare() accepted a form it must refuse");
    require(form->part_count() == want.size(), "part_count() differs");

    // A custom source carrying the delimiter is the caller's problem (documented): the bytes are
    // still produced, but no decoder can split them; check the writer, not the split.
    const bool ambiguous = std::any_of(want.begin(), want.end(), [&](const expected_part& p) {
        return p.custom && p.body.find("--" + boundary) != std::string::npos;
    });
    const bool lying = std::any_of(sources.begin(), sources.end(), [](const auto& s) { return s->lies(); });

    for (int round = 0; round < (twice ? 2 : 1); ++round) {
        if (round == 1) {
            // One prepare() arms one serialization; a second one without prepare() is refused.
            error_code ec;
            livefour::detail::multipart_encoder stale(form);
            stale.start(ec);
            require(ec == client_error::invalid_argument, "a form serialized twice without prepare()");
            require(!form->prepare(), "prepare() failed the second time");
        }
        error_code ec;
        const std::string body = writer == 0 ? encode_direct(form, ec) : encode_beast(form, writer == 2, seed, ec);
        if (lying) {
            livefour::fuzz::count("lying source caught");
            require(ec == client_error::file_changed_size, "a source that lies about its size was not caught");
            require(!form->error_detail().empty(), "file_changed_size without error_detail()");
            return 0;
        }
        require(!ec, "the writer failed on a prepared form with honest sources");
        if (const auto len = form->content_length()) require(body.size() == *len, "content_length() is not exact");
        if (ambiguous) {
            livefour::fuzz::count("custom bytes contain the boundary");
            continue;
        }
        const auto parts = livefour::fuzz::decode_multipart(body, boundary);
        require(parts.has_value(), "the encoded body is not a valid multipart body");
        check_parts(*parts, want);
        livefour::fuzz::count(writer == 0   ? "round trip (encoder)"
                              : writer == 1 ? "round trip (Beast)"
                                            : "round trip (Beast, chunked)");
        if (body.size() > form->write_buffer_size) livefour::fuzz::count("round trip over several buffers");
    }
    return 0;
}
