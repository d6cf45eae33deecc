#pragma once
// Stride-1 3x3 convolutions by Winograd F(2x2, 3x3): each 2x2 output tile costs 16 products
// instead of 36. The filters are transformed (U = G g G^T) and packed at compile time into 16
// matrices [O, C]; per image the input tiles are transformed (V = B^T d B) into 16 matrices
// [C, tiles], multiplied by the NCHW tile kernel, and transformed back (A^T M A) with the
// epilogue applied in registers. AVX-512 only.
#include <memory>
#include <vector>

#include "cpu/kernels/conv/conv_geometry.hpp"
#include "cpu/kernels/conv/nchw_gemm_conv.hpp"
#include "cpu/thread_pool.hpp"
#include "kiln/tensor.hpp"

namespace kiln::cpu::conv {

/// The 16 transformed filter matrices of a 3x3 convolution with weights [O, C, 3, 3].
class WinogradFilters {
public:
    WinogradFilters(const float* w, int64_t cout, int64_t cin);
    const PackedFilters& matrix(int e) const { return *u_[static_cast<size_t>(e)]; }

private:
    std::vector<std::unique_ptr<PackedFilters>> u_;
};

/// Whether a convolution of this window runs by Winograd on this machine.
bool winograd_applies(const ConvSpec& spec, const Geometry& g);

/// y = epilogue(conv(x)); y is allocated by the caller with the output shape.
void run_winograd_conv(const ConvSpec& spec, const Geometry& g, const WinogradFilters& filters,
                       const Tensor& x, const Tensor* res, Tensor& y, ThreadPool& pool);

}  // namespace kiln::cpu::conv
