#pragma once
// A small persistent pool for the forward pass: parallel-for over a range of chunks.
//
// The calling thread always takes part, so a pool of N threads starts N-1 workers and a
// pool of 1 starts none (parallel_for is then a plain loop with no synchronisation).
// Chunks are handed out one at a time from a shared counter, so a thread the OS has
// descheduled holds nobody up: whoever is running takes the next chunk, and a late
// worker that finds the job finished simply goes back to waiting.
//
// Waiting is passive: an idle thread polls for a short, bounded time (long enough to
// bridge the gap between two matrix products of one token; after the first microseconds
// each poll yields the core to whoever else wants it) and then sleeps on a futex
// (std::atomic::wait). Nothing ever spins indefinitely, which is what makes busy-waiting
// pools collapse on a machine where another process holds a core. fn must not throw.
#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace tinygpt {

class ThreadPool {
 public:
  // More threads than this is a mistake, not a request: no model here has enough rows to
  // share among them, and each one costs a stack.
  static constexpr int kMaxThreads = 256;

  // threads <= 0 means one per core. spin_us: how long an idle thread polls before sleeping.
  // Throws a usage Error when threads > kMaxThreads or the system refuses a thread.
  explicit ThreadPool(int threads, int spin_us = 100);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(chunk, thread) for every chunk in [0, n_chunks), spread over the pool;
  // `thread` in [0, size()) names the caller (for per-thread scratch). Returns when every
  // call has returned. One parallel_for at a time; fn must not call back into the pool.
  template <class Fn>
  void parallel_for(int n_chunks, Fn&& fn) {
    if (workers_.empty() || n_chunks <= 1) {
      for (int i = 0; i < n_chunks; ++i) fn(i, 0);
      return;
    }
    using F = std::remove_reference_t<Fn>;
    run(
        n_chunks, [](void* ctx, int chunk, int thread) { (*static_cast<F*>(ctx))(chunk, thread); },
        const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // The thread count a request for `threads` gets: itself, or one per core for <= 0.
  static int resolve(int threads);

 private:
  using Call = void (*)(void* ctx, int chunk, int thread);
  void run(int n_chunks, Call call, void* ctx);
  void worker_main(int thread);
  void stop_workers();
  // Claims and runs chunks of job `generation` until none is left or a newer job began.
  void work(std::uint32_t generation, int thread);

  std::vector<std::thread> workers_;
  int spin_us_;

  // The current job. `job_` packs (generation << 32 | next chunk) so that claiming a chunk
  // and checking that the job is still the current one are a single compare-exchange.
  // While run() fills in a new job, the chunk part is kClosed: no claim can succeed.
  static constexpr std::uint64_t kClosed = 0xffffffffu;
  std::atomic<Call> call_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int> n_chunks_{0};
  alignas(64) std::atomic<std::uint64_t> job_{0};
  alignas(64) std::atomic<int> done_{0};                  // chunks of the current job finished
  alignas(64) std::atomic<std::uint32_t> generation_{0};  // what idle workers sleep on
  std::atomic<int> sleepers_{0};                          // workers asleep (skip the wake syscall when 0)
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<bool> stop_{false};
};

}  // namespace tinygpt
