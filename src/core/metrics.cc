#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace cutroom {
namespace {

constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string LabelText(const MetricLabels& labels, const std::string& extra_name = "",
                      const std::string& extra_value = "") {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + EscapeMetricLabel(v) + "\"";
    first = false;
  }
  if (!extra_name.empty()) out += (first ? "" : ",") + extra_name + "=\"" + extra_value + "\"";
  return out + "}";
}

}  // namespace

std::string EscapeMetricLabel(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void MetricsWriter::Family(const std::string& name, const std::string& type, const std::string& help) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void MetricsWriter::Sample(const std::string& name, const MetricLabels& labels, double value) {
  out_ += name + LabelText(labels) + " " + FormatValue(value) + "\n";
}

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();  // used until exit
  return *metrics;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
}

void Metrics::Add(const std::string& name, const MetricLabels& labels, double delta) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) f.type = "counter";
  f.values[labels] += delta;
}

void Metrics::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) f.type = "gauge";
  f.values[labels] = value;
}

void Metrics::Observe(const std::string& name, const MetricLabels& labels, double seconds) {
  std::lock_guard lock(mu_);
  Family& f = families_[name];
  if (f.type.empty()) f.type = "histogram";
  Histogram& h = f.histograms[labels];
  if (h.buckets.empty()) h.buckets.assign(kBucketCount, 0);
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

int Metrics::AddCollector(Collector collector) {
  std::lock_guard lock(mu_);
  int id = next_collector_++;
  collectors_.emplace(id, std::move(collector));
  return id;
}

void Metrics::RemoveCollector(int id) {
  std::lock_guard lock(mu_);
  collectors_.erase(id);
}

std::string Metrics::Render() {
  std::map<int, Collector> collectors;
  MetricsWriter w;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
    for (const auto& [name, f] : families_) {
      w.Family(name, f.type.empty() ? "untyped" : f.type, f.help.empty() ? name : f.help);
      for (const auto& [labels, v] : f.values) w.Sample(name, labels, v);
      for (const auto& [labels, h] : f.histograms) {
        uint64_t cumulative = 0;
        std::string out;
        for (size_t i = 0; i < kBucketCount; ++i) {
          cumulative += h.buckets[i];
          MetricLabels with = labels;
          with.emplace_back("le", FormatValue(kBuckets[i]));
          w.Sample(name + "_bucket", with, static_cast<double>(cumulative));
        }
        MetricLabels inf = labels;
        inf.emplace_back("le", "+Inf");
        w.Sample(name + "_bucket", inf, static_cast<double>(h.count));
        w.Sample(name + "_sum", labels, h.sum);
        w.Sample(name + "_count", labels, static_cast<double>(h.count));
      }
    }
  }
  // Collectors query outside the lock (they may be slow, or record metrics).
  for (const auto& [id, collect] : collectors) collect(w);
  return w.text();
}

}  // namespace cutroom
