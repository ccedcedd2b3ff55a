// livefour CLI — the flag table, the command-line parser and the help texts, all driven by the
// two tables (flags here, commands in commands.cpp), so that a flag or a command cannot exist
// without appearing in --help, and the docs test holds docs/cli.md to --help.
#include "cli.hpp"

#include <openssl/crypto.h>
#include <boost/version.hpp>

#include <algorithm>
#include <cstdio>

#ifndef LIVEFOUR_VERSION
#error "tools/CMakeLists.txt defines LIVEFOUR_VERSION (the project's version)"
#endif

namespace livefour::cli {

const std::vector<flag_spec>& flags() {
    using enum flag_scope;
    // clang-format off
    static const std::vector<flag_spec> table = {
        {"--endpoint",         "",   "URL",    common,  "API endpoint (default $LIVEFOUR_ENDPOINT, else https://recognition.image.myqcloud.com; faceid: https://faceid.tencentcloudapi.com)"},
        {"--ca-file",          "",   "PEM",    common,  "trust these CAs instead of the system store (default $LIVEFOUR_CA_FILE)"},
        {"--insecure-http",    "",   "",       common,  "allow an http:// endpoint (the signature then travels in cleartext)"},
        {"--proxy",            "",   "URL",    common,  "HTTP proxy http://[user:password@]host:port; \"\" = none (default $https_proxy, $HTTPS_PROXY; $NO_PROXY applies)"},
        {"--credentials",      "",   "FILE",   common,  "appid=, secret_id=, secret_key= lines (faceid: secret_id=, secret_key=, token=); FILE must be mode 0600; - reads stdin"},
        {"--appid",            "",   "ID",     command, "AppID (else --credentials, else $LIVEFOUR_APPID)"},
        {"--secret-id",        "",   "ID",     command, "SecretId (else --credentials, else $LIVEFOUR_SECRET_ID)"},
        {"--secret-key",       "",   "KEY",    command, "SecretKey (else --credentials, else $LIVEFOUR_SECRET_KEY); argv is visible to ps"},
        {"--seq",              "",   "S",      command, "request id, echoed by the service"},
        {"--max-attempts",     "",   "N",      common,  "attempts including the first, 1-100 (default 3; 1 = no retry)"},
        {"--connect-timeout",  "",   "S",      common,  "resolve + connect bound in seconds, >= 0.001 or 0 = none (default 10)"},
        {"--stall-timeout",    "",   "S",      common,  "fail after S seconds without upload or download progress; 0 = none (default 30)"},
        {"--deadline",         "",   "S",      common,  "overall bound in seconds, retries included; 0 = none (default 0)"},
        {"--stats",            "",   "",       common,  "one JSON line on stderr: attempts, retries, timings, connection reuse"},
        {"--json",             "",   "",       common,  "print one JSON object on stdout: reply, verdict, error, stats, exit"},
        {"--verbose",          "-v", "",       common,  "on stderr: the endpoint, the credentials' sources, each attempt (peer, TLS, headers redacted), every retry"},
        {"--validate-data",    "",   "DIGITS", command, "the 4 digits that 'livefour digits' (faceid: 'faceid live-code') issued; faceid action: the sequence, e.g. 1,2"},
        {"--video",            "",   "FILE",   command, "the video the user recorded"},
        {"--card",             "",   "FILE",   command, "a photo to compare with (sets compare_flag=true; a reply without a comparison is rejected)"},
        {"--idcard-number",    "",   "N",      command, "the ID card number"},
        {"--idcard-name",      "",   "NAME",   command, "the name on the ID card (UTF-8)"},
        {"--liveness",         "",   "TYPE",   command, "what the user did on the video: lip (read the digits), action (the sequence) or silent"},
        {"--image",            "",   "FILE",   command, "the photo to compare the face with (jpg/png; at most 3 MB once in base64)"},
        {"--id-card",          "",   "N",      command, "the national ID number (IdCard)"},
        {"--name",             "",   "NAME",   command, "the name on the ID card, UTF-8 (Name)"},
        {"--best-frames",      "",   "N",      command, "also return N best frames, 2-10 (BestFrameNum; default none)"},
        {"--threshold",        "",   "N",      command, "similarity 0-100 needed to accept a comparison (default 70)"},
        {"--max-upload-bytes", "",   "N",      command, "client-side body limit in bytes (default 6291456; 0 = none)"},
        {"--chunked",          "",   "",       command, "send the body with Transfer-Encoding: chunked"},
        {"--progress",         "",   "",       command, "upload progress on stderr (a bar on a terminal, a line per 25% otherwise)"},
        {"--region",           "",   "R",      command, "X-TC-Region, such as ap-guangzhou (default: none; the China-site actions need none)"},
        {"--unsigned-payload", "",   "",       command, "sign UNSIGNED-PAYLOAD instead of the body's SHA-256: the files are read once (undocumented by Tencent)"},
        {"--help",             "-h", "",       global,  "this text; 'livefour COMMAND --help' for a command's own"},
        {"--version",          "-V", "",       global,  "print the versions of livefour, Boost and OpenSSL"},
    };
    // clang-format on
    return table;
}

const flag_spec* find_flag(std::string_view name) {
    for (const auto& f : flags())
        if (f.name == name || (!f.short_name.empty() && f.short_name == name)) return &f;
    return nullptr;
}

std::string printable(std::string_view s, std::size_t max) {
    std::string out = "'";
    for (std::size_t i = 0; i < s.size() && i < max; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > max) out += "...";
    return out + "'";
}

namespace {

bool applies(const flag_spec& f, const command_spec& c) {
    return f.scope != flag_scope::command || std::find(c.flags.begin(), c.flags.end(), f.name) != c.flags.end();
}

/// The command named by the positional words: "detect", or a group's "faceid live-code".
const command_spec* match_command(const std::string& words) {
    for (const auto& c : commands())
        if (c.name == words) return &c;
    return nullptr;
}

bool is_group(std::string_view word) {
    return std::any_of(commands().begin(), commands().end(), [&](const command_spec& c) {
        const auto space = c.name.find(' ');
        return space != std::string_view::npos && c.name.substr(0, space) == word;
    });
}

}  // namespace

invocation parse_command_line(int argc, char** argv, bool& json_out) {
    invocation inv;
    std::vector<std::string> words;  // positional arguments: the command (and its group)
    std::vector<std::string> given;  // flags in order of appearance, for the applicability check
    const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
    // Help and version win over every other mistake on the line: "livefour detect --bogus -h"
    // should show detect's help, not complain.
    for (const auto& a : args) {
        if (a == "-h" || a == "--help") inv.help = true;
        if (a == "-V" || a == "--version") inv.version = true;
        if (a == "--json") json_out = inv.json = true;
    }
    std::string command_name;  // once known: for "try 'livefour CMD --help'"
    auto fail = [&](const std::string& why) -> usage_error { return usage_error(why, command_name); };

    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string s = args[i];
        if (s.size() < 2 || s[0] != '-') {  // a positional word ("-" alone is one too): the command
            words.push_back(s);
            if (inv.command) {
                if (inv.help || inv.version) continue;
                throw fail("unexpected argument " + printable(s) + " after the command '" + command_name + "'");
            }
            std::vector<std::string> w(words.begin() + (words[0] == "help" ? 1 : 0), words.end());
            if (w.empty() || (w.size() == 1 && is_group(w[0]))) continue;  // "help", or a group's first word
            const std::string name = w.size() == 1 ? w[0] : w[0] + " " + w[1];
            if (const auto* c = match_command(name)) {
                inv.command = c;
                command_name = std::string(c->name);
                continue;
            }
            if (inv.help || inv.version) continue;
            throw fail("unknown command " + printable(name));
        }
        std::string value;
        bool inline_value = false;
        if (s.rfind("--", 0) == 0) {
            if (const auto eq = s.find('='); eq != std::string::npos) {
                value = s.substr(eq + 1);
                s.resize(eq);
                inline_value = true;
            }
        }
        const flag_spec* f = find_flag(s);
        if (!f) {
            if (inv.help || inv.version) continue;
            throw fail("unknown option " + printable(s));
        }
        if (f->metavar.empty()) {
            if (inline_value) throw fail(std::string(f->name) + " takes no value");
        } else if (!inline_value) {
            if (i + 1 >= args.size())
                throw fail(std::string(f->name) + " needs a value (" + std::string(f->metavar) + ")");
            value = args[++i];
            // A flag where the value should be is a forgotten value, not a value: "--validate-data
            // --video a.mp4" must not send the digits "--video". --flag=VALUE still passes anything.
            std::string_view candidate = value;
            if (candidate.rfind("--", 0) == 0) candidate = candidate.substr(0, candidate.find('='));
            if (find_flag(candidate))
                throw fail(std::string(f->name) + " needs a value (" + std::string(f->metavar) + "), not the option " +
                           printable(value) + "; write " + std::string(f->name) +
                           "=VALUE for a value that starts with -");
        }
        inv.values[std::string(f->name)] = value;  // repeated: the last one wins, as with curl
        given.push_back(std::string(f->name));
    }
    if (!words.empty() && words[0] == "help") inv.help = true;
    if (inv.help || inv.version) return inv;
    if (!inv.command) {
        if (!words.empty() && is_group(words[0]))
            throw fail("'" + words[0] + "' needs a command: see 'livefour --help'");
        throw fail("missing command");
    }
    for (const auto& name : given) {
        const flag_spec& f = *find_flag(name);
        const std::string warning = name + " does not apply to '" + command_name + "' and is ignored (see 'livefour " +
                                    command_name + " --help')";
        if (!applies(f, *inv.command) &&
            std::find(inv.warnings.begin(), inv.warnings.end(), warning) == inv.warnings.end())
            inv.warnings.push_back(warning);
    }
    for (const auto& r : inv.command->required) {
        if (inv.has(r)) continue;
        const flag_spec& f = *find_flag(r);
        throw fail(command_name + " needs " + std::string(r) + " " + std::string(f.metavar));
    }
    return inv;
}

