// The base of the unit tests that run a client against a server on a
// private/<service> socket: a temporary queue directory
// (/tmp/<prefix>-XXXXXX) with a private/ folder and the service's UNIX
// socket listening in it, the thread the test's fake or real server runs
// in (joined before the directory is removed), and the cleanup. The
// clients under test connect through queue directory dir_ as in a real
// instance.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace pf::ipc {

class PrivateServiceFixture : public ::testing::Test {
protected:
    PrivateServiceFixture(std::string prefix, std::string service)
        : prefix_(std::move(prefix)), service_name_(std::move(service)) {}

    void SetUp() override {
        std::string tmpl = "/tmp/" + prefix_ + "-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        std::filesystem::create_directory(dir_ + "/private");
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
        ASSERT_GE(listen_fd_, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        std::string path = dir_ + "/private/" + service_name_;
        std::snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path.c_str());
        ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0);
        ASSERT_EQ(::listen(listen_fd_, 4), 0);
    }
    void TearDown() override {
        if (server_.joinable()) server_.join();
        ::close(listen_fd_);
        std::filesystem::remove_all(dir_);
    }

    std::string prefix_;
    std::string service_name_;
    std::string dir_;
    int listen_fd_ = -1;
    std::thread server_;
};

}  // namespace pf::ipc
