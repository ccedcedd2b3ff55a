// The CLI's proxy choice (tools/cli/proxy_env.hpp): curl's precedence of --proxy and the
// environment, and curl's NO_PROXY matching, case by case (curl's own tests 1614 and 1329 cover the
// same ground in lib/noproxy.c).
#include "../../tools/cli/proxy_env.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace {

using livefour::cli::choose_proxy;
using livefour::cli::no_proxy_matches;

struct fake_env {
    std::map<std::string, std::string> vars;
    std::optional<std::string> operator()(const char* name) const {
        const auto it = vars.find(name);
        if (it == vars.end() || it->second.empty()) return std::nullopt;
        return it->second;
    }
};

}  // namespace

TEST_CASE("CLI NO_PROXY: host names, as curl matches them") {
    CHECK(no_proxy_matches("api.example.com", "*"));
    CHECK(no_proxy_matches("api.example.com", "example.com"));
    CHECK(no_proxy_matches("api.example.com", ".example.com"));
    CHECK(no_proxy_matches("api.example.com", "example.com."));
    CHECK(no_proxy_matches("api.example.com.", "example.com"));
    CHECK(no_proxy_matches("API.Example.COM", "api.EXAMPLE.com"));
    CHECK(no_proxy_matches("example.com", ".example.com"));
    CHECK_FALSE(no_proxy_matches("myexample.com", "example.com"));
    CHECK_FALSE(no_proxy_matches("example.com", "api.example.com"));
    CHECK_FALSE(no_proxy_matches("example.com.org", "example.com"));
    // The list: commas, blanks around entries, empty entries; a blank not followed by a comma ends it.
    CHECK(no_proxy_matches("b.example", "a.example, b.example"));
    CHECK(no_proxy_matches("b.example", " a.example ,,\tb.example , "));
    CHECK_FALSE(no_proxy_matches("b.example", "a.example b.example"));
    // "*" only as the whole list; no other wildcard; ports never match.
    CHECK_FALSE(no_proxy_matches("a.example", "*.example"));
    CHECK_FALSE(no_proxy_matches("a.example", "x.example,*"));
    CHECK_FALSE(no_proxy_matches("a.example", "a.example:443"));
    CHECK_FALSE(no_proxy_matches("a.example", ""));
    CHECK_FALSE(no_proxy_matches("", "*"));
}

TEST_CASE("CLI NO_PROXY: IP addresses match IP entries of their family, with CIDR") {
    CHECK(no_proxy_matches("127.0.0.1", "localhost,127.0.0.1"));
    CHECK_FALSE(no_proxy_matches("127.0.0.1", "localhost"));
    CHECK_FALSE(no_proxy_matches("127.0.0.1", "0.0.1"));  // no suffix matching for addresses
    CHECK(no_proxy_matches("10.1.2.3", "10.0.0.0/8"));
    CHECK(no_proxy_matches("192.168.7.9", "192.168.0.0/16"));
    CHECK_FALSE(no_proxy_matches("192.169.7.9", "192.168.0.0/16"));
    CHECK(no_proxy_matches("10.1.2.3", "10.1.2.3/32"));
    CHECK_FALSE(no_proxy_matches("10.1.2.3", "10.1.2.4/32"));
    CHECK_FALSE(no_proxy_matches("10.1.2.3", "10.0.0.0/0"));  // curl reads /0 as the whole address
    CHECK_FALSE(no_proxy_matches("10.1.2.3", "10.0.0.0/33"));
    CHECK_FALSE(no_proxy_matches("10.1.2.3", "10.0.0.0/x"));
    CHECK(no_proxy_matches("::1", "::1"));
    CHECK(no_proxy_matches("fd00::1:2", "fd00::/16"));
    CHECK(no_proxy_matches("fd00::1:2", "fc00::/7"));
    CHECK_FALSE(no_proxy_matches("fe80::1", "fc00::/7"));
    CHECK_FALSE(no_proxy_matches("::1", "[::1]"));  // curl: IPv6 entries without brackets
    CHECK_FALSE(no_proxy_matches("::1", "127.0.0.1"));
    CHECK_FALSE(no_proxy_matches("127.0.0.1", "::ffff:127.0.0.1"));
}

