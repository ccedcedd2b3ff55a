// livefour CLI — the command table and the commands. A command is one row: its name, its help,
// the flags that apply to it, the ones it requires, and the coroutine that runs it.
#include "output.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace livefour::cli {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// The tail every command shares: the reply (when the service answered), the error in CLI terms,
/// the stats, and the exit status. Returns the status; the verdict, if any, is the caller's.
/// `reply_code`: the legacy reply's `code` (0 for faceid, whose error code is in `diag`).
int conclude(session& s, const error_code& ec, const diagnostics& diag, clock::time_point started, int reply_code,
             const upload_meter* meter, bool billed) {
    s.log.finished(diag, clock::now() - started);
    const int status = exit_for(ec, reply_code != 0 || !diag.server_code().empty());
    // The service answered: its reply goes to stdout as received, whatever the code. (A failure
    // without a reply has none to print.)
    if (!ec || status == api_code) s.out.reply(diag.reply_body());
    if (ec) {
        failure_context ctx{s.cfg, reply_code, billed, meter && meter->fully_sent(), meter ? meter->total() : 0};
        s.out.error(describe_failure(ec, diag, ctx));
    }
    s.out.stats(diag, s.stats(), clock::now() - started);
    return status;
}

asio::awaitable<int> run_digits(session& s) {
    livefour::digits_request req;
    req.seq = s.cfg.seq;
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] = co_await s.client->async_get_digits(std::move(req), diag, asio::as_tuple(asio::use_awaitable));
    co_return conclude(s, ec, diag, started, res.code, nullptr, false);
}

/// A billed upload, the tail every upload command shares: the progress meter (always installed:
/// it also records whether the last attempt sent the whole body, which decides the "may have
/// been billed" hint), the call, then the reply and any error. Returns the status so far, and the
/// result when there is a verdict to make. `code_of`: the legacy reply's `code` (0 for faceid).
template <class Result, class Request, class Start>
asio::awaitable<std::pair<int, std::optional<Result>>> billed_upload(session& s, Request req, Start start,
                                                                     int (*code_of)(const Result&)) {
    upload_meter meter(s.cfg.progress);
    req.validate_data = s.cfg.validate_data;
    req.video = livefour::body_source::file(s.cfg.video);
    req.on_progress = [&meter](std::uint64_t sent, std::optional<std::uint64_t> total) { meter(sent, total); };
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] = co_await start(std::move(req), diag);
    meter.done();
    const int status = conclude(s, ec, diag, started, code_of(res), &meter, true);
    if (ec) co_return std::pair{status, std::optional<Result>()};
    co_return std::pair{status, std::optional<Result>(std::move(res))};
}

/// detect and idcard: upload, then decide. `start` begins the library call for `req`.
template <class Request, class Start>
asio::awaitable<int> upload(session& s, Request req, Start start, bool require_comparison,
                            const char* what_compared) {  // not a std::string: see docs/known-issues.md
    req.seq = s.cfg.seq;
    auto [status, res] = co_await billed_upload<livefour::detect_result>(
        s, std::move(req), start, [](const livefour::detect_result& r) { return r.code; });
    if (!res) co_return status;
    // Fail closed: with a comparison asked for, a reply that lacks one is not "accepted".
    const livefour::decision_policy policy{.threshold = s.cfg.threshold, .require_comparison = require_comparison};
    const auto v = livefour::decide(*res, policy);
    s.out.verdict(v, *res, s.cfg.threshold, what_compared);
    co_return v.accepted() ? accepted : rejected;
}

