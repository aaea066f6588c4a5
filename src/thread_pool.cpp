#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>

#include "tinygpt/decoder.h"
#include "tinygpt/error.h"

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
  if (n > kMaxThreads)
    throw_usage_error("threads: " + std::to_string(n) + " is more than the " + std::to_string(kMaxThreads) +
                      " a forward pass can use");
  workers_.reserve(static_cast<std::size_t>(n - 1));
  try {
    for (int t = 1; t < n; ++t) workers_.emplace_back([this, t] { worker_main(t); });
  } catch (const std::system_error& e) {
    // The destructor will not run for a half-built pool: the threads already started
    // must be stopped here, or their std::thread objects would terminate the program.
    // Not a usage error: the count is allowed, the system ran out of threads or memory
    // for their stacks, and that is exit 1 like any other resource running out.
    stop_workers();
    throw_io_error("threads: cannot start " + std::to_string(n) + " threads (" + e.what() + ")");
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
}

void ThreadPool::work(std::uint32_t generation, int thread) {
  std::uint64_t v = job_.load();
  while (true) {
    if (static_cast<std::uint32_t>(v >> 32) != generation) return;  // a newer job: ours is done
    // Read before claiming. A successful claim proves that these still describe our job:
    // run() closes the job word before it stores the next job's fields (all seq_cst), so
    // a worker that has seen the next job's chunk count can no longer claim from ours.
    // (Without that step a worker holding "job G, chunk n_G" that read the next job's
    // larger count could claim chunk n_G of a finished job and run it with the next
    // job's function: one chunk ran twice about once in 40 runs of the pool test.)
    const Call call = call_.load();
    void* ctx = ctx_.load();
    const int n = n_chunks_.load();
    const std::uint32_t chunk = static_cast<std::uint32_t>(v & 0xffffffffu);
    if (chunk >= static_cast<std::uint32_t>(n)) return;
    if (!job_.compare_exchange_weak(v, v + 1)) continue;
    call(ctx, static_cast<int>(chunk), thread);
    if (done_.fetch_add(1) + 1 == n && caller_sleeping_.load()) done_.notify_all();
    v = job_.load();
  }
}

void ThreadPool::run(int n_chunks, Call call, void* ctx) {
  const std::uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  const std::uint64_t job = static_cast<std::uint64_t>(generation) << 32;
  job_.store(job | kClosed);  // no claim on the previous job can succeed from here on
  call_.store(call);
  ctx_.store(ctx);
  n_chunks_.store(n_chunks);
  done_.store(0);
  job_.store(job);
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

namespace tinygpt {

std::shared_ptr<ThreadPool> make_thread_pool(int threads) { return std::make_shared<ThreadPool>(threads); }

}  // namespace tinygpt
