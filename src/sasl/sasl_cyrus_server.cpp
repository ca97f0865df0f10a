// The Cyrus SASL server back end, as the reference's (Debian-built)
// xsasl Cyrus plug-in drives libsasl2: sasl_server_init() once with the
// application name (smtpd_sasl_path, "smtpd"), its <name>.conf looked up
// in $config_directory/sasl then /usr/lib/sasl (Debian's search path; it
// wins over cyrus_sasl_config_path); library messages logged as
// "SASL authentication problem: ..." (errors, warnings) and
// "SASL authentication failure: ..." (failed logins); one sasl_conn_t per
// session made with the service name, myhostname, the realm, "addr;port" of both
// ends and the security flags, no security layer. Client data is decoded
// with the library's own sasl_decode64 and its status reported with the
// library's sasl_errstring text, so malformed input gets the reference's
// words ("bad protocol / cancel", "another step is needed in
// authentication"). Temporary statuses (generic failure, try again,
// unavailable, no memory) become "454"s.
//
// Trust: client bytes are bounded by the caller and handed to libsasl2
// only through its decoding functions.
#include "sasl/sasl_server.h"

#include "util/msg.h"
#include "util/strings.h"
#include "util/utf8.h"

#include <fmt/core.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include <vector>

namespace pf::sasl {

namespace {

std::string g_conf_path;   // the search path handed to the library

int log_callback(void*, int priority, const char* message) {
    if (!message) return SASL_OK;
    switch (priority) {
    case SASL_LOG_ERR:
    case SASL_LOG_WARN:
        util::msg_warn("SASL authentication problem: {}", message);
        break;
    case SASL_LOG_FAIL:
        util::msg_warn("SASL authentication failure: {}", message);
        break;
    default:
        break;
    }
    return SASL_OK;
}

int confpath_callback(void*, const char** path) {
    *path = g_conf_path.c_str();
    return SASL_OK;
}

// libsasl2's callback table stores untyped function pointers.
using GenericCallback = int (*)();

// The library calls each through the type its id stands for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
sasl_callback_t g_callbacks[] = {
    {SASL_CB_LOG, reinterpret_cast<GenericCallback>(&log_callback), nullptr},
    {SASL_CB_GETCONFPATH, reinterpret_cast<GenericCallback>(&confpath_callback), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};
#pragma GCC diagnostic pop

struct ConnDeleter {
    void operator()(sasl_conn_t* conn) const {
        if (conn) sasl_dispose(&conn);
    }
};
using ConnPtr = std::unique_ptr<sasl_conn_t, ConnDeleter>;

// The library's text for a status, except that an unknown user reads as
// any other failed login (the reference does not tell who exists).
std::string status_text(int status) {
    return sasl_errstring(status == SASL_NOUSER ? SASL_BADAUTH : status, nullptr, nullptr);
}

bool temporary(int status) {
    return status == SASL_FAIL || status == SASL_TRYAGAIN || status == SASL_UNAVAIL || status == SASL_NOMEM;
}

class CyrusSession final : public ServerSession {
public:
    explicit CyrusSession(ConnPtr conn) : conn_(std::move(conn)) {}

    std::string mechanism_list() override {
        const char* list = nullptr;
        unsigned len = 0;
        int count = 0;
        if (sasl_listmech(conn_.get(), nullptr, "", " ", "", &list, &len, &count) != SASL_OK || !list) return "";
        return std::string(list, len);
    }

    AuthStatus first(std::string_view mechanism, std::optional<std::string_view> initial, std::string& reply) override {
        std::string mech(mechanism);
        std::vector<char> decoded;
        const char* in = nullptr;
        unsigned in_len = 0;
        if (initial) {
            int status = decode(*initial, decoded, in_len);
            if (status != SASL_OK) return decode_failure(status, reply);
            in = decoded.data();
        }
        const char* out = nullptr;
        unsigned out_len = 0;
        int status = sasl_server_start(conn_.get(), mech.c_str(), in, in_len, &out, &out_len);
        return finish(status, out, out_len, reply);
    }

    AuthStatus next(std::string_view response, std::string& reply) override {
        std::vector<char> decoded;
        unsigned in_len = 0;
        int status = decode(response, decoded, in_len);
        if (status != SASL_OK) return decode_failure(status, reply);
        const char* out = nullptr;
        unsigned out_len = 0;
        status = sasl_server_step(conn_.get(), decoded.data(), in_len, &out, &out_len);
        return finish(status, out, out_len, reply);
    }

    std::optional<std::string> username() override {
        const void* value = nullptr;
        if (sasl_getprop(conn_.get(), SASL_USERNAME, &value) != SASL_OK || !value) return std::nullopt;
        return util::printable(static_cast<const char*>(value), false);
    }

private:
    static int decode(std::string_view text, std::vector<char>& out, unsigned& out_len) {
        // Room for the decoded bytes and the library's terminating NUL.
        out.assign(text.size() / 4 * 3 + 4, '\0');
        return sasl_decode64(text.data(), static_cast<unsigned>(text.size()), out.data(),
                             static_cast<unsigned>(out.size()), &out_len);
    }

    // A response that does not decode fails with the decoder's status
    // text, whatever that status is (an incomplete group says "another
    // step is needed in authentication").
    static AuthStatus decode_failure(int status, std::string& reply) {
        reply = status_text(status);
        return temporary(status) ? AuthStatus::temp : AuthStatus::fail;
    }

    static AuthStatus finish(int status, const char* out, unsigned out_len, std::string& reply) {
        reply.clear();
        if (status == SASL_CONTINUE) {
            std::vector<char> enc(out_len / 3 * 4 + 8, '\0');
            unsigned enc_len = 0;
            if (sasl_encode64(out ? out : "", out_len, enc.data(), static_cast<unsigned>(enc.size()), &enc_len) !=
                SASL_OK) {
                reply = sasl_errstring(SASL_FAIL, nullptr, nullptr);
                return AuthStatus::temp;
            }
            reply.assign(enc.data(), enc_len);
            return AuthStatus::more;
        }
        if (status == SASL_OK) return AuthStatus::done;
        reply = status_text(status);
        return temporary(status) ? AuthStatus::temp : AuthStatus::fail;
    }

    ConnPtr conn_;
};

class CyrusBackend final : public ServerBackend {
public:
    std::expected<std::unique_ptr<ServerSession>, std::string> create(const SessionParams& p) override {
        sasl_conn_t* raw = nullptr;
        std::string local = p.server_addr.empty() ? "" : p.server_addr + ";" + p.server_port;
        std::string remote = p.client_addr.empty() ? "" : p.client_addr + ";" + p.client_port;
        int status = sasl_server_new(p.service.c_str(), p.server_fqdn.empty() ? nullptr : p.server_fqdn.c_str(),
                                     p.user_realm.empty() ? nullptr : p.user_realm.c_str(),
                                     local.empty() ? nullptr : local.c_str(),
                                     remote.empty() ? nullptr : remote.c_str(), nullptr, 0, &raw);
        ConnPtr conn(raw);
        if (status != SASL_OK)
            return std::unexpected(fmt::format("SASL per-connection server initialization: {}",
                                               sasl_errstring(status, nullptr, nullptr)));
        sasl_security_properties_t props{};
        props.min_ssf = 0;
        props.max_ssf = 0;   // no security layer after authentication
        props.maxbufsize = 0;
        props.security_flags = security_flags(p.security_options, "smtpd_sasl_security_options");
        if ((status = sasl_setprop(conn.get(), SASL_SEC_PROPS, &props)) != SASL_OK)
            return std::unexpected(fmt::format("SASL per-connection security setup; {}",
                                               sasl_errstring(status, nullptr, nullptr)));
        return std::unique_ptr<ServerSession>(new CyrusSession(std::move(conn)));
    }
};

}  // namespace

std::unique_ptr<ServerBackend> make_cyrus_backend(std::string_view app_name, std::string_view config_directory) {
    static bool initialized = false;
    if (!initialized) {
        g_conf_path = fmt::format("{}/sasl:/usr/lib/sasl", config_directory);
        // libsasl2 keeps this pointer (sasl_server_new reads it later).
        static std::string app;
        app = app_name;
        int status = sasl_server_init(g_callbacks, app.c_str());
        if (status != SASL_OK)
            util::msg_fatal("SASL per-process initialization failed: {}", sasl_errstring(status, nullptr, nullptr));
        initialized = true;
    }
    return std::make_unique<CyrusBackend>();
}

}  // namespace pf::sasl
