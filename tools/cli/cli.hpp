// livefour CLI — the pieces every file of tools/cli/ shares: exit statuses, the usage error, the
// flag and command tables' shapes, and the parsed command line.
//
// The CLI is a contract with shell scripts (docs/cli.md): each exit status means one thing,
// whatever path led there. That is why the statuses live in one enum, why every argument,
// configuration and input error is the one exception type `usage_error` (status 2), and why the
// mapping from a library error to a status is one function (exit_for, output.cpp).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace livefour::cli {

enum exit_status : int {
    accepted = 0,   ///< digits / live code / action sequence issued, or the verdict is accepted
    rejected = 1,   ///< a valid reply with a negative verdict (faceid: a negative `Result`, or sim below --threshold)
    usage = 2,      ///< usage, argument, configuration or input error: nothing was sent
    api_code = 3,   ///< the service answered a non-zero `code` or a `Response.Error` (also after retries)
    no_answer = 4,  ///< transport: no usable answer reached the caller
};

/// Which API a command speaks: which client it needs, which credentials, which default endpoint.
enum class api {
    legacy,  ///< recognition.image.myqcloud.com: livefour::client, appid + HMAC-SHA1
    faceid,  ///< Tencent Cloud API 3.0 faceid: livefour::faceid::client, TC3-HMAC-SHA256
};

/// Every usage, argument, configuration and input error (exit status 2). `command` names the
/// command whose help the message points to ("" = the top-level help).
struct usage_error : std::runtime_error {
    usage_error(const std::string& what, std::string command = {})
        : std::runtime_error(what), command(std::move(command)) {}
    std::string command;
};

/// Where a flag may appear.
enum class flag_scope {
    common,   ///< every command (connection, credentials, retries, output)
    command,  ///< only the commands that list it (command_spec::flags)
    global,   ///< no command needed (--help, --version)
};

struct flag_spec {
    std::string_view name;        ///< "--endpoint"
    std::string_view short_name;  ///< "-v", or empty
    std::string_view metavar;     ///< "URL"; empty for a switch that takes no value
    flag_scope scope;
    std::string_view help;  ///< one line; the default and the environment variable when there is one
};

/// The whole flag table (args.cpp). The docs test checks that every flag it prints in --help is
/// documented in docs/cli.md.
const std::vector<flag_spec>& flags();
const flag_spec* find_flag(std::string_view name_or_short);

struct invocation;
struct session;  // output.hpp: the settings, the client and the report of one run

/// A command: one row of the table in commands.cpp. A new command (or a command of a group, such
/// as "faceid live-code") is one more row: the parser, the help texts, the warnings for flags that
/// do not apply and the docs test all read this table.
struct command_spec {
    std::string_view name;                   ///< "detect"; a group's command is "group command"
    std::string_view summary;                ///< one line for `livefour --help`
    std::string_view synopsis;               ///< what follows `livefour NAME` in its usage line
    std::vector<std::string_view> flags;     ///< command-scoped flags that apply to it
    std::vector<std::string_view> required;  ///< of those, the ones it cannot run without
    boost::asio::awaitable<int> (*run)(session&);
    api backend = api::legacy;
};

const std::vector<command_spec>& commands();

/// The command line, parsed and checked against the tables but not yet interpreted.
struct invocation {
    const command_spec* command = nullptr;
    std::map<std::string, std::string, std::less<>> values;  ///< flag name -> value ("" for switches)
    std::vector<std::string> warnings;                       ///< flags given to a command they do not apply to
    bool help = false;
    bool version = false;
    bool json = false;  ///< --json was on the command line (even when parsing failed)

    bool has(std::string_view flag) const { return values.find(flag) != values.end(); }
    std::optional<std::string> get(std::string_view flag) const {
        const auto it = values.find(flag);
        return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
};

/// Parses argv. Throws usage_error; `json_out` is set as soon as --json is seen, so that even a
/// usage error can be reported as the one JSON object a script waits for.
invocation parse_command_line(int argc, char** argv, bool& json_out);

/// `livefour --help`, or a command's own help.
std::string help_text(const command_spec* command);
/// `livefour --version`: the CLI's, the library's, Boost's and OpenSSL's versions.
std::string version_text();

/// "try 'livefour COMMAND --help'", the second line of every usage error.
std::string try_help(const std::string& command);

/// A user-supplied value fit for a message: control characters escaped, long values cut.
std::string printable(std::string_view s, std::size_t max = 40);

}  // namespace livefour::cli
