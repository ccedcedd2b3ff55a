// The HTTP proxy without sockets (src/proxy.hpp): the proxy URL's rules, the CONNECT request byte
// for byte, and the answer parser fed whole, byte by byte, and hostile.
#include "../../src/proxy.hpp"

#include <livefour/client.hpp>
#include <livefour/detail/crypto.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <string>

namespace {

using livefour::client_error;
using livefour::detail::connect_answer;
using livefour::detail::parse_connect_answer;
using livefour::detail::parse_proxy_url;
using livefour::detail::proxy_info;

proxy_info parsed(const std::string& url) {
    proxy_info p;
    std::string why;
    const auto ec = parse_proxy_url(url, p, why);
    INFO(url, " -> ", why);
    REQUIRE_FALSE(ec);
    return p;
}

std::string refusal(const std::string& url) {
    proxy_info p;
    std::string why;
    const auto ec = parse_proxy_url(url, p, why);
    INFO(url);
    CHECK(ec == client_error::bad_proxy);
    CHECK_FALSE(why.empty());
    return why;
}

/// Feeds `answer` one byte at a time: "read more" (incomplete, no error) until its header ends, and
/// then the decision the whole answer gets.
connect_answer byte_by_byte(const std::string& answer, std::size_t limit = 16 * 1024) {
    const connect_answer whole = parse_connect_answer(answer, limit);
    for (std::size_t n = 0; n <= answer.size(); ++n) {
        const auto a = parse_connect_answer(std::string_view(answer).substr(0, n), limit);
        if (a.complete || a.ec) {
            CHECK(a.ec == whole.ec);
            CHECK(a.status == whole.status);
            break;
        }
    }
    return whole;
}

}  // namespace

TEST_CASE("proxy URL: what is accepted, and the parts it yields") {
    auto p = parsed("http://proxy.corp.example:3128");
    CHECK(p.host == "proxy.corp.example");
    CHECK(p.port == "3128");
    CHECK(p.display == "proxy.corp.example:3128");
    CHECK(p.authorization.empty());

    p = parsed("HTTP://127.0.0.1:08080/");  // scheme case-insensitive, canonical port, a bare "/"
    CHECK(p.host == "127.0.0.1");
    CHECK(p.port == "8080");
    p = parsed("http://[::1]:3128");
    CHECK(p.host == "::1");
    CHECK(p.display == "[::1]:3128");

    // User information is percent-decoded before it is encoded for Basic (RFC 7617).
    p = parsed("http://alice:s3cret%40pw%3A@proxy:3128");
    CHECK(std::string(p.authorization.reveal()) == "Basic " + livefour::detail::base64_encode("alice:s3cret@pw:"));
    CHECK(p.display == "proxy:3128");
    p = parsed("http://bob@proxy:3128");  // a user without a password, as curl sends it
    CHECK(std::string(p.authorization.reveal()) == "Basic " + livefour::detail::base64_encode("bob:"));
    p = parsed("http://@proxy:3128");  // empty user information: no header
    CHECK(p.authorization.empty());
}

TEST_CASE("proxy URL: each refusal says why, and never quotes the user information") {
    CHECK(refusal("").find("not a valid") != std::string::npos);
    CHECK(refusal("proxy:3128").find("only http://") != std::string::npos);  // parses as scheme "proxy"
    CHECK(refusal("https://proxy:3128").find("https:// proxies are not supported") != std::string::npos);
    CHECK(refusal("socks5://proxy:1080").find("socks5") != std::string::npos);
    CHECK(refusal("http://proxy").find("needs a port") != std::string::npos);
    CHECK(refusal("http://proxy:").find("needs a port") != std::string::npos);
    CHECK(refusal("http://proxy:0").find("1 to 65535") != std::string::npos);
    CHECK(refusal("http://proxy:65536").find("1 to 65535") != std::string::npos);
    CHECK(refusal("http://proxy:3128/path").find("without a path") != std::string::npos);
    CHECK(refusal("http://proxy:3128?q").find("without a path") != std::string::npos);
    CHECK(refusal("http://proxy:3128#f").find("without a path") != std::string::npos);
    CHECK(refusal("http://:3128").find("no host") != std::string::npos);
    CHECK(refusal("http://bad%20host:3128").find("not a valid host name") != std::string::npos);
    const std::string secret = "Hunter2-Secret";
    for (const std::string url : {"http://a%3Ab:" + secret + "@proxy:3128", "http://alice:" + secret + "%0A@proxy:3128",
                                  "https://alice:" + secret + "@proxy:3128", "http://alice:" + secret + "@proxy",
                                  "http://alice:" + secret + "@proxy:3128/x"}) {
        const std::string why = refusal(url);
        CHECK(why.find(secret) == std::string::npos);
        CHECK(why.find("alice") == std::string::npos);
    }
}

TEST_CASE("proxy URL: checked by validate() and the constructor, whose text keeps the password out") {
    livefour::client_options o;
    o.creds = {.appid = "1250000000", .secret_id = "AKID", .secret_key = livefour::secret_string("k")};
    CHECK_FALSE(livefour::validate(o));
    o.proxy.url = "http://alice:Hunter2-Secret@proxy.example:3128";
    CHECK_FALSE(livefour::validate(o));
    o.proxy.url = "https://alice:Hunter2-Secret@proxy.example:3128";
    CHECK(livefour::validate(o) == client_error::bad_proxy);
    boost::asio::io_context ioc;
    try {
        livefour::client c(ioc.get_executor(), o);
        FAIL("the constructor accepted an https:// proxy");
    } catch (const boost::system::system_error& e) {
        CHECK(e.code() == client_error::bad_proxy);
        CHECK(std::string(e.what()).find("Hunter2") == std::string::npos);
        CHECK(std::string(e.what()).find("https:// proxies") != std::string::npos);
    }
}

