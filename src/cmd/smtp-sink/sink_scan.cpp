// smtp-sink(1) input recognisers; see sink_scan.h.
#include "sink_scan.h"

namespace pf::smtp_sink {

DataState data_step(DataState state, unsigned char ch) {
    DataState want_next;
    unsigned char want;
    switch (state) {
    case DataState::any: want = '\r'; want_next = DataState::cr; break;
    case DataState::cr: want = '\n'; want_next = DataState::cr_lf; break;
    case DataState::cr_lf: want = '.'; want_next = DataState::cr_lf_dot; break;
    case DataState::cr_lf_dot: want = '\r'; want_next = DataState::cr_lf_dot_cr; break;
    case DataState::cr_lf_dot_cr: want = '\n'; want_next = DataState::cr_lf_dot_cr_lf; break;
    default: return DataState::any;
    }
    if (ch == want) return want_next;
    if (ch == '\r') return DataState::cr;
    return DataState::any;
}

DataState line_step(DataState state, unsigned char ch) {
    if (state == DataState::any && ch == '\r') return DataState::cr;
    if (state == DataState::cr && ch == '\n') return DataState::cr_lf;
    return ch == '\r' ? DataState::cr : DataState::any;
}

}  // namespace pf::smtp_sink
