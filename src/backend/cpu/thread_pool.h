// The compute workers: a fixed pool used by the engine thread inside a forward
// pass. Sized to the cores (the calling thread is worker 0, so a pool of N
// threads starts N-1 OS threads). Idle workers sleep on a condition variable;
// they spin only briefly right after a job, when the next one usually follows
// within microseconds (decode steps issue one job per matrix product).
//
// Thread safety: run() may be called from one thread at a time (the engine
// thread). Jobs must not call run() recursively.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::backend::cpu {

class ThreadPool {
 public:
  // n_threads <= 0 means "one per core".
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index, n_threads) once on every thread of the pool,
  // including the caller, and returns when all have finished.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous chunks, one per thread, and calls
  // fn(begin, end) for each non-empty chunk. The split depends only on n and
  // the pool size, never on timing.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(int, int)>* job_ = nullptr;  // guarded by mu_
  uint64_t generation_ = 0;                              // guarded by mu_
  int pending_ = 0;                                      // guarded by mu_
  bool stop_ = false;                                    // guarded by mu_
};

}  // namespace kiln::backend::cpu
