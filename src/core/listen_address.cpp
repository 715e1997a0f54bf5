#include "core/listen_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

namespace dw {
namespace {

struct AddrInfoFree {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};
struct IfAddrsFree {
  void operator()(ifaddrs* a) const { freeifaddrs(a); }
};

// inet_ntop's text of a socket address's host part; "" for a family that has none.
std::string host_text(const sockaddr* a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, text, sizeof text);
  else if (a->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, text, sizeof text);
  return text;
}

// The canonical text of a numeric address and whether it is one that is always reachable
// (a wildcard or loopback); empty text for anything that is not a numeric address.
struct Numeric {
  std::string text;
  bool always = false;
};

Numeric numeric(std::string_view address) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (getaddrinfo(std::string(address).c_str(), nullptr, &hints, &found) != 0 || !found) return {};
  const std::unique_ptr<addrinfo, AddrInfoFree> info(found);
  Numeric n{host_text(info->ai_addr), false};
  if (info->ai_family == AF_INET) {
    const in_addr a = reinterpret_cast<const sockaddr_in*>(info->ai_addr)->sin_addr;
    const std::uint32_t host = ntohl(a.s_addr);
    n.always = host == INADDR_ANY || (host >> 24) == 127;
  } else if (info->ai_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(info->ai_addr)->sin6_addr;
    n.always = IN6_IS_ADDR_UNSPECIFIED(&a) || IN6_IS_ADDR_LOOPBACK(&a);
  }
  return n;
}

}  // namespace

bool BindFailure::note(std::string why) {
  std::lock_guard lock(mutex_);
  if (why == why_) return false;
  why_ = std::move(why);
  return true;
}

void BindFailure::clear() {
  std::lock_guard lock(mutex_);
  why_.clear();
}

std::string BindFailure::why() const {
  std::lock_guard lock(mutex_);
  return why_;
}

std::vector<std::string> machine_addresses() {
  std::vector<std::string> out;
  ifaddrs* found = nullptr;
  if (getifaddrs(&found) != 0) return out;
  const std::unique_ptr<ifaddrs, IfAddrsFree> list(found);
  for (const ifaddrs* i = found; i; i = i->ifa_next)
    if (i->ifa_addr)
      if (std::string text = host_text(i->ifa_addr); !text.empty()) out.push_back(std::move(text));
  return out;
}

bool address_gone(std::string_view address, const std::vector<std::string>& machine) {
  const Numeric n = numeric(address);
  if (n.text.empty() || n.always) return false;
  return std::find(machine.begin(), machine.end(), n.text) == machine.end();
}

AddressWatch::AddressWatch(std::string address, std::chrono::milliseconds every)
    : address_(std::move(address)), every_(every), judged_([&] {
        const Numeric n = numeric(address_);
        return !n.text.empty() && !n.always;
      }()) {}

bool AddressWatch::gone() const {
  if (!judged_) return false;
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (checked_ == std::chrono::steady_clock::time_point{} || now - checked_ >= every_) {
    checked_ = now;
    gone_ = address_gone(address_, machine_addresses());
  }
  return gone_;
}

}  // namespace dw
