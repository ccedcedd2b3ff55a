// livefour CLI — settings from the command line, the environment and a credentials file.
#include "config.hpp"

#include "proxy_env.hpp"

#include <boost/asio/ssl/context.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace livefour::cli {
namespace {

/// An environment variable; unset and empty are the same (the shell's `VAR= cmd` idiom).
std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

std::uint64_t parse_count(std::string_view flag, const std::string& s, std::uint64_t min, std::uint64_t max) {
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const std::string range = std::to_string(min) + "-" + std::to_string(max);
    if (ec == std::errc::result_out_of_range || (ec == std::errc{} && p == s.data() + s.size() && (v < min || v > max)))
        throw usage_error(std::string(flag) + " must be " + range + " (got " + printable(s) + ")");
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
        throw usage_error(std::string(flag) + " must be an integer " + range + " (got " + printable(s) + ")");
    return v;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

/// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF (the library refuses
/// the same for faceid's Name; refusing it here names the flag).
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 4;
        if (n == 4 || (n > 0 && i + n >= s.size())) return false;  // not a lead byte, or cut short
        std::uint32_t cp = n == 0 ? c : c & (0x3f >> n);
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        constexpr std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

/// errno's text for `what` ("--video a.mp4: No such file or directory").
[[noreturn]] void fail_errno(const std::string& what, int err) { throw usage_error(what + ": " + std::strerror(err)); }

/// A file the request uploads: it must exist, be a regular file we can open, and hold bytes. The
/// library checks the same before sending; checking here names the flag and gives status 2.
std::uint64_t check_upload_file(std::string_view flag, const std::string& path) {
    const std::string what = std::string(flag) + " " + printable(path, 200);
    if (path.empty()) throw usage_error(std::string(flag) + " needs a file name");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail_errno(what, errno);
    if (S_ISDIR(st.st_mode)) throw usage_error(what + ": is a directory");
    if (!S_ISREG(st.st_mode)) throw usage_error(what + ": not a regular file");
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) fail_errno(what, errno);
    ::close(fd);
    // A 0-byte upload is a billed call that can only be refused (-5001): never worth sending.
    if (st.st_size == 0) throw usage_error(what + ": the file is empty (0 bytes)");
    return static_cast<std::uint64_t>(st.st_size);
}

/// The CA file, loaded exactly as the library will load it (asio's load_verify_file), so that
/// what the CLI accepts is what the client accepts, and a bad file is a usage error naming it.
void check_ca_file(const std::string& source, const std::string& path) {
    const std::string what = source + " " + printable(path, 200);
    if (path.empty()) throw usage_error(source + " is empty (leave it out to use the system trust store)");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) fail_errno(what, errno);
    if (S_ISDIR(st.st_mode)) throw usage_error(what + ": is a directory");
    if (!S_ISREG(st.st_mode)) throw usage_error(what + ": not a regular file");
    std::ifstream probe(path);
    if (!probe) fail_errno(what, errno);
    if (st.st_size == 0) throw usage_error(what + ": the file is empty (expected PEM certificates)");
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx.load_verify_file(path, ec);
    if (ec) throw usage_error(what + ": no PEM certificate could be read from it");
}

struct credential_file {
    std::optional<std::string> appid, secret_id, secret_key, token;
    std::string name;  ///< "FILE" or "stdin", for messages
};

