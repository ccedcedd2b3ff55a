// Signature (spec §2), secrets and the crypto primitives behind them.
#include <doctest/doctest.h>

#include <livefour/detail/crypto.hpp>
#include <livefour/error.hpp>
#include <livefour/secret.hpp>
#include <livefour/signer.hpp>

#include <boost/system/system_error.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using namespace livefour;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

constexpr std::string_view golden_key = "SECRETKEYEXAMPLE";

credentials golden_creds(std::string bucket = {}) {
    return credentials{"1250000000", "AKIDEXAMPLE", secret_string(golden_key), std::move(bucket)};
}

std::string hex_of(std::string_view bytes) {
    return detail::to_hex({reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()});
}

template <class T>
std::string printed(const T& value) {
    std::ostringstream os;
    os << value;
    return os.str();
}

// Runs a shell command and returns its standard output (binary-safe).
std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    const int status = ::pclose(pipe);
    REQUIRE_MESSAGE(status == 0, "command failed: " << command);
    return out;
}

struct temp_file {
    std::filesystem::path path;
    explicit temp_file(std::string_view content) {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("livefour-signer-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::ofstream(path, std::ios::binary) << content;
    }
    ~temp_file() { std::filesystem::remove(path); }
};

// A deterministic stream of random test inputs (fixed seed: failures are reproducible).
struct random_case {
    std::string key;  // arbitrary bytes, including NUL and high bytes
    std::string appid, bucket, secret_id;
    std::int64_t now, expiry;
    std::uint32_t r;
};

std::vector<random_case> random_cases(int count) {
    std::mt19937_64 gen(20240601);
    const auto pick = [&](std::string_view alphabet, std::size_t lo, std::size_t hi) {
        std::string s(std::uniform_int_distribution<std::size_t>(lo, hi)(gen), ' ');
        for (char& c : s) c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(gen)];
        return s;
    };
    std::vector<random_case> cases;
    for (int i = 0; i < count; ++i) {
        random_case c;
        // Keys longer than the SHA-1 block (64) exercise HMAC's key-hashing path.
        c.key.resize(std::uniform_int_distribution<std::size_t>(1, 100)(gen));
        for (char& ch : c.key) ch = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(gen));
        c.appid = pick("0123456789", 5, 10);
        c.bucket = i % 3 == 0 ? std::string{} : pick("abcdefghijklmnopqrstuvwxyz0123456789-", 1, 40);
        c.secret_id = "AKID" + pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 8, 32);
        c.now = std::uniform_int_distribution<std::int64_t>(1'000'000'000, 4'000'000'000)(gen);
        c.expiry = c.now + std::uniform_int_distribution<std::int64_t>(1, 90LL * 86400)(gen);
        c.r = i == 0 ? 0u : i == 1 ? 4294967295u : static_cast<std::uint32_t>(gen());
        cases.push_back(std::move(c));
    }
    return cases;
}

}  // namespace

TEST_CASE("signer: golden vectors of spec §2, byte-exact") {
    struct vec {
        std::string bucket, plain, hmac_hex, header;
    };
    const vec vectors[] = {
        {"", "a=1250000000&b=&k=AKIDEXAMPLE&e=1500000300&t=1500000000&r=1234567890&f=",
         "8ca4536dd19c001e8352a341dd5bbd85e05c3d88",
         "jKRTbdGcAB6DUqNB3Vu9heBcPYhhPTEyNTAwMDAwMDAmYj0maz1BS0lERVhBTVBMRSZlPTE1MDAwMDAzMDAmdD0xNTAwMDAwMDAwJnI9MTIzN"
         "DU2Nzg5MCZmPQ=="},
        {"tencentyun", "a=1250000000&b=tencentyun&k=AKIDEXAMPLE&e=1500000300&t=1500000000&r=1234567890&f=",
         "2958694f6c72f1efbc14a431a521a3fde475bb98",
         "KVhpT2xy8e+8FKQxpSGj/"
         "eR1u5hhPTEyNTAwMDAwMDAmYj10ZW5jZW50eXVuJms9QUtJREVYQU1QTEUmZT0xNTAwMDAwMzAwJnQ9MTUwMDAwMDAwMCZyPTEyMzQ1Njc4OT"
         "AmZj0="},
    };
    for (const auto& v : vectors) {
        CAPTURE(v.bucket);
        CHECK(signer::plaintext("1250000000", v.bucket, "AKIDEXAMPLE", 1500000300, 1500000000, 1234567890) == v.plain);
        CHECK(detail::to_hex(detail::hmac_sha1(golden_key, v.plain)) == v.hmac_hex);
        const signer s(golden_creds(v.bucket));
        CHECK(s.sign(1500000000, 1500000300, 1234567890) == v.header);
        // The header decodes to the raw digest followed by the plaintext.
        const auto raw = detail::base64_decode(v.header);
        REQUIRE(raw);
        CHECK(hex_of(raw->substr(0, 20)) == v.hmac_hex);
        CHECK(raw->substr(20) == v.plain);
    }
}

