#include "analysis/frames/face_search_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace cutroom::analysis {

namespace {

constexpr int kMaxThreads = 16;
constexpr size_t kQueuedPerThread = 2;

struct Search {
  media::VideoFrame frame;
  std::vector<FaceSearchRegion> regions;
  FaceSearchPool::Done done;
};

}  // namespace

class FaceSearchPool::Impl {
 public:
  explicit Impl(size_t threads) : max_queued_(kQueuedPerThread * threads) {}

  // A thread for each detector; ResourceExhausted (and none left running)
  // when the process may not start that many.
  Status Start(std::vector<std::unique_ptr<FaceDetector>> detectors) {
    try {
      for (auto& d : detectors) {
        threads_.emplace_back([this, detector = std::move(d)] { Run(*detector); });
      }
    } catch (const std::system_error& e) {
      Stop();
      return Status::ResourceExhausted(std::string("could not start the face search threads: ") + e.what());
    }
    return Status::Ok();
  }

  ~Impl() { Stop(); }

  Status Submit(Search search) {
    std::unique_lock lock(mu_);
    room_cv_.wait(lock, [&] { return queue_.size() < max_queued_ || !failure_.ok(); });
    if (!failure_.ok()) return failure_;
    queue_.push_back(std::move(search));
    ++unfinished_;
    work_cv_.notify_one();
    return Status::Ok();
  }

  Status Wait() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return unfinished_ == 0; });
    return std::exchange(failure_, Status::Ok());
  }

  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      queue_.clear();
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  void Run(FaceDetector& detector) {
    while (true) {
      Search search;
      {
        std::unique_lock lock(mu_);
        work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        search = std::move(queue_.front());
        queue_.pop_front();
      }
      room_cv_.notify_one();
      auto faces = search.regions.empty() ? detector.Detect(search.frame)
                                          : detector.DetectIn(search.frame, search.regions);
      if (faces.ok()) search.done(std::move(faces).value());
      std::lock_guard lock(mu_);
      if (!faces.ok() && failure_.ok()) {
        failure_ = faces.status();
        // A failed pool takes nothing more: drop what is queued.
        unfinished_ -= queue_.size();
        queue_.clear();
        room_cv_.notify_all();
      }
      if (--unfinished_ == 0) idle_cv_.notify_all();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // a search was queued, or the pool stops
  std::condition_variable room_cv_;  // the queue has room, or a search failed
  std::condition_variable idle_cv_;  // nothing is queued or running
  std::deque<Search> queue_;
  size_t unfinished_ = 0;  // queued or running
  Status failure_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

Result<std::unique_ptr<FaceSearchPool>> FaceSearchPool::Open(const FaceDetectorOptions& options, int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    return Status::InvalidArgument("face search threads must be 1.." + std::to_string(kMaxThreads) + ", got " +
                                   std::to_string(threads));
  }
  std::vector<std::unique_ptr<FaceDetector>> detectors;
  for (int i = 0; i < threads; ++i) {
    CUTROOM_ASSIGN_OR_RETURN(auto d, FaceDetector::Open(options));
    detectors.push_back(std::move(d));
  }
  auto impl = std::make_unique<Impl>(detectors.size());
  CUTROOM_RETURN_IF_ERROR(impl->Start(std::move(detectors)));
  return std::unique_ptr<FaceSearchPool>(new FaceSearchPool(std::move(impl)));
}

FaceSearchPool::FaceSearchPool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FaceSearchPool::~FaceSearchPool() = default;

Status FaceSearchPool::Submit(media::VideoFrame frame, std::vector<FaceSearchRegion> regions, Done done) {
  return impl_->Submit(Search{std::move(frame), std::move(regions), std::move(done)});
}

Status FaceSearchPool::Wait() { return impl_->Wait(); }

int FaceSearchPool::threads() const { return impl_->threads(); }

}  // namespace cutroom::analysis
