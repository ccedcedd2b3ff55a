// Integration-test support: child processes (the emulator, peers, curl), temporary files, hashing.
#pragma once

#include <livefour/detail/crypto.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace test {

/// Open file descriptors of this process (leak checks).
inline int open_fds() {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++n;
        closedir(d);
    }
    return n;
}

/// A field of /proc/PID/status in KiB, e.g. "VmRSS" or "VmHWM" (pid 0: this process); -1 if absent.
inline long proc_status_kib(pid_t pid, const std::string& field) {
    std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/status" : std::string("/proc/self/status"));
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

/// A child process whose stdout we read line by line (to learn the port it listens on).
class child {
public:
    explicit child(std::vector<std::string> argv, bool capture_stdout = true) {
        int fds[2];
        if (capture_stdout && pipe(fds) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (capture_stdout) {
            posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
            posix_spawn_file_actions_addclose(&fa, fds[0]);
        }
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0)
            throw std::runtime_error("cannot start " + argv[0]);
        posix_spawn_file_actions_destroy(&fa);
        if (capture_stdout) {
            close(fds[1]);
            out_ = fdopen(fds[0], "r");
        }
    }
    child(const child&) = delete;
    ~child() { stop(); }

    /// Reads one line of the child's stdout (blocking).
    std::string line() {
        char buf[4096];
        if (!out_ || !fgets(buf, sizeof buf, out_)) return {};
        std::string s(buf);
        while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
        return s;
    }

    /// Reads lines until one says "listening on HOST:PORT ..." and returns the port.
    unsigned short listening_port() {
        for (int i = 0; i < 50; ++i) {
            auto l = line();
            if (l.empty() && feof(out_)) break;
            auto p = l.find("listening on ");
            if (p == std::string::npos) continue;
            auto rest = l.substr(p + 13);
            auto colon = rest.rfind(':', rest.find(' '));
            auto end = rest.find(' ', colon);
            return static_cast<unsigned short>(std::stoi(rest.substr(colon + 1, end - colon - 1)));
        }
        throw std::runtime_error("child did not report a listening port");
    }

    /// SIGTERM, then wait. Returns the exit status (or 128+signal).
    int stop() {
        if (pid_ <= 0) return status_;
        kill(pid_, SIGTERM);
        return wait();
    }
    /// Waits for exit; fills the child's peak RSS (KiB).
    int wait() {
        if (pid_ <= 0) return status_;
        int st = 0;
        struct rusage ru {};
        wait4(pid_, &st, 0, &ru);
        max_rss_kib_ = ru.ru_maxrss;
        pid_ = -1;
        if (out_) fclose(out_), out_ = nullptr;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
    }
    long max_rss_kib() const { return max_rss_kib_; }
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
    int status_ = -1;
    long max_rss_kib_ = 0;
};

/// Runs a command, returns (exit status, stdout).
inline std::pair<int, std::string> run(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return {-1, {}};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int st = pclose(p);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

/// A fresh directory under /tmp, removed at the end of the test.
class temp_dir {
public:
    temp_dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "livefour-it-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
        path_ = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// Writes `size` pseudo-random bytes after `prefix` (a container magic) and returns the path.
inline std::filesystem::path write_file(const std::filesystem::path& p, std::uint64_t size, std::string prefix = {},
                                        unsigned seed = 1) {
    std::ofstream f(p, std::ios::binary);
    std::mt19937_64 rng(seed);
    std::string chunk;
    std::uint64_t left = size;
    if (!prefix.empty()) {
        auto n = std::min<std::uint64_t>(prefix.size(), left);
        f.write(prefix.data(), static_cast<std::streamsize>(n));
        left -= n;
    }
    while (left) {
        chunk.resize(std::min<std::uint64_t>(left, 1 << 20));
        for (size_t i = 0; i < chunk.size(); i += 8) {
            auto v = rng();
            std::memcpy(chunk.data() + i, &v, std::min<size_t>(8, chunk.size() - i));
        }
        f.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        left -= chunk.size();
    }
    return p;
}

/// An mp4-looking prefix (`ftyp` box at offset 4) so the emulator recognises the container.
inline std::string mp4_magic() {
    return std::string(
        "\0\0\0\x18"
        "ftypisom\0\0\x02\0isomiso2",
        24);
}
/// A JPEG SOI + APP0 prefix.
inline std::string jpeg_magic() { return std::string("\xFF\xD8\xFF\xE0\0\x10JFIF\0", 11); }

inline std::string sha256_hex(std::string_view bytes) {
    auto d = livefour::detail::sha256(bytes);
    return livefour::detail::to_hex(d);
}

inline std::string sha256_file(const std::filesystem::path& p) {
    auto [st, out] = run("sha256sum '" + p.string() + "'");
    return out.substr(0, 64);
}

inline boost::json::value parse_json(const std::string& s) { return boost::json::parse(s); }

}  // namespace test