/// `appid=...`, `secret_id=...`, `secret_key=...` (and, for the faceid commands, `token=...`)
/// lines; blank lines and `#` comments are skipped; spaces around the name and the value are
/// dropped. Values are never quoted in messages. `faceid`: an appid line is allowed (one file may
/// serve both APIs) and ignored; a token line is refused for the legacy API, which has none.
credential_file read_credentials(const std::string& path, bool faceid) {
    credential_file out;
    std::string text;
    if (path == "-") {
        out.name = "--credentials - (stdin)";
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        text = ss.str();
    } else {
        out.name = "--credentials " + printable(path, 200);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) fail_errno(out.name, errno);
        if (!S_ISREG(st.st_mode)) throw usage_error(out.name + ": not a regular file");
        // Like ssh with a private key: a secret that others may read is refused, not used.
        if ((st.st_mode & 077) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            throw usage_error(out.name + ": mode " + mode + " lets other users read it; run chmod 600 on it");
        }
        std::ifstream in(path, std::ios::binary);
        if (!in) fail_errno(out.name, errno);
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    const char* names = faceid ? "secret_id, secret_key, token; appid is ignored" : "appid, secret_id, secret_key";
    std::istringstream lines(text);
    std::string line;
    for (int n = 1; std::getline(lines, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto trim = [](std::string s) {
            const auto b = s.find_first_not_of(" \t");
            if (b == std::string::npos) return std::string();
            return s.substr(b, s.find_last_not_of(" \t") - b + 1);
        };
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const std::string where = out.name + " line " + std::to_string(n);
        const auto eq = t.find('=');
        if (eq == std::string::npos) throw usage_error(where + ": expected name=value");
        const std::string key = trim(t.substr(0, eq));
        std::optional<std::string>* slot = key == "appid"             ? &out.appid
                                           : key == "secret_id"       ? &out.secret_id
                                           : key == "secret_key"      ? &out.secret_key
                                           : key == "token" && faceid ? &out.token
                                                                      : nullptr;
        if (!slot && key == "token")
            throw usage_error(where + ": token (temporary credentials) is for the faceid commands only");
        if (!slot) throw usage_error(where + ": unknown name " + printable(key) + " (" + names + ")");
        if (*slot) throw usage_error(where + ": " + key + " is given twice");
        *slot = trim(t.substr(eq + 1));
    }
    return out;
}

/// One credential: the flag, else the credentials file, else the environment.
std::string credential(const invocation& inv, const credential_file& file, std::string_view flag,
                       const std::optional<std::string>& from_file, const char* var, std::string& source) {
    if (auto v = inv.get(flag)) return source = std::string(flag), *v;
    if (from_file) return source = file.name, *from_file;
    if (auto v = env(var)) return source = var, *v;
    return {};
}

/// The legacy API's credentials: each from its flag, else the credentials file, else LIVEFOUR_*.
void legacy_credentials(const invocation& inv, settings& cfg) {
    auto& o = cfg.options;
    credential_file file;
    if (auto c = inv.get("--credentials")) file = read_credentials(*c, false);
    o.creds.appid = credential(inv, file, "--appid", file.appid, "LIVEFOUR_APPID", cfg.appid_source);
    o.creds.secret_id =
        credential(inv, file, "--secret-id", file.secret_id, "LIVEFOUR_SECRET_ID", cfg.secret_id_source);
    o.creds.secret_key = livefour::secret_string(
        credential(inv, file, "--secret-key", file.secret_key, "LIVEFOUR_SECRET_KEY", cfg.secret_key_source));
    std::string missing;
    auto need = [&](bool empty, const char* what, const char* flag, const char* name, const char* var) {
        if (!empty) return;
        missing += std::string(missing.empty() ? "" : "; ") + what + " (" + flag + ", " + name +
                   "= in --credentials FILE, or " + var + ")";
    };
    need(o.creds.appid.empty(), "the AppID", "--appid", "appid", "LIVEFOUR_APPID");
    need(o.creds.secret_id.empty(), "the SecretId", "--secret-id", "secret_id", "LIVEFOUR_SECRET_ID");
    need(o.creds.secret_key.empty(), "the SecretKey", "--secret-key", "secret_key", "LIVEFOUR_SECRET_KEY");
    if (!missing.empty()) throw usage_error("missing credentials: " + missing);
    // The signer refuses these (they would change the signed text); say which one, and where from.
    auto signed_field = [](const std::string& value, const std::string& source, const char* what) {
        if (value.find_first_of("&=") != std::string::npos || has_control(value))
            throw usage_error(source + ": the " + what + " must not contain '&', '=' or control characters");
    };
    signed_field(o.creds.appid, cfg.appid_source, "AppID");
    signed_field(o.creds.secret_id, cfg.secret_id_source, "SecretId");
}

/// API 3.0's credentials, as the official SDKs read them: TENCENTCLOUD_SECRET_ID,
/// TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SESSION_TOKEN, or all from --credentials FILE. Never
/// from argv. Not mixed: a file's long-term key with a token left in the environment would be
/// refused by the service (AuthFailure.TokenFailure), so with a file the environment is not read.
void faceid_credentials(const invocation& inv, settings& cfg) {
    auto& c = cfg.faceid_options.creds;
    std::optional<std::string> id, key, token;
    if (auto path = inv.get("--credentials")) {
        const auto file = read_credentials(*path, true);
        id = file.secret_id, key = file.secret_key, token = file.token;
        cfg.secret_id_source = cfg.secret_key_source = file.name;
        if (token) cfg.token_source = file.name;
    } else {
        id = env("TENCENTCLOUD_SECRET_ID"), key = env("TENCENTCLOUD_SECRET_KEY"),
        token = env("TENCENTCLOUD_SESSION_TOKEN");
        cfg.secret_id_source = "TENCENTCLOUD_SECRET_ID", cfg.secret_key_source = "TENCENTCLOUD_SECRET_KEY";
        if (token) cfg.token_source = "TENCENTCLOUD_SESSION_TOKEN";
    }
    if (token && token->empty()) token.reset(), cfg.token_source.clear();  // `token=`: long-term keys
    std::string missing;
    const bool file = inv.has("--credentials");
    auto need = [&](const std::optional<std::string>& v, const char* what, const char* name, const char* var) {
        if (v && !v->empty()) return;
        missing += std::string(missing.empty() ? "" : "; ") + what + " (" +
                   (file ? std::string(name) + "= in " + cfg.secret_id_source : std::string(var)) + ")";
    };
    need(id, "the SecretId", "secret_id", "TENCENTCLOUD_SECRET_ID");
    need(key, "the SecretKey", "secret_key", "TENCENTCLOUD_SECRET_KEY");
    if (!missing.empty())
        throw usage_error("missing credentials: " + missing +
                          "; the faceid commands never take a key from the command line");
    // The SecretId and the token travel in headers (Authorization's Credential=, X-TC-Token):
    // visible ASCII only, and no ',' or '/' in the id, which would change the header's meaning.
    auto header_safe = [](const std::string& v, std::string_view extra) {
        return std::all_of(v.begin(), v.end(), [&](char ch) {
            const auto u = static_cast<unsigned char>(ch);
            return u > 0x20 && u < 0x7f && extra.find(ch) == std::string_view::npos;
        });
    };
    if (!header_safe(*id, ",/"))
        throw usage_error(cfg.secret_id_source + ": the SecretId must be visible ASCII without ',', '/' or spaces");
    if (token && !header_safe(*token, ""))
        throw usage_error(cfg.token_source + ": the session token must be visible ASCII without spaces");
    c.secret_id = *id;
    c.secret_key = livefour::secret_string(*key);
    if (token) c.token = livefour::secret_string(*token);
}

/// An ID number and the name on the card (idcard, faceid recognize): both required by the
/// command table; the service checks the number's format, the CLI what would corrupt the request.
void identity(const invocation& inv, std::string_view number_flag, std::string_view name_flag, std::string& number,
              std::string& name) {
    number = *inv.get(number_flag);
    name = *inv.get(name_flag);
    if (number.empty() || has_control(number))
        throw usage_error(std::string(number_flag) + " must be non-empty, without control characters");
    if (name.empty() || has_control(name) || !valid_utf8(name))
        throw usage_error(std::string(name_flag) + " must be non-empty UTF-8, without control characters");
}

bool four_digits(const std::string& d) {
    return d.size() == 4 && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// The faceid commands' own flags: --region, --unsigned-payload, and for compare and recognize
/// --liveness with the --validate-data it needs, --best-frames, --id-card and --name.
void configure_faceid(const invocation& inv, settings& cfg) {
    auto& f = cfg.faceid_options;
    if (auto r = inv.get("--region")) {
        // X-TC-Region: the regions are names such as ap-guangzhou. Anything else cannot be one,
        // and a space or a control character would not even make a valid header.
        if (r->empty()) throw usage_error("--region is empty (leave it out to send no region)");
        const bool ok = r->size() <= 64 && std::all_of(r->begin(), r->end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                        });
        if (!ok)
            throw usage_error("--region must be a region name of letters, digits and '-', such as ap-guangzhou (got " +
                              printable(*r) + ")");
        f.region = *r;
    }
    f.unsigned_payload = inv.has("--unsigned-payload");
    const auto& flags = cfg.command->flags;
    if (std::find(flags.begin(), flags.end(), "--liveness") == flags.end()) return;  // live-code, action-sequence

    using livefour::faceid::liveness_type;
    std::string kind = *inv.get("--liveness");
    std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
    if (kind == "lip") {
        cfg.liveness = liveness_type::lip;
    } else if (kind == "action") {
        cfg.liveness = liveness_type::action;
    } else if (kind == "silent") {
        cfg.liveness = liveness_type::silent;
    } else {
        throw usage_error("--liveness must be lip, action or silent (got " + printable(*inv.get("--liveness")) + ")");
    }
    // What the user was asked to do on the video: sending anything else is a billed call whose
    // answer is known in advance.
    const auto data = inv.get("--validate-data");
    if (cfg.liveness == liveness_type::silent) {
        if (data) throw usage_error("--validate-data is not used with --liveness silent (there is nothing to check)");
    } else if (!data) {
        throw usage_error(std::string("--liveness ") + liveness_name(cfg.liveness) + " needs --validate-data: " +
                          (cfg.liveness == liveness_type::lip ? "the digits of 'livefour faceid live-code'"
                                                              : "the sequence of 'livefour faceid action-sequence'"));
    } else if (cfg.liveness == liveness_type::lip && !four_digits(*data)) {
        throw usage_error("--validate-data must be the 4 digits that 'livefour faceid live-code' issued (got " +
                          printable(*data) + ")");
    } else if (cfg.liveness == liveness_type::action) {
        // GetActionSequence answers one or two actions, such as "1,2" (1 open the mouth, 2 close
        // the eyes; the international site adds 3 nod and 4 shake the head).
        const auto& d = *data;
        const bool ok = (d.size() == 1 || (d.size() == 3 && d[1] == ',' && d[2] >= '1' && d[2] <= '4')) &&
                        d[0] >= '1' && d[0] <= '4';
        if (!ok)
            throw usage_error(
                "--validate-data must be the sequence that 'livefour faceid action-sequence' issued: one or two "
                "of 1-4, such as 1,2 (got " +
                printable(d) + ")");
    }
    if (data) cfg.validate_data = *data;
    if (auto n = inv.get("--best-frames")) cfg.best_frames = static_cast<int>(parse_count("--best-frames", *n, 2, 10));
    if (inv.has("--id-card")) identity(inv, "--id-card", "--name", cfg.id_card, cfg.name);
}

}  // namespace

