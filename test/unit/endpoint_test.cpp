// parse_endpoint (src/endpoint.cpp): every component of the endpoint URL is checked before a client
// exists, and the port that is used is the port that was written. A port that wrapped modulo 65536
// once sent signed requests to another service (":99999" connected to 34463).
#include "../../src/endpoint.hpp"

#include <livefour/options.hpp>

#include <doctest/doctest.h>

#include <string>

namespace {

using livefour::client_error;
using livefour::error_code;

struct parsed {
    error_code ec;
    livefour::detail::endpoint_info info;
    std::string why;
};

parsed parse(const std::string& url, bool allow_http = false) {
    parsed p;
    p.ec = livefour::detail::parse_endpoint(url, allow_http, p.info, p.why);
    return p;
}

}  // namespace

TEST_CASE("endpoint: the port is 1..65535, parsed from its digits, never wrapped") {
    struct row {
        const char* url;
        const char* port;  // nullptr: refused with bad_endpoint
    };
    const row rows[] = {
        {"https://127.0.0.1", "443"},
        {"http://127.0.0.1", "80"},
        {"https://127.0.0.1:1", "1"},
        {"https://127.0.0.1:443", "443"},
        {"https://127.0.0.1:65535", "65535"},
        {"https://127.0.0.1:08443", "8443"},
        {"https://[::1]:8443", "8443"},
        {"https://127.0.0.1:0", nullptr},
        {"https://127.0.0.1:00", nullptr},
        {"https://127.0.0.1:65536", nullptr},
        {"https://127.0.0.1:99999", nullptr},
        {"https://127.0.0.1:107217", nullptr},  // 107217 = 41681 + 65536: wrapped, it reached a real port
        {"https://127.0.0.1:4294967297", nullptr},
        {"https://127.0.0.1:", nullptr},
    };
    for (const auto& r : rows) {
        CAPTURE(r.url);
        const auto p = parse(r.url, true);
        if (r.port) {
            CHECK_FALSE(p.ec);
            CHECK(p.info.port == r.port);
        } else {
            CHECK(p.ec == client_error::bad_endpoint);
            CHECK(p.why.find("port") != std::string::npos);
        }
    }
    // The Host header names the port only when it is not the scheme's default.
    CHECK(parse("https://example.com:443/").info.host_header == "example.com");
    CHECK(parse("https://example.com:0443").info.host_header == "example.com");
    CHECK(parse("https://example.com:8443").info.host_header == "example.com:8443");
    CHECK(parse("https://[::1]:8443").info.host_header == "[::1]:8443");
    CHECK(parse("http://example.com:443", true).info.host_header == "example.com:443");
    // The refusal names the port as written, so a typo can be found.
    CHECK(parse("https://127.0.0.1:99999").why.find("'99999'") != std::string::npos);
}

TEST_CASE("endpoint: scheme, host, user information, query, fragment and base path") {
    CHECK(parse("http://127.0.0.1:8080").ec == client_error::insecure_http_refused);
    CHECK_FALSE(parse("http://127.0.0.1:8080", true).ec);
    const char* bad[] = {
        "",
        "127.0.0.1:8443",  // no scheme
        "localhost:8443",  // no scheme either, but a URL whose scheme is "localhost"
        "ftp://127.0.0.1/",
        "https://",
        "https://:8443",
        "https:/no-authority",
        "https://user:pw@127.0.0.1/",
        "https://@127.0.0.1/",
        "https://127.0.0.1/?x=1",
        "https://127.0.0.1/?",
        "https://127.0.0.1/#frag",
        "https://ex%41mple.com/",  // percent-encoded host: not what DNS or a certificate names
        "https://bad!host.com/",   // legal in a URL's reg-name, never a host
        "https://a..b/",           // empty label
        "https://.example.com/",   // empty label
        "https://[v1.fe80::1]/",   // IPvFuture
        "https://127.0.0.1 /",     // space
    };
    for (const char* url : bad) {
        CAPTURE(url);
        const auto p = parse(url, true);
        CHECK(p.ec == client_error::bad_endpoint);
        CHECK_FALSE(p.why.empty());
    }
    const std::string long_label(64, 'a');
    CHECK(parse("https://" + long_label + ".com").ec == client_error::bad_endpoint);
    CHECK_FALSE(parse("https://" + long_label.substr(1) + ".com").ec);
    CHECK_FALSE(parse("https://example.com./").ec);  // a fully qualified name keeps its dot
    CHECK_FALSE(parse("https://under_score.internal").ec);

    const auto p = parse("https://Example.com:8443/base/path//");
    REQUIRE_FALSE(p.ec);
    CHECK(p.info.tls);
    CHECK(p.info.host == "Example.com");
    CHECK_FALSE(p.info.host_is_ip);
    CHECK(p.info.base_path == "/base/path");
    const auto v6 = parse("https://[::1]/");
    REQUIRE_FALSE(v6.ec);
    CHECK(v6.info.host == "::1");
    CHECK(v6.info.host_is_ip);
    CHECK(v6.info.base_path.empty());
}

TEST_CASE("endpoint: a refusal never quotes user information or the path") {
    for (const char* url : {"https://x:SECRETKEY@127.0.0.1/", "https://127.0.0.1:99999/SECRETKEY",
                            "https://127.0.0.1/SECRETKEY?q", "ftp://SECRETKEY@h/"}) {
        CAPTURE(url);
        const auto p = parse(url);
        CHECK(p.ec == client_error::bad_endpoint);
        CHECK(p.why.find("SECRETKEY") == std::string::npos);
    }
}

TEST_CASE("endpoint: validate() and the client refuse what parse_endpoint refuses") {
    livefour::client_options o;
    o.creds = {.appid = "1", .secret_id = "2", .secret_key = livefour::secret_string("3")};
    o.endpoint = "https://127.0.0.1:99999";
    CHECK(livefour::validate(o) == client_error::bad_endpoint);
    o.endpoint = "https://127.0.0.1:65535";
    CHECK_FALSE(livefour::validate(o));
}
