// Internal: the HTTP proxy between the client and its endpoint (connection_options::proxy), without
// I/O. The proxy URL is checked and parsed once per client; a new connection then asks the proxy
// for a tunnel with `CONNECT host:port` (RFC 9110 §9.3.6) and, once the proxy answers 2xx, speaks
// TLS (or plain HTTP) to the endpoint through it exactly as it would directly. open_connection()
// (transport.cpp) does the I/O with these pure functions, which test/unit/proxy_test.cpp drives
// byte by byte.
#pragma once

#include <livefour/error.hpp>
#include <livefour/secret.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace livefour::detail {

/// A parsed proxy URL. Only `authorization` holds a secret, and it is never printed.
struct proxy_info {
    std::string host;  ///< without brackets for IPv6
    std::string port;  ///< 1..65535, canonical spelling
    /// "host:port" ("[v6]:port"), for messages: what every message names, never the credentials.
    std::string display;
    /// "Basic <base64(user:password)>" when the URL carries user information; empty otherwise.
    secret_string authorization;
};

/// Parses `http://[user[:password]@]host:port[/]`: scheme http only, user information
/// percent-decoded (no ':' in the user, no control characters: RFC 7617), a host name or an IP
/// literal, an explicit port 1..65535, nothing after the authority but an optional "/".
/// client_error::bad_proxy otherwise, with `why` in words that never quote the user information.
error_code parse_proxy_url(std::string_view url, proxy_info& out, std::string& why);

/// The authority a CONNECT names: "host:port", an IPv6 literal in brackets, the port always given.
std::string connect_authority(std::string_view host, std::string_view port);

/// The CONNECT request for `authority`: request line, Host, and Proxy-Authorization when the proxy
/// has credentials. A secret_string because it may carry them: wiped once sent.
secret_string connect_request(std::string_view authority, const proxy_info& proxy);

/// What the proxy answered to CONNECT, as far as `data` (every byte received so far) shows.
struct connect_answer {
    /// False: the answer's header has not ended yet (and `ec` is clear): read more.
    bool complete = false;
    /// Once complete, or as soon as the bytes cannot be an answer within the bound: clear when
    /// the tunnel is open (2xx), else proxy_auth_required (407, or 401, which some proxies send for
    /// wrong credentials), proxy_gateway_error (5xx),
    /// proxy_refused (any other status) or proxy_bad_response (not HTTP/1.x, over the bound, or
    /// bytes after a 2xx header, which no endpoint sends before the client speaks).
    error_code ec;
    /// proxy_bad_response because the header did not end within the limit.
    bool over_limit = false;
    unsigned status = 0;  ///< the final status (interim 1xx answers are skipped)
    /// The reason phrase, printable ASCII only and at most 64 characters: the proxy's words, for
    /// the client message.
    std::string reason;
    /// The authentication schemes the proxy offers (Proxy-Authenticate, or WWW-Authenticate with a
    /// 401), e.g. "Basic, Negotiate";
    /// at most 64 characters.
    std::string schemes;
};

/// Parses the proxy's answer within `limit` bytes of header (interim 1xx answers included). A
/// non-2xx answer may carry a body: it is ignored, as the connection is closed anyway.
connect_answer parse_connect_answer(std::string_view data, std::size_t limit);

}  // namespace livefour::detail
