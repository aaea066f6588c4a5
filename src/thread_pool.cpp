#include "tinygpt/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace tinygpt {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Polls `done()` for about `spin_us` microseconds; true if it became true meanwhile.
// After the first few microseconds each poll also yields the core, so that a thread of
// ours (or anyone's) that is ready to run on it is not kept waiting by our polling.
template <class Done>
bool spin_until(Done&& done, int spin_us) {
  const auto start = std::chrono::steady_clock::now();
  const auto polite = start + std::chrono::microseconds(std::min(spin_us, 5));
  const auto until = start + std::chrono::microseconds(spin_us);
  bool yielding = false;
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return done();
    if (yielding || now >= polite) {
      yielding = true;
      std::this_thread::yield();
    }
  }
}

}  // namespace

int ThreadPool::resolve(int threads) {
  if (threads > 0) return threads;
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

ThreadPool::ThreadPool(int threads, int spin_us) : spin_us_(spin_us) {
  const int n = resolve(threads);
  workers_.reserve(static_cast<std::size_t>(n - 1));
  for (int t = 1; t < n; ++t) workers_.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& w : workers_) w.join();
}

void ThreadPool::work(std::uint32_t generation, int thread) {
  std::uint64_t v = job_.load(std::memory_order_acquire);
  while (true) {
    if (static_cast<std::uint32_t>(v >> 32) != generation) return;  // a newer job: ours is done
    // Read before claiming; a successful claim proves the job had not finished, so these
    // still describe it.
    const Call call = call_.load(std::memory_order_relaxed);
    void* ctx = ctx_.load(std::memory_order_relaxed);
    const int n = n_chunks_.load(std::memory_order_relaxed);
    const int chunk = static_cast<int>(v & 0xffffffffu);
    if (chunk >= n) return;
    if (!job_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    call(ctx, chunk, thread);
    if (done_.fetch_add(1) + 1 == n && caller_sleeping_.load()) done_.notify_all();
    v = job_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(int n_chunks, Call call, void* ctx) {
  const std::uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  call_.store(call, std::memory_order_relaxed);
  ctx_.store(ctx, std::memory_order_relaxed);
  n_chunks_.store(n_chunks, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  job_.store(static_cast<std::uint64_t>(generation) << 32, std::memory_order_release);
  generation_.store(generation);
  if (sleepers_.load() > 0) generation_.notify_all();

  work(generation, 0);

  // Every chunk is claimed; wait for the ones other threads are still running.
  auto finished = [&] { return done_.load(std::memory_order_acquire) == n_chunks; };
  if (spin_until(finished, spin_us_)) return;
  caller_sleeping_.store(true);
  for (int d = done_.load(); d != n_chunks; d = done_.load()) done_.wait(d);
  caller_sleeping_.store(false);
  std::atomic_thread_fence(std::memory_order_acquire);
}

void ThreadPool::worker_main(int thread) {
  std::uint32_t seen = 0;
  while (true) {
    auto changed = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(changed, spin_us_)) {
      sleepers_.fetch_add(1);
      while (!changed()) generation_.wait(seen);
      sleepers_.fetch_sub(1);
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    work(seen, thread);
  }
}

}  // namespace tinygpt
