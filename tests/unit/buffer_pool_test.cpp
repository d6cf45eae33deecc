// The per-request buffer pool: reuse by size, zeroed tensors, a bounded cache, and buffers that
// outlive their pool.
#include "cpu/buffer_pool.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "kiln/tensor.hpp"

namespace kiln::cpu {
namespace {

TEST(BufferPool, ReleasedBuffersAreReusedBySizeAndZeroed) {
    BufferPool pool;
    AllocatorScope scope(&pool);
    const void* first = nullptr;
    {
        Tensor a(ElementType::f32, {1000});
        first = a.raw_data();
        for (int64_t i = 0; i < a.size(); ++i) a.data<float>()[i] = 3.f;
    }
    Tensor b(ElementType::f32, {1000});  // same size: the same buffer, zeroed again
    EXPECT_EQ(b.raw_data(), first);
    for (int64_t i = 0; i < b.size(); ++i) ASSERT_EQ(b.data<float>()[i], 0.f);
    Tensor c(ElementType::i8, {1000});  // another size: a new buffer
    EXPECT_NE(c.raw_data(), first);
    const auto s = pool.stats();
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 2u);
    EXPECT_EQ(s.live_bytes, 4032u + 1024u);  // sizes rounded to the 64-byte alignment
}

TEST(BufferPool, ScopeIsPerThreadAndNests) {
    BufferPool outer, inner;
    AllocatorScope a(&outer);
    { Tensor t(ElementType::f32, {8}); }
    {
        AllocatorScope b(&inner);
        { Tensor t(ElementType::f32, {8}); }
        std::thread([] { Tensor t(ElementType::f32, {8}); }).join();  // other thread: the heap
        AllocatorScope heap(nullptr);
        Tensor s(ElementType::string, {2});  // strings always use the heap
    }
    { Tensor t(ElementType::f32, {8}); }
    EXPECT_EQ(outer.stats().misses + outer.stats().hits, 2u);
    EXPECT_EQ(inner.stats().misses + inner.stats().hits, 1u);
}

TEST(BufferPool, CacheStaysWithinThePeakWorkingSet) {
    BufferPool pool;
    AllocatorScope scope(&pool);
    { Tensor t(ElementType::u8, {64 * 100}); }  // peak 6400 bytes
    for (int64_t n = 1; n <= 200; ++n) Tensor(ElementType::u8, {64 * n});  // every size once
    const auto s = pool.stats();
    EXPECT_LE(s.cached_bytes, BufferPool::kCacheFactor * s.peak_live_bytes);
    EXPECT_EQ(s.live_bytes, 0u);
}

TEST(BufferPool, BuffersMayOutliveThePool) {
    Tensor kept;
    {
        BufferPool pool;
        AllocatorScope scope(&pool);
        kept = Tensor(ElementType::f32, {33});
        kept.data<float>()[32] = 1.f;
    }
    EXPECT_EQ(kept.data<float>()[32], 1.f);
    kept = Tensor();  // given back to a closed pool: freed (ASan checks the rest)
}

}  // namespace
}  // namespace kiln::cpu
