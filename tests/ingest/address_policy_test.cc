#include "ingest/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace cutroom::ingest {
namespace {

sockaddr_storage Addr(const std::string& text) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
  } else {
    ADD_FAILURE() << "bad address in test: " << text;
  }
  return ss;
}

std::string Why(const std::string& text) {
  auto ss = Addr(text);
  return AddressPolicy::Classify(reinterpret_cast<sockaddr*>(&ss));
}

TEST(AddressPolicy, RefusesEveryNonGlobalClass) {
  const std::pair<const char*, const char*> kCases[] = {
      {"127.0.0.1", "loopback"},          {"127.255.1.2", "loopback"},
      {"10.1.2.3", "private"},            {"172.16.0.1", "private"},
      {"172.31.255.255", "private"},      {"192.168.1.1", "private"},
      {"169.254.169.254", "link-local"},  {"100.64.0.1", "carrier-grade NAT"},
      {"100.127.255.254", "carrier-grade NAT"},
      {"224.0.0.1", "multicast"},         {"239.255.255.250", "multicast"},
      {"0.0.0.0", "unspecified"},         {"255.255.255.255", "reserved"},
      {"240.0.0.1", "reserved"},          {"192.0.2.1", "documentation"},
      {"::1", "loopback"},                {"::", "unspecified"},
      {"fc00::1", "private (unique local)"}, {"fd12:3456::1", "private (unique local)"},
      {"fe80::1", "link-local"},          {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "IPv4-mapped loopback"},
      {"::ffff:169.254.169.254", "IPv4-mapped link-local"},
      {"::ffff:10.0.0.1", "IPv4-mapped private"},
      {"64:ff9b::7f00:1", "NAT64 loopback"},
      {"2002:7f00:1::", "6to4 loopback"},
      {"2001:db8::1", "documentation"},
  };
  for (const auto& [addr, why] : kCases) EXPECT_EQ(Why(addr), why) << addr;
}

TEST(AddressPolicy, AllowsGlobalUnicast) {
  for (const char* addr : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
                           "::ffff:8.8.8.8", "2a00:1450:4001::200e"}) {
    EXPECT_EQ(Why(addr), "") << addr;
  }
}

TEST(AddressPolicy, AllowPrivateAndAllowlistOpenExactlyWhatTheySay) {
  auto strict = AddressPolicy::Create(false, {"192.168.7.0/24", "fd00::1"});
  ASSERT_TRUE(strict.ok());
  auto lan = Addr("192.168.7.20"), other = Addr("192.168.8.1"), ula = Addr("fd00::1"), meta = Addr("169.254.169.254");
  EXPECT_TRUE(strict->Check(reinterpret_cast<sockaddr*>(&lan)).ok());
  EXPECT_EQ(strict->Check(reinterpret_cast<sockaddr*>(&other)).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(strict->Check(reinterpret_cast<sockaddr*>(&ula)).ok());
  Status refused = strict->Check(reinterpret_cast<sockaddr*>(&meta));
  EXPECT_NE(refused.message().find("169.254.169.254 (link-local"), std::string::npos) << refused.ToString();

  auto open = AddressPolicy::Create(true, {});
  EXPECT_TRUE(open->Check(reinterpret_cast<sockaddr*>(&meta)).ok());
  EXPECT_FALSE(AddressPolicy::Create(false, {"not-an-ip"}).ok());
  EXPECT_FALSE(AddressPolicy::Create(false, {"10.0.0.0/33"}).ok());
}

}  // namespace
}  // namespace cutroom::ingest
