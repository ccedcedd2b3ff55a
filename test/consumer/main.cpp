// A downstream program: it includes the public headers, builds a client, starts an operation and
// links every part of livefour it touches. It needs no network: the client is closed before the
// io_context runs, so the operation completes with an error without a byte being sent.
#include <livefour/client.hpp>

#include <boost/asio/io_context.hpp>

#include <iostream>

int main() {
    livefour::client_options opts;
    opts.endpoint = "https://127.0.0.1:9";  // never contacted
    opts.creds.appid = "1250000000";
    opts.creds.secret_id = "AKIDEXAMPLE";
    opts.creds.secret_key = livefour::secret_string("SECRETKEYEXAMPLE");
    if (auto ec = livefour::validate(opts)) {
        std::cerr << "consumer: options refused: " << ec.message() << "\n";
        return 1;
    }

    boost::asio::io_context ioc;
    livefour::client client(ioc.get_executor(), opts);
    livefour::error_code result;
    bool completed = false;
    client.async_get_digits({}, [&](livefour::error_code ec, livefour::digits_result) {
        completed = true;
        result = ec;
    });
    client.close();
    ioc.run();

    // The handler ran exactly once, with an error (aborted or refused by the closed pool).
    if (!completed || !result) {
        std::cerr << "consumer: the closed client did not fail the operation\n";
        return 1;
    }
    std::cout << "consumer ok: " << livefour::api_message(14) << " / " << result.message() << "\n";
    return 0;
}
