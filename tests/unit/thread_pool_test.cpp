// The CPU thread pool: coverage, inline fallbacks, exceptions, nesting, shutdown and stress.
#include "cpu/thread_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kiln::cpu {
namespace {

constexpr int64_t kExpensive = ThreadPool::kInlineCost;  // per item: always worth splitting

/// Runs parallel_for over [begin, end) and checks that every index was visited exactly once.
void expect_each_index_once(ThreadPool& pool, int64_t begin, int64_t end, int64_t cost) {
    const int64_t n = std::max<int64_t>(end - begin, 0);
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(begin, end, cost, [&](int64_t lo, int64_t hi) {
        ASSERT_LE(begin, lo);
        ASSERT_LT(lo, hi);
        ASSERT_LE(hi, end);
        for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i - begin)]++;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << i;
}

TEST(ThreadPool, CoversOddRangesExactlyOnce) {
    for (int threads : {0, 1, 2, 3, 5}) {
        ThreadPool pool(threads);
        EXPECT_EQ(pool.concurrency(), std::max(threads, 1));
        for (int64_t n : {0, 1, 2, 3, 7, 13, 31, 97, 1001, 65537}) {
            expect_each_index_once(pool, 0, n, kExpensive);
            expect_each_index_once(pool, -5, n - 5, 1);  // negative begin, cheap work
            expect_each_index_once(pool, 11, 11 + n, 3);
        }
        expect_each_index_once(pool, 10, 3, kExpensive);  // empty (end < begin): no call
    }
}

TEST(ThreadPool, HugeCostDoesNotOverflow) {
    ThreadPool pool(3);
    expect_each_index_once(pool, 0, 1000, INT64_MAX / 2);
    expect_each_index_once(pool, 0, 10, 0);  // zero and negative costs mean "cheap"
    expect_each_index_once(pool, 0, 10, -7);
}

TEST(ThreadPool, CheapWorkRunsInlineInOneCall) {
    ThreadPool pool(4);
    int calls = 0;
    const auto caller = std::this_thread::get_id();
    pool.parallel_for(0, 100, 1, [&](int64_t lo, int64_t hi) {
        ++calls;  // not atomic: inline runs on this thread only
        EXPECT_EQ(std::this_thread::get_id(), caller);
        EXPECT_EQ(lo, 0);
        EXPECT_EQ(hi, 100);
    });
    EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, ExpensiveWorkUsesSeveralThreads) {
    ThreadPool pool(3);
    std::mutex m;
    std::set<std::thread::id> ids;
    std::atomic<int> arrived{0};
    // Each chunk waits (bounded) for a second one to start, so two threads must take part.
    pool.parallel_for(0, 64, kExpensive, [&](int64_t, int64_t) {
        {
            std::lock_guard<std::mutex> lock(m);
            ids.insert(std::this_thread::get_id());
        }
        ++arrived;
        for (int spin = 0; spin < 2000 && arrived.load() < 2; ++spin)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
    });
    EXPECT_GE(ids.size(), 2u);
}

TEST(ThreadPool, FirstExceptionReachesTheCaller) {
    for (int threads : {1, 2, 4}) {
        ThreadPool pool(threads);
        std::atomic<int> ran{0};
        try {
            pool.parallel_for(0, 1000, kExpensive, [&](int64_t lo, int64_t) {
                ++ran;
                if (lo >= 0) throw std::runtime_error("chunk failed");
            });
            FAIL() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "chunk failed");
        }
        EXPECT_GE(ran.load(), 1);
        // The pool stays usable after a failure.
        expect_each_index_once(pool, 0, 333, kExpensive);
    }
}

TEST(ThreadPool, OneFailingChunkAmongMany) {
    ThreadPool pool(3);
    std::atomic<int64_t> sum{0};
    EXPECT_THROW(pool.parallel_for(0, 100, kExpensive,
                                   [&](int64_t lo, int64_t hi) {
                                       for (int64_t i = lo; i < hi; ++i) {
                                           if (i == 57) throw std::out_of_range("57");
                                           sum += i;
                                       }
                                   }),
                 std::out_of_range);
}

