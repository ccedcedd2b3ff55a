// livefour from code that is not asynchronous: the io_context runs on a background thread and
// the main thread waits on std::futures (asio::use_future).
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-future --video selfie.mp4 [--endpoint URL] [--ca-file PEM]
//
// Exit status: 0 accepted, 1 not accepted, 3 the call failed.
#include "example_common.hpp"

#include <livefour/client.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

namespace asio = boost::asio;

namespace {

constexpr const char* usage = "usage: livefour-example-future --video FILE [--endpoint URL] [--ca-file PEM]\n";

int verify(livefour::client& client, const std::string& video_path) {
    // Plain use_future: the future holds the result, and get() throws boost::system::system_error
    // when the operation failed. Simple, but an API error's reply is lost with the exception.
    livefour::digits_result digits;
    try {
        std::future<livefour::digits_result> f = client.async_get_digits({}, asio::use_future);
        digits = f.get();  // blocks this thread only; the I/O thread keeps running
    } catch (const boost::system::system_error& e) {
        std::cerr << "livegetfour: " << e.what() << "\n";
        return 3;
    }
    std::cout << "digits to read aloud: " << digits.validate_data << "\n";

    // When the reply of an API error matters, complete a std::promise from a plain handler: the
    // future then carries (error_code, result) and never throws for an operation error.
    // (as_tuple(use_future) would say the same, but Boost 1.81's use_future does not compose with
    // as_tuple.) The diagnostics object is written before the handler runs, read after get().
    livefour::diagnostics diag;
    livefour::detect_request request{
        .validate_data = digits.validate_data,
        .video = livefour::body_source::file(video_path),
    };
    std::promise<std::pair<livefour::error_code, livefour::detect_result>> done;
    std::future<std::pair<livefour::error_code, livefour::detect_result>> f = done.get_future();
    client.async_detect(std::move(request), diag, [&done](livefour::error_code ec, livefour::detect_result r) {
        done.set_value({ec, std::move(r)});
    });
    auto [ec, result] = f.get();
    if (ec) {
        example::print_error("livedetectfour", ec, diag);
        return 3;
    }
    std::cout << livefour::to_json(result) << "\n";
    livefour::verdict v = livefour::decide(result);
    std::cout << "verdict: " << (v.accepted() ? "accepted" : "rejected (" + v.reason.message() + ")") << "\n";
    return v.accepted() ? 0 : 1;
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

    // One thread runs the I/O; the work guard keeps run() from returning while nothing is queued.
    auto work = asio::make_work_guard(ioc);
    std::thread io_thread([&ioc] { ioc.run(); });

    int status = verify(client, args.get("--video"));

    client.close();  // thread-safe; closes the idle keep-alive connections
    work.reset();
    io_thread.join();
    return status;
}
