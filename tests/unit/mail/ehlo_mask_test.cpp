// Unit tests for mail/ehlo_mask: keyword lists to masks and back, in the
// reference's name order and spelling.
#include "mail/ehlo_mask.h"

#include <gtest/gtest.h>

namespace pf::mail {
namespace {

TEST(EhloMask, ParsesAnyCaseAndSeparators) {
    EXPECT_EQ(ehlo_mask("dsn, Chunking\tSTARTTLS"), kEhloDsn | kEhloChunking | kEhloStarttls);
    EXPECT_EQ(ehlo_mask("silent-discard,size"), kEhloSilent | kEhloSize);
}

TEST(EhloMask, IgnoresUnknownWordsAndEmptyInput) {
    EXPECT_EQ(ehlo_mask(""), 0u);
    EXPECT_EQ(ehlo_mask("nosuchword, ,,"), 0u);
    EXPECT_EQ(ehlo_mask("bogus vrfy"), kEhloVrfy);
}

TEST(EhloMask, PrintsInTableOrder) {
    EXPECT_EQ(str_ehlo_mask(kEhloDsn | kEhlo8bitmime | kEhloEtrn), "8BITMIME ETRN DSN");
    EXPECT_EQ(str_ehlo_mask(0), "");
}

TEST(EhloMask, Smtputf8PrintsAsTheReferenceSpellsIt) {
    EXPECT_EQ(ehlo_mask("smtputf8"), kEhloSmtputf8);
    EXPECT_EQ(str_ehlo_mask(kEhloSmtputf8 | kEhloChunking), "EHLO_MASK_SMTPUTF8 CHUNKING");
}

}  // namespace
}  // namespace pf::mail
