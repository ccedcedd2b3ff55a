// livefour — a BOOST_ASSERT handler that skips one known-wrong Beast assertion.
//
// Not part of the library: with the CMake option LIVEFOUR_BOOST_ASSERT_HANDLER (set by the debug,
// asan and tsan presets and by the fuzz build) every translation unit of this project is compiled
// with BOOST_ENABLE_ASSERT_DEBUG_HANDLER and the executables link this file, so that builds with
// assertions on still abort on every failed BOOST_ASSERT in Beast, Asio or Boost.JSON except one:
//   boost/beast/http/impl/basic_parser.ipp, parse_chunk_header: BOOST_ASSERT(n >= 5). It fires
//   when the last chunk "0\r\n" of a chunked body with no data chunk was parsed alone and the next
//   call brings a single byte; the code after it is correct for n >= 3. A release (NDEBUG) build
//   skips it too. Fixed upstream by boostorg/beast PR #2861 (Boost 1.86). Both the emulator
//   (reading a request) and the client (reading a response) can meet it; without this handler a
//   hostile or merely unlucky peer aborts the debug and sanitizer builds.
#include <boost/assert.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace {

bool known_wrong(const char* expr, const char* file) {
    const std::string_view f(file);
    return std::strcmp(expr, "n >= 5") == 0 && f.ends_with("boost/beast/http/impl/basic_parser.ipp");
}

}  // namespace

namespace boost {

void assertion_failed(const char* expr, const char* function, const char* file, long line) {
    if (known_wrong(expr, file)) return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
    std::abort();
}

void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file, long line) {
    if (known_wrong(expr, file)) return;
    std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
    std::abort();
}

}  // namespace boost
