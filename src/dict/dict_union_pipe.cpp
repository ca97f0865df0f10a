// unionmap and pipemap; see dict_union_pipe.h.
#include "dict/dict_union_pipe.h"

#include "dict/dict_braced.h"
#include "dict/dict_registry.h"
#include "dict/dict_watch.h"
#include "util/msg.h"

#include <fcntl.h>
#include <fmt/core.h>

#include <vector>

namespace pf::dict {
namespace {

enum class Mode { union_all, pipe };

class CompositeDict final : public Dict {
public:
    CompositeDict(std::string type, std::string_view name, int open_flags, Flags flags, std::vector<DictPtr> parts, Mode mode)
        : Dict(std::move(type), std::string(name), open_flags, flags), parts_(std::move(parts)), mode_(mode) {}

    LookupResult lookup(std::string_view key) override {
        set_error({});
        if (mode_ == Mode::pipe) {
            std::string current(key);
            for (auto& part : parts_) {
                LookupResult r = part->lookup(current);
                if (r.is_error()) return fail(r.error());
                if (r.is_not_found()) return r;
                current = r.value();
            }
            return LookupResult::found(std::move(current));
        }
        std::string joined;
        for (auto& part : parts_) {
            LookupResult r = part->lookup(key);
            if (r.is_error()) return fail(r.error());
            if (r.is_found()) {
                if (!joined.empty()) joined += ',';
                joined += r.value();
            }
        }
        if (joined.empty()) return LookupResult::not_found();
        return LookupResult::found(std::move(joined));
    }

    std::expected<void, Error> close() override {
        std::expected<void, Error> result;
        for (auto& part : parts_) {
            auto r = part->close();
            if (!r && result) result = r;
        }
        return result;
    }

private:
    LookupResult fail(const Error& e) {
        set_error(e);
        return LookupResult::failed(e);
    }

    std::vector<DictPtr> parts_;
    Mode mode_;
};

OpenResult open_composite(const char* type, Mode mode, std::string_view name, int open_flags, Flags flags) {
    if ((open_flags & O_ACCMODE) != O_RDONLY)
        return std::unexpected(Error{Error::Kind::config, fmt::format("{}:{} map requires O_RDONLY access mode", type, name)});
    auto bad = [&] {
        return std::unexpected(Error{Error::Kind::config,
                                     fmt::format("bad syntax: \"{}:{}\"; need \"{}:{{type:name...}}\"", type, name, type)});
    };
    auto body = braced_body(name);
    if (!body) return bad();
    auto elements = braced_elements(*body);
    if (elements.empty()) return bad();
    for (auto element : elements)
        if (element.find(':') == std::string_view::npos) return bad();
    std::vector<DictPtr> parts;
    for (auto element : elements) {
        if (util::msg_verbose) util::msg_info("{}: {}", mode == Mode::pipe ? "dict_pipe_open" : "dict_union_open", element);
        auto part = open_unwatched(element, open_flags, flags & ~kUtf8Active);
        if (!part) return std::unexpected(part.error());
        // The reference registers each part by its bare "type:name".
        if ((open_flags & O_ACCMODE) == O_RDONLY && !(open_flags & O_CREAT)) watch_table(std::string(element), **part);
        parts.push_back(std::move(*part));
    }
    return std::make_unique<CompositeDict>(type, name, open_flags, flags, std::move(parts), mode);
}

}  // namespace

void register_unionmap_type() {
    register_type("unionmap", [](std::string_view name, int open_flags, Flags flags) {
        return open_composite("unionmap", Mode::union_all, name, open_flags, flags);
    });
}

void register_pipemap_type() {
    register_type("pipemap", [](std::string_view name, int open_flags, Flags flags) {
        return open_composite("pipemap", Mode::pipe, name, open_flags, flags);
    });
}

}  // namespace pf::dict
