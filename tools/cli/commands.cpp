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
int conclude(session& s, const error_code& ec, const diagnostics& diag, clock::time_point started, int reply_code,
             const std::string& reply_json, const upload_meter* meter, bool billed) {
    s.log.finished(diag, clock::now() - started);
    const int status = exit_for(ec, reply_code);
    // The service answered: its reply goes to stdout, whatever the code. (A failure without a
    // reply leaves a value-initialised result, which is not a reply.)
    if (!ec || status == api_code) s.out.reply(reply_json);
    if (ec) {
        failure_context ctx{s.cfg, reply_code, billed, meter && meter->fully_sent(), meter ? meter->total() : 0};
        s.out.error(describe_failure(ec, diag, ctx));
    }
    s.out.stats(diag, s.client.stats(), clock::now() - started);
    return status;
}

asio::awaitable<int> run_digits(session& s) {
    livefour::digits_request req;
    req.seq = s.cfg.seq;
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] = co_await s.client.async_get_digits(std::move(req), diag, asio::as_tuple(asio::use_awaitable));
    co_return conclude(s, ec, diag, started, res.code, livefour::to_json(res), nullptr, false);
}

/// detect and idcard: upload, then decide. `start` begins the library call for `req`.
template <class Request, class Start>
asio::awaitable<int> upload(session& s, Request req, Start start, bool require_comparison,
                            const char* what_compared) {  // not a std::string: see docs/known-issues.md
    upload_meter meter(s.cfg.progress);
    req.validate_data = s.cfg.validate_data;
    req.video = livefour::body_source::file(s.cfg.video);
    req.seq = s.cfg.seq;
    // Always installed: the meter also records whether the last attempt sent the whole body,
    // which decides the "may have been billed" hint.
    req.on_progress = [&meter](std::uint64_t sent, std::optional<std::uint64_t> total) { meter(sent, total); };
    livefour::diagnostics diag;
    const auto started = clock::now();
    auto [ec, res] = co_await start(std::move(req), diag);
    meter.done();
    int status = conclude(s, ec, diag, started, res.code, livefour::to_json(res), &meter, true);
    if (ec) co_return status;
    // Fail closed: with a comparison asked for, a reply that lacks one is not "accepted".
    const livefour::decision_policy policy{.threshold = s.cfg.threshold, .require_comparison = require_comparison};
    const auto v = livefour::decide(res, policy);
    s.out.verdict(v, res, s.cfg.threshold, what_compared);
    co_return v.accepted() ? accepted : rejected;
}

asio::awaitable<int> run_detect(session& s) {
    livefour::detect_request req;
    if (s.cfg.card) req.card = livefour::body_source::file(*s.cfg.card);
    auto start = [&s](livefour::detect_request r, livefour::diagnostics& d) {
        return s.client.async_detect(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await upload(s, std::move(req), start, s.cfg.card.has_value(), "--card was sent");
}

asio::awaitable<int> run_idcard(session& s) {
    livefour::idcard_detect_request req;
    req.idcard_number = s.cfg.idcard_number;
    req.idcard_name = s.cfg.idcard_name;
    auto start = [&s](livefour::idcard_detect_request r, livefour::diagnostics& d) {
        return s.client.async_idcard_detect(std::move(r), d, asio::as_tuple(asio::use_awaitable));
    };
    co_return co_await upload(s, std::move(req), start, true, "idcardlivedetectfour always compares");
}

std::vector<std::string_view> upload_flags(std::initializer_list<std::string_view> own) {
    std::vector<std::string_view> v{"--validate-data", "--video"};
    v.insert(v.end(), own.begin(), own.end());
    for (auto f : {"--threshold", "--max-upload-bytes", "--chunked", "--progress"}) v.emplace_back(f);
    return v;
}

}  // namespace

const std::vector<command_spec>& commands() {
    static const std::vector<command_spec> table = {
        {"digits", "livegetfour: the 4 digits the user reads aloud while recording (free)", "", {}, {}, run_digits},
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
    };
    return table;
}

}  // namespace livefour::cli
