// Cleanup flags of a mail source: see cleanup_flags.h.
#include "ipc/cleanup_flags.h"

#include "ipc/services.h"
#include "util/strings.h"

namespace pf::ipc {

unsigned input_cleanup_flags(std::string_view receive_override_options) {
    unsigned flags = kCleanupFilter | kCleanupMilter | kCleanupBccOk | kCleanupMapOk;
    for (auto word : util::split_tokens(receive_override_options, util::kListSeparators)) {
        if (util::iequals(word, "no_header_body_checks")) flags &= ~kCleanupFilter;
        else if (util::iequals(word, "no_milters")) flags &= ~kCleanupMilter;
        else if (util::iequals(word, "no_address_mappings")) flags &= ~(kCleanupMapOk | kCleanupBccOk);
    }
    return flags;
}

bool mail_class_listed(std::string_view class_list, std::string_view mail_class) {
    for (auto word : util::split_tokens(class_list, util::kListSeparators))
        if (util::iequals(word, mail_class) || util::iequals(word, "all")) return true;
    return false;
}

}  // namespace pf::ipc
