// Copying a queued message's content to a delivery destination (a pipe to
// a command, a mailbox file), as the reference's agents do it (its
// mail_copy): optional envelope lines first, in this order:
//   "From <sender>  <asctime>"      (kCopyFrom; MAILER-DAEMON for "")
//   "Return-Path: <sender>"         (kCopyReturnPath)
//   "X-Original-To: <orig rcpt>"    (kCopyOrigRcpt, when enabled and set)
//   "Delivered-To: <recipient>"     (kCopyDelivered)
// with addresses in quoted (external) form; then the content records from
// the data offset, each line ended by eol, with ">" before lines starting
// "From " (kCopyQuote) and "." before lines starting "." (kCopyDot), a
// final eol after an unterminated last line and an extra blank line with
// kCopyBlank. A record other than content or the extracted-records marker
// ends the copy and the file counts as corrupt.
//
// Trust: the queue file may be damaged (bounded reads, corrupt reported).
#pragma once

#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <string_view>

namespace pf::ipc {

enum CopyFlags : unsigned {
    kCopyFrom = 1u << 0,
    kCopyReturnPath = 1u << 1,
    kCopyDelivered = 1u << 2,
    kCopyOrigRcpt = 1u << 3,
    kCopyDot = 1u << 4,
    kCopyQuote = 1u << 5,
    kCopyBlank = 1u << 6,
};

struct CopyEnvelope {
    std::string sender;          // already the null-sender replacement when wanted
    std::string orig_recipient;
    std::string delivered;       // the recipient for Delivered-To:
    bool enable_original_recipient = true;
    std::time_t now = 0;         // time for the From_ line (0: current time)
};

struct CopyResult {
    bool corrupt = false;
    bool read_error = false;
    bool write_error = false;
    int write_errno = 0;   // errno of the failed write
};

// write returns false on failure (with errno set); it is called with
// chunks of at most a few kilobytes.
using CopySink = std::function<bool(std::string_view)>;

CopyResult copy_message(std::FILE* queue_file, long data_offset, const CopyEnvelope& envelope, unsigned flags,
                        std::string_view eol, const CopySink& write);

// The From_ line time stamp: asctime() of localtime, without its newline.
std::string from_line_time(std::time_t when);

}  // namespace pf::ipc
