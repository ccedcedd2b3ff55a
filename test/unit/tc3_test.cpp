// TC3-HMAC-SHA256 (api3.md §1): the official vectors A–D byte for byte with every intermediate,
// the faceid-derived vectors of §1.4, header canonicalisation, the UTC date, the key cache, and
// the SHA-256/HMAC-SHA256 primitives under them.
#include <doctest/doctest.h>

#include <livefour/detail/crypto.hpp>
#include <livefour/detail/tc3.hpp>

#include <algorithm>
#include <ctime>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using namespace livefour::detail;
namespace t3 = livefour::detail::tc3;

namespace {

std::string hex_sha(std::string_view s) { return to_hex(sha256(s)); }

// The payload every revision of the official page signs: 86 ASCII bytes, the backslashes are
// literal characters (a raw string does not process \u escapes).
constexpr std::string_view doc_payload =
    R"({"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]})";
constexpr std::string_view doc_payload_hash = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";
constexpr std::string_view stars32 = "********************************";
constexpr std::int64_t doc_timestamp = 1551113065;

const std::vector<t3::header> doc_headers_sdk = {{"Content-Type", "application/json; charset=utf-8"},
                                                 {"Host", "cvm.tencentcloudapi.com"}};
const std::vector<t3::header> doc_headers_action = {{"Content-Type", "application/json; charset=utf-8"},
                                                    {"Host", "cvm.tencentcloudapi.com"},
                                                    {"X-TC-Action", "DescribeInstances"}};

t3::sign_input doc_input(const std::vector<t3::header>& headers, std::string_view id, std::string_view key) {
    t3::sign_input in;
    in.headers = headers;
    in.payload_hash = doc_payload_hash;
    in.secret_id = id;
    in.secret_key = key;
    in.service = "cvm";
    in.timestamp = doc_timestamp;
    return in;
}

// The fast path (cached key chain) must agree with the reference on every input.
void check_fast_path(const t3::sign_input& in, const t3::signature_parts& p) {
    CHECK(t3::authorization(in, t3::derive_key(in.secret_key, p.date, in.service)) == p.authorization);
    CHECK(to_hex(t3::derive_key(in.secret_key, p.date, in.service)) == p.secret_signing_hex);
}

}  // namespace

TEST_CASE("sha256 of the official payload (api3.md §1.3)") {
    REQUIRE(doc_payload.size() == 86);
    CHECK(hex_sha(doc_payload) == doc_payload_hash);
}

