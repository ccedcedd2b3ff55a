// The CLI's proxy: --proxy and the environment the way curl reads them (tools/cli/proxy_env.hpp,
// whose every rule test/unit/cli_proxy_env_test.cpp checks), against a real tinyproxy, with the
// proxy's password never on the terminal.
#include "fixtures.hpp"

#include <fstream>
#include <thread>

namespace {

/// tinyproxy with Basic auth on a free port of 127.0.0.1, log to a file (as in proxy_test.cpp,
/// in a shorter form: the CLI's tests need only the proxy and its count of tunnels).
struct auth_proxy {
    static constexpr const char* password = "Cli-Pr0xy-Pw";
    auth_proxy() {
        for (int attempt = 0; attempt < 5 && !proc; ++attempt) {
            const int fd = test::listen_loopback(port);
            ::close(fd);
            std::ofstream(dir / "tp.conf")
                << "Port " << port << "\nListen 127.0.0.1\nTimeout 30\nLogLevel Connect\n"
                << "LogFile \"" << (dir / "tp.log").string() << "\"\nBasicAuth alice " << password << "\n";
            proc.emplace(std::vector<std::string>{"tinyproxy", "-d", "-c", (dir / "tp.conf").string()}, false);
            bool up = false;
            for (int i = 0; i < 250 && !up; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                up = test::run("curl -s -o /dev/null --max-time 1 http://127.0.0.1:" + std::to_string(port) + "/")
                         .first != 7;  // 7: could not connect
            }
            if (!up) proc.reset();
        }
        REQUIRE_MESSAGE(proc, "tinyproxy did not start (scripts/setup.sh installs tinyproxy-bin)");
    }
    std::string url(const std::string& pw = password) const {
        return "http://alice:" + pw + "@127.0.0.1:" + std::to_string(port);
    }
    int connects() const {
        std::ifstream f(dir / "tp.log");
        std::string line;
        int n = 0;
        while (std::getline(f, line)) n += line.find(": CONNECT ") != std::string::npos;
        return n;
    }
    test::temp_dir dir;
    unsigned short port = 0;
    std::optional<test::child> proc;
};

/// The CLI with a clean proxy environment plus `env` ("NAME=value ..."), stdout and stderr together.
std::pair<int, std::string> cli(const std::string& env, const std::string& args) {
    return test::run("env -u https_proxy -u HTTPS_PROXY -u http_proxy -u no_proxy -u NO_PROXY -u ALL_PROXY " + env +
                     " LIVEFOUR_APPID=" + test::appid + " LIVEFOUR_SECRET_ID=" + test::secret_id +
                     " LIVEFOUR_SECRET_KEY=" + test::secret_key + " '" + test::cli_path() + "' " + args + " 2>&1");
}

}  // namespace

TEST_CASE("CLI proxy: HTTPS_PROXY and https_proxy as curl reads them, NO_PROXY, --proxy ''; no password shown") {
    test::emulator emu;
    auth_proxy proxy;
    const std::string pw = auth_proxy::password;
    const std::string digits = "digits -v --endpoint " + emu.url() + " --ca-file '" + emu.ca_path().string() + "'";

    auto [s1, out1] = cli("HTTPS_PROXY='" + proxy.url() + "'", digits);
    INFO(out1);
    CHECK(s1 == 0);
    CHECK(out1.find("* through the proxy http://127.0.0.1:" + std::to_string(proxy.port) +
                    " with credentials (never printed) (HTTPS_PROXY)") != std::string::npos);
    CHECK(proxy.connects() == 1);

    // The lower-case variable first: its wrong password is refused (exit 4, never retried).
    auto [s2, out2] = cli("https_proxy='" + proxy.url("Wrong-" + pw) + "' HTTPS_PROXY='" + proxy.url() + "'", digits);
    INFO(out2);
    CHECK(s2 == 4);
    CHECK(out2.find("refused the credentials") != std::string::npos);
    CHECK(out2.find("the proxy comes from https_proxy") != std::string::npos);
    CHECK(proxy.connects() == 2);

    // NO_PROXY exempts the endpoint, from --proxy too; --proxy '' turns the environment's off.
    auto [s3, out3] = cli("HTTPS_PROXY='" + proxy.url("Wrong-" + pw) + "' NO_PROXY=localhost,127.0.0.1", digits);
    CHECK(s3 == 0);
    CHECK(out3.find("* no proxy: the endpoint's host is in NO_PROXY") != std::string::npos);
    auto [s4, out4] = cli("NO_PROXY=127.0.0.0/8", digits + " --proxy '" + proxy.url("Wrong-" + pw) + "'");
    CHECK(s4 == 0);
    auto [s5, out5] = cli("HTTPS_PROXY='" + proxy.url("Wrong-" + pw) + "'", digits + " --proxy ''");
    CHECK(s5 == 0);
    CHECK(out5.find("through the proxy") == std::string::npos);
    CHECK(proxy.connects() == 2);

    // A proxy URL the library refuses: a usage error naming where it came from, nothing sent.
    auto [s6, out6] = cli("", digits + " --proxy 'https://alice:" + pw + "@127.0.0.1:3128'");
    CHECK(s6 == 2);
    CHECK(out6.find("livefour: --proxy: proxy URL: https:// proxies are not supported") != std::string::npos);
    auto [s7, out7] = cli("HTTPS_PROXY='http://alice:" + pw + "@127.0.0.1'", digits);
    CHECK(s7 == 2);
    CHECK(out7.find("livefour: HTTPS_PROXY: proxy URL needs a port") != std::string::npos);
    // With --json too, the one object carries no password.
    auto [s8, out8] = cli("HTTPS_PROXY='" + proxy.url("Wrong-" + pw) + "'", digits + " --json");
    CHECK(s8 == 4);
    CHECK(test::parse_json(out8.substr(out8.find('{'))).at("error").at("message").as_string().find("407") !=
          std::string::npos);

    for (const auto* out : {&out1, &out2, &out3, &out4, &out5, &out6, &out7, &out8}) {
        CHECK(out->find(pw) == std::string::npos);
        CHECK(out->find("Q2xp") == std::string::npos);  // nor its Basic encoding ("alice:Cli-..." in base64)
    }
}
