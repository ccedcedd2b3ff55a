// The machinery of the CLI's tables of cases (cli_table_test.cpp for the legacy commands,
// cli_faceid_table_test.cpp for API 3.0): one row per case, run as a process against the
// emulator, each held to the invariants every run must keep:
//   - the secret key never appears;
//   - no library name reaches a user ("client_options", "timeouts::", "livefour::", ...);
//   - status 2 prints nothing on stdout; on stderr, "livefour: <why>" first (after any warnings) and
//     "try 'livefour ... --help'" last;
//   - statuses 0, 1 and 3 print the service's reply on stdout (one JSON object): a legacy envelope
//     whose `code` is non-zero exactly for 3, or an API 3.0 `Response` that has an `Error` exactly
//     for 3; 2 and 4 print none;
//   - no carriage return unless stderr is a terminal;
//   - with --json, stdout is one JSON object whose "exit" is the exit status.
#pragma once

#include "fixtures.hpp"

#include <boost/json/parse.hpp>

#include <sys/stat.h>

#include <sstream>
#include <tuple>

namespace test {

struct cli_case {
    std::string what;  ///< "row 44: ..." for the review's rows, "boundary: ..." for flag limits
    /// The arguments after `livefour`, or a whole shell command when it starts with '{' (then
    /// `{CLI}` is the CLI and the invariants are not applied). `{D}` is a fresh set of legacy
    /// digits, `{C}` a fresh faceid live code, `{PORT}` the TLS emulator's port, `{PLAIN}` the
    /// plain emulator's URL, `{CLOSED}` a port where a connection is refused.
    std::string command;
    int exit;
    std::vector<std::string> expect = {};  ///< fragments of stdout + stderr
    std::vector<std::string> absent = {};  ///< fragments that must not appear
    std::string env = {};                  ///< a prefix: "LIVEFOUR_SECRET_KEY=WRONG", "env -u X"
    std::string fault = {};                ///< POSTed to the TLS emulator's /_emulator/faults first
};

/// Replaces every `{NAME}` of `vars` in `s`.
inline std::string expand(std::string s, const std::vector<std::pair<std::string, std::string>>& vars) {
    for (const auto& [name, value] : vars)
        for (auto at = s.find(name); at != std::string::npos; at = s.find(name, at + value.size()))
            s.replace(at, name.size(), value);
    return s;
}

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// A file of `size` bytes that starts with `magic` and is zeros after it (sparse: cheap to make).
inline void sparse_file(const std::filesystem::path& p, std::uint64_t size, const std::string& magic) {
    {
        std::ofstream f(p, std::ios::binary);
        f << magic;
    }
    std::filesystem::resize_file(p, size);
}

/// Two emulators (TLS and plain), the files the rows name, and the environment every row starts
/// from: both APIs' test credentials, the TLS emulator as LIVEFOUR_ENDPOINT and its CA as
/// LIVEFOUR_CA_FILE.
struct cli_table {
    emulator emu;
    emulator plain{{}, false};
    std::string cli = cli_path();
    std::string base_env;
    bool root = ::geteuid() == 0;  ///< root reads a mode-000 file anyway: the rows saying "cannot read" are skipped
    /// A port bound and never listened on: a connection to it is refused, and no other process
    /// (another test, a demo on port 1) can take it while the table runs.
    int closed_fd = -1;
    unsigned short closed_port = 0;