TEST_CASE("CONNECT request: the exact bytes, with and without credentials") {
    using livefour::detail::connect_authority;
    using livefour::detail::connect_request;
    CHECK(connect_authority("api.example", "443") == "api.example:443");
    CHECK(connect_authority("::1", "8443") == "[::1]:8443");
    CHECK(connect_authority("10.0.0.1", "80") == "10.0.0.1:80");
    auto p = parsed("http://proxy:3128");
    CHECK(std::string(connect_request("api.example:443", p).reveal()) ==
          "CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\n\r\n");
    p = parsed("http://alice:s3cret@proxy:3128");
    const auto req = connect_request("[::1]:8443", p);
    CHECK(std::string(req.reveal()) ==
          "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n\r\n");
}

TEST_CASE("CONNECT answer: 2xx opens the tunnel, every other status has its code") {
    auto a = byte_by_byte("HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n");
    CHECK(a.complete);
    CHECK_FALSE(a.ec);
    CHECK(a.status == 200);
    CHECK(a.reason == "Connection established");
    // Bare LF line ends, no reason phrase, another 2xx.
    a = byte_by_byte("HTTP/1.1 204\nX: y\n\n");
    CHECK(a.complete);
    CHECK_FALSE(a.ec);
    CHECK(a.status == 204);
    // Interim answers are skipped.
    a = byte_by_byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n");
    CHECK_FALSE(a.ec);
    CHECK(a.status == 200);

    const std::string page = "<html>...</html>\n";
    a = byte_by_byte(
        "HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"Tinyproxy\"\r\n"
        "proxy-authenticate:  Negotiate\r\nContent-Length: 17\r\n\r\n" +
        page);
    CHECK(a.complete);
    CHECK(a.ec == client_error::proxy_auth_required);
    CHECK(a.reason == "Proxy Authentication Required");
    CHECK(a.schemes == "Basic, Negotiate");
    // tinyproxy 1.11's answer to wrong credentials.
    a = byte_by_byte("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\n\r\n" + page);
    CHECK(a.ec == client_error::proxy_auth_required);
    CHECK(a.schemes == "Basic");
    CHECK(byte_by_byte("HTTP/1.1 403 Access violation\r\n\r\n" + page).ec == client_error::proxy_refused);
    CHECK(byte_by_byte("HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n").ec == client_error::proxy_refused);
    CHECK(byte_by_byte("HTTP/1.1 500 Unable to connect\r\n\r\n" + page).ec == client_error::proxy_gateway_error);
    CHECK(byte_by_byte("HTTP/1.1 502 Bad Gateway\r\n\r\n").ec == client_error::proxy_gateway_error);
    CHECK(byte_by_byte("HTTP/1.1 503 Service Unavailable\r\n\r\n").ec == client_error::proxy_gateway_error);
}

TEST_CASE("CONNECT answer: incomplete, malformed, over the bound, or followed by bytes") {
    auto a = parse_connect_answer("HTTP/1.1 200 Connection established\r\n", 1024);
    CHECK_FALSE(a.complete);
    CHECK_FALSE(a.ec);
    CHECK_FALSE(parse_connect_answer("", 1024).ec);
    CHECK_FALSE(parse_connect_answer("HTT", 1024).ec);

    for (const std::string bad :
         {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
          "HTTP/1.1 600 Odd\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n", "\x16\x03\x01\x02\x10\x01\n"}) {
        CAPTURE(bad);
        a = parse_connect_answer(bad, 1024);
        CHECK(a.ec == client_error::proxy_bad_response);
        CHECK_FALSE(a.over_limit);
    }
    // A 2xx followed by bytes: the endpoint cannot have spoken first through a fresh tunnel.
    a = parse_connect_answer("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n", 1024);
    CHECK(a.complete);
    CHECK(a.ec == client_error::proxy_bad_response);
    CHECK_FALSE(a.over_limit);

    // The header, interim answers included, must end within the bound; an endless header line too.
    const std::string big = "HTTP/1.1 200 OK\r\nX-Pad: " + std::string(2000, 'a') + "\r\n\r\n";
    a = parse_connect_answer(big, 1024);
    CHECK(a.ec == client_error::proxy_bad_response);
    CHECK(a.over_limit);
    CHECK_FALSE(parse_connect_answer(big, big.size()).ec);
    a = parse_connect_answer(std::string(1024, 'x'), 1024);
    CHECK(a.over_limit);
    std::string interims;
    while (interims.size() < 2048) interims += "HTTP/1.1 100 Continue\r\n\r\n";
    CHECK(parse_connect_answer(interims + "HTTP/1.1 200 OK\r\n\r\n", 1024).over_limit);

    // The reason phrase reaches a message: printable ASCII only, and short.
    a = parse_connect_answer("HTTP/1.1 403 \x1b[31mred\x7f" + std::string(100, 'z') + "\r\n\r\n", 1024);
    CHECK(a.ec == client_error::proxy_refused);
    CHECK(a.reason.size() == 64);
    CHECK(a.reason.rfind("?[31mred?zz", 0) == 0);
}
