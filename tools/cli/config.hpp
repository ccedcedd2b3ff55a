// livefour CLI — from the parsed command line, the environment and a credentials file to checked
// settings: client options in the library's terms, request inputs in the CLI's. Everything a user
// can get wrong is refused here, with the flag (or variable, or file) named, before a client exists
// and before any byte is sent.
#pragma once

#include "cli.hpp"

#include <livefour/faceid/options.hpp>
#include <livefour/faceid/requests.hpp>
#include <livefour/options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace livefour::cli {

struct settings {
    const command_spec* command = nullptr;
    /// The options of the command's client: `options` for the legacy commands, `faceid_options`
    /// for the faceid ones (the other stays at its defaults). connection() is the part they share.
    livefour::client_options options;
    livefour::faceid::client_options faceid_options;
    /// Where the endpoint and the CA file came from ("--endpoint", "LIVEFOUR_ENDPOINT", or empty
    /// for the default), to name it in messages.
    std::string endpoint_source, ca_source;
    /// Where the proxy came from ("--proxy", "HTTPS_PROXY", ...; empty: none), the variable that
    /// exempted the endpoint from it, and its URL without credentials (proxy_env.hpp), for -v.
    std::string proxy_source, proxy_bypassed_by, proxy_display;
    /// Where each credential came from ("--appid", "LIVEFOUR_APPID", "FILE:3", ...), for -v.
    std::string appid_source, secret_id_source, secret_key_source, token_source;

    std::optional<std::string> seq;
    std::string validate_data;
    std::string video;
    std::optional<std::string> card;
    std::string idcard_number, idcard_name;
    int threshold = 70;

    // faceid compare / recognize.
    livefour::faceid::liveness_type liveness = livefour::faceid::liveness_type::lip;
    std::string image;          ///< --image
    std::string id_card, name;  ///< --id-card, --name
    std::optional<int> best_frames;

    bool progress = false;
    bool stats = false;
    bool json = false;
    bool verbose = false;
    std::vector<std::string> warnings;

    bool faceid() const { return command->backend == api::faceid; }
    const livefour::connection_options& connection() const {
        return faceid() ? static_cast<const livefour::connection_options&>(faceid_options) : options;
    }
    const std::string& endpoint() const { return faceid() ? faceid_options.endpoint : options.endpoint; }
};

/// --liveness as the CLI spells it ("lip").
const char* liveness_name(livefour::faceid::liveness_type t);

/// Throws usage_error for anything wrong with the flags, the environment, the credentials file,
/// the CA file or the input files.
settings configure(const invocation& inv);

/// The seconds of a duration flag as the library's milliseconds; "0" = no bound.
std::chrono::milliseconds parse_seconds(std::string_view flag, const std::string& text);

/// The options' duration in seconds as the user wrote it back ("0.5 s"), for messages.
std::string seconds_text(std::chrono::milliseconds d);

}  // namespace livefour::cli
