#pragma once
/// \file Single-precision GEMM for the CPU device: C[M,N] (+)= op(A)[M,K] * B[K,N].
///
/// B (usually a weight) is packed once with pack_b() into column panels matching the micro-kernel
/// of one ISA; gemm() reads A in place or packs blocks of it into a workspace sized once, so the
/// hot path never allocates. The ISA is chosen once per process (best_isa());
/// KILN_ISA=avx512|avx2|scalar caps it, which lets tests and benchmarks exercise the lower paths on
/// a capable machine.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace kiln::cpu::gemm {

/// avx512_bf16 multiplies in bf16 (inputs rounded to nearest even) with f32 accumulation; it is
/// never best_isa(), only what packing_isa(true) asks for.
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, avx512_bf16 = 3 };

/// The ISA the CPU supports (AVX2 needs FMA too), capped by KILN_ISA. Computed on first use.
Isa best_isa();
/// Whether this CPU and OS can run kernels of `isa`, ignoring KILN_ISA.
bool isa_supported(Isa isa);
const char* isa_name(Isa isa);
/// The ISA to pack a weight for: best_isa(), or a bf16 one when `bf16` is asked and supported.
Isa packing_isa(bool bf16);

/// Column granularity of packed B for `isa`: sub-range splits over N start on a multiple of it.
int tile_n(Isa isa);
/// Row count of the micro-kernel for `isa`: a good granularity for splitting M across threads.
int tile_m(Isa isa);

/// B[K,N] packed into panels of tile_n(isa) columns, each K x tile_n contiguous, zero padded on
/// the last panel. Immutable once built; share it between threads freely.
class PackedB {
public:
    PackedB() = default;
    int64_t k() const { return k_; }
    int64_t n() const { return n_; }
    Isa isa() const { return isa_; }
    int nr() const { return nr_; }
    const float* data() const { return data_.get(); }
    /// Start of the panel holding column `col` (a multiple of nr()).
    const float* panel(int64_t col) const { return data_.get() + (col / nr_) * depth_ * nr_; }
    size_t size_bytes() const;

private:
    struct Free {
        size_t bytes;  // as allocated: free_streamed_memory needs it
        void operator()(float* p) const;
    };
    friend PackedB pack_b(const float*, int64_t, int64_t, int64_t, bool, Isa);
    std::unique_ptr<float[], Free> data_;
    int64_t k_ = 0, n_ = 0;
    int64_t depth_ = 0;  // packed rows per panel: k, or k/2 rounded up for bf16 pairs
    int nr_ = 1;
    Isa isa_ = Isa::scalar;
};

/// Packs logical B[K,N]: element (k, n) is b[k * ldb + n], or b[n * ldb + k] when trans_b (B is
/// then stored as [N,K], the layout of ONNX Gemm with transB=1 and of most FC weights).
PackedB pack_b(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b = false,
               Isa isa = best_isa());

/// Floats of scratch one gemm() call needs for packed A blocks (independent of the shapes).
size_t workspace_floats(Isa isa);

/// Scratch for gemm(), sized once; one per thread.
class Workspace {
public:
    explicit Workspace(Isa isa);
    /// Large enough for every ISA.
    Workspace();
    float* data() { return data_.get(); }

private:
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float[], Free> data_;
};

struct GemmOptions {
    /// A is stored as [K,M]: element (m, k) is a[k * lda + m].
    bool trans_a = false;
    /// C += A*B instead of C = A*B.
    bool accumulate = false;
    /// workspace_floats(b.isa()) floats, 64-byte aligned; null uses a per-thread buffer that is
    /// allocated on the first call of each thread.
    float* workspace = nullptr;
    /// Only C[m_begin:m_end, n_begin:n_end] is computed (a negative end means M or N), so
    /// threads can split one product. n_begin must be a multiple of b.nr().
    int64_t m_begin = 0, m_end = -1;
    int64_t n_begin = 0, n_end = -1;
};

/// C[M,N] (+)= op(A)[M,K] * B, with A row-major (leading dimension lda) and C row-major (ldc).
/// Uses the kernels of b.isa().
void gemm(const float* a, int64_t lda, const PackedB& b, float* c, int64_t ldc, int64_t m,
          const GemmOptions& options = {});

}  // namespace kiln::cpu::gemm
