// Client side of the flush service (public/flush), the "fast flush" log
// of deferred mail per destination that makes ETRN, `sendmail -qR site`,
// `postqueue -s site` and `postqueue -i id` cheap (the reference's
// flush(8) and its mail_flush_* calls). Implemented with the flush daemon
// (src/daemon/flush); callers: postqueue, sendmail, smtpd (ETRN), qmgr
// and the delivery agents (flush_add when they defer a recipient of a
// fast-flush destination).
//
// The requests and their replies (our attribute protocol, attr.h):
//   {request=add, site=S, queue_id=Q}   record that Q waits for site S
//   {request=send_site, site=S}         deliver what waits for S now
//   {request=send_file, queue_id=Q}     deliver message Q now
//   {request=refresh}                   send logs older than
//                                       fast_flush_refresh_time; purge old
//   {request=purge}                     send every log now
//   → {status=<FlushStatus>}
//
// Trust: site and queue ID may come from a remote client (ETRN) or a
// local user; the daemon validates both. The client only forwards.
#pragma once

#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::ipc {

// The reference's flush status values, in meaning.
enum class FlushStatus : int {
    kOk = 0,      // request done
    kUnknown = 1, // site not eligible (not in fast_flush_domains), nothing to do
    kBad = 2,     // bad request (invalid site or queue ID)
    kFail = 3,    // the service is not available or failed
    kDeny = 4,    // (reserved) request denied
};

// Opens the fast_flush_domains tables now (the reference's flush_init):
// call before a chroot; later calls reuse them. Added by the flush helper.
void flush_init(const config::Config& config);

FlushStatus flush_add(const config::Config& config, std::string_view site, std::string_view queue_id);
FlushStatus flush_send_site(const config::Config& config, std::string_view site);
FlushStatus flush_send_file(const config::Config& config, std::string_view queue_id);
FlushStatus flush_refresh(const config::Config& config);
FlushStatus flush_purge(const config::Config& config);

}  // namespace pf::ipc
