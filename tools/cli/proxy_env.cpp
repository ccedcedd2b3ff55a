// livefour CLI — the proxy of a run (proxy_env.hpp), following curl's rules.
#include "proxy_env.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <span>

namespace livefour::cli {
namespace {

bool blank(char c) { return c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// curl's match_host(): the entry without its trailing, then its leading dot; equal, or a suffix
/// of `name` that starts after a dot.
bool match_host(std::string_view entry, std::string_view name) {
    if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (entry.size() == name.size()) return iequals(entry, name);
    if (entry.size() < name.size())
        return name[name.size() - entry.size() - 1] == '.' && iequals(entry, name.substr(name.size() - entry.size()));
    return false;
}

/// curl's match_ip() and Curl_cidr4_match()/Curl_cidr6_match(): `entry` is an address of the
/// host's family with an optional "/bits" (decimal, at most 128). For IPv4, 0 or 32 bits compare
/// the whole address (curl's reading of "/0"); for IPv6, 0 bits mean 128.
bool match_ip(int family, const std::array<unsigned char, 16>& host, std::string_view entry) {
    if (entry.size() >= 128) return false;
    unsigned bits = 0;
    if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
        const auto digits = entry.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        bits = static_cast<unsigned>(std::stoul(std::string(digits)));
        if (bits > 128) return false;
        entry = entry.substr(0, slash);
    }
    std::array<unsigned char, 16> net{};
    if (::inet_pton(family, std::string(entry).c_str(), net.data()) != 1) return false;
    const unsigned width = family == AF_INET ? 32 : 128;
    if (bits > width) return false;
    if (family == AF_INET && bits == 0) bits = 32;
    if (family == AF_INET6 && bits == 0) bits = 128;
    const unsigned bytes = bits / 8, rest = bits % 8;
    if (std::memcmp(host.data(), net.data(), bytes) != 0) return false;
    if (rest == 0) return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return ((host[bytes] ^ net[bytes]) & mask) == 0;
}

/// The proxy URL without its user information, for -v ("http://proxy:3128"), or a placeholder
/// when it does not parse (the client then refuses it, naming the source).
std::string display_of(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return "(not a valid URL)";
    boost::urls::url u(*parsed);
    const bool had_credentials = u.has_userinfo();
    u.remove_userinfo();
    return std::string(u.buffer()) + (had_credentials ? " with credentials (never printed)" : "");
}

}  // namespace

bool no_proxy_matches(std::string_view host, std::string_view list) {
    if (host.empty() || list.empty()) return false;
    if (list == "*") return true;
    std::array<unsigned char, 16> address{};
    int family = 0;
    const std::string h(host);
    if (::inet_pton(AF_INET, h.c_str(), address.data()) == 1)
        family = AF_INET;
    else if (::inet_pton(AF_INET6, h.c_str(), address.data()) == 1)
        family = AF_INET6;
    else if (host.back() == '.')
        host.remove_suffix(1);

    std::size_t p = 0;
    while (p < list.size()) {
        while (p < list.size() && blank(list[p])) ++p;
        const std::size_t start = p;
        while (p < list.size() && !blank(list[p]) && list[p] != ',') ++p;
        const std::string_view entry = list.substr(start, p - start);
        if (!entry.empty() && (family ? match_ip(family, address, entry) : match_host(entry, host))) return true;
        while (p < list.size() && blank(list[p])) ++p;
        if (p >= list.size() || list[p] != ',') break;  // curl stops at anything but a comma
        while (p < list.size() && list[p] == ',') ++p;
    }
    return false;
}

proxy_choice choose_proxy(std::string_view endpoint, const std::optional<std::string>& flag, const env_lookup& env) {
    proxy_choice out;
    auto parsed = boost::urls::parse_uri(endpoint);
    // An endpoint that does not parse is the client's to refuse, with its own message.
    if (!parsed) return out;
    const bool https = parsed->scheme_id() == boost::urls::scheme::https;
    if (!https && parsed->scheme_id() != boost::urls::scheme::http) return out;
    if (flag) {
        out.url = *flag;
        out.source = "--proxy";
    } else {
        static constexpr const char* for_https[] = {"https_proxy", "HTTPS_PROXY"};
        static constexpr const char* for_http[] = {"http_proxy"};
        const auto names = https ? std::span<const char* const>(for_https) : std::span<const char* const>(for_http);
        for (const char* name : names) {
            if (auto v = env(name)) {
                out.url = *v;
                out.source = name;
                break;
            }
        }
    }
    if (out.url.empty()) return out;  // none, or --proxy "" (curl: "" overrides the environment)
    for (const char* name : {"no_proxy", "NO_PROXY"}) {
        if (auto list = env(name)) {
            if (no_proxy_matches(std::string(parsed->encoded_host_address()), *list)) {
                out.url.clear();
                out.bypassed_by = name;
            }
            break;  // the lower-case one, when set, is the only one read
        }
    }
    if (out.url.empty()) return out;
    if (out.url.find("://") == std::string::npos) out.url = "http://" + out.url;
    out.display = display_of(out.url);
    return out;
}

}  // namespace livefour::cli