std::chrono::milliseconds parse_seconds(std::string_view flag, const std::string& s) {
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    constexpr double max_seconds = 86400.0 * 90;  // the library's longest signature validity; ample
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v) || v < 0 || v > max_seconds)
        throw usage_error(std::string(flag) + " must be a number of seconds from 0 to 7776000 (got " + printable(s) +
                          ")");
    // The library counts milliseconds and reads 0 as "no bound": 0.0004 would silently switch the
    // bound off. Only an explicit 0 means that.
    if (v > 0 && v < 0.001)
        throw usage_error(std::string(flag) + " " + s + " is below 1 ms, the smallest bound (0 means no bound)");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(v * 1000)));
}

const char* liveness_name(livefour::faceid::liveness_type t) {
    switch (t) {
    case livefour::faceid::liveness_type::lip: return "lip";
    case livefour::faceid::liveness_type::action: return "action";
    case livefour::faceid::liveness_type::silent: return "silent";
    }
    return "?";
}

std::string seconds_text(std::chrono::milliseconds d) {
    if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

settings configure(const invocation& inv) {
    settings cfg;
    cfg.command = inv.command;
    cfg.warnings = inv.warnings;
    cfg.stats = inv.has("--stats");
    cfg.json = inv.has("--json");
    cfg.verbose = inv.has("--verbose");
    auto applies = [&](std::string_view flag) {
        return std::find(inv.command->flags.begin(), inv.command->flags.end(), flag) != inv.command->flags.end();
    };
    const bool faceid = cfg.faceid();
    // The part of the options both clients share, and the endpoint of the command's client.
    livefour::connection_options& o =
        faceid ? static_cast<livefour::connection_options&>(cfg.faceid_options) : cfg.options;
    std::string& endpoint = faceid ? cfg.faceid_options.endpoint : cfg.options.endpoint;

    // Endpoint and trust. One LIVEFOUR_ENDPOINT for both APIs: a test server (the emulator)
    // serves both on one port.
    if (auto e = inv.get("--endpoint")) {
        endpoint = *e, cfg.endpoint_source = "--endpoint";
    } else if (auto v = env("LIVEFOUR_ENDPOINT")) {
        endpoint = *v, cfg.endpoint_source = "LIVEFOUR_ENDPOINT";
    }
    o.allow_insecure_http = inv.has("--insecure-http");
    const bool plain = endpoint.size() >= 7 && std::equal(endpoint.begin(), endpoint.begin() + 7, "http://",
                                                          [](char a, char b) { return std::tolower(a) == b; });
    if (auto c = inv.get("--ca-file")) {
        check_ca_file("--ca-file", *c);
        o.tls.ca_file = *c, cfg.ca_source = "--ca-file";
        if (plain) cfg.warnings.push_back("--ca-file is not used with an http:// endpoint");
    } else if (auto v = env("LIVEFOUR_CA_FILE"); v && !plain) {
        check_ca_file("LIVEFOUR_CA_FILE", *v);
        o.tls.ca_file = *v, cfg.ca_source = "LIVEFOUR_CA_FILE";
    }

    // The proxy: --proxy, else the environment as curl reads it; NO_PROXY may exempt the endpoint.
    // Its URL is checked by the client (bad_proxy), and main.cpp names this source in the message.
    const auto proxy = choose_proxy(endpoint, inv.get("--proxy"), env);
    o.proxy.url = proxy.url;
    cfg.proxy_source = proxy.source, cfg.proxy_bypassed_by = proxy.bypassed_by, cfg.proxy_display = proxy.display;

    // Retries and time bounds.
    if (auto m = inv.get("--max-attempts"))
        o.retry.max_attempts = static_cast<int>(parse_count("--max-attempts", *m, 1, 100));
    if (auto t = inv.get("--connect-timeout")) o.timeout.connect = parse_seconds("--connect-timeout", *t);
    if (auto t = inv.get("--stall-timeout")) o.timeout.stall = parse_seconds("--stall-timeout", *t);
    if (auto t = inv.get("--deadline")) o.timeout.deadline = parse_seconds("--deadline", *t);

    if (faceid) {
        faceid_credentials(inv, cfg);
        configure_faceid(inv, cfg);
    } else {
        legacy_credentials(inv, cfg);
    }

    // Request inputs.
    if (auto s = inv.get("--seq"); s && applies("--seq")) {
        if (has_control(*s)) throw usage_error("--seq must not contain control characters");
        cfg.seq = *s;
    }
    if (applies("--validate-data") && !faceid) {
        cfg.validate_data = *inv.get("--validate-data");
        // livegetfour issues four digits (docs/protocol.md); anything else cannot be what the user
        // read, and sending it is a billed call whose answer is known (-5008).
        if (!four_digits(cfg.validate_data))
            throw usage_error("--validate-data must be the 4 digits that 'livefour digits' issued (got " +
                              printable(cfg.validate_data) + ")");
    }
    if (applies("--max-upload-bytes"))
        if (auto m = inv.get("--max-upload-bytes"))
            cfg.options.max_upload_bytes = parse_count("--max-upload-bytes", *m, 0, UINT64_MAX);
    auto upload = [&](std::string_view flag) {
        const std::string path = *inv.get(flag);
        const auto size = check_upload_file(flag, path);
        // faceid: the library checks the base64 limits (8 MB video, 3 MB image, 10 MB body)
        // before sending; the CLI names the flag when it reports them (messages.cpp).
        const auto limit = cfg.options.max_upload_bytes;
        if (!faceid && limit && size > limit)
            throw usage_error(std::string(flag) + " " + printable(path, 200) + ": " + std::to_string(size) +
                              " bytes, over --max-upload-bytes " + std::to_string(limit) +
                              " (the service refuses bodies over 6 MB; 0 lifts the limit)");
        return path;
    };
    if (applies("--video")) cfg.video = upload("--video");
    if (applies("--card") && inv.has("--card")) cfg.card = upload("--card");
    if (applies("--image")) cfg.image = upload("--image");
    if (applies("--idcard-number"))
        identity(inv, "--idcard-number", "--idcard-name", cfg.idcard_number, cfg.idcard_name);
    if (applies("--threshold"))
        if (auto t = inv.get("--threshold")) cfg.threshold = static_cast<int>(parse_count("--threshold", *t, 0, 100));
    if (applies("--chunked")) o.force_chunked = inv.has("--chunked");
    if (applies("--progress")) cfg.progress = inv.has("--progress");
    return cfg;
}

}  // namespace livefour::cli
