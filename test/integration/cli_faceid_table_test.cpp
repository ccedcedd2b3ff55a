// The `livefour faceid` commands (API 3.0) as a contract, one row per case, run against the
// emulator's API 3.0 (`POST /`) and held to the invariants of cli_table.hpp: every exit status,
// every argument error with each flag's boundaries, the credentials (environment and file, never
// argv), --region, --unsigned-payload, and the reply as received.
//
// Outcomes the emulator computes are reached with real inputs (a live code used twice, an image
// that is not a JPEG, an invalid ID number, a wrong key). Those it only gives when forced come
// from its fault queue (POST /_emulator/faults, docs/emulator.md), which needs no request header:
// `code` with an API 3.0 `error` for a Response.Error, `http_status` 200 with a body for a
// Result the emulator would not compute (a Sim below 70, a code from a future release).
#include "cli_table.hpp"

namespace {

using test::cli_case;

/// A LivenessCompare reply with this Result and Sim, served by the emulator's fault queue.
std::string reply_fault(const std::string& result, const std::string& sim) {
    return R"({"fault":"http_status","status":200,"path":"/","content_type":"application/json","body":"{\"Response\":{\"Result\":\")" +
           result + R"(\",\"Description\":\"forced\",)" + (sim.empty() ? "" : R"(\"Sim\":)" + sim + ",") +
           R"(\"BestFrameBase64\":null,\"BestFrameList\":[],\"RequestId\":\"req-forced-1\"}}"})";
}

const std::string compare = "faceid compare --liveness silent --video video.mp4 --image card.jpg";
const std::string recognize =
    "faceid recognize --liveness silent --video video.mp4 --id-card 11010519491231002X --name 张三";

