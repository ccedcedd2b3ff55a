// Cross-check of detail::tc3 with the official Tencent Cloud Node.js SDK's own signer
// (test/peers/node/sign_tc3.js, tencentcloud-sdk-nodejs pinned in test/peers/node/package.json).
// ~200 random requests — random keys and ids, hosts, timestamps from 1970 to 2199, payloads with
// \u escapes, raw UTF-8, empty payloads and UNSIGNED-PAYLOAD, GET with a query — are signed by
// both; the Authorization values must be identical. Run by ctest as `peer-node-sdk-signer` (the
// `unit` test excludes it: it needs node and `npm ci --prefix test/peers/node`, which
// scripts/setup.sh does).
#include <doctest/doctest.h>

#include <livefour/detail/crypto.hpp>
#include <livefour/detail/tc3.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace t3 = livefour::detail::tc3;
namespace json = boost::json;

namespace {

struct case_input {
    std::string method, host, query, service, content_type, payload, secret_id, secret_key;
    std::int64_t timestamp = 0;
    bool unsigned_payload = false;
};

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t min, std::size_t max) {
    std::uniform_int_distribution<std::size_t> len(min, max), pick(0, alphabet.size() - 1);
    std::string s(len(rng), ' ');
    for (auto& c : s) c = alphabet[pick(rng)];
    return s;
}

// A JSON body as clients send it: ASCII, \uXXXX escapes (hashed as six ASCII bytes each), raw
// UTF-8, sometimes empty.
std::string random_payload(std::mt19937& rng, int i) {
    if (i % 10 == 3) return {};
    static const std::vector<std::string> pieces = {R"("LivenessType":"LIP")",
                                                    R"("ValidateData":"4392")",
                                                    R"("Name":"\u5f20\u4e09")",
                                                    "\"Name\":\"张三\"",
                                                    R"("ImageBase64":"/9j/4AAQSkZJRg==")",
                                                    R"("Note":"tab\tquote\"backslash\\")",
                                                    "\"Emoji\":\"😀\"",
                                                    R"("Optional":"{\"BestFrameNum\":2}")",
                                                    R"("Sim":89.88)",
                                                    R"("List":[1,2,3])"};
    std::uniform_int_distribution<std::size_t> n(1, 6), pick(0, pieces.size() - 1);
    std::string body = "{";
    for (std::size_t k = n(rng); k > 0; --k) {
        body += pieces[pick(rng)];
        if (k > 1) body += (rng() % 2) ? "," : ", ";
    }
    return body + "}";
}

std::vector<case_input> random_cases(int count) {
    std::mt19937 rng(0x7c3);
    constexpr std::string_view printable =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'()*+,-./:;<=>?@[]^_`{|}~ ";
    constexpr std::string_view label = "abcdefghijklmnopqrstuvwxyz0123456789";
    const std::vector<std::string> content_types = {"application/json", "application/json; charset=utf-8",
                                                    "application/x-www-form-urlencoded",
                                                    "application/octet-stream; charset=utf-8"};
    std::vector<case_input> cases;
    for (int i = 0; i < count; ++i) {
        case_input c;
        c.method = (i % 7 == 5) ? "GET" : "POST";
        const std::string first = (i % 3 == 0) ? "faceid" : random_text(rng, label, 1, 12);
        c.host = first + "." + random_text(rng, label, 1, 10) + ".com";
        c.service = first;  // the SDK's rule: the first label of the endpoint
        if (c.method == "GET") c.query = "Action=" + random_text(rng, label, 1, 8) + "&Limit=10";
        c.content_type = content_types[rng() % content_types.size()];
        c.payload = random_payload(rng, i);
        c.unsigned_payload = (i % 6 == 1);
        c.secret_id = "AKID" + random_text(rng, label, 0, 36);
        c.secret_key = random_text(rng, printable, 1, 48);
        if (i % 25 == 0) c.secret_key += "ключ";  // non-ASCII keys: both sides take UTF-8 bytes
        c.timestamp = std::uniform_int_distribution<std::int64_t>(0, 7258118399LL)(rng);  // 1970..2199
        cases.push_back(std::move(c));
    }
    return cases;
}

