// The HTTP proxy without I/O (proxy.hpp): the URL, the CONNECT request and the answer.
#include "proxy.hpp"

#include "endpoint.hpp"

#include <livefour/detail/crypto.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace livefour::detail {

namespace {

/// Wipes a temporary that held credentials (secret_string does the same for what it owns).
void wipe(std::string& s) noexcept {
    if (s.capacity()) OPENSSL_cleanse(s.data(), s.capacity());
    s.clear();
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

error_code bad(std::string& why, std::string text) {
    why = std::move(text);
    return client_error::bad_proxy;
}

/// The proxy's text fit for a message: printable ASCII, at most `max` characters.
std::string printable(std::string_view s, std::size_t max) {
    std::string out;
    for (const char c : s) {
        if (out.size() == max) break;
        out += c >= 0x20 && c < 0x7f ? c : '?';
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// "HTTP/1.x SSS[ reason]": the status, or 0 when the line is not a status line.
unsigned parse_status_line(std::string_view line, std::string& reason) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !std::isdigit(static_cast<unsigned char>(line[7])) ||
        line[8] != ' ')
        return 0;
    unsigned status = 0;
    for (std::size_t i = 9; i < 12; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
        status = status * 10 + static_cast<unsigned>(line[i] - '0');
    }
    if (status < 100 || status > 599) return 0;
    if (line.size() > 12) {
        if (line[12] != ' ') return 0;
        reason = printable(line.substr(13), 64);
    }
    return status;
}

}  // namespace

error_code parse_proxy_url(std::string_view url, proxy_info& out, std::string& why) {
    // Like parse_endpoint(), the messages never quote the URL: its user information is a secret.
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return bad(why, "proxy URL is not a valid absolute URL (need http://[user:password@]host:port)");
    const boost::urls::url_view& u = *parsed;
    const std::string scheme(u.scheme());
    if (u.scheme_id() == boost::urls::scheme::https)
        // TLS to the proxy with the endpoint's TLS inside it (TLS in TLS) needs a second TLS layer
        // under the connection's own; the tunnelled traffic is end-to-end TLS either way.
        return bad(why,
                   "proxy URL: https:// proxies are not supported, use http:// (the traffic through the tunnel "
                   "is still TLS from end to end)");
    if (u.scheme_id() != boost::urls::scheme::http)
        return bad(why, "proxy URL: only http:// proxies are supported (got scheme '" + printable(scheme, 16) + "')");
    if (!u.has_authority() || u.encoded_host().empty()) return bad(why, "proxy URL has no host");
    if (u.has_query() || u.has_fragment() || !(u.encoded_path().empty() || u.encoded_path() == "/"))
        return bad(why, "proxy URL must be http://[user:password@]host:port, without a path, query or fragment");

    std::string host(u.encoded_host_address());
    switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6: break;
    case boost::urls::host_type::name:
        if (!valid_host_name(host))
            return bad(why, "proxy host '" + printable(host, 64) +
                                "' is not a valid host name (letters, digits, '-', '_' and dots)");
        break;
    default: return bad(why, "proxy host type not supported (need a host name, an IPv4 or a bracketed IPv6 address)");
    }
    // Proxies have no port of their own (curl assumes 1080, Python 80, many deployments use 3128 or
    // 8080): a guess would connect somewhere the user did not mean.
    if (!u.has_port() || u.port().empty()) return bad(why, "proxy URL needs a port (http://host:PORT)");
    const unsigned port = parse_port(u.port());
    if (port == 0) return bad(why, "proxy port '" + printable(u.port(), 16) + "' is not a number from 1 to 65535");

    secret_string authorization;
    if (u.has_userinfo()) {
        std::string user = u.user();
        std::string password = u.password();
        // RFC 7617 §2: the user-id cannot contain ':', and neither part a control character.
        std::string problem;
        if (user.find(':') != std::string::npos)
            problem = "proxy user name must not contain ':' (percent-encoded or not)";
        else if (has_control(user) || has_control(password))
            problem = "proxy user name and password must not contain control characters";
        if (problem.empty() && !(user.empty() && password.empty())) {
            std::string pair = user + ":" + password;
            std::string header = "Basic " + base64_encode(pair);
            authorization = secret_string(header);
            wipe(pair);
            wipe(header);
        }
        wipe(user);
        wipe(password);
        if (!problem.empty()) return bad(why, problem);
    }
    out.host = std::move(host);
    out.port = std::to_string(port);
    out.display = connect_authority(out.host, out.port);
    out.authorization = std::move(authorization);
    return {};
}

