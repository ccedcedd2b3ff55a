// The `livefour` CLI as a user runs it: documented exit statuses, secrets never printed, and the
// memory of a streamed upload independent of the file's size.
#include "fixtures.hpp"

namespace {

std::string cli() { return test::cli_path(); }

void set_credentials_env() {
    setenv("LIVEFOUR_APPID", test::appid, 1);
    setenv("LIVEFOUR_SECRET_ID", test::secret_id, 1);
    setenv("LIVEFOUR_SECRET_KEY", test::secret_key, 1);
}

std::string common(const test::emulator& emu) {
    return " --endpoint " + emu.url() + " --ca-file '" + emu.ca_path().string() + "'";
}

}  // namespace

TEST_CASE("CLI exit statuses: success, negative verdict, usage, API error, transport error") {
    test::emulator emu;
    set_credentials_env();
    auto video = test::write_file(emu.dir / "v.mp4", 10'000, test::mp4_magic());
    auto [s0, out0] = test::run(cli() + " digits" + common(emu) + " 2>/dev/null");
    CHECK(s0 == 0);
    auto digits = std::string(test::parse_json(out0).at("data").at("validate_data").as_string());

    auto [s_ok, out_ok] = test::run(cli() + " detect" + common(emu) + " --validate-data " + digits + " --video '" +
                                    video.string() + "' 2>/dev/null");
    CHECK(s_ok == 0);
    CHECK(test::parse_json(out_ok).at("data").at("live_status").to_number<int>() == 0);

    auto [s1, out1] = test::run(cli() + " detect" + common(emu) + " --validate-data 1234 --video '" + video.string() +
                                "' --seq force:live_status=-5016 2>/dev/null");
    CHECK(s1 == 1);
    CHECK(test::parse_json(out1).at("data").at("live_status").to_number<int>() == -5016);

    auto [s2, out2] = test::run(cli() + " detect" + common(emu) + " --validate-data 1234 2>&1");
    CHECK(s2 == 2);
    CHECK(out2.find("--video") != std::string::npos);
    CHECK(test::run(cli() + " frobnicate 2>/dev/null").first == 2);
    CHECK(test::run(cli() + " digits --endpoint http://127.0.0.1:1 2>/dev/null").first == 2);  // http:// refused

    auto [s3, out3] = test::run(cli() + " detect" + common(emu) + " --validate-data 1234 --video '" + video.string() +
                                "' --seq force:code=14 2>&1");
    CHECK(s3 == 3);
    CHECK(out3.find("\"code\":14") != std::string::npos);

    auto [s4, out4] = test::run(cli() + " digits --endpoint https://127.0.0.1:1 2>&1");
    CHECK(s4 == 4);
    CHECK(out4.find("livefour:") != std::string::npos);
    auto [s5, out5] =
        test::run(cli() + " detect" + common(emu) + " --validate-data 1234 --video /nonexistent.mp4 2>&1");
    CHECK(s5 == 2);  // an input error: nothing was sent
    CHECK(out5.find("/nonexistent.mp4") != std::string::npos);
}

TEST_CASE("CLI never prints the secret key, whatever fails") {
    test::emulator emu;
    set_credentials_env();
    const std::string key = "TOPSECRETKEY0123456789";
    auto video = test::write_file(emu.dir / "v.mp4", 1000, test::mp4_magic());
    const std::string cmds[] = {
        cli() + " digits" + common(emu) + " --secret-key " + key,                             // wrong key → code 14
        cli() + " digits --endpoint https://127.0.0.1:1 --secret-key " + key,                 // transport error
        cli() + " digits --endpoint 'https://u:" + key + "@127.0.0.1/' --secret-key " + key,  // bad URL with secret
        cli() + " detect" + common(emu) + " --validate-data 1 --video /nope --secret-key " + key,
        cli() + " detect" + common(emu) + " --validate-data 1234 --video '" + video.string() + "' --secret-key " + key,
    };
    for (auto& c : cmds) {
        CAPTURE(c);
        auto [st, out] = test::run(c + " 2>&1");
        CHECK(st != 0);
        CHECK(out.find(key) == std::string::npos);
        CHECK(out.find(test::secret_key) == std::string::npos);
    }
}

TEST_CASE("peak RSS of a 1 GiB upload is within 8 MiB of a 1 MiB upload") {
    test::emulator emu({"--max-body-bytes", "0"});
    set_credentials_env();
    auto rss_of_upload = [&](std::uint64_t size) {
        auto path = emu.dir / ("rss" + std::to_string(size) + ".mp4");
        {
            std::ofstream f(path, std::ios::binary);
            f << test::mp4_magic();
        }
        std::filesystem::resize_file(path, size);  // sparse: the disk is not the bottleneck
        test::child c({cli(), "detect", "--endpoint", emu.url(), "--ca-file", emu.ca_path().string(),
                       "--max-upload-bytes", "0", "--validate-data", "1234", "--video", path.string()});
        auto reply = c.line();
        CHECK(c.wait() == 1);  // "1234" was never issued: -5008, a negative verdict, after the full upload
        CHECK(reply.find("-5008") != std::string::npos);
        std::filesystem::remove(path);
        return c.max_rss_kib();
    };
    const long small = rss_of_upload(1 << 20);
    const long large = rss_of_upload(1ull << 30);
    MESSAGE("peak RSS: 1 MiB upload " << small << " KiB, 1 GiB upload " << large << " KiB");
    CHECK(large - small <= 8 * 1024);
    auto st = emu.stats();
    bool saw = false;
    for (auto& p : st.at("last_parts").as_array())
        if (p.at("name").as_string() == "video") saw = p.at("size").to_number<std::uint64_t>() == (1ull << 30);
    CHECK(saw);
}
