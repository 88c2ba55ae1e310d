#include "ingest/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace cutroom::ingest {
namespace {

bool InV4(uint32_t addr, uint32_t net, int prefix) {
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (addr & mask) == (net & mask);
}

constexpr uint32_t V4(int a, int b, int c, int d) {
  return (uint32_t(a) << 24) | (uint32_t(b) << 16) | (uint32_t(c) << 8) | uint32_t(d);
}

std::string ClassifyV4(uint32_t a) {
  if (InV4(a, V4(0, 0, 0, 0), 8)) return a == 0 ? "unspecified" : "reserved (this network)";
  if (InV4(a, V4(127, 0, 0, 0), 8)) return "loopback";
  if (InV4(a, V4(10, 0, 0, 0), 8) || InV4(a, V4(172, 16, 0, 0), 12) || InV4(a, V4(192, 168, 0, 0), 16)) {
    return "private";
  }
  if (InV4(a, V4(169, 254, 0, 0), 16)) return "link-local";
  if (InV4(a, V4(100, 64, 0, 0), 10)) return "carrier-grade NAT";
  if (InV4(a, V4(224, 0, 0, 0), 4)) return "multicast";
  if (InV4(a, V4(240, 0, 0, 0), 4)) return "reserved";  // includes 255.255.255.255
  if (InV4(a, V4(192, 0, 0, 0), 24)) return "IETF protocol assignments";
  if (InV4(a, V4(192, 0, 2, 0), 24) || InV4(a, V4(198, 51, 100, 0), 24) || InV4(a, V4(203, 0, 113, 0), 24)) {
    return "documentation";
  }
  if (InV4(a, V4(198, 18, 0, 0), 15)) return "benchmarking";
  if (InV4(a, V4(192, 88, 99, 0), 24)) return "6to4 relay anycast";
  return "";
}

uint32_t V4At(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

bool PrefixEq(const unsigned char* a, const unsigned char* b, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a, b, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

std::string ClassifyV6(const unsigned char* b) {
  static const unsigned char kZero[16] = {0};
  if (std::memcmp(b, kZero, 16) == 0) return "unspecified";
  static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(b, kLoop, 16) == 0) return "loopback";
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) {
    std::string inner = ClassifyV4(V4At(b + 12));
    return inner.empty() ? "" : "IPv4-mapped " + inner;
  }
  if (std::memcmp(b, kZero, 12) == 0) return "IPv4-compatible (deprecated)";
  static const unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) {
    std::string inner = ClassifyV4(V4At(b + 12));
    return inner.empty() ? "" : "NAT64 " + inner;
  }
  if (b[0] == 0x20 && b[1] == 0x02) {  // 6to4 embeds an IPv4 address
    std::string inner = ClassifyV4(V4At(b + 2));
    return inner.empty() ? "" : "6to4 " + inner;
  }
  if ((b[0] & 0xfe) == 0xfc) return "private (unique local)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (deprecated)";
  if (b[0] == 0xff) return "multicast";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return "documentation";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return "Teredo";
  if (b[0] == 0x01 && b[1] == 0 && std::memcmp(b + 2, kZero, 6) == 0) return "discard";
  if ((b[0] & 0xe0) != 0x20) return "not global unicast";  // only 2000::/3 is routed
  return "";
}

}  // namespace

std::string AddressToString(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
  } else {
    return "(address family " + std::to_string(addr->sa_family) + ")";
  }
  return buf;
}

std::string AddressPolicy::Classify(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    return ClassifyV4(ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    return ClassifyV6(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr);
  }
  return "not an internet address";
}

Result<AddressPolicy> AddressPolicy::Create(bool allow_private, const std::vector<std::string>& allowlist) {
  AddressPolicy p;
  p.allow_private_ = allow_private;
  for (const auto& entry : allowlist) {
    if (entry.empty()) continue;
    std::string addr = entry;
    int prefix = -1;
    auto slash = entry.find('/');
    if (slash != std::string::npos) {
      addr = entry.substr(0, slash);
      char* end = nullptr;
      prefix = static_cast<int>(std::strtol(entry.c_str() + slash + 1, &end, 10));
      if (*end != '\0') return Status::InvalidArgument("bad CIDR '" + entry + "'");
    }
    Cidr c{};
    if (inet_pton(AF_INET, addr.c_str(), c.bytes) == 1) {
      c.family = AF_INET;
      if (prefix < 0) prefix = 32;
      if (prefix > 32) return Status::InvalidArgument("bad CIDR '" + entry + "'");
    } else if (inet_pton(AF_INET6, addr.c_str(), c.bytes) == 1) {
      c.family = AF_INET6;
      if (prefix < 0) prefix = 128;
      if (prefix > 128) return Status::InvalidArgument("bad CIDR '" + entry + "'");
    } else {
      return Status::InvalidArgument("bad address in allowlist: '" + entry + "'");
    }
    c.prefix = prefix;
    p.allowlist_.push_back(c);
  }
  return p;
}

Result<AddressPolicy> AddressPolicy::FromConfig(const Config& config) {
  std::vector<std::string> allowlist;
  std::string list = config.GetString("ingest.url_allowlist");
  size_t i = 0;
  while (i < list.size()) {
    size_t comma = list.find(',', i);
    if (comma == std::string::npos) comma = list.size();
    std::string entry = list.substr(i, comma - i);
    entry.erase(0, entry.find_first_not_of(' '));
    entry.erase(entry.find_last_not_of(' ') + 1);
    if (!entry.empty()) allowlist.push_back(entry);
    i = comma + 1;
  }
  auto policy = Create(config.GetBool("ingest.allow_private_urls"), allowlist);
  if (!policy.ok()) return policy.status().WithContext("ingest.url_allowlist");
  return policy;
}

Status AddressPolicy::Check(const sockaddr* addr) const {
  for (const Cidr& c : allowlist_) {
    if (addr->sa_family == AF_INET && c.family == AF_INET &&
        PrefixEq(reinterpret_cast<const unsigned char*>(&reinterpret_cast<const sockaddr_in*>(addr)->sin_addr),
                 c.bytes, c.prefix)) {
      return Status::Ok();
    }
    if (addr->sa_family == AF_INET6 && c.family == AF_INET6 &&
        PrefixEq(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr.s6_addr, c.bytes, c.prefix)) {
      return Status::Ok();
    }
  }
  if (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) {
    return Status::PermissionDenied("refused to connect: not an internet address");
  }
  std::string why = Classify(addr);
  if (why.empty() || allow_private_) return Status::Ok();
  return Status::PermissionDenied("refused to connect to " + AddressToString(addr) + " (" + why +
                                  " address); URL imports may only reach public addresses "
                                  "(set ingest.allow_private_urls or ingest.url_allowlist to change this)");
}

}  // namespace cutroom::ingest
