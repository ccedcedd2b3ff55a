// Internal: the one HTTP date format servers send (RFC 9110 §5.6.7, IMF-fixdate).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace livefour::detail {

/// Unix seconds of an IMF-fixdate such as "Sun, 06 Dec 2026 08:27:27 GMT"; nullopt for anything
/// else (the obsolete RFC 850 and asctime forms included: no server of ours sends them).
std::optional<std::int64_t> parse_http_date(std::string_view s) noexcept;

}  // namespace livefour::detail
