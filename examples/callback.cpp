// The two-step flow with plain completion handlers (no coroutines): each step starts the next
// from its handler.
//
//   export LIVEFOUR_APPID=... LIVEFOUR_SECRET_ID=... LIVEFOUR_SECRET_KEY=...
//   livefour-example-callback --video selfie.mp4 [--endpoint URL] [--ca-file PEM]
//
// Exit status: 0 accepted, 1 not accepted, 3 the call failed.
#include "example_common.hpp"

#include <livefour/client.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <memory>
#include <string>

namespace asio = boost::asio;

namespace {

constexpr const char* usage = "usage: livefour-example-callback --video FILE [--endpoint URL] [--ca-file PEM]\n";

/// One verification in flight. It is owned by the handlers (shared_ptr): the diagnostics object
/// must outlive every operation that writes to it, and the handlers are what lives that long.
class verification : public std::enable_shared_from_this<verification> {
public:
    verification(livefour::client& client, std::string video_path, int& status)
        : client_(client), video_path_(std::move(video_path)), status_(status) {}

    void start() {
        client_.async_get_digits({}, diag_,
                                 [self = shared_from_this()](livefour::error_code ec, livefour::digits_result digits) {
                                     self->on_digits(ec, std::move(digits));
                                 });
    }

private:
    void on_digits(livefour::error_code ec, livefour::digits_result digits) {
        if (ec) return finish("livegetfour", ec);
        std::cout << "digits to read aloud: " << digits.validate_data << "\n";
        livefour::detect_request request{
            .validate_data = digits.validate_data,
            .video = livefour::body_source::file(video_path_),
        };
        // Handlers run through the client's executor, never inside async_detect itself, so this
        // chain cannot recurse however the operation completes.
        client_.async_detect(std::move(request), diag_,
                             [self = shared_from_this()](livefour::error_code ec, livefour::detect_result result) {
                                 self->on_detect(ec, result);
                             });
    }

    void on_detect(livefour::error_code ec, const livefour::detect_result& result) {
        if (ec) return finish("livedetectfour", ec);
        std::cout << livefour::to_json(result) << "\n";
        livefour::verdict v = livefour::decide(result);
        std::cout << "verdict: " << (v.accepted() ? "accepted" : "rejected (" + v.reason.message() + ")") << "\n";
        status_ = v.accepted() ? 0 : 1;
        client_.close();
    }

    void finish(const char* what, livefour::error_code ec) {
        example::print_error(what, ec, diag_);
        status_ = 3;
        client_.close();  // lets io_context::run() return: no idle connection keeps it busy
    }

    livefour::client& client_;
    std::string video_path_;
    int& status_;
    livefour::diagnostics diag_;
};

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
    std::make_shared<verification>(client, args.get("--video"), status)->start();
    ioc.run();
    return status;
}