std::string connect_authority(std::string_view host, std::string_view port) {
    const bool v6 = host.find(':') != std::string_view::npos;
    std::string a;
    a.reserve(host.size() + port.size() + 3);
    if (v6) a += '[';
    a += host;
    if (v6) a += ']';
    a += ':';
    a += port;
    return a;
}

secret_string connect_request(std::string_view authority, const proxy_info& proxy) {
    std::string text;
    text.reserve(2 * authority.size() + proxy.authorization.reveal().size() + 64);
    text.append("CONNECT ").append(authority).append(" HTTP/1.1\r\nHost: ").append(authority).append("\r\n");
    if (!proxy.authorization.empty())
        text.append("Proxy-Authorization: ").append(proxy.authorization.reveal()).append("\r\n");
    text.append("\r\n");
    secret_string out(text);
    wipe(text);
    return out;
}

connect_answer parse_connect_answer(std::string_view data, std::size_t limit) {
    connect_answer a;
    auto too_large = [&] {
        a.ec = client_error::proxy_bad_response;
        a.over_limit = true;
        a.status = 0;
        a.reason.clear();
        return a;
    };
    std::size_t start = 0;  // of the current answer (after any interim 1xx ones)
    for (;;) {
        // Lines end in LF, with or without CR (RFC 9112 §2.2 lets a recipient accept a bare LF).
        std::size_t pos = start;
        std::size_t line_no = 0;
        bool ended = false;
        a.schemes.clear();
        while (!ended) {
            const auto nl = data.find('\n', pos);
            if (nl == std::string_view::npos || nl >= limit) {
                if (data.size() >= limit) return too_large();
                return a;  // not complete yet
            }
            const std::string_view line = data.substr(pos, nl - pos);
            pos = nl + 1;
            if (line_no++ == 0) {
                a.reason.clear();
                a.status = parse_status_line(line, a.reason);
                if (a.status == 0) {
                    a.ec = client_error::proxy_bad_response;
                    return a;
                }
                continue;
            }
            if (trim(line).empty()) {
                ended = true;
                break;
            }
            const auto colon = line.find(':');
            const auto name = colon == std::string_view::npos ? std::string_view() : trim(line.substr(0, colon));
            if (iequals(name, "proxy-authenticate") || iequals(name, "www-authenticate")) {
                std::string_view v = trim(line.substr(colon + 1));
                v = v.substr(0, v.find_first_of(" ,"));
                if (!v.empty() && a.schemes.size() < 64)
                    a.schemes = printable((a.schemes.empty() ? "" : a.schemes + ", ") + std::string(v), 64);
            }
        }
        // An interim answer (RFC 9110 §15.2) is followed by the final one.
        if (a.status < 200) {
            start = pos;
            continue;
        }
        a.complete = true;
        if (a.status >= 200 && a.status < 300) {
            // The tunnel carries TLS (or a plain request) that the client starts: nothing may come
            // from the endpoint before it. Bytes here would be lost or fed to the TLS layer as the
            // server's, so they end the attempt. (RFC 9110 §9.3.6: a 2xx answer has no content.)
            if (pos != data.size()) a.ec = client_error::proxy_bad_response;
        } else if (a.status == 407 || a.status == 401) {
            // Before the tunnel exists only the proxy can answer, so a 401 is about its credentials
            // too: tinyproxy 1.11 sends 407 for missing ones but 401 (with WWW-Authenticate) for
            // wrong ones.
            a.ec = client_error::proxy_auth_required;
        } else if (a.status >= 500) {
            a.ec = client_error::proxy_gateway_error;
        } else {
            a.ec = client_error::proxy_refused;
        }
        return a;
    }
}

}  // namespace livefour::detail
