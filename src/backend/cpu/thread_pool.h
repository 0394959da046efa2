// The compute workers: a fixed pool used by the engine thread inside a forward
// pass. Sized to the cores (the calling thread is worker 0, so a pool of N
// threads starts N-1 OS threads).
//
// Dispatch is built for many small jobs (a decode step issues one per matrix
// product, microseconds apart): a job is published with one atomic counter,
// and a worker that just finished one spins on that counter for up to
// kSpinMicros before it goes to sleep on a condition variable, so back-to-back
// jobs start without a wake-up syscall while an idle pool costs no CPU. The
// caller runs its own share and then spins until the workers are done.
//
// Thread safety: run() may be called from one thread at a time (the engine
// thread). Jobs must not call run() recursively.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::backend::cpu {

class ThreadPool {
 public:
  // How long a worker polls for the next job before sleeping.
  static constexpr int kSpinMicros = 200;

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
  // Published by run(): job_ is written before generation_ is incremented
  // and read after a worker sees the new generation.
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};   // workers still running the current job
  std::atomic<int> sleepers_{0};  // workers (about to be) waiting on wake_
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // only for sleeping and waking
  std::condition_variable wake_;
};

}  // namespace kiln::backend::cpu
