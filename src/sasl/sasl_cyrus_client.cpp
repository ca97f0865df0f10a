// The Cyrus SASL client (see sasl_client.h): sasl_client_init() once per
// process (library messages logged as the server side does), a
// sasl_conn_t per session whose callbacks hand the library the user name
// (as the authentication name; the authorization name is empty) and the
// password.
//
// Trust: challenges are remote bytes, decoded with sasl_decode64 into a
// buffer sized from their length; credentials come from our tables.
#include "sasl/sasl_client.h"
#include "sasl/sasl_server.h"

#include "util/msg.h"
#include "util/strings.h"

#include <fmt/core.h>
#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include <cstring>
#include <vector>

namespace pf::sasl {

namespace {

int client_log(void*, int priority, const char* message) {
    if (!message) return SASL_OK;
    if (priority == SASL_LOG_ERR || priority == SASL_LOG_WARN)
        util::msg_warn("SASL authentication problem: {}", message);
    else if (priority == SASL_LOG_FAIL)
        util::msg_warn("SASL authentication failure: {}", message);
    return SASL_OK;
}

using GenericCallback = int (*)();

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
sasl_callback_t g_client_callbacks[] = {
    {SASL_CB_LOG, reinterpret_cast<GenericCallback>(&client_log), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};
#pragma GCC diagnostic pop

struct ConnDeleter {
    void operator()(sasl_conn_t* conn) const {
        if (conn) sasl_dispose(&conn);
    }
};

class CyrusClient final : public ClientSession {
public:
    explicit CyrusClient(ClientParams params) : params_(std::move(params)) {
        secret_.resize(sizeof(sasl_secret_t) + params_.password.size() + 1);
        auto* secret = reinterpret_cast<sasl_secret_t*>(secret_.data());
        secret->len = params_.password.size();
        std::memcpy(secret->data, params_.password.data(), params_.password.size());
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-function-type"
        callbacks_[0] = {SASL_CB_USER, reinterpret_cast<GenericCallback>(&get_user), this};
        callbacks_[1] = {SASL_CB_AUTHNAME, reinterpret_cast<GenericCallback>(&get_user), this};
        callbacks_[2] = {SASL_CB_PASS, reinterpret_cast<GenericCallback>(&get_password), this};
#pragma GCC diagnostic pop
        callbacks_[3] = {SASL_CB_LIST_END, nullptr, nullptr};
    }

    std::expected<void, std::string> open() {
        sasl_conn_t* raw = nullptr;
        int status = sasl_client_new(params_.service.c_str(), params_.server_name.c_str(), nullptr, nullptr,
                                     callbacks_, 0, &raw);
        conn_.reset(raw);
        if (status != SASL_OK)
            return std::unexpected(fmt::format("per-session SASL client initialization: {}",
                                               sasl_errstring(status, nullptr, nullptr)));
        sasl_security_properties_t props{};
        props.max_ssf = 1;   // no real security layer after authentication
        props.security_flags = security_flags(params_.security_options, "smtp_sasl_security_options");
        if ((status = sasl_setprop(conn_.get(), SASL_SEC_PROPS, &props)) != SASL_OK)
            return std::unexpected(fmt::format("set per-session SASL security properties: {}",
                                               sasl_errstring(status, nullptr, nullptr)));
        return {};
    }

    std::expected<ClientStart, std::string> first(std::string_view mechanisms) override {
        std::string list(mechanisms);
        const char* out = nullptr;
        unsigned out_len = 0;
        const char* mech = nullptr;
        int status = sasl_client_start(conn_.get(), list.c_str(), nullptr, &out, &out_len, &mech);
        if (status != SASL_OK && status != SASL_CONTINUE) return std::unexpected(detail(status));
        ClientStart start;
        start.mechanism = mech ? mech : "";
        if (out) start.initial = encode(out, out_len);
        return start;
    }

    std::expected<std::string, std::string> step(std::string_view challenge) override {
        std::vector<char> decoded(challenge.size() / 4 * 3 + 4, '\0');
        unsigned dec_len = 0;
        int status = sasl_decode64(challenge.data(), static_cast<unsigned>(challenge.size()), decoded.data(),
                                   static_cast<unsigned>(decoded.size()), &dec_len);
        if (status != SASL_OK) return std::unexpected(std::string(sasl_errstring(status, nullptr, nullptr)));
        const char* out = nullptr;
        unsigned out_len = 0;
        status = sasl_client_step(conn_.get(), decoded.data(), dec_len, nullptr, &out, &out_len);
        if (status != SASL_OK && status != SASL_CONTINUE) return std::unexpected(detail(status));
        return encode(out ? out : "", out_len);
    }

private:
    static std::string detail(int status) { return sasl_errstring(status, nullptr, nullptr); }

    static std::string encode(const char* data, unsigned len) {
        std::vector<char> enc(len / 3 * 4 + 8, '\0');
        unsigned enc_len = 0;
        if (sasl_encode64(data, len, enc.data(), static_cast<unsigned>(enc.size()), &enc_len) != SASL_OK) return "";
        return std::string(enc.data(), enc_len);
    }

    // The authentication name is the table's user; no separate
    // authorization identity is asked for (PLAIN sends an empty one).
    static int get_user(void* context, int id, const char** result, unsigned* len) {
        auto* self = static_cast<CyrusClient*>(context);
        if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME) return SASL_FAIL;
        const std::string& value = id == SASL_CB_AUTHNAME ? self->params_.username : self->empty_;
        *result = value.c_str();
        if (len) *len = static_cast<unsigned>(value.size());
        return SASL_OK;
    }

    static int get_password(sasl_conn_t*, void* context, int id, sasl_secret_t** secret) {
        auto* self = static_cast<CyrusClient*>(context);
        if (id != SASL_CB_PASS) return SASL_FAIL;
        *secret = reinterpret_cast<sasl_secret_t*>(self->secret_.data());
        return SASL_OK;
    }

    ClientParams params_;
    const std::string empty_;
    std::vector<unsigned char> secret_;
    sasl_callback_t callbacks_[4];
    std::unique_ptr<sasl_conn_t, ConnDeleter> conn_;
};

}  // namespace

void client_init(std::string_view type) {
    if (!util::iequals(type, "cyrus")) util::msg_fatal("unsupported SASL client implementation: {}", type);
    static bool initialized = false;
    if (initialized) return;
    int status = sasl_client_init(g_client_callbacks);
    if (status != SASL_OK) util::msg_fatal("SASL library initialization: {}", sasl_errstring(status, nullptr, nullptr));
    initialized = true;
}

std::expected<std::unique_ptr<ClientSession>, std::string> client_session(std::string_view type,
                                                                           std::string_view path,
                                                                           const ClientParams& params) {
    client_init(type);
    (void)path;   // the Cyrus client reads no application file
    auto client = std::make_unique<CyrusClient>(params);
    if (auto opened = client->open(); !opened) return std::unexpected(opened.error());
    return std::unique_ptr<ClientSession>(std::move(client));
}

}  // namespace pf::sasl
