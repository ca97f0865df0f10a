// A queue sink for cleanup's unit tests: keeps the records cleanup writes
// in memory, with their encoded size as the file offset.
#pragma once

#include "daemon/cleanup/cleanup_session.h"
#include "queue/record.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pf::cleanup {

struct MemorySink : QueueSink {
    std::vector<std::pair<char, std::string>> records;
    long size = 0;
    bool write(char type, std::string_view data) override {
        records.emplace_back(type, std::string(data));
        size += static_cast<long>(queue::encode_record(type, data).size());
        return true;
    }
    long offset() override { return size; }
    bool rewrite_first(char type, std::string_view data) override {
        records.front() = {type, std::string(data)};
        return true;
    }
    // The payloads of the records of one type, in order.
    std::vector<std::string> of_type(char type) const {
        std::vector<std::string> out;
        for (const auto& [t, d] : records)
            if (t == type) out.push_back(d);
        return out;
    }
};

}  // namespace pf::cleanup