TEST_CASE("tc3 vector A: current CN revision, x-tc-action signed, every intermediate") {
    const std::string id = "AKID" + std::string(stars32);
    const auto in = doc_input(doc_headers_action, id, stars32);
    const auto p = t3::sign(in);
    CHECK(p.date == "2019-02-25");
    CHECK(p.canonical_headers ==
          "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
          "x-tc-action:describeinstances\n");
    CHECK(p.signed_headers == "content-type;host;x-tc-action");
    CHECK(p.hashed_payload == doc_payload_hash);
    CHECK(p.canonical_request ==
          "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
          "x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n"
          "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    CHECK(p.hashed_canonical_request == "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
    CHECK(p.credential_scope == "2019-02-25/cvm/tc3_request");
    CHECK(p.string_to_sign ==
          "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
          "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
    CHECK(p.secret_date_hex == "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0");
    CHECK(p.secret_service_hex == "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f");
    CHECK(p.secret_signing_hex == "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af");
    CHECK(p.signature == "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
    CHECK(p.authorization ==
          "TC3-HMAC-SHA256 Credential=AKID********************************/2019-02-25/cvm/tc3_request, "
          "SignedHeaders=content-type;host;x-tc-action, "
          "Signature=10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f");
    check_fast_path(in, p);
}

TEST_CASE("tc3 vector B: 2019-2022 revision, EXAMPLE keys, content-type;host") {
    const auto in =
        doc_input(doc_headers_sdk, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
    const auto p = t3::sign(in);
    CHECK(p.canonical_headers == "content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n");
    CHECK(p.signed_headers == "content-type;host");
    CHECK(p.canonical_request ==
          "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
          "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
    CHECK(p.hashed_canonical_request == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    CHECK(p.string_to_sign ==
          "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
          "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    CHECK(p.secret_date_hex == "d1308c81fe71cfd4e06437bbc067b2b8a3d2d8c0e375d547f15c41d5214b395a");
    CHECK(p.secret_service_hex == "3c7cb7c7795393edc14fd2e0e6434a518564b4504b88e94f5d11bf59ba3e7050");
    CHECK(p.secret_signing_hex == "ac658d5dde49e9bfdd14e04e062f66b05d9f637d44b8a8d845327d4a77f666b1");
    CHECK(p.signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    CHECK(
        p.authorization ==
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
    check_fast_path(in, p);
}

TEST_CASE("tc3 vector C: partly masked keys, content-type;host") {
    const auto in =
        doc_input(doc_headers_sdk, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******");
    const auto p = t3::sign(in);
    CHECK(p.hashed_canonical_request == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031");
    CHECK(p.signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c");
    check_fast_path(in, p);
}

TEST_CASE("tc3 vector D: the current official demos (masked keys, x-tc-action)") {
    const auto in =
        doc_input(doc_headers_action, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******");
    const auto p = t3::sign(in);
    CHECK(p.hashed_canonical_request == "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84");
    CHECK(p.signature == "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3");
    check_fast_path(in, p);
}

TEST_CASE("tc3 faceid-derived vectors (api3.md §1.4): signed body and UNSIGNED-PAYLOAD") {
    constexpr std::string_view body =
        R"({"LivenessType": "LIP", "ValidateData": "4392", "ImageBase64": "/9j/4AAQSkZJRg==", "VideoBase64": "AAAAIGZ0eXBpc29t"})";
    const std::vector<t3::header> headers = {{"Content-Type", "application/json"},
                                             {"Host", "faceid.tencentcloudapi.com"}};
    const std::string body_hash = hex_sha(body);
    CHECK(body_hash == "c900a04914940ed27f33dee66968e959a5c898fe6fad4bc0ddb04a5085340a8c");
    t3::sign_input in;
    in.headers = headers;
    in.secret_id = "AKIDEXAMPLE";
    in.secret_key = stars32;
    in.service = "faceid";
    in.timestamp = doc_timestamp;

    SUBCASE("signed body") {
        in.payload_hash = body_hash;
        const auto p = t3::sign(in);
        CHECK(p.hashed_canonical_request == "c5d5af805a60273110014855bd6e9d5fb97d952a6e7c31c77df8ff4d4d2d94b4");
        CHECK(p.signature == "a56268830cd4952fe9d34b681830fc1eac11dc70168edc354c0df3b5aa599018");
        CHECK(p.credential_scope == "2019-02-25/faceid/tc3_request");
        check_fast_path(in, p);
    }
    SUBCASE("UNSIGNED-PAYLOAD: the canonical request carries hex(SHA-256(\"UNSIGNED-PAYLOAD\"))") {
        in.payload_hash = t3::unsigned_payload;
        const auto p = t3::sign(in);
        CHECK(p.hashed_payload == "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96");
        CHECK(p.hashed_payload == hex_sha("UNSIGNED-PAYLOAD"));
        CHECK(p.hashed_canonical_request == "b96d252153a31d2997265d0e7c3b08a3dbd9b447981bdff6d784647e35ba55a5");
        CHECK(p.signature == "b8eb747b6c4cf3dc2c729d6e1333429810e0486f3c8450124d989faea1f88b99");
        check_fast_path(in, p);
    }
    SUBCASE("the doc payload's request with UNSIGNED-PAYLOAD and the 32-star key") {
        auto doc = doc_input(doc_headers_sdk, "AKID", stars32);
        doc.payload_hash = t3::unsigned_payload;
        const auto p = t3::sign(doc);
        CHECK(p.hashed_canonical_request == "2f979f7f136d0b0e2f23f8bbb8402890b085a2b85186875bb4771216280f51ae");
        CHECK(p.signature == "6bf8b0fea4ecd5766b4c6b55254d275040db6893367b2af1144a247458631f70");
    }
}

TEST_CASE("tc3 header canonicalisation: trim, lower-case, sort; refuse the ambiguous") {
    const auto reference = t3::sign(doc_input(doc_headers_sdk, "AKID", stars32));
    SUBCASE("names and values are trimmed and lower-cased, order does not matter") {
        const std::vector<t3::header> messy = {{" HOST\t", "  CVM.TencentCloudAPI.com "},
                                               {"content-TYPE", "\tApplication/JSON; Charset=UTF-8  "}};
        const auto p = t3::sign(doc_input(messy, "AKID", stars32));
        CHECK(p.canonical_headers == reference.canonical_headers);
        CHECK(p.signed_headers == "content-type;host");
        CHECK(p.authorization == reference.authorization);
    }
    SUBCASE("ASCII order of the lower-cased names, '-' before letters") {
        const std::vector<t3::header> h = {
            {"x-tc-action", "A"}, {"Host", "h"}, {"X-TC", "b"}, {"content-type", "c"}, {"x-tc-Action-2", "d"}};
        CHECK(t3::canonicalize_headers(h).signed_names == "content-type;host;x-tc;x-tc-action;x-tc-action-2");
    }
    SUBCASE("inner spaces of a value are kept") {
        const std::vector<t3::header> h = {{"a", " x  y "}};
        CHECK(t3::canonicalize_headers(h).canonical == "a:x  y\n");
    }
    SUBCASE("a name given twice, an empty name, CR or LF: invalid_argument") {
        const std::vector<t3::header> twice = {{"Host", "a"}, {"host ", "b"}};
        CHECK_THROWS_AS(t3::canonicalize_headers(twice), std::invalid_argument);
        const std::vector<t3::header> empty = {{" ", "a"}};
        CHECK_THROWS_AS(t3::canonicalize_headers(empty), std::invalid_argument);
        const std::vector<t3::header> lf = {{"host", "a\nx-tc-action:forged"}};
        CHECK_THROWS_AS(t3::canonicalize_headers(lf), std::invalid_argument);
        const std::vector<t3::header> cr = {{"ho\rst", "a"}};
        CHECK_THROWS_AS(t3::canonicalize_headers(cr), std::invalid_argument);
    }
    SUBCASE("the payload hash must be 64 lower-case hex digits or UNSIGNED-PAYLOAD") {
        auto in = doc_input(doc_headers_sdk, "AKID", stars32);
        const std::string upper = "35E9C5B0E3AE67532D3C9F17EAD6C90222632E5B1FF7F6E89887F1398934F064";
        for (std::string_view bad : {std::string_view(upper), std::string_view("unsigned-payload"),
                                     std::string_view(""), doc_payload_hash.substr(1)}) {
            CAPTURE(bad);
            in.payload_hash = bad;
            CHECK_THROWS_AS(t3::sign(in), std::invalid_argument);
        }
    }
}

TEST_CASE("tc3 empty body: the canonical request ends with SHA-256 of nothing") {
    const std::string empty_hash = hex_sha("");
    CHECK(empty_hash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auto in = doc_input(doc_headers_sdk, "AKID", stars32);
    in.payload_hash = empty_hash;
    const auto p = t3::sign(in);
    CHECK(p.canonical_request.ends_with("\ncontent-type;host\n" + empty_hash));
    CHECK(p.hashed_canonical_request == hex_sha(p.canonical_request));
    check_fast_path(in, p);
}

TEST_CASE("tc3 a GET request: method and canonical query are taken as given") {
    auto in = doc_input(doc_headers_sdk, "AKID", stars32);
    in.method = "GET";
    in.canonical_query = "Limit=10&Offset=0";
    in.payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const auto p = t3::sign(in);
    CHECK(p.canonical_request.starts_with("GET\n/\nLimit=10&Offset=0\ncontent-type:"));
}

TEST_CASE("utc_date: the UTC+8 trap, leap years, centuries, negative timestamps") {
    CHECK(t3::utc_date(1551113065) == "2019-02-25");  // 2019-02-26 00:44:25 in UTC+8
    CHECK(t3::utc_date(0) == "1970-01-01");
    CHECK(t3::utc_date(-1) == "1969-12-31");
    CHECK(t3::utc_date(-86400) == "1969-12-31");
    CHECK(t3::utc_date(-86401) == "1969-12-30");
    CHECK(t3::utc_date(951782399) == "2000-02-28");
    CHECK(t3::utc_date(951782400) == "2000-02-29");  // 2000: divisible by 400, a leap year
    CHECK(t3::utc_date(951868800) == "2000-03-01");
    CHECK(t3::utc_date(1709164800) == "2024-02-29");
    CHECK(t3::utc_date(1709251199) == "2024-02-29");
    CHECK(t3::utc_date(1709251200) == "2024-03-01");
    CHECK(t3::utc_date(1677542400) == "2023-02-28");
    CHECK(t3::utc_date(1677628800) == "2023-03-01");  // 2023: no 29th
    CHECK(t3::utc_date(4107456000) == "2100-02-28");
    CHECK(t3::utc_date(4107542400) == "2100-03-01");  // 2100: a century, not a leap year
    CHECK(t3::utc_date(-2203977600) == "1900-02-28");
    CHECK(t3::utc_date(-2203891200) == "1900-03-01");  // 1900: a century, no 29th
    CHECK(t3::utc_date(-2208988800) == "1900-01-01");
    CHECK(t3::utc_date(1767225599) == "2025-12-31");
    CHECK(t3::utc_date(1767225600) == "2026-01-01");
    CHECK(t3::utc_date(253402300799) == "9999-12-31");
    CHECK_THROWS_AS(t3::utc_date(253402300800), std::out_of_range);
    CHECK(t3::timestamp_text(1551113065) == "1551113065");
    CHECK(t3::timestamp_text(-5) == "-5");
}

TEST_CASE("utc_date agrees with gmtime_r over random timestamps (1900..2200)") {
    std::mt19937_64 rng(20190225);
    std::uniform_int_distribution<std::int64_t> dist(-2208988800LL, 7258118400LL);
    for (int i = 0; i < 20000; ++i) {
        const std::int64_t t = dist(rng);
        const std::time_t tt = static_cast<std::time_t>(t);
        std::tm tm{};
        REQUIRE(gmtime_r(&tt, &tm) != nullptr);
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        CAPTURE(t);
        REQUIRE(t3::utc_date(t) == buf);
    }
}

TEST_CASE("signing_key_cache derives once per key, date and service, and signs like sign()") {
    t3::signing_key_cache cache;
    auto in = doc_input(doc_headers_sdk, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    in.timestamp += 60;  // same day
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    CHECK(cache.derivations() == 1);
    in.timestamp += 86400;  // the next day
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    CHECK(cache.derivations() == 2);
    in.service = "faceid";
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    CHECK(cache.derivations() == 3);
    in.secret_key = "another key";  // a refreshed temporary credential
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    CHECK(cache.derivations() == 4);
    CHECK(cache.authorization(in) == t3::sign(in).authorization);
    CHECK(cache.derivations() == 4);
}

TEST_CASE("tc3 fast path equals the reference for random inputs") {
    std::mt19937 rng(14);
    auto text = [&](std::size_t max) {
        std::uniform_int_distribution<int> len(0, static_cast<int>(max)), ch(0x20, 0x7e);
        std::string s(static_cast<std::size_t>(len(rng)), ' ');
        for (auto& c : s) c = static_cast<char>(ch(rng));
        return s;
    };
    for (int i = 0; i < 200; ++i) {
        const std::string id = "AKID" + text(30), key = text(40), host = "h" + text(20), body = text(100);
        const std::vector<t3::header> headers = {{"Content-Type", "application/json"}, {"Host", host}};
        const std::string hash = hex_sha(body);
        t3::sign_input in;
        in.headers = headers;
        in.payload_hash = (i % 5 == 0) ? t3::unsigned_payload : std::string_view(hash);
        in.secret_id = id;
        in.secret_key = key;
        in.service = "faceid";
        in.timestamp = std::uniform_int_distribution<std::int64_t>(0, 4102444800LL)(rng);
        check_fast_path(in, t3::sign(in));
    }
}

TEST_CASE("hmac_sha256: RFC 4231 test cases 1 and 2") {
    const std::string key1(20, '\x0b');
    CHECK(to_hex(hmac_sha256(key1, "Hi There")) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    CHECK(to_hex(hmac_sha256(std::string_view("Jefe"), "what do ya want for nothing?")) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("sha256_context: streaming equals one-shot, finish() restarts, moves") {
    std::mt19937 rng(7);
    std::string data(100000, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    sha256_context ctx;
    for (std::size_t off = 0; off < data.size();) {
        const std::size_t n = std::min<std::size_t>(data.size() - off, rng() % 5000);
        ctx.update(std::string_view(data).substr(off, n));
        off += n;
    }
    CHECK(to_hex(ctx.finish()) == hex_sha(data));
    CHECK(to_hex(ctx.finish()) == hex_sha(""));  // finish() started a new message
    ctx.update("abc");
    sha256_context moved(std::move(ctx));
    moved.update(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>("def"), 3));
    CHECK(to_hex(moved.finish()) == hex_sha("abcdef"));
    CHECK_THROWS_AS(ctx.update("x"), std::logic_error);  // NOLINT(bugprone-use-after-move): on purpose
    sha256_context other;
    other = std::move(moved);
    other.update("abc");
    CHECK(to_hex(other.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
