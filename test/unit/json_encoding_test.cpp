// The JSON body with base64 sources (src/json_encoding.cpp): every size around the 3-byte groups
// and the buffer boundaries, every kind of source, byte for byte against an independent encoding
// (detail::base64_encode and Boost.JSON), the exact length known before the first byte, and the
// refusals of prepare().
#include <doctest/doctest.h>

#include "../../src/encoding.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/json/parse.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using livefour::client_error;
using livefour::error_code;
using livefour::detail::json_member;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

/// Every byte of one pass; fails the test on an error.
std::string drain(livefour::detail::body_encoding& body, bool thread_buffer = false) {
    body.use_thread_buffer(thread_buffer);
    error_code ec;
    body.start(ec);
    REQUIRE_FALSE(ec);
    std::string out;
    while (!body.done()) {
        const auto b = body.next(ec);
        REQUIRE_MESSAGE(!ec, body.error_detail());
        if (b.empty()) break;
        out.append(b.data(), b.size());
    }
    return out;
}

/// A sized user source that hands out at most `chunk` bytes per read (short reads).
struct chunky_source : livefour::byte_source {
    std::string data;
    std::size_t chunk;
    std::size_t pos = 0;
    chunky_source(std::string d, std::size_t c) : data(std::move(d)), chunk(c) {}
    std::optional<std::uint64_t> size() const override { return data.size(); }
    std::size_t read(std::span<char> out, error_code&) override {
        const auto n = std::min({out.size(), chunk, data.size() - pos});
        std::copy_n(data.data() + pos, n, out.data());
        pos += n;
        return n;
    }
    void rewind(error_code&) override { pos = 0; }
};

struct temp_file {
    std::filesystem::path path;
    explicit temp_file(const std::string& bytes, const std::string& name = "json-encoding-test.bin")
        : path(std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name)) {
        std::ofstream(path, std::ios::binary) << bytes;
    }
    ~temp_file() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("json body: base64 of every source size and kind, across buffer boundaries, byte for byte") {
    int checked = 0;
    for (const std::size_t size :
         {1, 2, 3, 4, 5, 6, 7, 100, 12'287, 12'288, 12'289, 16'383, 16'384, 16'385, 65'537, 300'001}) {
        const auto video = random_bytes(size, static_cast<unsigned>(size));
        const auto photo = random_bytes(size / 3 + 1, static_cast<unsigned>(size) + 1);
        temp_file file(video);
        for (int kind = 0; kind < 3; ++kind) {
            for (const bool thread_buffer : {false, true}) {
                CAPTURE(size);
                CAPTURE(kind);
                livefour::body_source src =
                    kind == 0   ? livefour::body_source::file(file.path)
                    : kind == 1 ? livefour::body_source::memory(video, "v.mp4")
                                : livefour::body_source::custom(std::make_shared<chunky_source>(video, 1000), "v.mp4");
                std::vector<json_member> m;
                m.push_back({"LivenessType", "LIP"});
                m.push_back({"ValidateData", "4392 \"quoted\" \\ \xe5\xbc\xa0"});
                json_member image;
                image.name = "ImageBase64";
                image.source = livefour::body_source::memory(photo, "p.jpg");
                m.push_back(std::move(image));
                json_member vid;
                vid.name = "VideoBase64";
                vid.source = std::move(src);
                m.push_back(std::move(vid));
                auto body = livefour::detail::make_json_base64_encoding(std::move(m), 16 * 1024);
                REQUIRE_FALSE(body->prepare());
                const auto length = body->content_length();
                REQUIRE(length);
                const auto out = drain(*body, thread_buffer);
                CHECK(out.size() == *length);
                const auto v = boost::json::parse(out).as_object();
                CHECK(v.at("LivenessType").as_string() == "LIP");
                CHECK(v.at("ValidateData").as_string() == "4392 \"quoted\" \\ \xe5\xbc\xa0");
                CHECK(v.at("VideoBase64").as_string() == livefour::detail::base64_encode(video));
                CHECK(v.at("ImageBase64").as_string() == livefour::detail::base64_encode(photo));
                // A second pass (after prepare()) produces the same bytes.
                REQUIRE_FALSE(body->prepare());
                CHECK(drain(*body, !thread_buffer) == out);
                ++checked;
            }
        }
    }
    CHECK(checked == 96);
}

TEST_CASE("json body: prepare() refuses empty and oversized sources, and a file changed since the first pass") {
    SUBCASE("empty") {
        std::vector<json_member> m(1);
        m[0].name = "VideoBase64";
        m[0].source = livefour::body_source::memory(std::string(), "v.mp4");
        auto body = livefour::detail::make_json_base64_encoding(std::move(m), 16 * 1024);
        CHECK(body->prepare() == client_error::empty_source);
        CHECK(body->error_detail().find("VideoBase64") != std::string::npos);
    }
    SUBCASE("over its limit: 6,000,001 bytes are 8,000,004 characters of base64") {
        std::vector<json_member> m(1);
        m[0].name = "VideoBase64";
        m[0].source = livefour::body_source::memory(std::string(6'000'001, 'x'), "v.mp4");
        m[0].max_base64 = 8'000'000;
        m[0].too_large = client_error::video_too_large;
        auto body = livefour::detail::make_json_base64_encoding(std::move(m), 16 * 1024);
        CHECK(body->prepare() == client_error::video_too_large);
        // 6,000,000 bytes are exactly 8,000,000 characters: allowed.
        std::vector<json_member> ok(1);
        ok[0].name = "VideoBase64";
        ok[0].source = livefour::body_source::memory(std::string(6'000'000, 'x'), "v.mp4");
        ok[0].max_base64 = 8'000'000;
        auto fits = livefour::detail::make_json_base64_encoding(std::move(ok), 16 * 1024);
        CHECK_FALSE(fits->prepare());
    }
    SUBCASE("a file rewritten between the pass that hashes the body and the pass that sends it") {
        temp_file f(random_bytes(5000, 1));
        std::vector<json_member> m(1);
        m[0].name = "VideoBase64";
        m[0].source = livefour::body_source::file(f.path);
        auto body = livefour::detail::make_json_base64_encoding(std::move(m), 16 * 1024);
        REQUIRE_FALSE(body->prepare());
        (void)drain(*body);
        // Same size, new content: the inode's modification time tells.
        std::filesystem::last_write_time(f.path, std::filesystem::last_write_time(f.path) + std::chrono::seconds(5));
        CHECK(body->prepare() == client_error::file_changed_size);
        CHECK(body->error_detail().find("changed since it was first read") != std::string::npos);
    }
    SUBCASE("a file that grows while it is sent") {
        temp_file f(random_bytes(100'000, 2));
        std::vector<json_member> m(1);
        m[0].name = "VideoBase64";
        m[0].source = livefour::body_source::file(f.path);
        auto body = livefour::detail::make_json_base64_encoding(std::move(m), 16 * 1024);
        REQUIRE_FALSE(body->prepare());
        error_code ec;
        body->start(ec);
        REQUIRE_FALSE(ec);
        (void)body->next(ec);
        std::ofstream(f.path, std::ios::binary | std::ios::app) << "more";
        while (!ec && !body->done()) (void)body->next(ec);
        CHECK(ec == client_error::file_changed_size);
    }
}