asio::awaitable<int> run_detect(session& s) {
    livefour::detect_request req;
    if (s.cfg.card) req.card = livefour::body_source::file(*s.cfg.card);
    auto start = [&s](livefour::detect_request r, livefour::diagnostics& d) {
        return s.client->async_detect(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await upload(s, std::move(req), start, s.cfg.card.has_value(), "--card was sent");
}

asio::awaitable<int> run_idcard(session& s) {
    livefour::idcard_detect_request req;
    req.idcard_number = s.cfg.idcard_number;
    req.idcard_name = s.cfg.idcard_name;
    auto start = [&s](livefour::idcard_detect_request r, livefour::diagnostics& d) {
        return s.client->async_idcard_detect(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await upload(s, std::move(req), start, true, "idcardlivedetectfour always compares");
}

// faceid (API 3.0). A Result other than Success is a processed, successful call: decide() turns it
// into the verdict, as for the legacy commands.

asio::awaitable<int> run_live_code(session& s) {
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] = co_await s.faceid->async_get_live_code(diag, asio::as_tuple(asio::use_awaitable));
    co_return conclude(s, ec, diag, started, 0, nullptr, false);
}

asio::awaitable<int> run_action_sequence(session& s) {
    livefour::faceid::action_sequence_request req;
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] =
        co_await s.faceid->async_get_action_sequence(std::move(req), diag, asio::as_tuple(asio::use_awaitable));
    co_return conclude(s, ec, diag, started, 0, nullptr, false);
}

/// compare and recognize: upload, then decide. `start` begins the library call for `req`.
template <class Request, class Start>
asio::awaitable<int> liveness(session& s, Request req, Start start) {
    req.liveness = s.cfg.liveness;
    req.best_frames = s.cfg.best_frames;
    auto [status, res] = co_await billed_upload<livefour::faceid::liveness_result>(
        s, std::move(req), start, [](const livefour::faceid::liveness_result&) { return 0; });
    if (!res) co_return status;
    const auto v = livefour::faceid::decide(*res, {.threshold = static_cast<double>(s.cfg.threshold)});
    s.out.verdict(v, *res, s.cfg.threshold);
    co_return v.accepted() ? accepted : rejected;
}

asio::awaitable<int> run_compare(session& s) {
    livefour::faceid::compare_request req;
    req.image = livefour::body_source::file(s.cfg.image);
    auto start = [&s](livefour::faceid::compare_request r, livefour::diagnostics& d) {
        return s.faceid->async_compare(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await liveness(s, std::move(req), start);
}

asio::awaitable<int> run_recognize(session& s) {
    livefour::faceid::recognition_request req;
    req.id_card = s.cfg.id_card;
    req.name = s.cfg.name;
    auto start = [&s](livefour::faceid::recognition_request r, livefour::diagnostics& d) {
        return s.faceid->async_recognize(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await liveness(s, std::move(req), start);
}

/// The legacy API's credentials and request id: no faceid command takes them (its key comes from
/// the environment or a file, never from argv).
constexpr std::string_view legacy_flags[] = {"--appid", "--secret-id", "--secret-key", "--seq"};

std::vector<std::string_view> upload_flags(std::initializer_list<std::string_view> own) {
    std::vector<std::string_view> v{"--validate-data", "--video"};
    v.insert(v.end(), own.begin(), own.end());
    for (auto f : {"--threshold", "--max-upload-bytes", "--chunked", "--progress"}) v.emplace_back(f);
    for (auto f : legacy_flags) v.emplace_back(f);
    return v;
}

/// compare and recognize: their own flags, then what every faceid command has.
std::vector<std::string_view> faceid_flags(std::initializer_list<std::string_view> own) {
    std::vector<std::string_view> v(own);
    for (auto f : {"--region", "--unsigned-payload"}) v.emplace_back(f);
    return v;
}

}  // namespace

const std::vector<command_spec>& commands() {
    using enum api;
    static const std::vector<command_spec> table = {
        {"digits",
         "livegetfour: the 4 digits the user reads aloud while recording (free)",
         "",
         {std::begin(legacy_flags), std::end(legacy_flags)},
         {},
         run_digits},
        {"detect",
         "livedetectfour: liveness of the video and, with --card, comparison with that photo (billed)",
         "--validate-data DIGITS --video FILE [--card FILE]",
         upload_flags({"--card"}),
         {"--validate-data", "--video"},
         run_detect},
        {"idcard",
         "idcardlivedetectfour: liveness plus comparison with the ID authority's photo of the card holder (billed)",
         "--validate-data DIGITS --video FILE --idcard-number N --idcard-name NAME",
         upload_flags({"--idcard-number", "--idcard-name"}),
         {"--validate-data", "--video", "--idcard-number", "--idcard-name"},
         run_idcard},
        {"faceid live-code",
         "API 3.0 GetLiveCode: the 4 digits for a --liveness lip video (free)",
         "",
         faceid_flags({}),
         {},
         run_live_code,
         faceid},
        {"faceid action-sequence",
         "API 3.0 GetActionSequence: the actions for a --liveness action video (free)",
         "",
         faceid_flags({}),
         {},
         run_action_sequence,
         faceid},
        {"faceid compare",
         "API 3.0 LivenessCompare: liveness of the video and its similarity to --image (billed)",
         "--liveness lip|action|silent [--validate-data D] --video FILE --image FILE [--best-frames N]",
         faceid_flags(
             {"--liveness", "--validate-data", "--video", "--image", "--best-frames", "--threshold", "--progress"}),
         {"--liveness", "--video", "--image"},
         run_compare,
         faceid},
        {"faceid recognize",
         "API 3.0 LivenessRecognition: liveness plus comparison with the ID authority's photo (billed)",
         "--liveness lip|action|silent [--validate-data D] --video FILE --id-card N --name NAME [--best-frames N]",
         faceid_flags({"--liveness", "--validate-data", "--video", "--id-card", "--name", "--best-frames",
                       "--threshold", "--progress"}),
         {"--liveness", "--video", "--id-card", "--name"},
         run_recognize,
         faceid},
    };
    return table;
}

}  // namespace livefour::cli
