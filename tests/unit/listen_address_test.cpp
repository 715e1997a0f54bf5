// core/listen_address.h: the bind failure kept for status, and whether a listening socket's
// address is still one the machine has.
#include "core/listen_address.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dw {
namespace {

// The first failure and each new reason are worth a log line; the same reason again is not.
TEST(BindFailure, SaysWhenTheReasonIsNew) {
  BindFailure f;
  EXPECT_EQ(f.why(), "");
  EXPECT_TRUE(f.note("Address already in use"));
  EXPECT_FALSE(f.note("Address already in use"));
  EXPECT_EQ(f.why(), "Address already in use");
  EXPECT_TRUE(f.note("Cannot assign requested address"));
  f.clear();  // bound: a later failure is news again
  EXPECT_EQ(f.why(), "");
  EXPECT_TRUE(f.note("Cannot assign requested address"));
}

TEST(AddressGone, OnlyANumericAddressNoInterfaceCarries) {
  const std::vector<std::string> machine{"127.0.0.1", "10.0.0.5", "::1", "fe80::1"};
  EXPECT_FALSE(address_gone("10.0.0.5", machine));
  EXPECT_TRUE(address_gone("10.0.0.6", machine)) << "a new lease gave the machine another address";
  EXPECT_FALSE(address_gone("fe80:0:0::1", machine)) << "compared as addresses, not as text";
  EXPECT_FALSE(address_gone("fe80::1%lo", machine)) << "the scope names the interface only";
  EXPECT_TRUE(address_gone("2001:db8::7", machine));
  // Always reachable, whatever the interfaces carry: the wildcards and loopback.
  for (const char* always : {"0.0.0.0", "::", "127.0.0.1", "127.3.2.1", "::1"})
    EXPECT_FALSE(address_gone(always, {})) << always;
  // A host name is not judged (the remote accepts one; what it resolves to may change).
  EXPECT_FALSE(address_gone("display.local", {}));
  EXPECT_FALSE(address_gone("", {}));
}

// Against this machine's own interfaces: loopback is listed, TEST-NET-1 (RFC 5737) never is.
TEST(AddressGone, ThisMachine) {
  const std::vector<std::string> machine = machine_addresses();
  EXPECT_NE(std::find(machine.begin(), machine.end(), "127.0.0.1"), machine.end());
  EXPECT_TRUE(address_gone("192.0.2.1", machine));
  EXPECT_TRUE(AddressWatch("192.0.2.1").gone());
  EXPECT_FALSE(AddressWatch("127.0.0.1").gone());
  EXPECT_FALSE(AddressWatch("0.0.0.0").gone());
}

}  // namespace
}  // namespace dw
