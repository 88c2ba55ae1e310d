// AddressPolicy: which network addresses URL imports may connect to.
//
// By default only globally routable unicast addresses are allowed: loopback,
// private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
// including the cloud metadata address, fe80::/10), CGNAT (100.64/10),
// multicast, unspecified, documentation and reserved ranges are refused, as
// are IPv6 forms that embed a refused IPv4 address (IPv4-mapped, NAT64,
// 6to4). The check runs on the address actually being connected to, after
// DNS, for every connection including redirects, so DNS tricks and odd IPv4
// spellings (decimal, hex, octal) gain nothing.
// Thread-safety: immutable after construction.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "core/result.h"

namespace cutroom::ingest {

class AddressPolicy {
 public:
  // allow_private: ingest.allow_private_urls. allowlist: CIDRs allowed even
  // when not global ("192.168.1.0/24", "fd00::/8", "127.0.0.1").
  static Result<AddressPolicy> Create(bool allow_private, const std::vector<std::string>& allowlist);
  // From ingest.allow_private_urls and ingest.url_allowlist (comma-separated).
  static Result<AddressPolicy> FromConfig(const Config& config);

  // OK, or PermissionDenied naming the address and why it is refused.
  Status Check(const sockaddr* addr) const;

  // Why an address is not global ("loopback", "private", ...), or "" when
  // it is. Exposed for tests.
  static std::string Classify(const sockaddr* addr);

 private:
  struct Cidr {
    int family;
    unsigned char bytes[16];
    int prefix;
  };
  bool allow_private_ = false;
  std::vector<Cidr> allowlist_;
};

// Formats an address as text ("127.0.0.1", "::1").
std::string AddressToString(const sockaddr* addr);

}  // namespace cutroom::ingest
