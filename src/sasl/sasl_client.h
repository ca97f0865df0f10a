// The client side of SASL for smtp(8)/lmtp(8), as the reference's Cyrus
// client plug-in: one ClientSession per server connection, made with the
// service ("smtp") and the server's host name, the user name and password
// from smtp_sasl_password_maps, and the security flags of
// smtp_sasl_security_options; first() picks a mechanism from the server's
// (filtered) list and gives the initial response, step() answers one
// challenge. Texts are base64 as they go over SMTP.
//
// Trust: the challenges come from the remote server: they are decoded by
// the library's bounded decoder; the credentials come from our tables.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace pf::sasl {

struct ClientParams {
    std::string service = "smtp";
    std::string server_name;            // host name of the server
    std::string username, password;
    std::string security_options;       // smtp_sasl_security_options
};

struct ClientStart {
    std::string mechanism;                  // the one chosen
    std::optional<std::string> initial;     // base64 initial response
};

class ClientSession {
public:
    virtual ~ClientSession() = default;
    // Error: the library's reason ("no mechanism available", ...).
    virtual std::expected<ClientStart, std::string> first(std::string_view mechanisms) = 0;
    // challenge: base64 as the server sent it; the answer is base64.
    virtual std::expected<std::string, std::string> step(std::string_view challenge) = 0;
};

// Loads the library and its plug-ins: once, before a chroot.
void client_init(std::string_view type);

// smtp_sasl_type "cyrus" (anything else is fatal, as the reference's
// "unsupported SASL client implementation"); path: smtp_sasl_path (an
// application name, "" for none).
std::expected<std::unique_ptr<ClientSession>, std::string> client_session(std::string_view type,
                                                                           std::string_view path,
                                                                           const ClientParams& params);

}  // namespace pf::sasl