namespace {

void append_flag_lines(std::string& out, const std::vector<const flag_spec*>& list) {
    std::size_t width = 0;
    auto label = [](const flag_spec& f) {
        std::string l = f.short_name.empty() ? "    " : std::string(f.short_name) + ", ";
        l += f.name;
        if (!f.metavar.empty()) l += " " + std::string(f.metavar);
        return l;
    };
    for (const auto* f : list) width = std::max(width, label(*f).size());
    for (const auto* f : list) {
        const auto l = label(*f);
        out += "  " + l + std::string(width - l.size() + 2, ' ') + std::string(f->help) + "\n";
    }
}

std::vector<const flag_spec*> flags_of(flag_scope scope) {
    std::vector<const flag_spec*> out;
    for (const auto& f : flags())
        if (f.scope == scope) out.push_back(&f);
    return out;
}

constexpr const char* footer = R"(
environment: LIVEFOUR_APPID, LIVEFOUR_SECRET_ID, LIVEFOUR_SECRET_KEY, LIVEFOUR_ENDPOINT, LIVEFOUR_CA_FILE,
  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_SESSION_TOKEN (faceid)
  and, as curl reads them, https_proxy, HTTPS_PROXY, http_proxy (http:// endpoints), no_proxy, NO_PROXY
exit status: 0 accepted (digits or code issued), 1 negative verdict, 2 usage or input error (nothing sent),
  3 the service answered an error code, 4 no usable answer (network, TLS, time-out, unusable reply)
)";

}  // namespace