std::string ours(const case_input& c) {
    const std::vector<t3::header> headers = {{"Content-Type", c.content_type}, {"Host", c.host}};
    const std::string hash = livefour::detail::to_hex(livefour::detail::sha256(c.payload));
    t3::sign_input in;
    in.method = c.method;
    in.canonical_query = c.query;
    in.headers = headers;
    in.payload_hash = c.unsigned_payload ? t3::unsigned_payload : std::string_view(hash);
    in.secret_id = c.secret_id;
    in.secret_key = c.secret_key;
    in.service = c.service;
    in.timestamp = c.timestamp;
    return t3::sign(in).authorization;
}

// The SDK's signatures of `cases`, one per line.
std::vector<std::string> theirs(const std::vector<case_input>& cases) {
    const auto dir = std::filesystem::path(LIVEFOUR_TEST_PEERS_DIR) / "node";
    REQUIRE_MESSAGE(std::filesystem::exists(dir / "node_modules" / "tencentcloud-sdk-nodejs"),
                    "the SDK is not installed: npm ci --prefix test/peers/node (scripts/setup.sh does it)");
    const auto input =
        std::filesystem::temp_directory_path() / ("livefour-tc3-" + std::to_string(::getpid()) + ".jsonl");
    {
        std::ofstream f(input, std::ios::binary);
        for (const auto& c : cases) {
            // The SDK has no unsigned mode: giving it the 16 bytes "UNSIGNED-PAYLOAD" as the body
            // makes it hash what the Python/Go/Java SDKs hash in that mode (sign_tc3.js says more).
            const std::string payload = c.unsigned_payload ? std::string(t3::unsigned_payload) : c.payload;
            json::object o{{"method", c.method},
                           {"host", c.host},
                           {"query", c.query},
                           {"service", c.service},
                           {"content_type", c.content_type},
                           {"payload_b64", livefour::detail::base64_encode(payload)},
                           {"timestamp", c.timestamp},
                           {"secret_id", c.secret_id},
                           {"secret_key", c.secret_key}};
            f << json::serialize(o) << '\n';
        }
    }
    const std::string cmd =
        std::string(LIVEFOUR_TEST_NODE) + " " + (dir / "sign_tc3.js").string() + " < " + input.string();
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = ::pclose(pipe);
    std::filesystem::remove(input);
    REQUIRE_MESSAGE(status == 0, "node failed: ", cmd);
    std::vector<std::string> lines;
    for (std::size_t pos = 0; pos < out.size();) {
        const auto eol = out.find('\n', pos);
        lines.push_back(out.substr(pos, eol - pos));
        pos = eol == std::string::npos ? out.size() : eol + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("tc3 cross-check: the official Node.js SDK signs 200 random requests exactly as detail::tc3 does") {
    auto cases = random_cases(200);
    // Negative control, so that the comparison cannot pass vacuously: the last case is signed by
    // the SDK with a key one byte different from ours.
    case_input tampered = cases.back();
    tampered.secret_key.back() ^= 1;
    cases.push_back(tampered);
    const auto sdk = theirs(cases);
    REQUIRE(sdk.size() == cases.size());
    int unsigned_cases = 0, empty_cases = 0, get_cases = 0;
    for (std::size_t i = 0; i + 1 < cases.size(); ++i) {
        CAPTURE(i);
        CAPTURE(cases[i].payload);
        CHECK(sdk[i].starts_with("TC3-HMAC-SHA256 Credential="));
        CHECK(sdk[i] == ours(cases[i]));
        unsigned_cases += cases[i].unsigned_payload;
        empty_cases += cases[i].payload.empty() && !cases[i].unsigned_payload;
        get_cases += cases[i].method == "GET";
    }
    CHECK(sdk.back() != ours(cases[cases.size() - 2]));
    CHECK(unsigned_cases > 20);
    CHECK(empty_cases > 10);
    CHECK(get_cases > 20);
}
