// Shared helpers of the multipart tests (multipart_test.cpp, multipart_errors_test.cpp):
// a byte-collecting SyncWriteStream, Beast serialization of a form, direct BodyWriter driving,
// and the independent Python decoder (test/peers/multipart_decode.py).
#pragma once

#include <doctest/doctest.h>

#include <livefour/detail/crypto.hpp>
#include <livefour/detail/multipart_body.hpp>
#include <livefour/multipart.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace multipart_test {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using livefour::body_source;
using livefour::client_error;
using livefour::error_code;
using livefour::multipart_form;
using livefour::detail::multipart_body;

inline std::string sha256_hex(std::string_view data) {
    return livefour::detail::to_hex(livefour::detail::sha256(data));
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        std::string t = (fs::temp_directory_path() / "livefour-mp-XXXXXX").string();
        if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
        path = t;
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    fs::path write(const std::string& name, std::string_view data) const {
        std::ofstream(path / name, std::ios::binary).write(data.data(), std::streamsize(data.size()));
        return path / name;
    }
};

/// A SyncWriteStream that keeps everything written (or only counts it).
struct sink {
    std::string data;
    std::uint64_t count = 0;
    bool keep = true;
    template <class Buffers>
    std::size_t write_some(const Buffers& bufs, error_code& ec) {
        ec = {};
        std::size_t n = 0;
        for (auto it = boost::asio::buffer_sequence_begin(bufs); it != boost::asio::buffer_sequence_end(bufs); ++it) {
            boost::asio::const_buffer b = *it;
            if (keep) data.append(static_cast<const char*>(b.data()), b.size());
            n += b.size();
        }
        count += n;
        return n;
    }
    template <class Buffers>
    std::size_t write_some(const Buffers& bufs) {
        error_code ec;
        return write_some(bufs, ec);
    }
};

inline http::request<multipart_body> make_request(std::shared_ptr<multipart_form> form, bool chunked = false) {
    http::request<multipart_body> req{http::verb::post, "/face/livedetectfour", 11};
    req.set(http::field::host, "recognition.image.myqcloud.com");
    req.body() = std::move(form);
    livefour::detail::apply_payload_headers(req, chunked);
    return req;
}

/// Serializes through Beast's serializer; returns the whole request.
inline std::string serialize(std::shared_ptr<multipart_form> form, error_code& ec, bool chunked = false) {
    auto req = make_request(std::move(form), chunked);
    sink s;
    http::write(s, req, ec);
    return s.data;
}

inline std::string body_of(const std::string& request) { return request.substr(request.find("\r\n\r\n") + 4); }

/// Drives the BodyWriter directly; returns every buffer it produced.
inline std::vector<std::string> writer_buffers(std::shared_ptr<multipart_form> form, error_code& ec) {
    auto req = make_request(std::move(form));
    multipart_body::writer w(req.base(), req.body());
    std::vector<std::string> out;
    w.init(ec);
    if (ec) return out;
    while (auto b = w.get(ec)) out.emplace_back(static_cast<const char*>(b->first.data()), b->first.size());
    return out;
}

inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

/// Runs the Python decoder on a serialized request.
inline boost::json::value decode(const temp_dir& dir, const std::string& request) {
    const auto file = dir.write("request.bin", request);
    const std::string cmd = shell_quote(LIVEFOUR_TEST_PYTHON) + " " +
                            shell_quote(std::string(LIVEFOUR_TEST_PEERS_DIR) + "/multipart_decode.py") + " " +
                            shell_quote(file.string());
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed");
    std::string out;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    const int status = ::pclose(p);
    INFO("decoder output: " << out);
    REQUIRE(status == 0);
    return boost::json::parse(out);
}

inline std::string str(const boost::json::value& v) {
    return v.is_null() ? std::string("<null>") : std::string(v.as_string());
}

inline std::string random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

/// A byte_source over a string: optionally lies about its size, returns short reads, fails.
struct string_source : livefour::byte_source {
    std::string data;
    std::optional<std::uint64_t> declared;
    std::size_t max_read = SIZE_MAX;
    std::size_t pos = 0;
    int rewinds = 0;
    bool fail_read = false;
    string_source(std::string d, std::optional<std::uint64_t> decl) : data(std::move(d)), declared(decl) {}
    std::optional<std::uint64_t> size() const override { return declared; }
    std::size_t read(std::span<char> out, error_code& ec) override {
        if (fail_read) {
            ec = std::make_error_code(std::errc::io_error);
            return 0;
        }
        const auto n = std::min({out.size(), data.size() - pos, max_read});
        std::copy_n(data.data() + pos, n, out.data());
        pos += n;
        return n;
    }
    void rewind(error_code&) override {
        pos = 0;
        ++rewinds;
    }
};

}  // namespace multipart_test