    cli_table() {
        closed_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(closed_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t len = sizeof a;
        ::getsockname(closed_fd, reinterpret_cast<sockaddr*>(&a), &len);
        closed_port = ntohs(a.sin_port);
        const auto& dir = emu.dir.path();
        write_file(dir / "video.mp4", 300'000, mp4_magic());
        write_file(dir / "card.jpg", 20'000, jpeg_magic());
        write_file(dir / "empty.mp4", 0);
        write_file(dir / "unreadable.mp4", 1000, mp4_magic());
        ::chmod((dir / "unreadable.mp4").c_str(), 0);
        sparse_file(dir / "huge.mp4", 7 * 1024 * 1024, mp4_magic());
        sparse_file(dir / "big.mp4", 64 * 1024 * 1024, mp4_magic());
        std::filesystem::create_directory(dir / "adir");
        const std::string creds = "# demo\nappid = 1250000000\nsecret_id=AKIDEXAMPLE\nsecret_key=SECRETKEYEXAMPLE\n";
        for (auto [name, mode, text] :
             {std::tuple{"creds-600", 0600, creds}, std::tuple{"creds-644", 0644, creds},
              std::tuple{"creds-bad", 0600, std::string("appid=1\n\nsecret=hunter2\n")},
              std::tuple{"creds-token", 0600,
                         std::string("secret_id=AKIDEXAMPLE\nsecret_key=SECRETKEYEXAMPLE\ntoken=tok\n")},
              std::tuple{"creds-wrong", 0600, std::string("secret_id=AKIDEXAMPLE\nsecret_key=WRONGKEY-hunter2\n")}}) {
            std::ofstream(dir / name) << text;
            ::chmod((dir / name).c_str(), static_cast<mode_t>(mode));
        }
        auto [pki_st, pki_out] =
            run("cd '" + dir.string() +
                "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 1 "
                "-keyout /dev/null -out other-ca.pem 2>&1");
        REQUIRE_MESSAGE(pki_st == 0, pki_out);
        base_env = std::string("LIVEFOUR_APPID=") + appid + " LIVEFOUR_SECRET_ID=" + secret_id +
                   " LIVEFOUR_SECRET_KEY=" + secret_key + " TENCENTCLOUD_SECRET_ID=" + secret_id +
                   " TENCENTCLOUD_SECRET_KEY=" + secret_key + " LIVEFOUR_ENDPOINT=" + emu.url() +
                   " LIVEFOUR_CA_FILE=" + emu.ca_path().string();
    }

    ~cli_table() { ::close(closed_fd); }
    cli_table(const cli_table&) = delete;
    cli_table& operator=(const cli_table&) = delete;

    const std::filesystem::path& dir() const { return emu.dir.path(); }

    /// Runs `args` (after `livefour`) with the base environment; returns stdout.
    std::string ok(const std::string& args) {
        auto [st, out] = run("cd '" + dir().string() + "' && env -u TENCENTCLOUD_SESSION_TOKEN " + base_env + " '" +
                             cli + "' " + args + " 2>/dev/null");
        REQUIRE(st == 0);
        return out;
    }
    std::string fresh_digits() {
        return std::string(parse_json(ok("digits")).at("data").at("validate_data").as_string());
    }
    std::string fresh_live_code() {
        return std::string(parse_json(ok("faceid live-code")).at("Response").at("LiveCode").as_string());
    }

    /// Runs every row and checks it and the invariants. Returns the number of rows run.
    int run_cases(const std::vector<cli_case>& cases) {
        int checked = 0;
        for (const auto& c : cases) {
            if (root && c.what.find("cannot read") != std::string::npos) continue;
            CAPTURE(c.what);
            const bool raw = !c.command.empty() && c.command[0] == '{';
            std::vector<std::pair<std::string, std::string>> vars = {{"{CLI}", "'" + cli + "'"},
                                                                     {"{PORT}", std::to_string(emu.port)},
                                                                     {"{PLAIN}", plain.url()},
                                                                     {"{CLOSED}", std::to_string(closed_port)},
                                                                     {"{} ", ""}};
            if (c.command.find("{D}") != std::string::npos) vars.emplace_back("{D}", fresh_digits());
            if (c.command.find("{C}") != std::string::npos) vars.emplace_back("{C}", fresh_live_code());
            const std::string args = expand(c.command, vars);
            if (!c.fault.empty()) emu.fault(c.fault);
            // bash: the rows use $'...' and ${PIPESTATUS}. The environment: the test credentials
            // of both APIs, the emulator as LIVEFOUR_ENDPOINT and its CA as LIVEFOUR_CA_FILE (no
            // session token, whatever the caller's environment holds), then the row's changes.
            const std::string line = "unset TENCENTCLOUD_SESSION_TOKEN; export " + base_env + "; " +
                                     (c.env.empty() ? "" : c.env + " ") + (raw ? args : "'" + cli + "' " + args) +
                                     " 2> err.txt";
            const std::string cmd = "cd '" + dir().string() + "' && bash -c " + [&] {
                std::string q = "'";
                for (char ch : line) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
                return q + "'";
            }();
            auto [status, out] = run(cmd);
            const std::string err = slurp(dir() / "err.txt");
            const std::string all = out + err;
            CAPTURE(args);
            CAPTURE(out);
            CAPTURE(err);
            ++checked;
            CHECK(status == c.exit);
            for (const auto& e : c.expect) CHECK_MESSAGE(all.find(e) != std::string::npos, "missing: ", e);
            for (const auto& a : c.absent) CHECK_MESSAGE(all.find(a) == std::string::npos, "present: ", a);
            if (!c.fault.empty()) emu.run_delete_faults();
            check_invariants(raw, args, status, out, err);
        }
        return checked;
    }

    static void check_invariants(bool raw, const std::string& args, int status, const std::string& out,
                                 const std::string& err) {
        const std::string all = out + err;
        CHECK(all.find(secret_key) == std::string::npos);
        for (const char* library_name : {"client_options", "timeouts::", "livefour::", "max_upload_bytes",
                                         "allow_insecure_http", "validate_data is", "compare_request",
                                         "recognition_request", "best_frames", "unsigned_payload", "liveness_type"})
            CHECK_MESSAGE(all.find(library_name) == std::string::npos,
                          "a library name reached the user: ", library_name);
        if (raw) return;
        CHECK(all.find('\r') == std::string::npos);
        if (args.find("--json") != std::string::npos) {
            boost::system::error_code ec;
            const auto v = boost::json::parse(out, ec);
            CHECK_MESSAGE(!ec, "--json printed no JSON object");
            if (!ec && v.is_object() && v.as_object().contains("exit")) CHECK(v.at("exit").to_number<int>() == status);
            return;
        }
        if (status == 2) {
            // The reason, on the first line that is not a warning, and the help to read, last.
            CHECK(out.empty());
            std::string first;
            std::istringstream lines(err);
            while (std::getline(lines, first) && first.rfind("livefour: warning: ", 0) == 0) {
            }
            CHECK(first.rfind("livefour: ", 0) == 0);
            const auto try_line = err.rfind("\ntry 'livefour ");
            CHECK((try_line != std::string::npos && err.find('\n', try_line + 1) == err.size() - 1));
        } else if (status == 4) {
            CHECK(out.empty());
        } else if (status == 0 || status == 1 || status == 3) {
            if (out.rfind("usage: ", 0) == 0 || out.rfind("livefour ", 0) == 0) return;  // help, --version
            boost::system::error_code ec;
            const auto v = boost::json::parse(out, ec);
            CHECK_MESSAGE(!ec, "stdout is not the reply");
            const bool object = !ec && v.is_object();
            if (object && v.as_object().contains("Response")) {
                const auto* r = v.at("Response").if_object();
                CHECK_MESSAGE(r, "Response is not an object");
                if (r) CHECK(r->contains("Error") == (status == 3));
                return;
            }
            const bool envelope = object && v.as_object().contains("code");
            CHECK_MESSAGE(envelope, "stdout is not an API envelope");
            if (envelope) CHECK((v.at("code").to_number<int>() != 0) == (status == 3));
        }
    }
};

}  // namespace test
