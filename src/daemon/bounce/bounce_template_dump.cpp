// Template listings of the bounce daemon; see bounce_template_dump.h.
#include "bounce_template_dump.h"

#include "mail/bounce_template.h"
#include "mail/bounce_template_expand.h"
#include "util/block_writer.h"
#include "util/msg.h"

#include <unistd.h>

namespace pf::bounce {

int dump_templates(const config::Config& config, DumpMode mode) {
    mail::BounceTemplates templates;
    std::string path = config.get("bounce_template_file");
    if (!path.empty()) {
        auto loaded = mail::BounceTemplates::load(path);
        if (!loaded) util::msg_fatal_text(loaded.error().text);
        templates = std::move(*loaded);
    }

    util::BlockWriter out(STDOUT_FILENO);
    mail::TemplateExpander expander(config);
    bool first = true;
    for (mail::BounceKind kind : mail::kBounceKinds) {
        if (!first) out.write("\n");
        first = false;
        const mail::BounceTemplate& t = templates.find(kind);
        if (mode == DumpMode::raw) {
            out.write(t.dump());
            continue;
        }
        // Line by line, so that a failing line leaves the blocks written
        // before it, as in the reference.
        out.write(fmt::format("expanded_{}_text = <<EOF\n", t.name()));
        for (const auto& line : t.body()) {
            auto e = expander.expand_line(t, line);
            if (!e) util::msg_fatal_text(e.error().text);
            out.write(*e);
            out.write("\n");
        }
        out.write("EOF\n");
    }
    if (!out.flush()) util::msg_fatal("write error on standard output");
    return 0;
}

}  // namespace pf::bounce
