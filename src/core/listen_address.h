// What the listening servers (the web remote, the metrics endpoint, OSC) share about their
// address: why a socket is not bound yet, logged once per reason, and whether the address a
// socket is bound to is still one this machine has.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dw {

// Why a socket cannot be bound while it is tried again, for a status line. A retry may go on for
// weeks: note() says whether the reason is new, so the first failure and each change are logged,
// not every try. Safe to read from any thread.
class BindFailure {
 public:
  // Keeps `why`; true when it differs from the reason kept before (or none was).
  bool note(std::string why);
  void clear();
  // "" while bound (or before the first failure).
  std::string why() const;

 private:
  mutable std::mutex mutex_;
  std::string why_;
};

// The addresses this machine's interfaces carry now, in inet_ntop's text ("10.0.0.5", "fe80::1").
std::vector<std::string> machine_addresses();

// Whether nothing can reach a socket bound to `address`: a numeric address no interface of the
// machine carries (given as `machine`, machine_addresses()'s form). The wildcards and loopback
// always can be reached; a host name is not judged (false).
bool address_gone(std::string_view address, const std::vector<std::string>& machine);

// address_gone() against the machine as it is, asked at most every `every`: a status read each
// frame costs one look at the interfaces a few seconds. A socket bound to an address the machine
// loses (a new DHCP lease, a cable moved to another network) stays bound and hears nothing; it
// hears again once the address returns, so this is for status, not for binding again.
class AddressWatch {
 public:
  explicit AddressWatch(std::string address,
                        std::chrono::milliseconds every = std::chrono::seconds(2));
  bool gone() const;

 private:
  const std::string address_;
  const std::chrono::milliseconds every_;
  const bool judged_;  // false for the wildcards, loopback and names: never gone
  mutable std::mutex mutex_;
  mutable std::chrono::steady_clock::time_point checked_{};
  mutable bool gone_ = false;
};

}  // namespace dw
