// Connection caching of the smtp/lmtp client, as the reference does it
// with scache(8):
//  - when: the first next-hop's bare domain (or the UNIX-domain path for
//    LMTP) is in smtp_connection_cache_destinations (load and store), or
//    else, with smtp_connection_cache_on_demand, as far as the queue
//    manager's request flags allow (kDeliveryConnLoad: a cached connection
//    may be taken; kDeliveryConnStore: a new one may be kept);
//  - a session that ends well (final "." or RSET answered, no I/O error,
//    no TLS: this client does not route TLS through tlsproxy, so as the
//    reference with smtp_tls_connection_reuse = no it never caches an
//    encrypted connection) is not ended with QUIT but handed to scache:
//    under its server address and port (the endpoint label) and, for the
//    first good session of a request, under the request's next-hop (the
//    destination label), each for smtp_connection_cache_time_limit;
//  - a session is reusable for smtp_connection_reuse_time_limit from its
//    first connect and at most smtp_connection_reuse_count_limit times
//    (0: no limit); past either limit it ends with QUIT after its
//    delivery;
//  - a connection taken from the cache is probed with RSET first; a
//    rejected probe or a lost connection drops it (the latter logged as
//    "lost connection with H[A] while sending RSET probe") and the client
//    connects as usual; the delivery log then says "conn_use=N".
// The lmtp_* parameters apply when the program runs as lmtp.
//
// Trust: properties come back from our own scache; they are parsed
// defensively (a bad one drops the connection).
#pragma once

#include "daemon/smtp/smtp_session.h"
#include "ipc/delivery_request.h"
#include "ipc/scache_client.h"

#include <memory>
#include <optional>
#include <string>

namespace pf::config { class Config; }
namespace pf::mail { class DomainList; }

namespace pf::smtp_agent {

struct SmtpCacheSettings {
    bool on_demand = true;                          // *_connection_cache_on_demand
    std::shared_ptr<mail::DomainList> destinations; // *_connection_cache_destinations (null: none)
    int cache_time = 2;                             // *_connection_cache_time_limit
    int reuse_count_limit = 0;                      // *_connection_reuse_count_limit
    int reuse_time_limit = 300;                     // *_connection_reuse_time_limit
    std::string service;                            // connection_cache_service_name
    int protocol_timeout = 5;                       // connection_cache_protocol_timeout
    std::string transport;                          // our master.cf service name (labels)
    // The scache client, connected on first use (set by post-init).
    std::shared_ptr<ipc::ScacheClient> client;

    static std::shared_ptr<SmtpCacheSettings> from_config(const config::Config& config, bool lmtp);
    // After the chroot: where private/<service> is.
    void open_client(const std::string& queue_directory);
};

// What this request may do with the cache.
struct CachePolicy {
    bool load = false;
    bool store = false;
    // The destination label while the first good session is still to be
    // saved under the request's next-hop ("" once it was, or never).
    std::string dest_label;
};

CachePolicy cache_policy(const SmtpCacheSettings& cache, const ipc::DeliveryRequest& request,
                         const std::string& domain, const std::string& sender_key);

// The endpoint label of a server (service, address, port, the sender
// when SASL credentials may depend on it).
std::string endpoint_label(const SmtpCacheSettings& cache, const SessionPeer& peer, const std::string& sender_key);

// A cached connection made ready for use (RSET probe not yet sent).
struct ReusedConnection {
    ipc::UniqueFd fd;
    SessionPeer peer;
    SessionResume resume;
};

// Encodes / decodes what a cached session needs to go on.
std::string encode_session(const SessionPeer& peer, const SessionResume& resume);
std::optional<ReusedConnection> decode_session(ipc::UniqueFd fd, const std::string& endp_prop);

// Hands a finished session's connection to scache (closes fd here).
void save_session(const SmtpCacheSettings& cache, CachePolicy& policy, const SessionPeer& peer,
                  const SessionResume& resume, ipc::UniqueFd fd, const std::string& sender_key);

}  // namespace pf::smtp_agent
