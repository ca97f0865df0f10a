// Unit tests for loading a shared library on first use (util/shared_library.h):
// a library and function that exist are found; a missing library or function
// is fatal in the reference's words for a table module that does not load.
#include "util/shared_library.h"

#include "util/msg.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace pf::util {
namespace {

class SharedLibraryTest : public ::testing::Test {
protected:
    void SetUp() override { msg_fatal_throws(true); }
    void TearDown() override { msg_fatal_throws(false); }
};

TEST_F(SharedLibraryTest, FindsAFunctionOfALoadedLibrary) {
    void* lib = load_library("libc.so.6");
    ASSERT_NE(lib, nullptr);
    size_t (*fn)(const char*) = nullptr;
    bind_library_function(fn, lib, "libc.so.6", "strlen");
    ASSERT_NE(fn, nullptr);
    EXPECT_EQ(fn("four"), 4u);
    // The loader keeps one copy: loading again gives the same handle.
    EXPECT_EQ(load_library("libc.so.6"), lib);
}

TEST_F(SharedLibraryTest, MissingLibraryIsFatal) {
    try {
        load_library("libpf-no-such-library.so.0");
        FAIL() << "no fatal error";
    } catch (const FatalError& e) {
        EXPECT_EQ(e.text,
                  "load_library_symbols: dlopen failure loading libpf-no-such-library.so.0: "
                  "libpf-no-such-library.so.0: cannot open shared object file: No such file or directory");
    }
}

TEST_F(SharedLibraryTest, MissingFunctionIsFatal) {
    void* lib = load_library("libc.so.6");
    try {
        library_symbol(lib, "libc.so.6", "pf_no_such_function");
        FAIL() << "no fatal error";
    } catch (const FatalError& e) {
        EXPECT_TRUE(e.text.starts_with("load_library_symbols: dlsym failure looking up pf_no_such_function in "
                                       "libc.so.6: "))
            << e.text;
        EXPECT_NE(e.text.find("undefined symbol: pf_no_such_function"), std::string::npos) << e.text;
    }
}

}  // namespace
}  // namespace pf::util