// clang-format off
const std::vector<cli_case> cases = {
    // Help and the command group.
    {"the faceid commands in --help", "--help", 0, {"faceid live-code", "faceid action-sequence", "faceid compare", "faceid recognize", "TENCENTCLOUD_SESSION_TOKEN"}},
    {"faceid compare --help: its own flags, not the legacy ones", "faceid compare --help", 0,
     {"usage: livefour faceid compare --liveness lip|action|silent [--validate-data D] --video FILE --image FILE [--best-frames N]", "--region R", "--unsigned-payload"},
     {"--card", "--seq S", "--secret-key", "--appid", "--chunked"}},
    {"help faceid recognize", "help faceid recognize", 0, {"usage: livefour faceid recognize", "--id-card N", "--name NAME"}, {"--image"}},
    {"live-code --help", "faceid live-code --help", 0, {"usage: livefour faceid live-code", "--region"}, {"--video", "--liveness TYPE"}},
    {"'faceid' alone", "faceid", 2, {"'faceid' needs a command"}},
    {"an unknown faceid command", "faceid frobnicate", 2, {"unknown command 'faceid frobnicate'"}},
    {"the legacy flags do not apply", "faceid live-code --seq 1 --chunked", 0, {"warning: --seq does not apply to 'faceid live-code'", "warning: --chunked does not apply"}},
    {"the faceid flags do not apply to legacy commands", "digits --region ap-guangzhou --unsigned-payload", 0, {"warning: --region does not apply to 'digits'", "warning: --unsigned-payload does not apply"}},

    // Status 0: the reply as received on stdout.
    {"live-code", "faceid live-code", 0, {"{\"Response\":{\"LiveCode\":\"", "\"RequestId\":\""}},
    {"action-sequence", "faceid action-sequence", 0, {"\"ActionSequence\":\""}},
    {"compare, LIP with a fresh code", "faceid compare --liveness lip --validate-data {C} --video video.mp4 --image card.jpg", 0,
     {"\"Result\":\"Success\"", "\"BestFrameBase64\":\"", "verdict: accepted (sim "}},
    {"compare, ACTION", "faceid compare --liveness action --validate-data 2,1 --video video.mp4 --image card.jpg", 0, {"verdict: accepted"}},
    {"compare, ACTION with one action", "faceid compare --liveness action --validate-data 4 --video video.mp4 --image card.jpg", 0, {"verdict: accepted"}},
    {"compare, SILENT", compare, 0, {"\"Result\":\"Success\"", "verdict: accepted (sim "}},
    {"--liveness is case-insensitive", "faceid compare --liveness SILENT --video video.mp4 --image card.jpg", 0, {"verdict: accepted"}},
    {"recognize", recognize, 0, {"\"Result\":\"Success\"", "verdict: accepted (sim "}},
    {"--json: the reply as received, inside the object", "faceid live-code --json", 0, {"{\"reply\":{\"Response\":{\"LiveCode\":\"", "\"error\":null", "\"exit\":0"}},
    {"--stats", compare + " --stats", 0, {"\"attempts\":1", "\"http_status\":200"}},
    {"--progress off a terminal", compare + " --progress", 0, {"livefour: uploaded 100% (", "waiting for the reply"}},
    {"-v: where the credentials came from, the region, the payload signing", "faceid live-code -v", 0,
     {"* credentials: secret id from TENCENTCLOUD_SECRET_ID, secret key from TENCENTCLOUD_SECRET_KEY, no session token (never printed)",
      "* region none (no X-TC-Region); payload signed (SHA-256 of the body)"}},
    {"--region ap-guangzhou", "faceid live-code -v --region ap-guangzhou", 0, {"* region ap-guangzhou;", "> X-TC-Region: ap-guangzhou", "\"LiveCode\""}},
    {"-v shows the wire: the peer, TLS, the headers with the signature redacted", "faceid live-code -v", 0,
     {"* attempt 1: connected to 127.0.0.1:", ", TLSv1.", "> POST / HTTP/1.1", "> X-TC-Action: GetLiveCode", "> Authorization: [redacted]",
      "< HTTP/1.1 200 OK", "* attempt 1: sent ", "HTTP 200 in "},
     {"TC3-HMAC-SHA256 Credential", "> X-TC-Region"}},
    {"-v: a retry decision with its reason", "faceid live-code -v --max-attempts 2", 3,
     {"RequestLimitExceeded in ", "* attempt 1 failed: ", "; retrying in ", "* attempt 2: on a kept-alive connection", "not retried: "}, {},
     "", R"({"fault":"code","error":"RequestLimitExceeded","count":2,"path":"/"})"},
    {"--unsigned-payload is accepted by the emulator (live-code)", "faceid live-code --unsigned-payload -v", 0,
     {"payload unsigned (UNSIGNED-PAYLOAD)", "> X-TC-Content-SHA256: UNSIGNED-PAYLOAD", "\"LiveCode\""}},
    {"--unsigned-payload is accepted by the emulator (compare)", compare + " --unsigned-payload", 0, {"verdict: accepted"}},
    {"--best-frames 2", compare + " --best-frames 2", 0, {"\"BestFrameList\":[\""}},
    {"boundary: --best-frames 10", compare + " --best-frames 10", 0, {"\"BestFrameList\":[\""}},
    {"boundary: --threshold 0", compare + " --threshold 0", 0, {"verdict: accepted (sim ", ">= threshold 0)"}},
    {"http:// with --insecure-http", "faceid live-code --endpoint {PLAIN} --insecure-http", 0, {"\"LiveCode\""}},
    {"--credentials FILE (an appid line is ignored)", "faceid live-code --credentials creds-600", 0, {"\"LiveCode\""}, {}, "env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY"},
    {"--credentials FILE: the environment is not read", "faceid live-code --credentials creds-600 -v", 0,
     {"secret key from --credentials 'creds-600'", "\"LiveCode\""}, {}, "TENCENTCLOUD_SECRET_KEY=WRONGKEY-hunter2 TENCENTCLOUD_SESSION_TOKEN=tok"},
    {"--credentials - reads stdin", "{CLI} faceid live-code --credentials - < creds-600", 0, {"\"LiveCode\""}, {}, "env -u TENCENTCLOUD_SECRET_KEY"},

    // Status 1: a negative Result, or a Sim below --threshold.
    {"a live code used twice: LipVoiceRecognize", "faceid compare --liveness lip --validate-data 1234 --video video.mp4 --image card.jpg", 1,
     {"\"Result\":\"FailedOperation.LipVoiceRecognize\"", "verdict: not accepted: ", "(Result FailedOperation.LipVoiceRecognize)"}},
    {"an image that is not one: ImageDecodeFailed", "faceid compare --liveness silent --video video.mp4 --image video.mp4", 1,
     {"(Result FailedOperation.ImageDecodeFailed"}},
    {"a video that is not one: LivessDetectFail", "faceid compare --liveness silent --video card.jpg --image card.jpg", 1,
     {"(Result FailedOperation.LivessDetectFail"}},
    {"an invalid ID number: IdFormatError", "faceid recognize --liveness silent --video video.mp4 --id-card 110105194912310021 --name x", 1,
     {"(Result FailedOperation.IdFormatError"}},
    {"boundary: --threshold 100 (the emulator's Sim is below 100)", compare + " --threshold 100", 1, {"verdict: not accepted: sim ", " < threshold 100 (Result Success)"}},
    {"a Sim of 69.99: the numbers as sent", compare, 1, {"\"Sim\":69.99", "verdict: not accepted: sim 69.99 < threshold 70 (Result Success)"}, {"E1"},
     "", reply_fault("Success", "69.99")},
    {"CompareLowSimilarity", compare + " --threshold 0", 1, {"(Result FailedOperation.CompareLowSimilarity, sim 55.5)"}, {}, "", reply_fault("FailedOperation.CompareLowSimilarity", "55.5")},
    {"a Result of a later release", recognize, 1, {"(Result FailedOperation.SomethingNew"}, {}, "", reply_fault("FailedOperation.SomethingNew", "")},
    {"Success without a Sim fails closed", compare, 1, {"verdict: not accepted: the reply has no Sim (Result Success)"}, {}, "", reply_fault("Success", "")},
    {"--json: a verdict with its Result and Sim", compare + " --json", 1,
     {"\"Sim\":69.99", "\"verdict\":{\"accepted\":false,\"kind\":\"below_threshold\"", "\"result\":\"Success\",\"sim\":69.99,\"threshold\":70", "\"exit\":1"}, {"E1"},
     "", reply_fault("Success", "69.99")},

    // Status 3: Response.Error, with its code and RequestId.
    {"a wrong key: AuthFailure.SignatureFailure", "faceid live-code", 3,
     {"\"Code\":\"AuthFailure.SignatureFailure\"", "livefour: AuthFailure.SignatureFailure: ", "(RequestId ", "[livefour.faceid:", "hint: check the SecretKey (TENCENTCLOUD_SECRET_KEY)"},
     {"WRONGKEY-hunter2"}, "TENCENTCLOUD_SECRET_KEY=WRONGKEY-hunter2"},
    {"a wrong key in --credentials", compare + " --credentials creds-wrong", 3, {"AuthFailure.SignatureFailure", "hint: check the SecretKey (--credentials 'creds-wrong')"}, {"WRONGKEY-hunter2"}},
    {"a wrong key with --unsigned-payload: the hint says what is undocumented", compare + " --unsigned-payload", 3,
     {"AuthFailure.SignatureFailure", "hint: whether the service accepts --unsigned-payload is not documented"}, {}, "TENCENTCLOUD_SECRET_KEY=WRONGKEY-hunter2"},
    {"an unknown SecretId", "faceid live-code", 3, {"AuthFailure.SecretIdNotFound", "hint: check the SecretId (TENCENTCLOUD_SECRET_ID)"}, {}, "TENCENTCLOUD_SECRET_ID=AKIDOTHER"},
    {"a session token the emulator does not expect (never printed, not even by -v)", "faceid live-code -v", 3,
     {"AuthFailure.TokenFailure", "hint: a session token was sent (TENCENTCLOUD_SESSION_TOKEN)", "> X-TC-Token: [redacted]",
      "session token from TENCENTCLOUD_SESSION_TOKEN (never printed)"}, {"tok-secret"}, "TENCENTCLOUD_SESSION_TOKEN=tok-secret"},
    {"a token in --credentials", "faceid live-code --credentials creds-token", 3, {"AuthFailure.TokenFailure", "(--credentials 'creds-token')"}},
    {"an error code in the reply", compare, 3, {"\"Code\":\"UnauthorizedOperation.Arrears\"", "livefour: UnauthorizedOperation.Arrears: ", "(RequestId "}, {},
     "", R"({"fault":"code","error":"UnauthorizedOperation.Arrears","path":"/"})"},
    {"an error code of a later release keeps its string", "faceid live-code", 3, {"livefour: FailedOperation.Brandnew: ", "[livefour.faceid:"}, {},
     "", R"({"fault":"code","error":"FailedOperation.Brandnew","path":"/"})"},
    {"RequestLimitExceeded on every attempt", "faceid live-code --stats", 3,
     {"\"Code\":\"RequestLimitExceeded\"", "livefour: RequestLimitExceeded: ", ", still after 3 attempts (RequestId ", "\"attempts\":3"}, {},
     "", R"({"fault":"code","error":"RequestLimitExceeded","count":3,"path":"/"})"},
    {"RequestLimitExceeded twice, then the code", "faceid live-code --stats", 0, {"\"LiveCode\"", "\"attempts\":3"}, {},
     "", R"({"fault":"code","error":"RequestLimitExceeded","count":2,"path":"/"})"},
    {"boundary: --max-attempts 1", "faceid live-code --max-attempts 1", 3, {"livefour: RequestLimitExceeded: "}, {"still after"},
     "", R"({"fault":"code","error":"RequestLimitExceeded","path":"/"})"},
    {"--json: an API error with its code and RequestId", "faceid live-code --json", 3,
     {"\"reply\":{\"Response\":{\"Error\":", "\"error\":{\"kind\":\"api\",\"category\":\"livefour.faceid\"", "\"server_code\":\"AuthFailure.SignatureFailure\",\"request_id\":\"", "\"exit\":3"}, {},
     "TENCENTCLOUD_SECRET_KEY=WRONGKEY-hunter2"},

    // Status 4: no usable answer.
    {"nothing listens", "faceid live-code --endpoint https://127.0.0.1:{CLOSED} --max-attempts 1", 4, {"Connection refused"}},
    {"a non-JSON 502 page", "faceid live-code", 4, {"(HTTP 502)"}, {}, "", R"({"fault":"http_status","status":502,"path":"/","body":"<html>bad gateway</html>","content_type":"text/html"})"},
    {"compare dropped after the full body: the billing hint", compare + " --max-attempts 1", 4,
     {"connection closed before a complete response", "hint: the request was sent in full", "may have processed and billed it"}, {}, "", R"({"fault":"close_after_body","path":"/"})"},
    {"--deadline", "faceid live-code --deadline 0.3", 4, {"the operation took longer than --deadline (0.3 s)"}, {}, "", R"({"fault":"delay","ms":1500,"path":"/"})"},
    {"--json: a transport error", "faceid live-code --json --endpoint https://127.0.0.1:1 --max-attempts 1", 4, {"\"reply\":null", "\"kind\":\"transport\"", "\"exit\":4"}},

    // Status 2: arguments.
    {"compare needs --liveness", "faceid compare --video video.mp4 --image card.jpg", 2, {"faceid compare needs --liveness TYPE"}},
    {"compare needs --image", "faceid compare --liveness silent --video video.mp4", 2, {"faceid compare needs --image FILE"}},
    {"recognize needs --id-card", "faceid recognize --liveness silent --video video.mp4 --name x", 2, {"faceid recognize needs --id-card N"}},
    {"recognize needs --name", "faceid recognize --liveness silent --video video.mp4 --id-card 1", 2, {"faceid recognize needs --name NAME"}},
    {"--liveness lips", "faceid compare --liveness lips --video video.mp4 --image card.jpg", 2, {"--liveness must be lip, action or silent (got 'lips')"}},
    {"--liveness empty", "faceid compare --liveness '' --video video.mp4 --image card.jpg", 2, {"--liveness must be lip, action or silent (got '')"}},
    {"--liveness 1", "faceid compare --liveness=1 --video video.mp4 --image card.jpg", 2, {"(got '1')"}},
    {"lip without --validate-data", "faceid compare --liveness lip --video video.mp4 --image card.jpg", 2, {"--liveness lip needs --validate-data: the digits of 'livefour faceid live-code'"}},
    {"action without --validate-data", "faceid compare --liveness action --video video.mp4 --image card.jpg", 2, {"--liveness action needs --validate-data: the sequence of 'livefour faceid action-sequence'"}},
    {"silent with --validate-data", "faceid compare --liveness silent --validate-data 1234 --video video.mp4 --image card.jpg", 2, {"--validate-data is not used with --liveness silent"}},
    {"lip: five digits", "faceid compare --liveness lip --validate-data 12345 --video video.mp4 --image card.jpg", 2, {"--validate-data must be the 4 digits that 'livefour faceid live-code' issued (got '12345')"}},
    {"lip: letters", "faceid compare --liveness lip --validate-data abcd --video video.mp4 --image card.jpg", 2, {"(got 'abcd')"}},
    {"lip: a newline", "faceid compare --liveness lip --validate-data $'12\\n34' --video video.mp4 --image card.jpg", 2, {"(got '12\\x0a34')"}},
    {"action: 5 is no action", "faceid compare --liveness action --validate-data 1,5 --video video.mp4 --image card.jpg", 2, {"one or two of 1-4, such as 1,2 (got '1,5')"}},
    {"action: three actions", "faceid compare --liveness action --validate-data 1,2,1 --video video.mp4 --image card.jpg", 2, {"(got '1,2,1')"}},
    {"action: 0", "faceid compare --liveness action --validate-data 0 --video video.mp4 --image card.jpg", 2, {"(got '0')"}},
    {"action: a space", "faceid compare --liveness action --validate-data '1, 2' --video video.mp4 --image card.jpg", 2, {"(got '1, 2')"}},
    {"boundary: --best-frames 1", compare + " --best-frames 1", 2, {"--best-frames must be 2-10 (got '1')"}},
    {"boundary: --best-frames 11", compare + " --best-frames 11", 2, {"--best-frames must be 2-10 (got '11')"}},
    {"boundary: --best-frames 2.5", compare + " --best-frames 2.5", 2, {"--best-frames must be an integer 2-10"}},
    {"boundary: --best-frames empty", compare + " --best-frames ''", 2, {"--best-frames must be an integer 2-10"}},
    {"boundary: --threshold 101", compare + " --threshold 101", 2, {"--threshold must be 0-100 (got '101')"}},
    {"--id-card empty", "faceid recognize --liveness silent --video video.mp4 --id-card '' --name x", 2, {"--id-card must be non-empty"}},
    {"--id-card with a control character", "faceid recognize --liveness silent --video video.mp4 --id-card $'1\\t2' --name x", 2, {"--id-card must be non-empty, without control characters"}},
    {"--name not UTF-8", "faceid recognize --liveness silent --video video.mp4 --id-card 1 --name $'\\xff'", 2, {"--name must be non-empty UTF-8"}},
    {"--name with an overlong UTF-8 form", "faceid recognize --liveness silent --video video.mp4 --id-card 1 --name $'\\xc0\\xaf'", 2, {"--name must be non-empty UTF-8"}},
    {"--name with a surrogate", "faceid recognize --liveness silent --video video.mp4 --id-card 1 --name $'\\xed\\xa0\\x80'", 2, {"--name must be non-empty UTF-8"}},
    {"--name empty", "faceid recognize --liveness silent --video video.mp4 --id-card 1 --name=", 2, {"--name must be non-empty UTF-8"}},
    {"--region with a space", "faceid live-code --region 'ap guangzhou'", 2, {"--region must be a region name of letters, digits and '-', such as ap-guangzhou (got 'ap guangzhou')"}},
    {"--region with a newline", "faceid live-code --region $'ap-guangzhou\\r\\nX-Evil: 1'", 2, {"--region must be a region name", "(got 'ap-guangzhou\\x0d\\x0aX-Evil: 1')"}},
    {"--region with an underscore", "faceid live-code --region ap_guangzhou", 2, {"(got 'ap_guangzhou')"}},
    {"--region with UTF-8", "faceid live-code --region 广州", 2, {"--region must be a region name"}},
    {"--region empty", "faceid live-code --region ''", 2, {"--region is empty (leave it out to send no region)"}},
    {"boundary: --region of 65 characters", "faceid live-code --region $(printf 'a%.0s' $(seq 65))", 2, {"--region must be a region name"}},
    {"boundary: --region of 64 characters", "faceid live-code -v --region $(printf 'a%.0s' $(seq 64))", 0, {"* region aaaa"}},
    {"--unsigned-payload takes no value", "faceid live-code --unsigned-payload=1", 2, {"--unsigned-payload takes no value"}},

    // Status 2: the files, checked before anything is sent.
    {"a missing video", "faceid compare --liveness silent --video missing.mp4 --image card.jpg", 2, {"--video 'missing.mp4': No such file or directory"}},
    {"an empty video", "faceid compare --liveness silent --video empty.mp4 --image card.jpg", 2, {"--video 'empty.mp4': the file is empty (0 bytes)"}},
    {"an empty image", "faceid compare --liveness silent --video video.mp4 --image empty.mp4", 2, {"--image 'empty.mp4': the file is empty (0 bytes)"}},
    {"a directory as image", "faceid compare --liveness silent --video video.mp4 --image adir", 2, {"--image 'adir': is a directory"}},
    {"/dev/null as image", "faceid compare --liveness silent --video video.mp4 --image /dev/null", 2, {"--image '/dev/null': not a regular file"}},
    {"an image we cannot read", "faceid compare --liveness silent --video video.mp4 --image unreadable.mp4", 2, {"--image 'unreadable.mp4': Permission denied"}},
    // Status 2: credentials, never from argv.
    {"no credentials", "faceid live-code", 2, {"missing credentials: the SecretId (TENCENTCLOUD_SECRET_ID); the SecretKey (TENCENTCLOUD_SECRET_KEY); the faceid commands never take a key from the command line"},
     {}, "env -u TENCENTCLOUD_SECRET_ID -u TENCENTCLOUD_SECRET_KEY"},
    {"the key missing", "faceid live-code", 2, {"missing credentials: the SecretKey (TENCENTCLOUD_SECRET_KEY)"}, {"the SecretId"}, "env -u TENCENTCLOUD_SECRET_KEY"},
    {"an empty key is a missing key", "faceid live-code", 2, {"missing credentials: the SecretKey"}, {}, "TENCENTCLOUD_SECRET_KEY="},
    {"--secret-key on the command line is never read", "faceid live-code --secret-key SECRETKEYEXAMPLE", 2,
     {"warning: --secret-key does not apply to 'faceid live-code'", "missing credentials: the SecretKey"}, {}, "env -u TENCENTCLOUD_SECRET_KEY"},
    {"a SecretId with a comma", "faceid live-code", 2, {"TENCENTCLOUD_SECRET_ID: the SecretId must be visible ASCII without ',', '/' or spaces"}, {}, "TENCENTCLOUD_SECRET_ID=AKID,x"},
    {"a token with a newline", "faceid live-code", 2, {"TENCENTCLOUD_SESSION_TOKEN: the session token must be visible ASCII"}, {}, "TENCENTCLOUD_SESSION_TOKEN=$'a\\nb'"},
    {"a credentials file without the key", "faceid live-code --credentials creds-bad", 2, {"unknown name 'secret'"}, {"hunter2"}},
    {"a token line is for faceid only", "digits --credentials creds-token", 2, {"--credentials 'creds-token' line 3: token (temporary credentials) is for the faceid commands only"}},
    {"http:// without --insecure-http", "faceid live-code --endpoint {PLAIN}", 2, {"--endpoint: http:// sends the signature in cleartext"}},
    {"a bad endpoint", "faceid live-code --endpoint https://127.0.0.1:99999", 2, {"--endpoint: port '99999' is not a number from 1 to 65535"}},
};

