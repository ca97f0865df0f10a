// Unit tests for the simple table types (static, fail, inline, randmap,
// environ, unionmap, pipemap, texthash) through the registry, with the
// answers and diagnostics observed from postmap 3.7.11.
#include "dict/dict_registry.h"
#include "dict/dict_utf8.h"
#include "util/msg.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace pf::dict {
namespace {

constexpr Flags kFlags = kDupWarn | kFoldFixed | kUtf8Request;

DictPtr must_open(const std::string& name, Flags flags = kFlags) {
    auto d = open(name, O_RDONLY, flags);
    EXPECT_TRUE(d) << name << ": " << (d ? "" : d.error().text);
    return d ? std::move(*d) : nullptr;
}

std::string open_error(const std::string& name, int open_flags = O_RDONLY, Flags flags = kFlags) {
    auto d = open(name, open_flags, flags);
    return d ? std::string("(opened)") : d.error().text;
}

std::string answer(Dict& d, std::string_view key) {
    LookupResult r = d.lookup(key);
    if (r.is_found()) return "=" + r.value();
    if (r.is_error()) return "!" + r.error().text;
    return "-";
}

TEST(SimpleTypesTest, OpenErrorsUseTheReferenceWording) {
    EXPECT_EQ(open_error("static:"), "open dictionary: expecting \"type:name\" form instead of \"static:\"");
    EXPECT_EQ(open_error(":x"), "open dictionary: expecting \"type:name\" form instead of \":x\"");
    EXPECT_EQ(open_error("nosuch:x"), "unsupported dictionary type: nosuch");
    EXPECT_EQ(open_error("inline:{}"), "bad syntax: \"inline:{}\"; need \"inline:{name=value...}\"");
    EXPECT_EQ(open_error("inline:{ }"), "empty table: \"inline:{ }\"; need \"inline:{name=value...}\"");
    EXPECT_EQ(open_error("inline:{a}"), "missing '=' after attribute name: \"inline:{a}\"; need \"inline:{name=value...}\"");
    EXPECT_EQ(open_error("inline:{{a=1}x}"),
              "syntax error after '}' in \"{a=1}x\": \"inline:{{a=1}x}\"; need \"inline:{name=value...}\"");
    EXPECT_EQ(open_error("inline:{a=1}", O_RDWR), "inline:{a=1} map requires O_RDONLY access mode");
    EXPECT_EQ(open_error("static:{a b"), "bad static:name syntax: missing '}' in \"{a b\"");
    EXPECT_EQ(open_error("randmap:{}"), "bad syntax: \"randmap:{}\"; need \"randmap:{value...}\"");
    EXPECT_EQ(open_error("unionmap:{x}"), "bad syntax: \"unionmap:{x}\"; need \"unionmap:{type:name...}\"");
    EXPECT_EQ(open_error("pipemap:{ }"), "bad syntax: \"pipemap:{ }\"; need \"pipemap:{type:name...}\"");
    EXPECT_EQ(open_error("unionmap:{bogus:x}"), "unsupported dictionary type: bogus");
    EXPECT_EQ(open_error("texthash:/nonexistent/t"), "open database /nonexistent/t: No such file or directory");
}

TEST(SimpleTypesTest, StaticAndFail) {
    auto s = must_open("static:{ a b }");
    EXPECT_EQ(answer(*s, "x"), "=a b");
    EXPECT_EQ(s->remove("x"), ChangeStatus::failed);
    EXPECT_EQ(s->last_error().text, "table static:{ a b }: delete operation is not supported");
    EXPECT_FALSE(s->sequence(SequenceStart::first));
    EXPECT_EQ(s->last_error().text, "table static:{ a b }: sequence operation is not supported");
    auto f = must_open("fail:oops");
    LookupResult r = f->lookup("x");
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error().kind, Error::Kind::retry);
    EXPECT_EQ(r.error().text, "Application error");
}

