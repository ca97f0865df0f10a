// postcat(1): declarations shared by the command's parts: option parsing,
// configuration and the choice of files (postcat.cpp), and the printing of
// one queue file (postcat_dump.cpp). Texts are the reference 3.7.11's.
#pragma once

#include <cstdio>
#include <string>

namespace pf::postcat {

// What to print (the reference's option letters in comments).
inline constexpr int kSearchQueue = 1 << 0;       // -q
inline constexpr int kPrintOffset = 1 << 1;       // -o
inline constexpr int kPrintEnvelope = 1 << 2;     // -e
inline constexpr int kPrintHeader = 1 << 3;       // -h
inline constexpr int kPrintBody = 1 << 4;         // -b
inline constexpr int kPrintTypeDecimal = 1 << 5;  // -d
inline constexpr int kRaw = 1 << 7;               // -r
inline constexpr int kPrintText = kPrintHeader | kPrintBody;
inline constexpr int kPrintAll = kPrintEnvelope | kPrintText;

// Prints the queue file open on fp, named path in the output, from
// start_offset (-s). A file that is not a queue file gets a warning; a
// damaged record is fatal (exit 1), as in the reference.
void dump_queue_file(std::FILE* fp, const std::string& path, int flags, long start_offset);

}  // namespace pf::postcat