TEST_CASE("signer: plaintext field order, r as unsigned decimal, single-use form") {
    CHECK(signer::plaintext("1", "b", "k", 20, 10, 0) == "a=1&b=b&k=k&e=20&t=10&r=0&f=");
    CHECK(signer::plaintext("1", "", "k", 20, 10, 4294967295u) == "a=1&b=&k=k&e=20&t=10&r=4294967295&f=");
    CHECK(signer::plaintext("1", "", "k", 0, 10, 7, "/p/file.jpg") == "a=1&b=&k=k&e=0&t=10&r=7&f=/p/file.jpg");

    signer_options o;
    o.clock = [] { return std::int64_t{1500000000}; };
    o.random = [] { return std::uint32_t{42}; };
    const signer s(golden_creds(), o);
    const auto raw = detail::base64_decode(s.single_use("fid"));
    REQUIRE(raw);
    CHECK(raw->substr(20) == "a=1250000000&b=&k=AKIDEXAMPLE&e=0&t=1500000000&r=42&f=fid");
    CHECK(hex_of(raw->substr(0, 20)) == detail::to_hex(detail::hmac_sha1(golden_key, raw->substr(20))));
    CHECK_THROWS_AS((void)s.single_use(""), boost::system::system_error);
}

TEST_CASE("signer: ~20 random inputs agree with Python's hmac (independent implementation)") {
    const auto cases = random_cases(20);
    std::string input;
    for (const auto& c : cases) {
        input += R"({"key_hex":")" + hex_of(c.key) + R"(","appid":")" + c.appid + R"(","bucket":")" + c.bucket +
                 R"(","secret_id":")" + c.secret_id + R"(","e":)" + std::to_string(c.expiry) + R"(,"t":)" +
                 std::to_string(c.now) + R"(,"r":)" + std::to_string(c.r) + "}\n";
    }
    const temp_file file(input);
    std::istringstream lines(run(std::string(LIVEFOUR_TEST_PYTHON) + " '" + LIVEFOUR_TEST_PEERS_DIR +
                                 "/hmac_sign.py' '" + file.path.string() + "'"));
    for (const auto& c : cases) {
        std::string mac_hex, header;
        REQUIRE(static_cast<bool>(lines >> mac_hex >> header));
        const signer s(credentials{c.appid, c.secret_id, secret_string(c.key), c.bucket});
        CAPTURE(c.appid);
        CAPTURE(c.r);
        CHECK(s.sign(c.now, c.expiry, c.r) == header);
        CHECK(detail::to_hex(detail::hmac_sha1(
                  c.key, signer::plaintext(c.appid, c.bucket, c.secret_id, c.expiry, c.now, c.r))) == mac_hex);
    }
    std::string extra;
    CHECK_FALSE(static_cast<bool>(lines >> extra));
}

TEST_CASE("signer: random inputs agree with `openssl dgst -hmac` (independent implementation)") {
    for (const auto& c : random_cases(20)) {
        const std::string plain = signer::plaintext(c.appid, c.bucket, c.secret_id, c.expiry, c.now, c.r);
        const temp_file file(plain);
        // hexkey: the random keys contain bytes a shell argument could not carry.
        const std::string mac = run("openssl dgst -sha1 -mac HMAC -macopt hexkey:" + hex_of(c.key) + " -binary '" +
                                    file.path.string() + "'");
        REQUIRE(mac.size() == 20);
        const auto ours = detail::hmac_sha1(c.key, plain);
        CHECK(hex_of(mac) == detail::to_hex(ours));
        const signer s(credentials{c.appid, c.secret_id, secret_string(c.key), c.bucket});
        CHECK(s.sign(c.now, c.expiry, c.r) == detail::base64_encode(mac + plain));
    }
}