TEST(SimpleTypesTest, InlineParsesAndFolds) {
    auto d = must_open("inline:{a=1, {c = three words}, e==, {=empty}, k=1, k=2, UP=x}");
    EXPECT_EQ(answer(*d, "a"), "=1");
    EXPECT_EQ(answer(*d, "A"), "=1");
    EXPECT_EQ(answer(*d, "b"), "-");
    EXPECT_EQ(answer(*d, "c"), "=three words");
    EXPECT_EQ(answer(*d, "e"), "==");
    EXPECT_EQ(answer(*d, ""), "=empty");
    EXPECT_EQ(answer(*d, "k"), "=2");
    EXPECT_EQ(answer(*d, "up"), "=x");
    auto exact = must_open("inline:{UP=x}", kFlags & ~kFoldFixed);
    EXPECT_EQ(answer(*exact, "up"), "-");
    EXPECT_EQ(answer(*exact, "UP"), "=x");
}

TEST(SimpleTypesTest, RandmapUnionPipe) {
    auto r = must_open("randmap:{{a b}}");
    EXPECT_EQ(answer(*r, "x"), "={a b}");
    auto u = must_open("unionmap:{inline:{a=1}, static:{}, inline:{a=2,b=3}}");
    EXPECT_EQ(answer(*u, "a"), "=1,,2");
    EXPECT_EQ(answer(*u, "b"), "=3");
    auto empty = must_open("unionmap:{static:{},static:{}}");
    EXPECT_EQ(answer(*empty, "a"), "-");
    auto failing = must_open("unionmap:{inline:{a=1}, fail:x}");
    EXPECT_EQ(answer(*failing, "a"), "!Application error");
    auto p = must_open("pipemap:{inline:{a=B}, inline:{b=c}}");
    EXPECT_EQ(answer(*p, "a"), "=c");
    EXPECT_EQ(answer(*p, "z"), "-");
}

TEST(SimpleTypesTest, Environ) {
    ::setenv("PF_TEST_VAR", "v", 1);
    ::setenv("pf_test_var", "lower", 1);
    auto folded = must_open("environ:x");
    EXPECT_EQ(answer(*folded, "PF_TEST_VAR"), "=lower");
    auto exact = must_open("environ:x", kFlags & ~kFoldFixed);
    EXPECT_EQ(answer(*exact, "PF_TEST_VAR"), "=v");
    EXPECT_EQ(answer(*exact, "PF_TEST_NONE"), "-");
}

TEST(SimpleTypesTest, TexthashDuplicatesAndUtf8) {
    char path[] = "/tmp/pf-texthash-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    std::string text = "key first\nKEY second\nSTRASSE s\nx \"y\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    util::msg_set_quiet(true);
    auto first = must_open(std::string("texthash:") + path);
    EXPECT_EQ(answer(*first, "Key"), "=first");
    auto last = must_open(std::string("texthash:") + path, (kFlags & ~kDupWarn) | kDupReplace);
    EXPECT_EQ(answer(*last, "key"), "=second");
    set_utf8_support(true);
    auto utf8 = must_open(std::string("texthash:") + path);
    EXPECT_EQ(answer(*utf8, "stra\xc3\x9f" "e"), "=s");
    EXPECT_EQ(answer(*utf8, "bad\xff"), "-");
    set_utf8_support(false);
    util::msg_set_quiet(false);
    EXPECT_EQ(open_error(std::string("texthash:") + path, O_RDWR), std::string("texthash:") + path + " map requires O_RDONLY access mode");
    ::unlink(path);
}

TEST(SimpleTypesTest, CasefoldIsFullUnicodeFolding) {
    EXPECT_EQ(casefold_utf8("ABC"), "abc");
    EXPECT_EQ(casefold_utf8("K\xc3\x89Y"), "k\xc3\xa9y");
    EXPECT_EQ(casefold_utf8("stra\xc3\x9f" "e"), "strasse");
}

}  // namespace
}  // namespace pf::dict