TEST(ThreadPool, NestedCallsRunInlineWithoutDeadlock) {
    ThreadPool pool(3);
    constexpr int64_t kOuter = 37, kInner = 53;
    std::vector<std::atomic<int>> hits(kOuter * kInner);
    pool.parallel_for(0, kOuter, kExpensive, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
            pool.parallel_for(0, kInner, kExpensive, [&](int64_t ilo, int64_t ihi) {
                for (int64_t j = ilo; j < ihi; ++j) hits[static_cast<size_t>(i * kInner + j)]++;
            });
        }
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ThreadPool, NestedExceptionPropagatesThroughBothLevels) {
    ThreadPool pool(2);
    EXPECT_THROW(pool.parallel_for(0, 8, kExpensive,
                                   [&](int64_t, int64_t) {
                                       pool.parallel_for(0, 8, kExpensive, [](int64_t, int64_t) {
                                           throw std::logic_error("inner");
                                       });
                                   }),
                 std::logic_error);
}

TEST(ThreadPool, ConcurrentCallersShareThePool) {
    ThreadPool pool(3);
    std::vector<std::thread> callers;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        callers.emplace_back([&] {
            for (int rep = 0; rep < 200; ++rep) {
                std::atomic<int64_t> sum{0};
                pool.parallel_for(0, 101, kExpensive, [&](int64_t lo, int64_t hi) {
                    for (int64_t i = lo; i < hi; ++i) sum += i;
                });
                if (sum.load() != 101 * 100 / 2) ++failures;
            }
        });
    }
    for (auto& c : callers) c.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST(ThreadPool, ManyTinyCallsStress) {
    ThreadPool pool(4);
    int64_t total = 0;
    std::atomic<int64_t> sum{0};
    for (int rep = 0; rep < 20000; ++rep) {
        const int64_t n = rep % 7 + 1;
        pool.parallel_for(0, n, kExpensive, [&](int64_t lo, int64_t hi) { sum += hi - lo; });
        total += n;
    }
    EXPECT_EQ(sum.load(), total);
}

// Workers that sleep at once (spin 0), spin past every gap (spin 1 s), or sometimes sleep and
// sometimes spin (gaps around the spin time), with several callers and failing chunks mixed in:
// every call must cover its range exactly once and report its own failure only.
TEST(ThreadPool, WakeUpPathsStress) {
    for (int64_t spin_us : {0, 50, 1000000}) {
        ThreadPool pool(3, spin_us);
        std::atomic<int> failures{0};
        std::vector<std::thread> callers;
        for (int t = 0; t < 3; ++t) {
            callers.emplace_back([&, t] {
                std::mt19937 rng(static_cast<uint32_t>(t * 7919 + spin_us));
                for (int rep = 0; rep < 300; ++rep) {
                    const int64_t n = static_cast<int64_t>(rng() % 200);
                    const bool fail = rng() % 10 == 0;
                    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
                    try {
                        pool.parallel_for(0, n, kExpensive, [&](int64_t lo, int64_t hi) {
                            for (int64_t i = lo; i < hi; ++i) {
                                if (fail && i == n / 2) throw std::runtime_error("planned");
                                hits[static_cast<size_t>(i)]++;
                            }
                        });
                        if (fail && n > 0) ++failures;  // the planned failure got lost
                        for (auto& h : hits)
                            if (h.load() != 1) ++failures;
                    } catch (const std::runtime_error&) {
                        if (!fail) ++failures;
                    }
                    if (rng() % 4 == 0)
                        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 120));
                }
            });
        }
        for (auto& c : callers) c.join();
        EXPECT_EQ(failures.load(), 0) << "spin " << spin_us << " us";
    }
}

TEST(ThreadPool, CreateAndDestroyRepeatedly) {
    for (int rep = 0; rep < 50; ++rep) {
        ThreadPool pool(rep % 5, rep % 3 == 0 ? 0 : -1);
        if (rep % 2) expect_each_index_once(pool, 0, 17, kExpensive);
    }
    EXPECT_GE(ThreadPool::hardware_threads(), 1);
}

}  // namespace
}  // namespace kiln::cpu
