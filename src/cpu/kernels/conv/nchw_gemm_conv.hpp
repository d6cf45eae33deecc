#pragma once
// Convolution as Y[O, OH*OW] = W[O, K] * X[K, OH*OW]: the output comes out in NCHW directly. The
// filters are packed once into the micro-kernel's A panels; each task packs a block of output
// positions of the input (or of its im2col unfolding) into B panels, runs every output channel
// over it, and applies the epilogue to each channel tile as soon as its last K block is done.
// Suits layers with many output positions; few positions waste the 32-wide B panels.
#include <memory>

#include "cpu/kernels/conv/conv_geometry.hpp"
#include "cpu/kernels/gemm/gemm.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::conv {

/// Filters [O, K] packed as row panels of the micro-kernel of one ISA.
class PackedFilters {
public:
    PackedFilters(const float* w, int64_t rows, int64_t k, gemm::Isa isa);
    int64_t rows() const { return rows_; }
    int64_t k() const { return k_; }
    gemm::Isa isa() const { return isa_; }
    /// The panel holding row `r` (a multiple of the micro-kernel's mr): k groups of mr floats.
    const float* panel(int64_t r) const { return data_.get() + r * k_; }

private:
    struct Free {
        void operator()(float* p) const;
    };
    std::unique_ptr<float[], Free> data_;
    int64_t rows_ = 0, k_ = 0;
    gemm::Isa isa_;
};

/// y = epilogue(conv(x)); y is allocated by the caller with the output shape.
void run_nchw_gemm_conv(const ConvSpec& spec, const Geometry& g, const PackedFilters& filters,
                        const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool);

}  // namespace kiln::cpu::conv
