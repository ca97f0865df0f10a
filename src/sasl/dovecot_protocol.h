// Dovecot's authentication client protocol (version 1), the part the
// reference's Dovecot SASL plug-in speaks: our handshake ("VERSION\t1\t0",
// "CPID\t<pid>"), the server's handshake (VERSION, MECH lines with their
// property words, SPID/CUID/COOKIE ignored, DONE), AUTH requests with
// service, nologin, lip/rip, secured and resp=, CONT lines, and the
// answers OK / CONT / FAIL with user= and reason= arguments.
//
// Pure text functions, no I/O, so that they are tested with hostile input.
//
// Trust: every line comes from a socket peer; lines are split at TAB and
// checked strictly (a malformed VERSION ends the handshake, an answer
// without a numeric id is skipped); names and reasons are made printable
// before they reach a log line or an SMTP reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pf::sasl::dovecot {

inline constexpr unsigned kMajorVersion = 1;
inline constexpr unsigned kMinorVersion = 0;
// No line of the protocol we speak is longer than this; a longer one is
// a protocol error.
inline constexpr std::size_t kMaxLine = 65536;
// At most this many MECH lines of a handshake are kept (real servers send
// about a dozen).
inline constexpr std::size_t kMaxMechanisms = 256;

// Security properties of a mechanism (MECH line words) and of a security
// option list (smtpd_sasl_security_options), as the reference's bits.
enum SecProp : unsigned {
    kNoPlaintext = 1u << 0,
    kNoActive = 1u << 1,
    kNoDictionary = 1u << 2,
    kNoAnonymous = 1u << 3,
    kForwardSecrecy = 1u << 4,
    kMutualAuth = 1u << 5,
};
// Those of the bits that a mechanism must have when asked for (the others
// it must not have).
inline constexpr unsigned kPositiveProps = kForwardSecrecy | kMutualAuth;

struct Mechanism {
    std::string name;
    unsigned props = 0;   // SecProp bits it has ("plaintext" sets kNoPlaintext)
};

// The server's half of the handshake, line by line.
class Handshake {
public:
    enum class State { more, done, error };
    // One line without its LF.
    State feed(std::string_view line);
    const std::vector<Mechanism>& mechanisms() const { return mechanisms_; }
    // Why the handshake failed (for "SASL: ..." warnings).
    const std::string& error() const { return error_; }

private:
    std::vector<Mechanism> mechanisms_;
    std::string error_;
    bool version_seen_ = false;
};

// The client's handshake.
std::string client_handshake(unsigned pid);

// Mechanisms whose properties suit the wanted ones (SecProp bits of the
// security options), space separated, in the server's order.
std::string mechanism_list(const std::vector<Mechanism>& mechanisms, unsigned wanted);

// The AUTH request line (with its LF).
struct AuthRequest {
    unsigned id = 0;
    std::string mechanism;
    std::string service;
    std::string local_ip, remote_ip;
    bool secured = false;
    std::optional<std::string> initial;   // base64 as the client sent it
};
std::string auth_request(const AuthRequest& request);
std::string cont_request(unsigned id, std::string_view response);

// Whether text holds only base64 alphabet characters and '=' (the
// reference's check before it passes a response on).
bool base64_chars_only(std::string_view text);

// One answer line.
struct Answer {
    enum class Kind { ok, cont, fail, other } kind = Kind::other;
    unsigned id = 0;
    std::string data;                     // CONT: the challenge
    std::optional<std::string> user;      // user=, printable
    std::optional<std::string> reason;    // reason=, printable
    bool temp = false;                    // "temp" flag of a FAIL
};
// nullopt: not an answer to any request (unknown command or bad id).
std::optional<Answer> parse_answer(std::string_view line);

// The security option list as SecProp bits; nullopt names the first word
// not known.
struct SecOptions {
    unsigned bits = 0;
    std::string bad_word;
};
SecOptions security_options(std::string_view text);

}  // namespace pf::sasl::dovecot
