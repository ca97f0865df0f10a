// The probe messages of verify(8): an empty message from
// address_verify_sender to the address under test, posted through
// public/$cleanup_service_name with the "MTA verify" trace flag, so that
// the queue manager and the delivery agents only find out what would
// happen to it and report the result back with an update request (the
// reference's post_mail_fopen_async with DEL_REQ_FLAG_MTA_VRFY).
//
// The probe, as the reference writes it:
//   T <time> <usec>, A log_origin=local, A trace_flags=256, S <sender>,
//   R <address>, M, then the content: "Received: by <myhostname>
//   (<mail_name>)", "<tab>id <queue id>; <date>", "Date: <date>"; X, E
// with cleanup flags "map ok" (plus filter/milter when
// internal_mail_filter_classes names "verify", and automatic SMTPUTF8
// detection when smtputf8_autodetect_classes does).
//
// The sender: address_verify_sender; empty or "<>" is the null sender;
// with address_verify_sender_ttl > 0 the localpart gets a suffix that
// changes every ttl seconds (the period number in base 31, written with
// digits and upper-case consonants), so that
// probes from different periods do not look alike to remote caches.
//
// Trust: the address comes from a local client (smtpd) that may have it
// from a remote SMTP client; it is only written as a record.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace pf::config { class Config; }

namespace pf::verify {

// The probe sender for now; throws std::runtime_error with the
// reference's fatal text when address_verify_sender is unusable.
std::string probe_sender(std::string_view configured, long ttl, std::time_t now);

// The cleanup flags of a probe.
unsigned probe_cleanup_flags(const config::Config& config);

// Posts one probe; false (after a warning) when it could not be written
// to cleanup. cleanup's verdict is awaited in the server's event loop (a
// warning when cleanup refused the probe); the call does not wait for it.
bool send_probe(const config::Config& config, std::string_view queue_directory, std::string_view sender,
                std::string_view address);

}  // namespace pf::verify
