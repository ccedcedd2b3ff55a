// livefour — the API 3.0 `faceid` client's configuration: endpoint, credentials, region, payload
// signing. Transport, pool, retries and limits are the same as the legacy client's
// (livefour::connection_options, docs/options.md).
#pragma once

#include <livefour/error.hpp>
#include <livefour/options.hpp>
#include <livefour/secret.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace livefour::faceid {

/// A Tencent Cloud API key: long-term (SecretId, SecretKey) or temporary (STS: the same plus a
/// token, sent as X-TC-Token).
struct credentials {
    std::string secret_id;     ///< SecretId; not secret by itself, printed
    secret_string secret_key;  ///< SecretKey; never printed
    secret_string token;       ///< the STS session token of temporary credentials; empty for long-term keys
};

/// Hands out the credentials for the next attempt: called once per attempt, just before it is
/// signed, on the operation's executor — so concurrently from several threads when the client is
/// thread_safe and its io_context has several. It must be thread-safe and must not block: refresh
/// temporary credentials in the background (or on a timer) and return the current ones here. An
/// empty secret_id or secret_key ends the attempt with client_error::missing_credentials.
using credentials_provider = std::function<credentials()>;

/// Everything the faceid client needs. Only the credentials have no usable default.
struct client_options : connection_options {
    /// `https://host[:port]`: the China site's nearest region by default; regional hosts
    /// (`faceid.ap-guangzhou.tencentcloudapi.com`) and the international site
    /// (`faceid.intl.tencentcloudapi.com`) work alike. The signature's service is always `faceid`.
    std::string endpoint = "https://faceid.tencentcloudapi.com";
    /// Long-term keys, or temporary ones with their token. Ignored when `provider` is set.
    credentials creds;
    /// Credentials fetched per attempt (temporary credentials that are refreshed while the client
    /// runs); see credentials_provider for the threading.
    credentials_provider provider;
    /// X-TC-Region. Empty (the default): not sent; the China-site liveness actions do not need one.
    std::string region;
    /// X-TC-Language (`zh-CN` or `en-US`): the language of the service's messages. Empty: not sent.
    std::string language;
    /// Sign `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` instead of the body's SHA-256: the body is
    /// then read once instead of twice. The official SDKs (Python, Go, Java) support this mode,
    /// but Tencent's documentation does not mention it and whether faceid accepts it is not
    /// documented: a service that refuses it answers AuthFailure.SignatureFailure. Without it the
    /// signature covers the body (the default); with it only TLS protects the body.
    bool unsigned_payload = false;
    /// Bodies above this size are refused before anything is sent (client_error::upload_too_large).
    /// API 3.0 caps a TC3-signed POST at 10 MB; "MB" is not defined there, so the decimal reading,
    /// the stricter one, is the default. The per-field caps (VideoBase64 8 MB, ImageBase64 3 MB)
    /// are checked as well (client_error::video_too_large, image_too_large).
    std::uint64_t max_upload_bytes = 10'000'000;
    /// More headers for every request, sent as given and not signed (e.g. `X-TC-RequestClient`,
    /// or a test server's switches). Names are tokens ([A-Za-z0-9-]), values visible ASCII or
    /// spaces; the headers livefour writes itself (Host, Authorization, Content-*, Expect,
    /// Connection, User-Agent and every X-TC-* it sets) are refused (client_error::invalid_field).
    std::vector<std::pair<std::string, std::string>> headers;
    /// Current Unix time in seconds for the X-TC-Timestamp; empty = the system clock. For tests.
    std::function<std::int64_t()> clock;
};

/// Checks options without touching the network (endpoint, limits, credentials when no provider
/// is set, region and language: visible ASCII). The client constructor throws what this returns.
error_code validate(const client_options& opts);

}  // namespace livefour::faceid
