#include "fuzz/targets.h"

#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "analysis/retention/import.h"
#include "core/base64.h"
#include "edit/plan/plan.h"
#include "edit/render/ass_captions.h"
#include "ingest/address_policy.h"
#include "ingest/tus_service.h"
#include "ingest/url_fetcher.h"
#include "ingest/url_import.h"
#include "media/probe.h"
#include "storage/s3_client.h"

namespace cutroom::fuzz {
namespace {

std::string AsString(const uint8_t* data, size_t size) { return std::string(reinterpret_cast<const char*>(data), size); }

// Splits the input at newlines into at most `limit` pieces.
std::vector<std::string> Lines(const std::string& s, size_t limit) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && out.size() < limit) {
    size_t end = s.find('\n', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class MemorySource : public media::RandomAccessSource {
 public:
  MemorySource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  Result<size_t> ReadAt(uint64_t offset, void* buf, size_t n) override {
    if (offset >= size_) return size_t{0};
    size_t k = std::min<size_t>(n, size_ - static_cast<size_t>(offset));
    std::memcpy(buf, data_ + offset, k);
    return k;
  }
  Result<uint64_t> Size() override { return static_cast<uint64_t>(size_); }

 private:
  const uint8_t* data_;
  size_t size_;
};

}  // namespace

int TusHeaders(const uint8_t* data, size_t size) {
  std::string s = AsString(data, size);
  (void)ingest::ParseTusMetadata(s);
  (void)ingest::ParseTusChecksum(s);
  (void)Base64Decode(s);
  return 0;
}

int UrlAndAddressPolicy(const uint8_t* data, size_t size) {
  std::string s = AsString(data, size);
  auto lines = Lines(s, 8);
  (void)ingest::UrlFetcher::ValidateUrl(lines[0]);
  (void)ingest::FilenameFromUrl(lines[0]);
  std::vector<std::string> cidrs(lines.begin() + (lines.size() > 1 ? 1 : 0), lines.end());
  auto policy = ingest::AddressPolicy::Create(false, cidrs);
  // The raw bytes as an IPv4 and an IPv6 address against the policy.
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  std::memcpy(&v4.sin_addr, data, std::min<size_t>(size, 4));
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  std::memcpy(&v6.sin6_addr, data, std::min<size_t>(size, 16));
  (void)ingest::AddressPolicy::Classify(reinterpret_cast<const sockaddr*>(&v4));
  (void)ingest::AddressPolicy::Classify(reinterpret_cast<const sockaddr*>(&v6));
  if (policy.ok()) {
    (void)policy->Check(reinterpret_cast<const sockaddr*>(&v4));
    (void)policy->Check(reinterpret_cast<const sockaddr*>(&v6));
  }
  return 0;
}

int RetentionImport(const uint8_t* data, size_t size) {
  // The first byte picks the video's length, the rest is the upload.
  double duration = size ? 1 + data[0] * 30.0 : 60;
  std::string_view body(reinterpret_cast<const char*>(data) + (size ? 1 : 0), size ? size - 1 : 0);
  (void)analysis::ParseRetentionImport(body, duration);
  return 0;
}

int EditPlan(const uint8_t* data, size_t size) {
  auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  (void)edit::PlanFromJson(json);
  return 0;
}

int AssCaptions(const uint8_t* data, size_t size) {
  // Words from the input's space-separated pieces, half a second each, and
  // one range over them; a title from its first line.
  std::string s = AsString(data, size);
  std::vector<analysis::TranscriptWord> words;
  double t = 0;
  size_t start = 0;
  while (start < s.size() && words.size() < 2000) {
    size_t end = s.find(' ', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) words.push_back({s.substr(start, end - start), t, t + 0.5, 0.9});
    t += 0.5;
    start = end + 1;
  }
  std::vector<edit::TimeRange> ranges = {{0, std::max(1.0, t), 1.0}};
  edit::CaptionStyle style = edit::DefaultCaptionStyle(720, 1280);
  edit::AssTitle title;
  title.text = Lines(s, 1)[0];
  title.duration_s = 3;
  (void)edit::BuildAssCaptions(words, ranges, style, 720, 1280, title);
  return 0;
}

int MediaProbe(const uint8_t* data, size_t size) {
  MemorySource source(data, size);
  (void)media::ProbeMediaSource(source);
  return 0;
}

int S3Xml(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (std::string_view entry : storage::XmlElements(xml, "Contents")) {
    (void)storage::XmlText(entry, "Key");
    (void)storage::XmlText(entry, "Size");
    (void)storage::XmlText(entry, "LastModified");
  }
  size_t from = 0;
  for (int i = 0; i < 64 && from < xml.size(); ++i) {
    size_t before = from;
    if (storage::XmlText(xml, "UploadId", &from).empty() && from == before) break;
  }
  for (const char* tag : {"Code", "Message", "NextContinuationToken", "IsTruncated", "ETag"}) {
    (void)storage::XmlText(xml, tag);
  }
  (void)storage::XmlEscape(xml);
  return 0;
}

const std::vector<NamedTarget>& AllTargets() {
  static const std::vector<NamedTarget> targets = {
      {"tus_headers", TusHeaders}, {"url", UrlAndAddressPolicy}, {"retention_import", RetentionImport},
      {"edit_plan", EditPlan},     {"ass_captions", AssCaptions}, {"media_probe", MediaProbe},
      {"s3_xml", S3Xml},           {"http_request", HttpRequest}, {"api_routes", ApiRoutes},
  };
  return targets;
}

}  // namespace cutroom::fuzz
