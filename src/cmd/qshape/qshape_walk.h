// The order in which qshape(1) visits a queue: the reference uses Perl's
// File::Find, which for each directory takes its files in readdir order
// first, then descends into its subdirectories in readdir order, without
// following symbolic links. A queue name that is not a directory is
// visited as a single file. The order matters only for the intermediate
// reports on a terminal (-N).
//
// Trust: queue directories are the administrator's; names in them are
// passed on unchanged.
#pragma once

#include <functional>
#include <string>

namespace pf::qshape {

// Calls visit(path, name) for every non-directory below top (or top
// itself); File::Find's warnings for a missing top or an unreadable
// directory go to stderr.
void walk_queue(const std::string& top, const std::function<void(const std::string&, const std::string&)>& visit);

}  // namespace pf::qshape
