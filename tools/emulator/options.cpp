// livefour-emulator — command-line parsing (see options.hpp).
#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>

namespace livefour::emulator {
namespace {

template <class T>
std::optional<T> parse_number(std::string_view s) {
    T v{};
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::string usage_text() {
    return R"help(usage: livefour-emulator [options]

A local server that speaks the legacy lip-reading liveness API (POST /face/livegetfour,
/face/livedetectfour, /face/idcardlivedetectfour) and Tencent Cloud API 3.0 faceid (POST /
by X-TC-Action). Prints one line
"listening on <host>:<port> (https|http)" once ready; SIGINT/SIGTERM stop it gracefully.

Network
  --host H                 address to bind (default 127.0.0.1)
  --port N                 port, 0 = pick a free one (default 0)
  --plain                  serve HTTP instead of HTTPS
  --cert FILE --key FILE   PEM certificate chain and private key to serve; without them an
                           EC P-256 CA and a server certificate for 127.0.0.1, ::1, localhost
                           (and --host) are generated in memory at start-up
  --write-ca FILE          write the generated CA certificate (PEM) for clients to trust
  --no-keep-alive          close the connection after every response
  --idle-timeout S         keep-alive idle limit and per-read/write stall limit (default 30)
  --request-timeout S      the whole request must arrive within S seconds, 0 = no limit
                           (default 120)
  --max-header-bytes N     request header limit (default 8192)
  --max-body-bytes N       request body limit, over it: code 23 and close; 0 = unlimited
                           (default 6291456)

API 3.0 (POST / with X-TC-Action, TC3-HMAC-SHA256; same key as below, see docs/emulator.md)
  --tls-name NAME          add NAME to the generated certificate (repeatable), e.g.
                           faceid.tencentcloudapi.com for a client that keeps the real host name
  --tc3-token T            temporary credentials: require X-TC-Token T (default: none allowed)
  --tc3-max-skew S         allowed |X-TC-Timestamp - now| (default 300)
  --tc3-max-body-bytes N   body limit, over it RequestSizeLimitExceeded (default 10485760)
  --tc3-max-video-base64 N VideoBase64 characters (default 8388608)
  --tc3-max-image-base64 N ImageBase64 characters (default 3145728)

Credentials (exactly one key)
  --appid ID               default $LIVEFOUR_APPID, else 1250000000
  --secret-id ID           default $LIVEFOUR_SECRET_ID, else AKIDEXAMPLE
  --secret-key KEY         default $LIVEFOUR_SECRET_KEY, else SECRETKEYEXAMPLE (prefer the
                           environment: arguments are visible to other users; never printed)
  --bucket B               bucket the signature must name (default empty)

Behaviour
  --digits-ttl S           lifetime of digits issued by livegetfour (default 600)
  --digits DDDD            always issue these four digits (still single use)
  --force-code N           answer API requests with top-level code N (no data)
  --force-live-status N    force data.live_status
  --force-compare-status N force data.compare_status (comparing requests only)
  --force-sim N            force data.sim (0..100)
  --force-delay-ms N       wait N ms before replying
  --force-drop             read each API request fully, then close without replying
  --force-count N          apply the --force-* flags to the first N authenticated API
                           requests only (default 0 = all)
  A request's `seq` field "force:key=value[,key=value...]" (keys code, live_status,
  compare_status, sim, delay_ms, drop) overrides the flags for that request.

Fault injection (also at run time: POST/DELETE/GET /_emulator/faults; see docs/emulator.md)
  --fault JSON             install a fault, same JSON as POST /_emulator/faults, e.g.
                           '{"fault":"code","code":15,"count":2}'; repeatable, queued in order
  --keepalive-close-ms T   close keep-alive connections idle for T ms after a response
  --rate-limit R           token bucket of R requests/s per emulator; over it: code 15
  --rate-limit-burst B     bucket size for --rate-limit (default: R rounded up)

Other
  --quiet                  no per-request log lines on stderr
  --help                   this text
)help";
}

parse_result parse_options(const std::vector<std::string>& args,
                           const std::function<const char*(const char*)>& getenv) {
    parse_result r;
    auto& o = r.opts;
    std::optional<std::string> appid, secret_id, secret_key;
    std::optional<double> rate_limit;
    std::optional<std::uint64_t> rate_burst;

    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string flag = args[i];
        std::optional<std::string> inline_value;
        if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
            inline_value = flag.substr(eq + 1);
            flag.resize(eq);
        }
        auto fail = [&](std::string why) {
            r.error = std::move(why);
            return r;
        };
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 >= args.size()) return std::nullopt;
            return args[++i];
        };
        auto switch_flag = [&]() { return !inline_value; };

        if (flag == "--help" || flag == "-h") {
            r.help = true;
            return r;
        }

        // Boolean flags.
        if (flag == "--plain" || flag == "--quiet" || flag == "--no-keep-alive" || flag == "--force-drop") {
            if (!switch_flag()) return fail(flag + " takes no value");
            if (flag == "--plain")
                o.plain = true;
            else if (flag == "--quiet")
                o.quiet = true;
            else if (flag == "--no-keep-alive")
                o.keep_alive = false;
            else
                o.service.force.drop = true;
            continue;
        }

        static const char* const valued[] = {"--host",
                                             "--port",
                                             "--cert",
                                             "--key",
                                             "--write-ca",
                                             "--appid",
                                             "--secret-id",
                                             "--secret-key",
                                             "--bucket",
                                             "--idle-timeout",
                                             "--request-timeout",
                                             "--digits-ttl",
                                             "--digits",
                                             "--max-body-bytes",
                                             "--max-header-bytes",
                                             "--force-code",
                                             "--force-live-status",
                                             "--force-compare-status",
                                             "--force-sim",
                                             "--force-delay-ms",
                                             "--force-count",
                                             "--fault",
                                             "--keepalive-close-ms",
                                             "--rate-limit",
                                             "--rate-limit-burst",
                                             "--tls-name",
                                             "--tc3-token",
                                             "--tc3-max-skew",
                                             "--tc3-max-body-bytes",
                                             "--tc3-max-video-base64",
                                             "--tc3-max-image-base64"};
        if (std::find(std::begin(valued), std::end(valued), flag) == std::end(valued))
            return fail("unknown option " + flag + " (see --help)");
        const auto v = value();
        if (!v) return fail(flag + " needs a value");
        auto seconds = [&](std::chrono::seconds& out) -> bool {
            const auto n = parse_number<std::uint32_t>(*v);
            if (!n) return false;
            out = std::chrono::seconds(*n);
            return true;
        };
        auto integer = [&](std::optional<int>& out) -> bool {
            const auto n = parse_number<int>(*v);
            if (!n) return false;
            out = *n;
            return true;
        };

        if (flag == "--host") {
            if (v->empty()) return fail("--host needs a value");
            o.host = *v;
        } else if (flag == "--port") {
            const auto n = parse_number<std::uint16_t>(*v);
            if (!n) return fail("--port must be 0..65535");
            o.port = *n;
        } else if (flag == "--cert")
            o.cert_file = *v;
        else if (flag == "--key")
            o.key_file = *v;
        else if (flag == "--write-ca")
            o.write_ca_file = *v;
        else if (flag == "--appid")
            appid = *v;
        else if (flag == "--secret-id")
            secret_id = *v;
        else if (flag == "--secret-key")
            secret_key = *v;
        else if (flag == "--bucket")
            o.service.auth.bucket = *v;
        else if (flag == "--idle-timeout") {
            if (!seconds(o.idle_timeout) || o.idle_timeout.count() == 0)
                return fail("--idle-timeout must be a positive number of seconds");
        } else if (flag == "--request-timeout") {
            if (!seconds(o.request_timeout)) return fail("--request-timeout must be a number of seconds");
        } else if (flag == "--digits-ttl") {
            if (!seconds(o.service.digits_ttl)) return fail("--digits-ttl must be a number of seconds");
        } else if (flag == "--digits") {
            if (v->size() != 4 || !all_digits(*v)) return fail("--digits must be four digits");
            o.service.fixed_digits = *v;
        } else if (flag == "--max-body-bytes") {
            const auto n = parse_number<std::uint64_t>(*v);
            if (!n) return fail("--max-body-bytes must be a number");
            o.max_body_bytes = *n;
        } else if (flag == "--max-header-bytes") {
            const auto n = parse_number<std::size_t>(*v);
            if (!n || *n < 256 || *n > 1024 * 1024) return fail("--max-header-bytes must be 256..1048576");
            o.max_header_bytes = *n;
        } else if (flag == "--force-code") {
            if (!integer(o.service.force.code)) return fail("--force-code must be an integer");
        } else if (flag == "--force-live-status") {
            if (!integer(o.service.force.live_status)) return fail("--force-live-status must be an integer");
        } else if (flag == "--force-compare-status") {
            if (!integer(o.service.force.compare_status)) return fail("--force-compare-status must be an integer");
        } else if (flag == "--force-sim") {
            if (!integer(o.service.force.sim) || *o.service.force.sim < 0 || *o.service.force.sim > 100)
                return fail("--force-sim must be 0..100");
        } else if (flag == "--force-delay-ms") {
            if (!integer(o.service.force.delay_ms) || *o.service.force.delay_ms < 0)
                return fail("--force-delay-ms must be a non-negative integer");
        } else if (flag == "--force-count") {
            const auto n = parse_number<std::uint64_t>(*v);
            if (!n) return fail("--force-count must be a number");
            o.service.force_count = *n;
        } else if (flag == "--fault") {
            std::string why;
            auto list = parse_faults(*v, &why);
            if (!list) return fail("--fault: " + why);
            for (auto& f : *list) o.service.faults.push_back(std::move(f));
        } else if (flag == "--keepalive-close-ms") {
            const auto n = parse_number<std::uint64_t>(*v);
            if (!n || *n == 0 || *n > fault_limits::max_ms)
                return fail("--keepalive-close-ms must be 1.." + std::to_string(fault_limits::max_ms));
            fault f;
            f.kind = fault_kind::keepalive_close;
            f.ms = *n;
            o.service.faults.push_back(std::move(f));
        } else if (flag == "--rate-limit") {
            const auto n = parse_number<double>(*v);
            if (!n || !(*n > 0) || *n > fault_limits::max_per_second)
                return fail("--rate-limit must be in (0, 1000000]");
            rate_limit = *n;
        } else if (flag == "--tls-name") {
            if (v->empty() || v->find_first_of(", \r\n") != std::string::npos)
                return fail("--tls-name must be one host name");
            o.tls_names.push_back(*v);
        } else if (flag == "--tc3-token") {
            if (v->empty()) return fail("--tc3-token must not be empty");
            o.service.tc3.token = *v;
        } else if (flag == "--tc3-max-skew") {
            const auto n = parse_number<std::uint32_t>(*v);
            if (!n) return fail("--tc3-max-skew must be a number of seconds");
            o.service.tc3.max_skew_s = *n;
        } else if (flag == "--tc3-max-body-bytes" || flag == "--tc3-max-video-base64" ||
                   flag == "--tc3-max-image-base64") {
            const auto n = parse_number<std::uint64_t>(*v);
            if (!n || *n == 0) return fail(flag + " must be a positive number");
            auto& t = o.service.tc3;
            (flag == "--tc3-max-body-bytes"     ? t.max_body_bytes
             : flag == "--tc3-max-video-base64" ? t.max_video_base64
                                                : t.max_image_base64) = *n;
        } else if (flag == "--rate-limit-burst") {
            const auto n = parse_number<std::uint64_t>(*v);
            if (!n || *n == 0 || *n > fault_limits::max_burst) return fail("--rate-limit-burst must be 1..1000000");
            rate_burst = *n;
        }
    }

    if (rate_burst && !rate_limit) {
        r.error = "--rate-limit-burst needs --rate-limit";
        return r;
    }
    if (rate_limit) {
        fault f;
        f.kind = fault_kind::rate_limit;
        f.count = 0;
        f.per_second = *rate_limit;
        f.burst = rate_burst.value_or(std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(*rate_limit))));
        o.service.faults.push_back(std::move(f));
    }
    if (std::count_if(o.service.faults.begin(), o.service.faults.end(), [](const fault& f) {
            return f.kind != fault_kind::rate_limit && f.kind != fault_kind::keepalive_close;
        }) > static_cast<std::ptrdiff_t>(fault_limits::max_pending)) {
        r.error = "at most " + std::to_string(fault_limits::max_pending) + " faults can be queued";
        return r;
    }

    auto pick = [&](std::optional<std::string>& flag, const char* env, const char* fallback) {
        if (flag) return *flag;
        if (const char* e = getenv(env); e && *e) return std::string(e);
        return std::string(fallback);
    };
    credential c;
    c.appid = pick(appid, "LIVEFOUR_APPID", "1250000000");
    c.secret_id = pick(secret_id, "LIVEFOUR_SECRET_ID", "AKIDEXAMPLE");
    c.secret_key = pick(secret_key, "LIVEFOUR_SECRET_KEY", "SECRETKEYEXAMPLE");
    if (c.appid.empty() || c.secret_id.empty() || c.secret_key.empty()) {
        r.error = "appid, secret id and secret key must not be empty";
        return r;
    }
    o.service.auth.credentials = {std::move(c)};

    if (o.cert_file.empty() != o.key_file.empty())
        r.error = "--cert and --key go together";
    else if (o.plain && (!o.cert_file.empty() || !o.write_ca_file.empty()))
        r.error = "--plain excludes --cert/--key/--write-ca";
    else if (!o.cert_file.empty() && !o.write_ca_file.empty())
        r.error = "--write-ca only applies to the generated CA (not with --cert)";
    return r;
}

}  // namespace livefour::emulator
