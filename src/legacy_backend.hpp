// Internal: the legacy API (recognition.image.myqcloud.com, docs/protocol.md) as a backend — its
// signature as a request_signer, and livegetfour, livedetectfour and idcardlivedetectfour as
// operation values. Everything else (pool, TLS, retries, timeouts) is the engine's.
#pragma once

#include "engine.hpp"
#include "operation.hpp"

#include <livefour/requests.hpp>
#include <livefour/signer.hpp>
#include <livefour/types.hpp>

#include <memory>

namespace livefour::detail {

/// The legacy client's options: the engine's rules (validate(engine_config)), then the
/// credentials' (signer::check). Parses the endpoint into `ep`; `why` explains a failure.
error_code validate(const client_options& o, endpoint_info& ep, std::string& why);

}  // namespace livefour::detail

namespace livefour::detail::legacy {

/// The multi-use HMAC-SHA1 signature (signer.hpp): the same cached value for every attempt until
/// it nears its expiry. It does not depend on the request.
class signature final : public request_signer {
public:
    /// Throws like livefour::signer's constructor (missing credentials, bad validity, '&' or '=').
    signature(credentials creds, signer_options opts) : signer_(std::move(creds), std::move(opts)) {}
    error_code sign(const request_description&, const signing_context&, std::vector<header_field>& out,
                    diagnostics&) override;
    /// The AppID, which the legacy bodies also carry.
    const std::string& appid() const noexcept { return signer_.appid(); }

private:
    signer signer_;
};

/// POST /face/livegetfour (free: resent when it is safe).
error_code get_digits(const std::shared_ptr<signature>& sig, digits_request req, operation& op, digits_result& out,
                      diagnostics& diag);

/// POST /face/livedetectfour (billed). Input checks here; the sources are opened by the engine.
error_code detect(const std::shared_ptr<signature>& sig, const engine_config& cfg, detect_request req, operation& op,
                  detect_result& out, diagnostics& diag);

/// POST /face/idcardlivedetectfour (billed).
error_code idcard_detect(const std::shared_ptr<signature>& sig, const engine_config& cfg, idcard_detect_request req,
                         operation& op, detect_result& out, diagnostics& diag);

}  // namespace livefour::detail::legacy
