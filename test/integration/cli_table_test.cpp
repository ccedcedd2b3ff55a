// The `livefour` CLI's legacy commands as a contract, one table row per case: every run of the
// newcomer review that was wrong or confusing (shared/reading/newcomer-review.md, "row N"), the
// boundaries of every numeric flag, and the features added since. Each row says what the command
// must exit with and what its output must contain; on top of that, every run is held to the
// invariants of cli_table.hpp, which is what makes a whole class of defect fail here rather than
// one row of it.
#include "cli_table.hpp"

namespace {

using test::cli_case;

const std::string key = test::secret_key;

// clang-format off
const std::vector<cli_case> cases = {
    // Help, version, usage errors.
    {"row 1: top-level help", "--help", 0, {"usage: livefour COMMAND", "digits", "detect", "idcard", "--endpoint", "--version"}},
    {"row 3: digits has its own help", "digits --help", 0, {"usage: livefour digits", "--seq"}, {"--video", "--threshold", "--progress"}},
    {"row 4: detect has its own help", "detect --help", 0, {"usage: livefour detect --validate-data DIGITS --video FILE", "--card", "--threshold"}},
    {"idcard has its own help", "idcard --help", 0, {"usage: livefour idcard", "--idcard-number", "--idcard-name"}, {"--card FILE"}},
    {"row 5: -h", "-h", 0, {"usage: livefour COMMAND"}},
    {"row 6: the help command", "help", 0, {"usage: livefour COMMAND"}},
    {"help COMMAND", "help detect", 0, {"usage: livefour detect"}},
    {"help wins over a mistake on the same line", "detect --bogus -h", 0, {"usage: livefour detect"}},
    {"row 7: --version", "--version", 0, {"livefour 0.1.0", "Boost 1.81", "OpenSSL 3"}},
    {"row 7: -V", "-V", 0, {"livefour 0.1.0"}},
    {"row 2: no arguments", "", 2, {"livefour: missing command", "try 'livefour --help'"}},
    {"row 6: an unknown command", "frobnicate", 2, {"unknown command 'frobnicate'", "try 'livefour --help'"}},
    {"row 74: an unknown option", "digits --output out.json", 2, {"unknown option '--output'", "try 'livefour digits --help'"}},
    {"row 75: -v after the command is --verbose", "digits -v", 0, {"* endpoint https://127.0.0.1:", "(LIVEFOUR_ENDPOINT)", "* HTTP 200 after 1 attempt"}},
    {"row 76: -v before the command", "-v digits", 0, {"* credentials: appid from LIVEFOUR_APPID", "(never printed)"}},
    {"an unknown short option", "digits -x", 2, {"unknown option '-x'"}},
    {"row 78: a value missing at the end", "digits --seq", 2, {"--seq needs a value (S)"}},
    {"a flag where a value belongs", "detect --validate-data --video video.mp4", 2, {"--validate-data needs a value (DIGITS), not the option '--video'"}},
    {"a flag's value may start with - through =", "digits --seq=-v", 0, {"\"validate_data\""}},
    {"row 79: a switch given a value", "digits --stats=1", 2, {"--stats takes no value"}},
    {"row 93: two commands", "digits detect", 2, {"unexpected argument 'detect' after the command 'digits'"}},
    {"row 29: detect without --validate-data", "detect --video video.mp4", 2, {"detect needs --validate-data DIGITS"}},
    {"detect without --video", "detect --validate-data 1234", 2, {"detect needs --video FILE"}},
    {"row 91: flags that do not apply warn", "digits --video nothing.mp4 --card x --threshold 99 --progress --chunked", 0,
     {"warning: --video does not apply to 'digits'", "warning: --card does not apply", "warning: --threshold does not apply",
      "warning: --progress does not apply", "warning: --chunked does not apply"}},
    {"a warning per flag, not per occurrence", "digits --chunked --chunked", 0, {"warning: --chunked does not apply"}},
    {"row 92: the last of a repeated flag wins", "digits --endpoint https://127.0.0.1:1 --endpoint https://127.0.0.1:{PORT}", 0, {"\"validate_data\""}},

    // idcard.
    {"row 20: idcard", "idcard --validate-data {D} --video video.mp4 --idcard-number 11010519491231002X --idcard-name 张三", 0,
     {"\"compare_status\":0", "verdict: accepted (sim "}},
    {"idcard: an invalid ID number is a negative verdict", "idcard --validate-data {D} --video video.mp4 --idcard-number 110105194912310021 --idcard-name x", 1,
     {"compare_status -5804"}},
    {"idcard fails closed on a reply without a comparison", "idcard --validate-data 1234 --video video.mp4 --idcard-number 11010519491231002X --idcard-name x", 1,
     {"the reply has no comparison", "idcardlivedetectfour always compares"}, {},
     "", R"({"fault":"http_status","status":200,"path":"/face/idcardlivedetectfour","body":"{\"code\":0,\"message\":\"OK\",\"data\":{\"live_status\":0,\"live_msg\":\"OK\"}}","content_type":"application/json"})"},
    {"idcard needs the name", "idcard --validate-data 1234 --video video.mp4 --idcard-number 1", 2, {"idcard needs --idcard-name NAME"}},
    {"idcard: an empty name", "idcard --validate-data 1234 --video video.mp4 --idcard-number 1 --idcard-name ''", 2, {"--idcard-name must be non-empty UTF-8"}},
    {"idcard: a name that is not UTF-8", "idcard --validate-data 1234 --video video.mp4 --idcard-number 1 --idcard-name $'\\xff'", 2, {"--idcard-name must be non-empty UTF-8"}},
    {"idcard: a control character in the number", "idcard --validate-data 1234 --video video.mp4 --idcard-number $'1\\n2' --idcard-name x", 2, {"--idcard-number must be non-empty"}},

    // Verdicts: fail closed, numbers in the line.
    {"row 133: --card and a reply without a comparison", "detect --validate-data 1234 --video video.mp4 --card card.jpg", 1,
     {"\"live_status\":0", "verdict: not accepted: the reply has no comparison (no compare_status) although --card was sent"}, {"verdict: accepted"},
     "", R"({"fault":"http_status","status":200,"path":"/face/livedetectfour","body":"{\"code\":0,\"message\":\"OK\",\"data\":{\"live_status\":0,\"live_msg\":\"OK\"}}","content_type":"application/json"})"},
    {"without --card a liveness-only reply is accepted", "detect --validate-data {D} --video video.mp4", 0, {"verdict: accepted (liveness only)"}},
    {"row 13: sim below --threshold", "detect --validate-data {D} --video video.mp4 --card card.jpg --seq force:sim=70 --threshold 80", 1, {"verdict: not accepted: sim 70 < threshold 80"}},
    {"row 19: sim 55 below the default threshold", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=55", 1, {"not accepted: sim 55 < threshold 70"}},
    {"accepted: the numbers", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=70", 0, {"verdict: accepted (sim 70 >= threshold 70)"}},
    {"not live: the code in the line", "detect --validate-data 1234 --video video.mp4 --seq force:live_status=-5016", 1, {"not a live person (replay or recapture attack) (live_status -5016)"}},
    {"comparison failed: the code in the line", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,compare_status=-4018", 1, {"(compare_status -4018)"}},
    {"boundary: --threshold 0 accepts sim 0", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=0 --threshold 0", 0, {"accepted (sim 0 >= threshold 0)"}},
    {"boundary: --threshold 100 accepts sim 100", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=100 --threshold 100", 0, {"accepted (sim 100 >= threshold 100)"}},
    {"boundary: --threshold 100 rejects sim 99", "detect --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=99 --threshold 100", 1, {"sim 99 < threshold 100"}},
    {"boundary: --threshold 101", "detect --validate-data 1234 --video video.mp4 --threshold 101", 2, {"--threshold must be 0-100 (got '101')"}},
    {"boundary: --threshold -1", "detect --validate-data 1234 --video video.mp4 --threshold -1", 2, {"--threshold must be an integer 0-100"}},
    {"boundary: --threshold 70.5", "detect --validate-data 1234 --video video.mp4 --threshold 70.5", 2, {"--threshold must be an integer 0-100"}},
    {"boundary: --threshold 1e2", "detect --validate-data 1234 --video video.mp4 --threshold 1e2", 2, {"--threshold must be an integer"}},
    {"boundary: --threshold empty", "detect --validate-data 1234 --video video.mp4 --threshold ''", 2, {"--threshold must be an integer"}},
    {"boundary: --threshold 2^64", "detect --validate-data 1234 --video video.mp4 --threshold 18446744073709551616", 2, {"--threshold must be 0-100"}},

    // Input: the files.
    {"row 21: a missing video", "detect --validate-data 1234 --video missing.mp4", 2, {"--video 'missing.mp4': No such file or directory"}},
    {"row 22: a directory as video", "detect --validate-data 1234 --video adir", 2, {"--video 'adir': is a directory"}},
    {"row 23: an empty video", "detect --validate-data 1234 --video empty.mp4", 2, {"--video 'empty.mp4': the file is empty (0 bytes)"}},
    {"row 27: /dev/null as video", "detect --validate-data 1234 --video /dev/null", 2, {"--video '/dev/null': not a regular file"}},
    {"a video we cannot read", "detect --validate-data 1234 --video unreadable.mp4", 2, {"--video 'unreadable.mp4': Permission denied"}},
    {"row 26: a missing card", "detect --validate-data 1234 --video video.mp4 --card nocard.jpg", 2, {"--card 'nocard.jpg': No such file or directory"}},
    {"row 131: a directory as card", "detect --validate-data 1234 --video video.mp4 --card adir", 2, {"--card 'adir': is a directory"}},
    {"an empty card", "detect --validate-data 1234 --video video.mp4 --card empty.mp4", 2, {"--card 'empty.mp4': the file is empty"}},
    {"row 25: a video over the limit", "detect --validate-data 1234 --video huge.mp4", 2, {"--video 'huge.mp4': 7340032 bytes, over --max-upload-bytes 6291456"}},
    {"row 126: --max-upload-bytes 0 lifts the limit (the server answers 23)", "detect --validate-data 1234 --video huge.mp4 --max-upload-bytes 0", 3,
     {"\"code\":23", "request body too large [livefour.api:23] (HTTP 400)"}},
    {"boundary: --max-upload-bytes 1", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes 1", 2, {"over --max-upload-bytes 1"}},
    {"boundary: --max-upload-bytes below the body, above the file (the library's check)", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes 300100", 2,
     {"the request body is larger than --max-upload-bytes (300100)"}},
    {"boundary: --max-upload-bytes 2^64-1", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes 18446744073709551615", 1, {"live_status -5008"}},
    {"boundary: --max-upload-bytes 2^64", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes 18446744073709551616", 2, {"--max-upload-bytes must be 0-18446744073709551615"}},
    {"boundary: --max-upload-bytes -1", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes -1", 2, {"--max-upload-bytes must be an integer"}},
    {"row 90: --max-upload-bytes 1k", "detect --validate-data 1234 --video video.mp4 --max-upload-bytes 1k", 2, {"--max-upload-bytes must be an integer"}},

    // Input: the digits.
    {"row 30: five digits", "detect --validate-data 12345 --video video.mp4", 2, {"--validate-data must be the 4 digits that 'livefour digits' issued (got '12345')"}},
    {"row 31: letters", "detect --validate-data abcd --video video.mp4", 2, {"(got 'abcd')"}},
    {"row 32: CR/LF", "detect --validate-data $'12\\r\\n34' --video video.mp4", 2, {"(got '12\\x0d\\x0a34')"}},
    {"row 34: 70,000 digits", "detect --validate-data $(printf '1%.0s' $(seq 70000)) --video video.mp4", 2, {"--validate-data must be the 4 digits", "..."}},
    {"row 36: empty", "detect --validate-data '' --video video.mp4", 2, {"(got '')"}},
    {"row 37: empty with =", "detect --validate-data= --video video.mp4", 2, {"(got '')"}},
    {"row 38: spaces", "detect --validate-data '    ' --video video.mp4", 2, {"(got '    ')"}},
    {"row 39: a tab", "detect --validate-data $'12\\t34' --video video.mp4", 2, {"(got '12\\x0934')"}},
    {"row 35: the = form", "detect --validate-data=1234 --video=video.mp4", 1, {"live_status -5008"}},
    {"row 125: a control character in --seq", "digits --seq $'SECRETKEYEXAMPLE\\r'", 2, {"--seq must not contain control characters"}},

    // The endpoint.
    {"row 40: ftp://", "digits --endpoint ftp://127.0.0.1:{PORT}", 2, {"--endpoint: must start with https://"}, {"need http(s)"}},
    {"row 41: http:// without --insecure-http", "digits --endpoint http://127.0.0.1:{PORT}", 2, {"--endpoint: http:// sends the signature in cleartext; add --insecure-http"}},
    {"row 42: no host", "digits --endpoint https://", 2, {"--endpoint: has no host"}},
    {"row 43: no host, a port", "digits --endpoint https://:8443", 2, {"--endpoint: has no host"}},
    {"row 44: port 99999", "digits --endpoint https://127.0.0.1:99999", 2, {"--endpoint: port '99999' is not a number from 1 to 65535"}},
    {"row 52: port 99999, one attempt", "digits --endpoint https://127.0.0.1:99999 --max-attempts 1", 2, {"port '99999'"}},
    {"row 53: port 65536", "digits --endpoint https://127.0.0.1:65536", 2, {"port '65536'"}},
    {"row 54: port PORT+65536 no longer reaches PORT", "digits --endpoint https://127.0.0.1:$(({PORT}+65536))", 2, {"is not a number from 1 to 65535"}},
    {"row 45: port 0", "digits --endpoint https://127.0.0.1:0", 2, {"port '0'"}},
    // Port 1 is accepted (exit 4, not 2); whether something listens there is the machine's business.
    {"boundary: port 1 is a port", "digits --endpoint https://127.0.0.1:1 --max-attempts 1", 4, {}, {"is not a number from 1 to 65535"}},
    {"nothing listens", "digits --endpoint https://127.0.0.1:{CLOSED} --max-attempts 1", 4, {"Connection refused"}},
    {"boundary: port 65535 is a port", "digits --endpoint https://127.0.0.1:65535 --max-attempts 1", 4, {"Connection refused"}},
    {"row 46: no scheme", "digits --endpoint 127.0.0.1:{PORT}", 2, {"--endpoint: is not a valid absolute URL"}},
    {"row 47: user information", "digits --endpoint https://user:pw@127.0.0.1:{PORT}", 2, {"--endpoint: must not contain user information"}},
    {"row 48: a query", "digits --endpoint 'https://127.0.0.1:{PORT}/?x=1'", 2, {"must not contain a query or fragment"}},
    {"row 49: a trailing slash", "digits --endpoint https://127.0.0.1:{PORT}/", 0, {"\"validate_data\""}},
    {"row 50: localhost", "digits --endpoint https://localhost:{PORT}", 0, {"\"validate_data\""}},
    {"a percent-encoded host", "digits --endpoint https://local%68ost:{PORT}", 2, {"is not a valid host name"}},
    {"LIVEFOUR_ENDPOINT is named when it is wrong", "digits", 2, {"LIVEFOUR_ENDPOINT: port '99999'"}, {}, "LIVEFOUR_ENDPOINT=https://127.0.0.1:99999"},
    {"--endpoint beats LIVEFOUR_ENDPOINT", "digits --endpoint https://127.0.0.1:{PORT}", 0, {"\"validate_data\""}, {}, "LIVEFOUR_ENDPOINT=https://127.0.0.1:1"},
    {"row 123: the key in the user information is not echoed", "digits --endpoint https://x:SECRETKEYEXAMPLE@127.0.0.1:{PORT}", 2, {"must not contain user information"}},
    {"row 124: a 404 gets no arrears hint", "digits --endpoint https://127.0.0.1:{PORT}/SECRETKEYEXAMPLE", 3,
     {"\"code\":3", "livefour: bad request [livefour.api:3] (HTTP 404)", "server: invalid request: unknown path"}, {"arrears"}},
    {"code 3 with the arrears message gets the hint", "digits", 3, {"hint: the service's \"account abnormal,errorno is:2\" means the account is in arrears"}, {},
     "", R"({"fault":"http_status","status":400,"body":"{\"code\":3,\"message\":\"account abnormal,errorno is:2\"}","content_type":"application/json"})"},

    // The CA file.
    {"row 57: the system store does not know the test CA", "digits", 4,
     {"TLS certificate chain not trusted", "hint: the server's certificate does not lead to a CA of the system trust store", "--ca-file"}, {}, "env -u LIVEFOUR_CA_FILE"},
    {"row 58: a missing CA file", "digits --ca-file nope.pem", 2, {"--ca-file 'nope.pem': No such file or directory"}},
    {"row 59: not PEM", "digits --ca-file card.jpg", 2, {"--ca-file 'card.jpg': no PEM certificate could be read from it"}},
    {"row 60: an empty CA file", "digits --ca-file empty.mp4", 2, {"--ca-file 'empty.mp4': the file is empty"}},
    {"row 62: a directory", "digits --ca-file adir", 2, {"--ca-file 'adir': is a directory"}},
    {"row 63: an empty --ca-file", "digits --ca-file ''", 2, {"--ca-file is empty (leave it out to use the system trust store)"}},
    {"row 61: an unrelated CA", "digits --ca-file other-ca.pem", 4, {"TLS certificate chain not trusted", "hint: the server's certificate does not lead to a CA in --ca-file other-ca.pem"}},
    {"LIVEFOUR_CA_FILE is named when it is wrong", "digits", 2, {"LIVEFOUR_CA_FILE 'nope.pem': No such file or directory"}, {}, "LIVEFOUR_CA_FILE=nope.pem"},
    {"row 122: --ca-file with http:// is checked, and said to be unused", "digits --endpoint {PLAIN} --insecure-http --ca-file emulator-ca.pem", 0,
     {"warning: --ca-file is not used with an http:// endpoint"}},
    {"row 122: a missing --ca-file with http://", "digits --endpoint {PLAIN} --insecure-http --ca-file nope.pem", 2, {"--ca-file 'nope.pem': No such file"}},
    {"row 119: http:// with --insecure-http", "digits --endpoint {PLAIN} --insecure-http", 0, {"\"validate_data\""}},
    {"row 121: https:// to a plain server", "digits --endpoint https://127.0.0.1:$(echo {PLAIN} | sed 's/.*://') --max-attempts 1", 4,
     {"wrong version number", "hint: the server does not speak TLS on this port"}},
    {"row 121: the same hint after the retries", "digits --endpoint https://127.0.0.1:$(echo {PLAIN} | sed 's/.*://')", 4,
     {"no answer after 3 attempts", "hint: the server does not speak TLS on this port"}},

    // Credentials.
    {"row 64: a wrong key (environment)", "digits --stats", 3, {"\"code\":14", "signature check failed [livefour.api:14] (HTTP 200)"}, {"WRONGKEY-hunter2"}, "LIVEFOUR_SECRET_KEY=WRONGKEY-hunter2"},
    {"row 65: a wrong key (argv)", "digits --secret-key WRONGKEY-hunter2", 3, {"\"code\":14"}},
    {"row 68: no credentials at all", "digits", 2, {"missing credentials: the AppID", "the SecretId", "the SecretKey"}, {}, "env -u LIVEFOUR_APPID -u LIVEFOUR_SECRET_ID -u LIVEFOUR_SECRET_KEY"},
    {"row 69: only the key missing: named", "digits", 2, {"missing credentials: the SecretKey (--secret-key, secret_key= in --credentials FILE, or LIVEFOUR_SECRET_KEY)"}, {"the AppID"}, "env -u LIVEFOUR_SECRET_KEY"},
    {"row 70: an empty key is a missing key", "digits", 2, {"missing credentials: the SecretKey"}, {}, "LIVEFOUR_SECRET_KEY="},
    {"row 71: & in the appid", "digits", 2, {"LIVEFOUR_APPID: the AppID must not contain '&', '=' or control characters"}, {"livefour::signer"}, "LIVEFOUR_APPID='12&b=x'"},
    {"= in --secret-id", "digits --secret-id a=b", 2, {"--secret-id: the SecretId must not contain"}},
    {"row 72: a key with a newline is the server's to refuse", "digits", 3, {"\"code\":14"}, {}, "LIVEFOUR_SECRET_KEY=$'SECRET\\nKEY'"},
    {"--credentials FILE (mode 0600)", "digits --credentials creds-600", 0, {"\"validate_data\""}, {}, "env -u LIVEFOUR_APPID -u LIVEFOUR_SECRET_ID -u LIVEFOUR_SECRET_KEY"},
    {"--credentials FILE beats the environment", "digits --credentials creds-600", 0, {"\"validate_data\""}, {}, "LIVEFOUR_SECRET_KEY=WRONG"},
    {"--secret-key beats --credentials", "digits --credentials creds-600 --secret-key WRONGKEY-hunter2", 3, {"\"code\":14"}},
    {"--credentials FILE readable by others is refused", "digits --credentials creds-644", 2, {"--credentials 'creds-644': mode 0644 lets other users read it; run chmod 600 on it"}},
    {"--credentials with an unknown name", "digits --credentials creds-bad", 2, {"--credentials 'creds-bad' line 3: unknown name 'secret'"}, {"hunter2"}},
    {"--credentials missing", "digits --credentials nofile", 2, {"--credentials 'nofile': No such file or directory"}},
    {"--credentials - reads stdin", "{CLI} digits --credentials - < creds-600", 0, {"\"validate_data\""}, {}, "env -u LIVEFOUR_SECRET_KEY"},
    {"-v names where each credential came from", "digits -v --credentials creds-600 --appid 1250000000", 0,
     {"appid from --appid, secret id from --credentials 'creds-600', secret key from --credentials 'creds-600' (never printed)"}},

    // Durations: 0 is no bound, under 1 ms is refused, the rest as written.
    {"row 89: --deadline 0.0001", "digits --deadline 0.0001", 2, {"--deadline 0.0001 is below 1 ms, the smallest bound (0 means no bound)"}},
    {"row 95: --deadline 0.0001 with a slow server", "digits --seq force:delay_ms=1500 --deadline 0.0001", 2, {"below 1 ms"}},
    {"boundary: --deadline 0.0009", "digits --deadline 0.0009", 2, {"below 1 ms"}},
    {"boundary: --connect-timeout 0.0009", "digits --connect-timeout 0.0009", 2, {"--connect-timeout 0.0009 is below 1 ms"}},
    {"boundary: --stall-timeout 0.0009", "digits --stall-timeout 0.0009", 2, {"--stall-timeout 0.0009 is below 1 ms"}},
    {"boundary: --deadline 0.001", "digits -v --endpoint https://127.0.0.1:1 --max-attempts 1 --deadline 0.001", 4, {"--deadline 0.001 s"}},
    {"boundary: --connect-timeout 0 = none", "digits -v --endpoint https://127.0.0.1:{CLOSED} --max-attempts 1 --connect-timeout 0", 4, {"--connect-timeout 0 s", "Connection refused"}},
    {"boundary: --stall-timeout 0 = none", "digits -v --stall-timeout 0", 0, {"--stall-timeout 0 s"}},
    {"boundary: --deadline 7776000 (90 days)", "digits -v --endpoint https://127.0.0.1:1 --max-attempts 1 --deadline 7776000", 4, {"--deadline 7776000 s"}},
    {"boundary: --deadline 7776001", "digits --deadline 7776001", 2, {"--deadline must be a number of seconds from 0 to 7776000"}},
    {"row 86: --connect-timeout -1", "digits --connect-timeout -1", 2, {"--connect-timeout must be a number of seconds"}},
    {"row 85: --connect-timeout abc", "digits --connect-timeout abc", 2, {"--connect-timeout must be a number of seconds"}},
    {"row 88: --deadline nan", "digits --deadline nan", 2, {"--deadline must be a number of seconds"}},
    {"--deadline inf", "digits --deadline inf", 2, {"--deadline must be a number of seconds"}},
    {"--stall-timeout empty", "digits --stall-timeout ''", 2, {"--stall-timeout must be a number of seconds"}},
    {"row 87: --deadline 1e3", "digits -v --deadline 1e3", 0, {"--deadline 1000 s"}},
    {"row 94: the deadline in CLI terms", "digits --seq force:delay_ms=1500 --deadline 0.5", 4, {"livefour: the operation took longer than --deadline (0.5 s) [livefour.client:20]"}},
    {"row 96: a stall, retried, in CLI terms", "digits --seq force:delay_ms=1500 --stall-timeout 0.3 --max-attempts 2", 4,
     {"no answer after 2 attempts", "no transfer progress (stall timeout)"}},
    {"row 97: a detect stalled after a full send: the billing hint", "detect --validate-data 1234 --video video.mp4 --seq force:delay_ms=1500 --stall-timeout 0.3", 4,
     {"no progress for --stall-timeout (0.3 s)", "detail: no response progress within --stall-timeout",
      "hint: the request was sent in full", "may have processed and billed it"}},
    {"row 104: a detect dropped after the full body: the billing hint", "detect --validate-data 1234 --video video.mp4 --max-attempts 1", 4,
     {"connection closed before a complete response", "hint: the request was sent in full"}, {}, "", R"({"fault":"close_after_body","path":"/face/livedetectfour"})"},
    // 64 MiB, chunked (so the emulator cannot refuse the size up front), reset after 1 MiB: more
    // than kernel buffers absorb, so the client really is cut mid-upload.
    {"a detect reset mid-upload: no billing hint", "detect --validate-data 1234 --video big.mp4 --max-upload-bytes 0 --chunked --max-attempts 1", 4,
     {}, {"hint: the request was sent in full"}, "", R"({"fault":"reset","when":"after_body_bytes","bytes":1048576,"path":"/face/livedetectfour"})"},
    {"boundary: --max-attempts 0", "digits --max-attempts 0", 2, {"--max-attempts must be 1-100 (got '0')"}},
    {"boundary: --max-attempts 101", "digits --max-attempts 101", 2, {"--max-attempts must be 1-100 (got '101')"}},
    {"boundary: --max-attempts 1.5", "digits --max-attempts 1.5", 2, {"--max-attempts must be an integer 1-100"}},
    {"boundary: --max-attempts 1", "digits --max-attempts 1 --seq force:code=107", 3, {"[livefour.api:107]"}, {"still after"}},
    {"boundary: --max-attempts 100", "digits -v --max-attempts 100 --endpoint https://127.0.0.1:1 --deadline 0.3", 4, {"* up to 100 attempts"}},

    // The service answered a code: status 3 and the reply, also after retries.
    {"row 99: 108 three times on detect", "detect --validate-data 1234 --video video.mp4 --stats", 3,
     {"\"code\":108", "authentication service unavailable, still after 3 attempts [livefour.api:108] (HTTP 200)", "\"attempts\":3"}, {},
     "", R"({"fault":"code","code":108,"count":3,"path":"/face/livedetectfour"})"},
    {"row 100: 15 on every attempt", "digits --seq force:code=15 --max-attempts 2", 3, {"\"code\":15", "rate limited (operation too frequent), still after 2 attempts [livefour.api:15]"}},
    {"row 101: 107 with one attempt", "digits --seq force:code=107 --max-attempts 1", 3, {"\"code\":107", "[livefour.api:107]"}},
    {"row 102: 213, not retried", "digits --seq force:code=213 --stats", 3, {"\"code\":213", "\"attempts\":1"}},
    {"row 98: 15 twice, then the digits", "digits --stats", 0, {"\"validate_data\"", "\"attempts\":3", "\"value\":15", "\"message\":\"rate limited (operation too frequent)\"", "\"exchanges\":[{\"attempt\":1,\"why\":\"first\"", "\"why\":\"retry\"", "\"next\":\"retry\"", "\"next\":\"done\""}, {},
     "", R"({"fault":"code","code":15,"count":2})"},
    {"-v shows the wire: the peer, TLS, the headers with the signature redacted", "digits -v", 0,
     {"* attempt 1: connected to 127.0.0.1:", ", TLSv1.", "> POST /face/livegetfour HTTP/1.1", "> Authorization: [redacted]", "< HTTP/1.1 200 OK",
      "* attempt 1: sent ", ", HTTP 200 in "}},
    {"-v shows every retry decision", "digits -v --seq force:code=107", 3, {"* attempt 1 failed: authentication service internal error or unavailable [livefour.api:107]; retrying in", "* attempt 2 failed"}},
    {"row 105: transport failures retried, then given up", "digits --seq force:drop", 4, {"no answer after 3 attempts [livefour.client:23]", "connection closed before a complete response"}},
    {"row 107: a non-JSON 502 page", "digits", 4, {"response body is not a JSON object [livefour.client:14] (HTTP 502)", "server: <html>"}, {}, "", R"({"fault":"http_status","status":502})"},
    {"row 129: an unknown force: key", "digits --seq force:colour=red", 3, {"unknown force switch 'colour'"}, {"needs an integer value"}},

    // stdout: the reply, --json, write errors, progress.
    {"row 8: digits prints the reply", "digits", 0, {"{\"code\":0,\"message\":\"OK\",\"data\":{\"validate_data\":\""}},
    {"row 9: the reply as received: the echoed seq is kept", "digits --seq abc-1", 0, {"\"seq\":\"abc-1\""}},
    {"row 9: nothing invented: an error reply without data has none", "digits --seq force:code=15 --max-attempts 1", 3,
     {"{\"code\":15,\"message\":\"operation too frequent\",\"seq\":\"force:code=15\"}"}, {"\"data\""}},
    {"row 9: a detect reply as received", "detect --validate-data 1234 --video video.mp4 --seq s-2", 1, {"\"seq\":\"s-2\""}},
    {"--json: one object", "digits --json", 0, {"\"reply\":{\"code\":0", "\"verdict\":null", "\"error\":null", "\"stats\":{\"attempts\":1", "\"exit\":0"}},
    {"--json: a verdict", "detect --json --validate-data 1234 --video video.mp4 --card card.jpg --seq force:live_status=0,sim=55", 1,
     {"\"verdict\":{\"accepted\":false,\"kind\":\"below_threshold\",\"reason\":{\"category\":\"livefour.client\",\"value\":29", "\"sim\":55,\"threshold\":70", "\"exit\":1"}},
    {"--json: an API error", "digits --json --seq force:code=14", 3, {"\"error\":{\"kind\":\"api\",\"category\":\"livefour.api\",\"value\":14", "\"exit\":3"}},
    {"--json: a transport error", "digits --json --endpoint https://127.0.0.1:1 --max-attempts 1", 4, {"\"reply\":null", "\"kind\":\"transport\"", "\"exit\":4"}},
    {"--json: a usage error", "detect --json --validate-data 12 --video video.mp4", 2, {"\"kind\":\"usage\"", "--validate-data must be", "\"exit\":2"}},
    {"--json: warnings", "digits --json --chunked", 0, {"\"warnings\":[\"--chunked does not apply to 'digits'"}},
    {"row 138: stdout is /dev/full", "{CLI} digits > /dev/full", 4, {"livefour: cannot write to stdout: No space left on device"}},
    {"/dev/full with --json", "{CLI} digits --json > /dev/full", 4, {"cannot write to stdout"}},
    // The reader is gone before the CLI starts (`true` exits at once): the write meets a closed pipe.
    {"row 139: a closed pipe ends the CLI (SIGPIPE)", "{ sleep 0.5; {CLI} digits; } | true; exit ${PIPESTATUS[0]}", 141},
    {"row 12: --progress off a terminal: lines, no carriage returns", "detect --validate-data 1234 --video video.mp4 --progress", 1,
     {"livefour: uploaded 100% (0.3 of 0.3 MiB), waiting for the reply"}},
    {"row 141: --progress on a terminal: a bar", "{} script -qec \"{CLI} detect --validate-data 1234 --video video.mp4 --progress\" /dev/null | tr '\\r' '~'", 0,
     {"~[##", "100% 0.3/0.3 MiB", "waiting for the reply"}},
};
// clang-format on

}  // namespace

TEST_CASE("CLI table: the review's wrong and confusing runs, the flags' boundaries, the new features") {
    test::cli_table t;
    const int checked = t.run_cases(cases);
    MESSAGE("CLI table: " << checked << " cases");
    CHECK(checked >= static_cast<int>(cases.size()) - 1);
}

TEST_CASE("CLI table: the emulator's own messages (review rows 110, 111, 120)") {
    test::emulator emu;
    const std::string e = "'" + test::emulator_path() + "'";
    // Row 110: the port in use, without Boost's source location.
    auto [s1, o1] = test::run("timeout 5 " + e + " --port " + std::to_string(emu.port) + " 2>&1");
    CHECK(s1 == 1);
    CHECK(o1.find("cannot listen on 127.0.0.1 port " + std::to_string(emu.port) + ": Address already in use") !=
          std::string::npos);
    CHECK(o1.find(".hpp") == std::string::npos);
    // Row 111: why a file could not be written.
    auto [s2, o2] = test::run("timeout 5 " + e + " --write-ca '" + (emu.dir / "nodir/ca.pem").string() + "' 2>&1");
    CHECK(s2 == 1);
    CHECK(o2.find("nodir/ca.pem: No such file or directory") != std::string::npos);
    // Row 120, as docs/emulator.md says: --force-count counts every authenticated API request,
    // livegetfour included, so the digits request uses up the one forced answer.
    test::emulator forced({"--digits", "1234", "--force-live-status", "-5016", "--force-count", "1"}, false);
    test::write_file(forced.dir / "v.mp4", 1000, test::mp4_magic());
    const std::string run = "cd '" + forced.dir.path().string() + "' && LIVEFOUR_APPID=" + test::appid +
                            " LIVEFOUR_SECRET_ID=" + test::secret_id + " LIVEFOUR_SECRET_KEY=" + test::secret_key +
                            " '" + test::cli_path() + "' ";
    const std::string at = " --endpoint " + forced.url() + " --insecure-http";
    CHECK(test::run(run + "digits" + at).first == 0);
    CHECK(test::run(run + "detect --validate-data 1234 --video v.mp4" + at + " 2>/dev/null").first == 0);
    CHECK(
        test::run(run + "detect --validate-data 1234 --video v.mp4" + at + " --seq force:live_status=-5016 2>/dev/null")
            .first == 1);
}