std::string help_text(const command_spec* c) {
    std::string out;
    if (!c) {
        out = "usage: livefour COMMAND [options]\n\ncommands:\n";
        std::size_t width = 0;
        for (const auto& cmd : commands()) width = std::max(width, cmd.name.size());
        for (const auto& cmd : commands())
            out += "  " + std::string(cmd.name) + std::string(width - cmd.name.size() + 2, ' ') +
                   std::string(cmd.summary) + "\n";
        out += "\noptions of every command:\n";
        append_flag_lines(out, flags_of(flag_scope::common));
        out += "\n";
        append_flag_lines(out, flags_of(flag_scope::global));
        out += "\n'livefour COMMAND --help' shows a command's own options.\n";
        return out + footer;
    }
    out = "usage: livefour " + std::string(c->name) + (c->synopsis.empty() ? "" : " " + std::string(c->synopsis)) +
          " [options]\n\n" + std::string(c->summary) + "\n";
    std::vector<const flag_spec*> own;
    for (const auto& name : c->flags) own.push_back(find_flag(name));
    if (!own.empty()) {
        out += "\noptions of " + std::string(c->name) + ":\n";
        append_flag_lines(out, own);
    }
    out += "\noptions of every command:\n";
    append_flag_lines(out, flags_of(flag_scope::common));
    out += "\n";
    append_flag_lines(out, flags_of(flag_scope::global));
    return out + footer;
}

std::string version_text() {
    return std::string("livefour ") + LIVEFOUR_VERSION + " (Boost " + std::to_string(BOOST_VERSION / 100000) + "." +
           std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100) + ", " +
           OpenSSL_version(OPENSSL_VERSION) + ")\n";
}

std::string try_help(const std::string& command) {
    return "try 'livefour " + (command.empty() ? std::string() : command + " ") + "--help'";
}

}  // namespace livefour::cli
