// Metrics: process-wide counters, gauges and histograms, rendered in the
// Prometheus text exposition format (version 0.0.4) for GET /metrics.
//
// Series are named by metric and a small, fixed set of label values (a
// route pattern, never a path; a job kind; a status code), so their number
// stays bounded. Collectors registered with AddCollector add series that
// are read at scrape time (queue depth from the database, say).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cutroom {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Appends series of one metric family; see Metrics::AddCollector.
class MetricsWriter {
 public:
  // A family header (once per name) then its samples.
  void Family(const std::string& name, const std::string& type, const std::string& help);
  void Sample(const std::string& name, const MetricLabels& labels, double value);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

class Metrics {
 public:
  static Metrics& Global();

  // Declares a family once (help text and type); later calls are ignored.
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  void Add(const std::string& name, const MetricLabels& labels, double delta = 1);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  // Histogram with the default latency buckets (5 ms .. 60 s).
  void Observe(const std::string& name, const MetricLabels& labels, double seconds);

  using Collector = std::function<void(MetricsWriter&)>;
  // Returns an id for RemoveCollector (collectors capture objects that die).
  int AddCollector(Collector collector);
  void RemoveCollector(int id);

  std::string Render();

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts are made when rendering
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<MetricLabels, double> values;
    std::map<MetricLabels, Histogram> histograms;
  };

  std::mutex mu_;
  std::map<std::string, Family> families_;
  std::map<int, Collector> collectors_;
  int next_collector_ = 1;
};

// A label value or name escaped for the text format (\\, \" and \n).
std::string EscapeMetricLabel(const std::string& value);

}  // namespace cutroom
