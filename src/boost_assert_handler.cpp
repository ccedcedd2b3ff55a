// livefour fuzzing — the BOOST_ASSERT handler of the fuzz targets (BOOST_ENABLE_ASSERT_HANDLER is
// defined for every translation unit of the fuzz build, see CMakeLists.txt).
//
// Assertions stay on while fuzzing: a failed BOOST_ASSERT in Beast, Asio or Boost.JSON is a
// finding. One assertion is known to be wrong and is skipped, which is what a release (NDEBUG)
// build does with it anyway:
//   boost/beast/http/impl/basic_parser.ipp, parse_chunk_header: BOOST_ASSERT(n >= 5). It fires
//   when the last chunk "0\r\n" was parsed alone and the next call brings a single byte; the code
//   after it is correct for n >= 3. Fixed upstream by boostorg/beast PR #2861 (Boost 1.86).
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
