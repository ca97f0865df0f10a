// smtp-sink(1) input recognisers: the end of a command line (CR LF; a bare
// LF does not end it) and the end of message data (CR LF . CR LF), one
// byte at a time, as the reference 3.7.11 sink scans its input. A DATA
// byte goes to the dump file unless it is a CR or the '.' just after a
// CR LF (so dot-stuffing is undone and lines end in LF).
//
// Trust: none needed; any byte sequence only moves the state.
#pragma once

namespace pf::smtp_sink {

enum class DataState { any, cr, cr_lf, cr_lf_dot, cr_lf_dot_cr, cr_lf_dot_cr_lf };

// One step of the end-of-data recogniser.
DataState data_step(DataState state, unsigned char ch);
// One step of the end-of-line recogniser for commands.
DataState line_step(DataState state, unsigned char ch);
// Whether a DATA byte that moved the recogniser to state is kept.
inline bool data_byte_kept(DataState state, unsigned char ch) {
    return ch != '\r' && state != DataState::cr_lf_dot;
}

}  // namespace pf::smtp_sink