TEST_CASE("CLI proxy: --proxy, then https_proxy, then HTTPS_PROXY; http_proxy only for http://") {
    fake_env env;
    auto pick = [&](std::string_view endpoint, std::optional<std::string> flag = std::nullopt) {
        return choose_proxy(endpoint, flag, std::ref(env));
    };
    CHECK(pick("https://api.example").url.empty());
    CHECK(pick("https://api.example").source.empty());
    env.vars["HTTPS_PROXY"] = "http://upper:3128";
    CHECK(pick("https://api.example").url == "http://upper:3128");
    CHECK(pick("https://api.example").source == "HTTPS_PROXY");
    env.vars["https_proxy"] = "http://lower:3128";  // curl reads the lower-case one first
    CHECK(pick("https://api.example").url == "http://lower:3128");
    CHECK(pick("https://api.example").source == "https_proxy");
    env.vars["https_proxy"] = "";  // empty is unset
    CHECK(pick("https://api.example").source == "HTTPS_PROXY");
    CHECK(pick("https://api.example", "http://flag:8080").url == "http://flag:8080");
    CHECK(pick("https://api.example", "http://flag:8080").source == "--proxy");
    CHECK(pick("https://api.example", "").url.empty());  // --proxy "" turns the environment's off
    CHECK(pick("https://api.example", "").source == "--proxy");
    // An http:// endpoint: http_proxy only, never the upper-case HTTP_PROXY ("httpoxy").
    env.vars["HTTP_PROXY"] = "http://cgi-injected:1";
    CHECK(pick("http://127.0.0.1:8080").url.empty());
    env.vars["http_proxy"] = "http://plain:3128";
    CHECK(pick("http://127.0.0.1:8080").url == "http://plain:3128");
    // Not read: ALL_PROXY (often SOCKS); an endpoint that does not parse gets no proxy.
    env.vars = {{"ALL_PROXY", "socks5://s:1080"}, {"all_proxy", "http://a:1"}};
    CHECK(pick("https://api.example").url.empty());
    env.vars["HTTPS_PROXY"] = "http://p:3128";
    CHECK(pick("not a url").url.empty());
    // curl's default scheme for a proxy without one.
    env.vars["HTTPS_PROXY"] = "p.example:3128";
    CHECK(pick("https://api.example").url == "http://p.example:3128");
}

TEST_CASE("CLI proxy: no_proxy before NO_PROXY, also over --proxy; -v never shows credentials") {
    fake_env env;
    env.vars = {{"HTTPS_PROXY", "http://alice:Secret-Pw@p.example:3128"}};
    auto pick = [&](std::string_view endpoint, std::optional<std::string> flag = std::nullopt) {
        return choose_proxy(endpoint, flag, std::ref(env));
    };
    auto c = pick("https://api.example");
    CHECK(c.display == "http://p.example:3128 with credentials (never printed)");
    CHECK(c.display.find("Secret") == std::string::npos);
    env.vars["NO_PROXY"] = "example";
    c = pick("https://api.example:8443");
    CHECK(c.url.empty());
    CHECK(c.bypassed_by == "NO_PROXY");
    CHECK(pick("https://api.example", "http://flag:1").url.empty());  // NO_PROXY applies to --proxy too
    env.vars["no_proxy"] = "other.example";                           // set: the upper-case one is not read
    CHECK(pick("https://api.example").url == "http://alice:Secret-Pw@p.example:3128");
    env.vars["no_proxy"] = "::1";
    CHECK(pick("https://[::1]:8443").bypassed_by == "no_proxy");
    CHECK(pick("https://127.0.0.1:8443").display == "http://p.example:3128 with credentials (never printed)");
}