// The API's size limits, checked by the library before anything is sent: VideoBase64 ≤ 8 MB,
// ImageBase64 ≤ 3 MB, body ≤ 10 MB (api3.md §0). The files (made by the test case) are over each
// medium's limit in either reading of "MB"; the pair is under both media limits, and its body
// over 10 MB in either reading (7.9 + 2.9 MB of base64, plus the JSON).
const std::vector<cli_case> size_cases = {
    {"a video over 8 MB of base64", "faceid compare --liveness silent --video video-8mb.mp4 --image card.jpg --stats", 2,
     {"--video 'video-8mb.mp4': too large: its base64 would be over API 3.0's 8 MB limit (VideoBase64); nothing was sent"}},
    {"an image over 3 MB of base64", "faceid compare --liveness silent --video video.mp4 --image image-3mb.jpg", 2,
     {"--image 'image-3mb.jpg': too large: its base64 would be over API 3.0's 3 MB limit (ImageBase64); nothing was sent"}},
    {"both under their limits, the body over 10 MB", "faceid compare --liveness silent --video video-7.9mb.mp4 --image image-2.9mb.jpg", 2,
     {"--video 'video-7.9mb.mp4' and --image 'image-2.9mb.jpg' together make a body over API 3.0's 10 MB limit"}},
    {"recognize: a video over 8 MB of base64", "faceid recognize --liveness silent --video video-8mb.mp4 --id-card 1 --name x", 2, {"--video 'video-8mb.mp4': too large"}},
};
// clang-format on

}  // namespace

