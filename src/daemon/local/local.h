// The local(8) delivery agent's shared state and the entry points of its
// parts. One delivery request holds one message and its local recipients;
// each recipient is walked through the reference's delivery switch:
//   recipient  → loop check (Delivered-To:), null user, then the switch
//   switch     → aliases (full local part, then without extension),
//                forwarding of non-owner expansions, $HOME/.forward,
//                mailbox (transport, command, Maildir, mbox), unknown
//   tokens     → "/file", "~/file", "|command", ":include:/path", address
// A per-recipient attribute set (MsgAttr) and the delivery rights
// (UserAttr) are passed BY VALUE down the recursion, as the reference
// does, so a change made for one branch never leaks into a sibling.
//
// Trust: the request comes from qmgr; alias values, :include: files and
// .forward files are input from users and administrators and are parsed
// as hostile text; user names come from the password database.
#pragma once

#include "config/config.h"
#include "ipc/deliver_completion.h"
#include "ipc/deliver_dsn.h"
#include "ipc/deliver_log.h"
#include "ipc/deliver_queue_file.h"
#include "ipc/delivery_request.h"
#include "ipc/rewrite_client.h"
#include "mail/maps.h"
#include "mailbox/mailbox.h"

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pf::local {

// Which expansion a destination came from (allow_mail_to_commands/files).
enum ExpandType : unsigned {
    kExpandAlias = 1u << 0,
    kExpandForward = 1u << 1,
    kExpandInclude = 1u << 2,
};

// prepend_delivered_header classes.
enum DeliveredHeader : unsigned {
    kHeaderCommand = 1u << 0,
    kHeaderFile = 1u << 1,
    kHeaderForward = 1u << 2,
};

// propagate_unmatched_extensions classes.
enum ExtensionPropagation : unsigned {
    kPropCanonical = 1u << 0,
    kPropVirtual = 1u << 1,
    kPropAlias = 1u << 2,
    kPropForward = 1u << 3,
    kPropInclude = 1u << 4,
    kPropGeneric = 1u << 5,
};

// What main.cf says, read once at start-up.
struct Settings {
    std::string service;              // master.cf service name (relay=)
    std::string queue_directory;
    std::string myhostname;
    std::string mail_name;
    std::string cleanup_service;
    std::string trace_service;
    std::string bounce_service;
    std::string double_bounce_sender;
    ipc::DeliveryLogSettings log;
    bool soft_bounce = false;
    int ipc_timeout = 3600;
    std::string home_mailbox;
    std::string mail_spool_directory;
    std::string mailbox_command;       // raw: expanded per delivery
    std::string mailbox_transport;
    std::string fallback_transport;
    std::string luser_relay;           // raw
    std::string forward_path;          // raw
    std::string recipient_delimiter;
    std::string local_command_shell;
    std::string command_execution_directory;  // raw
    std::string command_expansion_filter;
    std::string forward_expansion_filter;
    std::string execution_directory_expansion_filter;
    std::vector<std::string> export_environment;
    unsigned allow_commands = kExpandAlias | kExpandForward;
    unsigned allow_files = kExpandAlias | kExpandForward;
    unsigned delivered_header = kHeaderCommand | kHeaderFile | kHeaderForward;
    unsigned ext_prop = kPropCanonical | kPropVirtual;
    bool expand_owner_alias = false;
    bool owner_request_special = true;
    bool frozen_delivered_to = true;
    bool strict_mailbox_ownership = true;
    bool enable_original_recipient = true;
    bool biff = true;
    int command_time_limit = 1000;
    off_t mailbox_size_limit = 0;
    unsigned lock_styles = 0;
    int stale_lock_time = 500;
    int deliver_lock_attempts = 20;
    int deliver_lock_delay = 1;
    uid_t default_uid = 0;
    gid_t default_gid = 0;
    uid_t owner_uid = 0;
    gid_t owner_gid = 0;
    int dup_filter_limit = 1000;
};

// Delivery rights and the user's environment (the reference's USER_ATTR).
struct UserAttr {
    uid_t uid = 0;
    gid_t gid = 0;
    std::optional<std::string> home;
    std::optional<std::string> logname;
    std::optional<std::string> shell;
};

// What is known about the recipient at one point of the expansion.
struct MsgAttr {
    int level = 0;
    std::string sender;                    // may be replaced by an owner- alias
    std::optional<std::string> delivered;  // address for Delivered-To:
    ipc::DeliveryRecipient rcpt;           // address changes with expansion
    std::string local;                     // folded local part (with extension)
    std::optional<std::string> domain;
    std::string user;                      // local part without extension
    std::optional<std::string> extension;
    std::optional<std::string> unmatched;  // extension still to propagate
    std::optional<std::string> owner;      // owner- alias / forwarder
    std::optional<std::string> exp_from;   // the alias being expanded
    unsigned exp_type = 0;
    std::string dsn_envid;
    int dsn_ret = 0;
};

class Forwarder;

// alias_maps, one entry per table so that each table's owner is known
// (commands and files of a table owned by a user run with that user's
// rights; a root-owned table gives default_privs).
struct AliasTable {
    std::string name;      // "hash:/etc/aliases"
    mail::Maps maps;
    uid_t owner = 0;       // owner of the table's file (0: root or no file)
};
struct AliasMaps {
    std::vector<AliasTable> tables;
    // Search every table in order (owner- lookups).
    dict::LookupResult find(std::string_view key) const;
};

// Everything one top-level recipient's delivery shares.
struct Context {
    const Settings& settings;
    ipc::DeliveryRequest& request;
    ipc::DeliveryQueueFile& file;
    ipc::DeliveryRecorder& recorder;
    ipc::RewriteClient& rewrite;
    AliasMaps& aliases;
    const std::set<std::string>& loop_info;   // Delivered-To: of the message
    Forwarder& forwarder;
    std::set<std::string> dup_filter{};

    bool recorder_soft_bounce() const { return settings.soft_bounce; }

    // The reference's been_here: true when key was seen (keys fold case).
    bool been_here(const std::string& key);
    bool been_here_check(const std::string& key) const;
};

// Tables opened at start-up besides alias_maps.
struct LocalTables {
    mail::Maps mailbox_transport_maps;
    mail::Maps mailbox_command_maps;
    mail::Maps fallback_transport_maps;
};
LocalTables& local_tables();

// The message of the request as a mailbox or file write copies it, with
// the envelope of attr and the copy flags given (local_mailbox.cpp).
mailbox::MessageSource message_source(Context& ctx, const MsgAttr& attr, unsigned flags);
// The copy flags of a mailbox or file write (From_, quoting, blank line,
// Return-Path, X-Original-To, Delivered-To unless delivered_header says
// otherwise), as the reference sets them for both.
unsigned mbox_copy_flags(const Settings& settings);
// An mbox write to path with local's lock and size settings and default
// status 5.2.0; the caller sets the identities and ownership checks.
mailbox::MboxTarget mbox_target(const Settings& settings, const std::string& path);

// --- Recording outcomes (local_record.cpp) ---
int record_sent(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);
int record_bounce(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);
int record_defer(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);
int record_bounce_or_defer(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);
// Bounces or defers, sending the report to an owner- alias of the
// recipient when one exists (the reference's bounce_workaround).
int bounce_workaround(Context& ctx, MsgAttr attr, ipc::Dsn dsn);
// A one-recipient notice to attr.sender (an owner- alias), logged
// "bounced" (the reference's bounce_one).
int bounce_one(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);
// A trace record only (DSN "expanded"/"delivered" for NOTIFY=SUCCESS).
void record_trace(Context& ctx, const MsgAttr& attr, ipc::Dsn dsn);

// --- The switch (local_recipient.cpp) ---
int deliver_recipient(Context& ctx, MsgAttr attr, UserAttr usr);
int deliver_resolve_addr(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& address);
int deliver_indirect(Context& ctx, MsgAttr attr);

// --- Aliases, :include:, .forward and list tokens (local_alias.cpp,
//     local_token.cpp, local_dotforward.cpp) ---
bool deliver_alias(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& name, int& status);
int deliver_token_string(Context& ctx, const MsgAttr& attr, const UserAttr& usr, std::string_view text,
                         int* count);
int deliver_token_lines(Context& ctx, const MsgAttr& attr, const UserAttr& usr, const std::string& contents,
                        int* count);
int deliver_include(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path);
bool deliver_dotforward(Context& ctx, MsgAttr attr, UserAttr usr, int& status);

// The status of a failed Maildir write as local(8) reports it: a failure
// to create or link the file maps its errno with local's default 5.2.0
// (the library's default is virtual(8)'s 4.2.0); others stay.
ipc::Dsn local_maildir_status(const mailbox::MailboxResult& result);

// --- Mailboxes (local_mailbox.cpp) and unknown users (local_unknown.cpp) ---
bool deliver_mailbox(Context& ctx, MsgAttr attr, UserAttr usr, int& status);
int deliver_maildir(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path);
int deliver_unknown(Context& ctx, MsgAttr attr, UserAttr usr);
// Hands one recipient to another transport (mailbox_transport,
// fallback_transport): "transport[:nexthop]".
int deliver_pass(Context& ctx, MsgAttr attr, const std::string& transport);

// --- Commands and files (local_command.cpp, local_file.cpp) ---
int deliver_command(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& command);
int deliver_file(Context& ctx, MsgAttr attr, UserAttr usr, const std::string& path);

// --- $name expansion of forward_path, luser_relay, mailbox_command,
//     command_execution_directory (local_expand.cpp) ---
enum LocalExpandStatus : unsigned {
    kExpandError = 1u << 0,
    kExpandUndefined = 1u << 1,
    kExpandExtensionMatched = 1u << 2,
};
struct LocalExpansion {
    std::string text;
    unsigned status = 0;
};
// filter: the bytes allowed in substituted values (others become '_');
// empty: no filtering.
LocalExpansion local_expand(std::string_view pattern, const MsgAttr& attr, const UserAttr& usr,
                            std::string_view filter);

// --- Privileges (local_privs.cpp) ---
// Switches the effective ids (root stays the real uid).
void set_eugid(uid_t uid, gid_t gid);
// Back to mail_owner.
void restore_eugid(const Settings& settings);
// Sets the user attributes from a password entry.
struct PasswdEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::string shell;
};
// Lookup of a user; nullopt when unknown; error text on failure.
struct PasswdLookup {
    std::optional<PasswdEntry> entry;
    int error = 0;
};
PasswdLookup passwd_by_name(const std::string& name);
PasswdLookup passwd_by_uid(uid_t uid);
void set_user_attr(UserAttr& usr, const PasswdEntry& pw);
void reset_user_attr(UserAttr& usr);

}  // namespace pf::local
