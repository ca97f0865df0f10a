// One proxymap(8) request and its reply, in the attribute protocol that
// dict/dict_proxy.h writes down (the client side):
//
//   open     table flags               -> status flags (the table's own)
//   lookup   table flags key           -> status value
//   update   table flags key value     -> status          (proxywrite only)
//   delete   table flags key           -> status          (proxywrite only)
//   sequence table flags function      -> status key value
//
// status: 0 ok, 1 no such key / end of the walk, 2 try again later, 3 bad
// request, 4 table not approved, 5 table configuration error. As in the
// reference, a request is checked strictly: a missing, extra or malformed
// attribute makes it a bad request; an unknown request name is warned about
// ("unrecognized request: "X", ignored") and answered "bad"; an update or
// delete on the read-only service is refused with the reference's warning
// ("refusing T update request on non-proxywrite service"). Updates are
// synchronous and replace duplicates, deletes are synchronous, as the
// reference's (the tables are never closed, so each change must be on disk
// when it is acknowledged).
//
// Trust: requests come over the service's socket from any local process;
// only approved tables are touched (proxymap_tables.h).
#pragma once

#include "ipc/attr.h"
#include "proxymap_tables.h"

#include <optional>

namespace pf::proxymap {

class ProxyService {
public:
    explicit ProxyService(TableCache& tables) : tables_(tables) {}

    // The reply to one request; nullopt when the message names no request
    // at all (the client is then dropped without a reply).
    std::optional<ipc::AttrList> handle(const ipc::AttrList& request);

private:
    ipc::AttrList open(const ipc::AttrList& request);
    ipc::AttrList lookup(const ipc::AttrList& request);
    ipc::AttrList change(const ipc::AttrList& request, bool is_update);
    ipc::AttrList sequence(const ipc::AttrList& request);

    TableCache& tables_;
};

}  // namespace pf::proxymap