TEST_CASE("CLI table: the faceid commands (API 3.0)") {
    test::cli_table t;
    const auto& dir = t.dir();
    test::sparse_file(dir / "video-8mb.mp4", 6'400'000, test::mp4_magic());     // 8,533,336 characters
    test::sparse_file(dir / "image-3mb.jpg", 2'400'000, test::jpeg_magic());    // 3,200,000
    test::sparse_file(dir / "video-7.9mb.mp4", 5'925'000, test::mp4_magic());   // 7,900,000
    test::sparse_file(dir / "image-2.9mb.jpg", 2'175'000, test::jpeg_magic());  // 2,900,000
    int checked = t.run_cases(cases);
    // Refused before anything is sent: not even a request header reached the emulator.
    auto started = [&] { return t.emu.stats().at("requests_started").at("/").to_number<std::int64_t>(); };
    const auto before = started();
    checked += t.run_cases(size_cases);
    CHECK(started() == before);
    MESSAGE("CLI faceid table: " << checked << " cases");
    CHECK(checked >= static_cast<int>(cases.size() + size_cases.size()) - 1);
}

TEST_CASE("CLI faceid: temporary credentials (a session token) against an emulator that expects one") {
    test::emulator emu({"--tc3-token", "tok-123"});
    std::ofstream(emu.dir / "creds") << "secret_id=AKIDEXAMPLE\nsecret_key=SECRETKEYEXAMPLE\ntoken=tok-123\n";
    ::chmod((emu.dir / "creds").c_str(), 0600);
    const std::string run = "cd '" + emu.dir.path().string() +
                            "' && env -u TENCENTCLOUD_SESSION_TOKEN LIVEFOUR_ENDPOINT=" + emu.url() +
                            " LIVEFOUR_CA_FILE='" + emu.ca_path().string() +
                            "' TENCENTCLOUD_SECRET_ID=AKIDEXAMPLE TENCENTCLOUD_SECRET_KEY=SECRETKEYEXAMPLE ";
    const std::string cli = " '" + test::cli_path() + "' faceid live-code -v 2>&1";
    auto [s1, o1] = test::run(run + "TENCENTCLOUD_SESSION_TOKEN=tok-123" + cli);
    CHECK(s1 == 0);
    CHECK(o1.find("session token from TENCENTCLOUD_SESSION_TOKEN (never printed)") != std::string::npos);
    CHECK(o1.find("tok-123") == std::string::npos);
    auto [s2, o2] = test::run(run + cli + " --credentials creds");
    CHECK(s2 == 0);
    CHECK(o2.find("tok-123") == std::string::npos);
    auto [s3, o3] = test::run(run + cli);  // the token is missing: refused by the service
    CHECK(s3 == 3);
    CHECK(o3.find("hint: temporary credentials need their session token") != std::string::npos);
}
