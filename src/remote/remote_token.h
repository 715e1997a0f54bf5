// The web remote's token: 32 random bytes from /dev/urandom as 64 hex digits, made at first start
// and kept with mode 0600 in a file (by default remote_token beside config.toml).
#pragma once

#include <string>
#include <string_view>

namespace dw::remote {

// Reads the token from `path`, or makes one there when the file does not exist (the directory is
// created). Throws dw::Error naming the file when it cannot be read or made, or holds no token.
std::string load_or_create_token(const std::string& path);

// True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach.
bool loopback_address(std::string_view address);

}  // namespace dw::remote
