// Internal: Tencent Cloud API 3.0 `faceid` as a backend — TC3-HMAC-SHA256 as a request_signer,
// and GetLiveCode, GetActionSequence, LivenessCompare and LivenessRecognition as operation values
// (POST / with X-TC-Action). Everything else — pool, TLS, retries, timeouts, the body's digest
// pass — is the engine's.
#pragma once

#include "engine.hpp"
#include "operation.hpp"

#include <livefour/detail/tc3.hpp>
#include <livefour/faceid/options.hpp>
#include <livefour/faceid/requests.hpp>
#include <livefour/faceid/types.hpp>

#include <atomic>
#include <memory>

namespace livefour::detail::faceid_api {

/// The service in every credential scope, whatever the host (api3.md §5.3).
inline constexpr std::string_view service = "faceid";
/// The API version of the faceid actions.
inline constexpr std::string_view version = "2018-03-01";
/// The documented limits (api3.md §3.2, §5.1), read as decimal megabytes: the stricter reading.
inline constexpr std::uint64_t max_video_base64 = 8'000'000;
inline constexpr std::uint64_t max_image_base64 = 3'000'000;

/// TC3-HMAC-SHA256 for one client: content-type and host signed (as the official SDKs do), the
/// body's SHA-256 or UNSIGNED-PAYLOAD, X-TC-Timestamp from the clock corrected by what the
/// service's Date said when it refused a timestamp (AuthFailure.SignatureExpire), X-TC-Token for
/// temporary credentials.
class tc3_signature final : public request_signer {
public:
    explicit tc3_signature(const faceid::client_options& o);

    bool needs_payload_digest() const noexcept override { return !unsigned_payload_; }
    error_code sign(const request_description& req, const signing_context& ctx, std::vector<header_field>& out,
                    diagnostics& diag) override;

    bool unsigned_payload() const noexcept { return unsigned_payload_; }
    /// A reply refused the timestamp: adopt the service's clock from its Date header (Unix
    /// seconds, 0 when it had none), so that the next attempt is signed with a timestamp it
    /// accepts. Returns the correction in seconds.
    std::int64_t learn_clock(std::int64_t server_time);
    /// The local clock (the option's, or the system's), without the correction.
    std::int64_t local_now() const;

private:
    faceid::credentials creds_;
    faceid::credentials_provider provider_;
    std::function<std::int64_t()> clock_;
    bool unsigned_payload_;
    tc3::signing_key_cache keys_;
    std::atomic<std::int64_t> offset_{0};  // seconds to add to the local clock
};

/// What the operations share: the signer, the static headers, the buffer size.
struct context {
    std::shared_ptr<tc3_signature> sig;
    std::vector<header_field> common;  // X-TC-Version, X-TC-Region, X-TC-Language, X-TC-Content-SHA256
    std::size_t write_buffer_size = 256 * 1024;
};

/// GetLiveCode (free: resent when it is safe).
error_code get_live_code(const context& c, operation& op, faceid::live_code_result& out, diagnostics& diag);
/// GetActionSequence (free).
error_code get_action_sequence(const context& c, faceid::action_sequence_request req, operation& op,
                               faceid::action_sequence_result& out, diagnostics& diag);
/// LivenessCompare (billed): input checked here, the sources opened and sized by the engine.
error_code compare(const context& c, faceid::compare_request req, operation& op, faceid::liveness_result& out,
                   diagnostics& diag);
/// LivenessRecognition (billed).
error_code recognize(const context& c, faceid::recognition_request req, operation& op, faceid::liveness_result& out,
                     diagnostics& diag);

}  // namespace livefour::detail::faceid_api
