// The two-step flow with C++20 coroutines: ask for the digits, (the user records a video while
// reading them aloud), upload the video, decide.
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-coroutine --video selfie.mp4 [--endpoint URL] [--ca-file PEM]
//
// Exit status: 0 accepted, 1 not accepted, 3 the call failed.
#include "example_common.hpp"

#include <livefour/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace asio = boost::asio;

namespace {

constexpr const char* usage = "usage: livefour-example-coroutine --video FILE [--endpoint URL] [--ca-file PEM]\n";

// as_tuple(use_awaitable) hands back the error code instead of throwing: an API error (non-zero
// `code`) still comes with the server's reply, which an exception would lose.
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

asio::awaitable<int> verify(livefour::client& client, std::string video_path) {
    livefour::diagnostics diag;

    // Step 1: livegetfour. The digits are single-use and expire (10 minutes on the emulator).
    // Requests are named variables, not braced temporaries inside the co_await expression: GCC 12
    // miscompiles those (docs/known-issues.md).
    livefour::digits_request digits_req;
    auto [ec, digits] = co_await client.async_get_digits(std::move(digits_req), diag, as_result);
    if (ec) {
        example::print_error("livegetfour", ec, diag);
        co_return 3;
    }
    std::cout << "digits to read aloud: " << digits.validate_data << "\n";

    // Step 2: livedetectfour. The file is streamed from disk in one fixed-size buffer; its size is
    // checked against client_options::max_upload_bytes before a byte is sent.
    livefour::detect_request request{
        .validate_data = digits.validate_data,
        .video = livefour::body_source::file(video_path),
    };
    auto [dec, result] = co_await client.async_detect(std::move(request), diag, as_result);
    if (dec) {
        example::print_error("livedetectfour", dec, diag);
        co_return 3;
    }

    // A processed request is not an acceptance: decide() applies the provider's order
    // code → live_status → compare_status → sim >= threshold.
    std::cout << livefour::to_json(result) << "\n";
    livefour::verdict v = livefour::decide(result);
    if (!v.accepted()) {
        std::cout << "verdict: rejected (" << v.reason.message() << ")\n";
        co_return 1;
    }
    std::cout << "verdict: accepted\n";
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    example::args args = example::parse_args(argc, argv, usage);
    if (args.get("--video").empty()) {
        std::cerr << usage;
        return 2;
    }

    asio::io_context ioc;
    livefour::client client = example::make_client(ioc.get_executor(), example::client_options_from(args));

    int status = 3;
    asio::co_spawn(ioc, verify(client, args.get("--video")), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "error: " << ex.what() << "\n";
            }
        } else {
            status = s;
        }
        // Idle keep-alive connections would keep run() busy: closing the client lets it return.
        client.close();
    });
    ioc.run();
    return status;
}