TEST_CASE("signer: cached while more than the margin remains, re-signed after") {
    std::int64_t now = 1'700'000'000;
    std::uint32_t next_r = 100;
    signer_options o;
    o.validity = 300s;
    o.refresh_margin = 60s;
    o.clock = [&] { return now; };
    o.random = [&] { return next_r++; };
    signer s(golden_creds(), o);
    CHECK(s.cached_expiry() == 0);

    const std::string first = s.authorization();
    CHECK(s.cached_expiry() == 1'700'000'300);
    CHECK(first == s.sign(1'700'000'000, 1'700'000'300, 100));

    now += 239;  // 61 s remain (> margin): reused
    CHECK(s.authorization() == first);
    CHECK(next_r == 101);

    now += 1;  // exactly 60 s remain: no longer "more than the margin"
    const std::string second = s.authorization();
    CHECK(second != first);
    CHECK(second == s.sign(1'700'000'240, 1'700'000'540, 101));
    CHECK(s.cached_expiry() == 1'700'000'540);

    now += 1000;  // long past expiry
    CHECK(s.authorization() == s.sign(now, now + 300, 102));

    now -= 5000;  // clock stepped back before the cached t: re-sign rather than send t in the future
    CHECK(s.authorization() == s.sign(now, now + 300, 103));
    CHECK(s.cached_expiry() == now + 300);
}

TEST_CASE("signer: refresh margin is clamped below the validity") {
    std::int64_t now = 1000;
    signer_options o;
    o.validity = 10s;
    o.refresh_margin = 3600s;  // larger than the validity: would re-sign on every call
    o.clock = [&] { return now; };
    o.random = [] { return std::uint32_t{1}; };
    signer s(golden_creds(), o);
    CHECK(s.refresh_margin() == 9s);
    const auto a = s.authorization();
    CHECK(s.cached_expiry() == 1010);
    now = 1000;  // same second: must be reused
    CHECK(s.authorization() == a);
    now = 1001;  // 9 s remain == margin: re-signed
    (void)s.authorization();
    CHECK(s.cached_expiry() == 1011);

    o.refresh_margin = -5s;
    CHECK(signer(golden_creds(), o).refresh_margin() == 0s);
}

TEST_CASE("signer: validity bounds 1 s .. 90 days") {
    const auto make = [](std::chrono::seconds validity) {
        signer_options o;
        o.validity = validity;
        return signer(golden_creds(), o);
    };
    for (auto bad : {0s, -1s, max_signature_validity + 1s, std::chrono::seconds{365LL * 86400}}) {
        CAPTURE(bad.count());
        try {
            (void)make(bad);
            FAIL("accepted validity " << bad.count());
        } catch (const boost::system::system_error& e) {
            CHECK(e.code() == client_error::invalid_signature_validity);
        }
    }
    CHECK(make(1s).validity() == 1s);
    CHECK(make(max_signature_validity).validity() == 7'776'000s);

    // The maximum is usable end to end: e - t == 90 days.
    signer_options o;
    o.validity = max_signature_validity;
    o.clock = [] { return std::int64_t{1'500'000'000}; };
    signer s(golden_creds(), o);
    (void)s.authorization();
    CHECK(s.cached_expiry() == 1'500'000'000 + 7'776'000);
}

TEST_CASE("signer: missing or unsafe credentials are rejected") {
    const auto code_of = [](credentials c) {
        try {
            signer s(std::move(c));
        } catch (const boost::system::system_error& e) {
            return e.code();
        }
        return error_code{};
    };
    CHECK(code_of({"", "id", secret_string("k"), ""}) == client_error::missing_credentials);
    CHECK(code_of({"1", "", secret_string("k"), ""}) == client_error::missing_credentials);
    CHECK(code_of({"1", "id", secret_string(), ""}) == client_error::missing_credentials);
    CHECK(code_of({"1&k=forged", "id", secret_string("k"), ""}) == client_error::invalid_field);
    CHECK(code_of({"1", "id", secret_string("k"), "b=x"}) == client_error::invalid_field);
    CHECK(code_of({"1", "id\r\n", secret_string("k"), ""}) == client_error::invalid_field);
    CHECK_FALSE(code_of({"1", "id", secret_string("k"), ""}));
}

TEST_CASE("signer: the default random source yields 1-10 decimal digits and varies") {
    const signer s(golden_creds());  // no injected clock or random: the production sources
    const std::regex shape(R"(a=1250000000&b=&k=AKIDEXAMPLE&e=0&t=\d+&r=(\d{1,10})&f=x)");
    std::set<std::string> seen;
    for (int i = 0; i < 8; ++i) {
        const auto raw = detail::base64_decode(s.single_use("x"));
        REQUIRE(raw);
        std::smatch m;
        const std::string plain = raw->substr(20);
        REQUIRE(std::regex_match(plain, m, shape));
        CHECK(std::stoull(m[1].str()) <= 4294967295ull);
        seen.insert(m[1].str());
    }
    CHECK(seen.size() > 1);
}

TEST_CASE("signer: concurrent authorization() calls share one signature") {
    std::atomic<int> randoms{0};
    signer_options o;
    o.clock = [] { return std::int64_t{1'600'000'000}; };
    o.random = [&] { return static_cast<std::uint32_t>(++randoms); };
    signer s(golden_creds(), o);
    std::vector<std::string> results(8);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < results.size(); ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 200; ++k) results[i] = s.authorization();
        });
    for (auto& t : threads) t.join();
    CHECK(randoms == 1);
    for (const auto& r : results) CHECK(r == results[0]);
}

TEST_CASE("secrets: never printed, never in exception texts") {
    const std::string key = "TopSecretKey-0123456789";
    credentials c{"1250000000", "AKIDVISIBLE", secret_string(key), "bkt"};

    const std::string s1 = printed(c.secret_key);
    CHECK(s1 == "[redacted]");
    const std::string s2 = printed(c);
    CHECK(s2.find(key) == std::string::npos);
    CHECK(s2.find("1250000000") != std::string::npos);
    CHECK(s2.find("AKIDVISIBLE") != std::string::npos);
    CHECK(s2.find("[redacted]") != std::string::npos);

    signer_options o;
    o.clock = [] { return std::int64_t{1'600'000'000}; };
    signer s(c, o);
    const std::string sig = s.authorization();
    const std::string s3 = printed(s);
    CHECK(s3.find(key) == std::string::npos);
    CHECK(s3.find(sig) == std::string::npos);  // a live signature is a bearer token
    CHECK(s3.find("AKIDVISIBLE") != std::string::npos);

    // Exceptions raised while the key is at hand.
    const auto what_of = [](credentials cr, std::chrono::seconds validity) {
        signer_options opts;
        opts.validity = validity;
        try {
            signer bad(std::move(cr), opts);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("<no exception>");
    };
    const std::string w1 = what_of({"1", "id", secret_string(key), ""}, 0s);
    const std::string w2 = what_of({"", "id", secret_string(key), ""}, 300s);
    const std::string w3 = what_of({"1&", "id", secret_string(key), ""}, 300s);
    for (const auto& w : {w1, w2, w3}) {
        CAPTURE(w);
        CHECK(w != "<no exception>");
        CHECK(w.find(key) == std::string::npos);
    }
    try {
        (void)s.single_use("");
        FAIL("no exception");
    } catch (const std::exception& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
    }
}

TEST_CASE("secret_string: copy, move and assignment keep or wipe the value") {
    secret_string a("short");                // in-place (small string) storage
    secret_string b(std::string(100, 'x'));  // heap storage
    secret_string c = a;
    CHECK(c.reveal() == "short");
    secret_string d = std::move(a);
    CHECK(d.reveal() == "short");
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the contract says moved-from is wiped
    CHECK(a.reveal().empty());
    secret_string e;
    e = std::move(b);
    CHECK(e.reveal() == std::string(100, 'x'));
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
    e = d;
    CHECK(e.reveal() == "short");
    e = e;  // self-assignment keeps the value
    CHECK(e.reveal() == "short");
    e = secret_string("other");
    CHECK(e.reveal() == "other");
    CHECK(secret_string().empty());
}

TEST_CASE("crypto: base64 RFC 4648 vectors, strict decoding") {
    const std::pair<std::string_view, std::string_view> rfc[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (auto [plain, enc] : rfc) {
        CHECK(detail::base64_encode(plain) == enc);
        CHECK(detail::base64_decode(enc) == std::string(plain));
    }
    CHECK(detail::base64_encode("\xfb\xff") == "+/8=");  // standard, not URL-safe alphabet
    CHECK(detail::base64_decode("+/8=") == std::string("\xfb\xff"));
    const std::string_view bad_inputs[] = {"Zg",   "Zg=",  "Z===", "Zm9v\n", " Zm9v", "Zg==Zg==",   "Zm=v",
                                           "-_8=", "Zh==", "Zm9=", "Zm9 ",   "Zg\n=", "Zm9vYg=\0"sv};
    for (std::string_view bad : bad_inputs) {
        CAPTURE(bad);
        CHECK_FALSE(detail::base64_decode(bad));
    }
    // every byte value round-trips
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(detail::base64_decode(detail::base64_encode(all)) == all);
}

TEST_CASE("crypto: SHA-256, HMAC-SHA1 RFC 2202 and hex") {
    CHECK(detail::to_hex(detail::sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(detail::to_hex(detail::sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    // RFC 2202 test case 2
    CHECK(detail::to_hex(detail::hmac_sha1("Jefe", "what do ya want for nothing?")) ==
          "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    // RFC 2202 test case 6: key longer than the block size
    CHECK(detail::to_hex(
              detail::hmac_sha1(std::string(80, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")) ==
          "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    const unsigned char bytes[] = {0x00, 0x0f, 0xa0, 0xff};
    CHECK(detail::to_hex(bytes) == "000fa0ff");
}
