// multipart/form-data failure modes (missing/unreadable/changing files, forbidden bytes in
// headers, lying sources) and memory independence from file size.
#include "multipart_support.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

using namespace multipart_test;

TEST_CASE("multipart: missing and unreadable files") {
    temp_dir dir;
    const auto plain = dir.write("plain.txt", "x");
    auto prep = [](const fs::path& p) {
        multipart_form f;
        f.add_file("video", body_source::file(p));
        return f.prepare();
    };
    CHECK(prep(dir.path / "missing.mp4") == client_error::file_not_found);
    // Tests run as root, for whom chmod 000 changes nothing; a directory and a path through a
    // regular file are unreadable for everyone.
    CHECK(prep(dir.path) == client_error::file_unreadable);
    CHECK(prep(plain / "child.mp4") == client_error::file_unreadable);
    REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    CHECK(prep(dir.path / "fifo") == client_error::file_unreadable);  // and does not hang

    multipart_form f;
    f.add_file("video", body_source::file(dir.path / "missing.mp4"));
    CHECK(f.prepare() == client_error::file_not_found);
    CHECK(f.error_detail().find("missing.mp4") != std::string::npos);
    CHECK_FALSE(f.prepared());
    CHECK_FALSE(f.content_length());
}

TEST_CASE("multipart: a file that changes size is an error, never a wrong body") {
    temp_dir dir;
    std::mt19937_64 rng(3);
    const auto content = random_bytes(rng, 200'000);
    auto make = [&](const fs::path& p) {
        auto form = std::make_shared<multipart_form>();
        form->write_buffer_size = 16 * 1024;
        form->add_field("appid", "1").add_file("video", body_source::file(p));
        REQUIRE_FALSE(form->prepare());
        return form;
    };
    error_code ec;

    SUBCASE("changed between prepare() and sending: nothing goes out") {
        // Both changes leave more than one buffer to send, so only the check at init() can
        // stop the header from going out.
        const auto p = dir.write("v.mp4", content);
        auto form = make(p);
        fs::resize_file(p, 100'000);
        CHECK(serialize(form, ec).empty());
        CHECK(ec == client_error::file_changed_size);
        CHECK(form->error_detail().find("v.mp4") != std::string::npos);

        form = make(dir.write("v.mp4", content));
        std::ofstream(p, std::ios::app) << "more";
        CHECK(serialize(form, ec).empty());
        CHECK(ec == client_error::file_changed_size);
    }
    SUBCASE("a body that fits one buffer, changed between prepare() and sending: nothing goes out") {
        // No fstat at init() for such a body: the first buffer reads every file to its end and one
        // byte past it before Beast sends the header with it.
        const auto small = content.substr(0, 3000);
        for (int change : {-1, +1, -3000}) {
            const auto p = dir.write("s.mp4", small);
            auto form = make(p);
            REQUIRE(*form->content_length() < form->write_buffer_size);
            if (change > 0)
                std::ofstream(p, std::ios::app) << "x";
            else
                fs::resize_file(p, small.size() + change);
            CAPTURE(change);
            CHECK(serialize(form, ec).empty());
            CHECK(ec == client_error::file_changed_size);
            CHECK(form->error_detail().find("s.mp4") != std::string::npos);
        }
        // Unchanged, the body goes out whole in one buffer, up to one that is exactly full.
        const auto overhead = static_cast<std::size_t>(*make(dir.write("s.mp4", ""))->content_length());
        for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{3000}, 16 * 1024 - overhead}) {
            const auto p = dir.write("s.mp4", content.substr(0, size));
            auto form = make(p);
            CAPTURE(size);
            const auto bufs = writer_buffers(form, ec);
            REQUIRE_FALSE(ec);
            REQUIRE(bufs.size() == 1);
            CHECK(bufs[0].size() == *form->content_length());
            CHECK(bufs[0].find(content.substr(0, size) + "\r\n--") != std::string::npos);
        }
    }
    SUBCASE("truncated while sending") {
        const auto p = dir.write("v.mp4", content);
        auto form = make(p);
        auto req = make_request(form);
        multipart_body::writer w(req.base(), req.body());
        w.init(ec);
        REQUIRE_FALSE(ec);
        REQUIRE(w.get(ec).has_value());
        fs::resize_file(p, 50'000);
        while (w.get(ec)) {
        }
        CHECK(ec == client_error::file_changed_size);
        CHECK_FALSE(w.get(ec).has_value());  // the error sticks
        CHECK(ec == client_error::file_changed_size);
    }
    SUBCASE("appended while sending") {
        const auto p = dir.write("v.mp4", content);
        auto form = make(p);
        auto req = make_request(form);
        multipart_body::writer w(req.base(), req.body());
        w.init(ec);
        REQUIRE_FALSE(ec);
        REQUIRE(w.get(ec).has_value());
        std::ofstream(p, std::ios::app) << "x";
        while (w.get(ec)) {
        }
        CHECK(ec == client_error::file_changed_size);
    }
    SUBCASE("a sized custom source that lies") {
        for (std::uint64_t declared : {199'999u, 200'001u}) {
            auto form = std::make_shared<multipart_form>();
            form->add_file("video", body_source::custom(std::make_shared<string_source>(content, declared), "v.mp4"));
            REQUIRE_FALSE(form->prepare());
            serialize(form, ec);
            CHECK(ec == client_error::file_changed_size);
        }
        auto failing = std::make_shared<string_source>(content, content.size());
        failing->fail_read = true;
        auto form = std::make_shared<multipart_form>();
        form->add_file("video", body_source::custom(failing, "v.mp4"));
        REQUIRE_FALSE(form->prepare());
        serialize(form, ec);
        CHECK(ec == client_error::source_failed);
        CHECK(form->error_detail().find("video") != std::string::npos);
    }
}

TEST_CASE("multipart: CR, LF and NUL are rejected, quotes escaped") {
    using namespace std::string_literals;
    auto check = [](auto&& add) {
        multipart_form f;
        add(f);
        return f.prepare();
    };
    for (const auto& bad : {"a\rb"s, "a\nb"s, "a\0b"s}) {
        CAPTURE(bad);
        CHECK(check([&](multipart_form& f) { f.add_field(bad, "v"); }) == client_error::invalid_field);
        CHECK(check([&](multipart_form& f) { f.add_field("n", bad); }) == client_error::invalid_field);
        CHECK(check([&](multipart_form& f) { f.add_file("n", body_source::memory("x", bad)); }) ==
              client_error::invalid_field);
        CHECK(check([&](multipart_form& f) { f.add_file(bad, body_source::memory("x", "f")); }) ==
              client_error::invalid_field);
        CHECK(check([&](multipart_form& f) { f.add_file("n", body_source::memory("x", "f", "text/" + bad)); }) ==
              client_error::invalid_field);
    }
    CHECK(check([](multipart_form& f) { f.add_field("", "v"); }) == client_error::invalid_field);
    CHECK(check([](multipart_form&) {}) == client_error::invalid_argument);
    for (const auto* b : {"has space", "semi;colon", "q\"uote", "", "\xc3\xa9"}) {
        multipart_form f(b);
        f.add_field("a", "b");
        if (std::string_view(b).empty()) continue;  // empty means random: fine
        CHECK(f.prepare() == client_error::invalid_argument);
    }
    multipart_form long_boundary(std::string(71, 'a'));
    long_boundary.add_field("a", "b");
    CHECK(long_boundary.prepare() == client_error::invalid_argument);
    multipart_form collides("abc123");
    collides.add_field("a", "x--abc123y");
    CHECK(collides.prepare() == client_error::invalid_argument);

    // '"' becomes %22 in names and filenames; UTF-8 goes through untouched; values keep '"'.
    auto form = std::make_shared<multipart_form>("B0");
    form->add_field("na\"me", "say \"hi\"").add_file("f", body_source::memory("z", "\xc3\xa9t\xc3\xa9\".png"));
    REQUIRE_FALSE(form->prepare());
    error_code ec;
    const auto body = body_of(serialize(form, ec));
    REQUIRE_FALSE(ec);
    CHECK(body.find("name=\"na%22me\"\r\n\r\nsay \"hi\"\r\n") != std::string::npos);
    CHECK(body.find("filename=\"\xc3\xa9t\xc3\xa9%22.png\"\r\nContent-Type: image/png\r\n") != std::string::npos);
}

TEST_CASE("multipart: memory does not depend on file size (64 MiB sparse file)") {
    temp_dir dir;
    const auto path = dir.path / "sparse.mp4";
    {
        const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
        REQUIRE(fd >= 0);
        REQUIRE(::ftruncate(fd, 64 << 20) == 0);
        ::close(fd);
    }
    auto form = std::make_shared<multipart_form>("sparse");
    form->add_field("appid", "1").add_file("video", body_source::file(path));
    REQUIRE_FALSE(form->prepare());
    const auto total = *form->content_length();

    auto req = make_request(form);
    multipart_body::writer w(req.base(), req.body());
    error_code ec;
    w.init(ec);
    REQUIRE_FALSE(ec);
    CHECK(w.buffer_capacity() == 256 * 1024);
    auto in_use = [] {
        const auto mi = ::mallinfo2();
        return mi.uordblks + mi.hblkhd;
    };
    const auto baseline = in_use();
    const void* first_data = nullptr;
    std::uint64_t seen = 0, nonzero = 0, calls = 0;
    std::size_t peak = baseline;
    const auto data_begin = form->content_length().value() - (64u << 20) - std::string("\r\n--sparse--\r\n").size();
    while (auto b = w.get(ec)) {
        if (!first_data) first_data = b->first.data();
        CHECK(b->first.data() == first_data);  // one buffer, reused
        const auto* p = static_cast<const char*>(b->first.data());
        for (std::size_t i = 0; i < b->first.size(); ++i) {
            const auto at = seen + i;
            if (at >= data_begin && at < data_begin + (64u << 20) && p[i] != 0) ++nonzero;
        }
        seen += b->first.size();
        ++calls;
        peak = std::max(peak, in_use());
    }
    REQUIRE_FALSE(ec);
    CHECK(seen == total);
    CHECK(calls == (total + w.buffer_capacity() - 1) / w.buffer_capacity());
    CHECK(nonzero == 0);
    CHECK(w.buffer_capacity() == 256 * 1024);
    CHECK(peak - baseline < 4096);  // nothing allocated while streaming 64 MiB

    // And Beast's serializer agrees with the Content-Length it announced.
    REQUIRE_FALSE(form->prepare());
    auto req2 = make_request(form);
    sink counter;
    counter.keep = false;
    http::write(counter, req2, ec);
    REQUIRE_FALSE(ec);
    std::ostringstream hdr;
    hdr << req2.base();
    CHECK(counter.count == hdr.str().size() + total);
}
