// Concurrency feedback settings of the queue manager: how much a
// destination's concurrency window grows after a delivery that went well
// and shrinks after one that failed at the connection level. The setting
// (main.cf default_destination_concurrency_{positive,negative}_feedback and
// the per-transport <transport>_destination_concurrency_*_feedback) is a
// number, a ratio "a/b", or "a/concurrency" (scaled by the current window),
// in the range 0..1, as the reference's qmgr accepts it; anything else is
// warned about and replaced by 1.
//
// Trust: main.cf text, admin-written but checked.
#pragma once

#include <string>
#include <string_view>

namespace pf::qmgr {

struct Feedback {
    double base = 1.0;        // the constant, or the numerator of a/concurrency
    bool per_window = false;  // a/concurrency: divide by the window
    int hysteresis = 1;       // feedback needed for one window step

    // The amount of feedback for one delivery at this window size.
    double value(int window) const { return per_window && window > 0 ? base / window : base; }
};

// Parses a feedback setting. warn_name is the parameter named in the
// warning for a bad value ("<name>: ignoring malformed or unreasonable
// feedback: <text>").
Feedback parse_feedback(std::string_view text, std::string_view warn_name);

}  // namespace pf::qmgr
