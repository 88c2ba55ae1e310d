// ThreadPool: a fixed set of threads running submitted tasks in order.
//
// Shutdown() stops accepting tasks, lets queued and running tasks finish,
// and joins the threads (the destructor does the same). Tasks that must
// stop early watch their own cancellation flag.
// Thread-safety: Submit and Shutdown may be called from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cutroom {

class ThreadPool {
 public:
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // False once Shutdown() has begun (the task is not run).
  bool Submit(std::function<void()> task);
  void Shutdown();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cutroom
