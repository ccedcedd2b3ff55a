// livefour CLI — which HTTP proxy a run goes through: --proxy, else the environment, read the way
// curl reads it, with NO_PROXY applied to both (docs/cli.md, "Proxy"). Pure functions of their
// arguments (the environment is passed in), so test/unit/cli_proxy_env_test.cpp checks every rule.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace livefour::cli {

/// The proxy of one run.
struct proxy_choice {
    std::string url;     ///< for connection_options::proxy; "" = connect directly
    std::string source;  ///< "--proxy", "https_proxy", "HTTPS_PROXY" or "http_proxy"; "" = none set
    /// "no_proxy" or "NO_PROXY" when that list exempts the endpoint's host (then `url` is "").
    std::string bypassed_by;
    /// `url` fit for -v: scheme, host and port, never the user information.
    std::string display;
};

/// An environment variable, or nullopt when unset or empty (curl treats both alike).
using env_lookup = std::function<std::optional<std::string>(const char*)>;

/// The proxy for `endpoint`. `flag` is --proxy's value when given ("" turns every proxy off).
/// Else, as curl (lib/url.c, detect_proxy()): for an https:// endpoint `https_proxy`, then
/// `HTTPS_PROXY`; for an http:// one only the lower-case `http_proxy` (the upper-case one can be
/// set by a CGI request's "Proxy:" header, "httpoxy"). `ALL_PROXY` is not read: it often names a
/// SOCKS proxy, which livefour does not speak. A value without "://" gets curl's default scheme,
/// http://. Then `no_proxy` (or, when unset, `NO_PROXY`) may exempt the endpoint's host, also from
/// --proxy, as curl's does.
proxy_choice choose_proxy(std::string_view endpoint, const std::optional<std::string>& flag, const env_lookup& env);

/// curl's NO_PROXY rule (lib/noproxy.c, Curl_check_noproxy(), curl 8): the list "*" matches every
/// host. Otherwise entries are separated by commas, with blanks around them (a blank that is not
/// followed by a comma ends the list). A host name matches an entry equal to it or to one of its
/// parent domains, case-insensitively, a leading or trailing dot of the entry and a trailing dot of
/// the name ignored ("example.com" and ".example.com" both match "api.example.com", not
/// "myexample.com"). An IP address (IPv6 without brackets) matches only IP entries of its family,
/// with an optional "/bits" CIDR suffix ("10.0.0.0/8", "fd00::/8"). Ports play no part: an entry
/// with a port matches nothing, and the endpoint's port is never compared.
bool no_proxy_matches(std::string_view host, std::string_view list);

}  // namespace livefour::cli
