#include "kiln/tensor.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/dispatch.hpp"
#include "core/tensor_allocator.hpp"

namespace kiln {
namespace {

thread_local TensorAllocator* t_allocator = nullptr;

std::shared_ptr<void> allocate(ElementType type, size_t n) {
    if (type == ElementType::string) {
        return std::shared_ptr<void>(new std::string[n ? n : 1],
                                     [](void* p) { delete[] static_cast<std::string*>(p); });
    }
    size_t bytes = byte_size(type, n);
    size_t rounded = (bytes + Tensor::kAlignment - 1) / Tensor::kAlignment * Tensor::kAlignment;
    if (rounded == 0) rounded = Tensor::kAlignment;
    if (t_allocator) {
        std::shared_ptr<void> pooled = t_allocator->allocate(rounded);
        KILN_CHECK(pooled, "out of memory allocating ", bytes, " bytes");
        std::memset(pooled.get(), 0, rounded);
        return pooled;
    }
    void* p = allocate_tensor_memory(rounded);
    KILN_CHECK(p, "out of memory allocating ", bytes, " bytes");
    if (rounded < kTensorMapBytes) std::memset(p, 0, rounded);  // fresh mappings are zero
    return std::shared_ptr<void>(p, [rounded](void* q) { free_tensor_memory(q, rounded); });
}

}  // namespace

namespace {

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

constexpr size_t kPageBytes = 4096;

// A mapping of `bytes` (whole small pages) starting on a 2 MiB boundary, marked for transparent
// huge pages: every whole 2 MiB of it can be a huge page, and the tail stays on small pages, so
// no memory is added. Streaming weights through 4 KiB pages costs a TLB miss per page and stops
// the hardware prefetcher at every page boundary: on the 2-core machine a 2-thread read runs at
// 25 GB/s on 4 KiB pages and 33 GB/s on huge pages.
void* map_huge(size_t bytes) {
    const size_t size = round_up(bytes, kPageBytes);
    const size_t span = size + kHugePageBytes;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t start = round_up(base, kHugePageBytes);
    if (start > base) ::munmap(raw, start - base);
    const uintptr_t end = base + span;
    if (end > start + size) ::munmap(reinterpret_cast<void*>(start + size), end - (start + size));
    // Advice only: where the kernel has huge pages off, the mapping still works on small pages.
    ::madvise(reinterpret_cast<void*>(start), size, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(start);
}

void unmap_huge(void* p, size_t bytes) { ::munmap(p, round_up(bytes, kPageBytes)); }

}  // namespace

void* allocate_tensor_memory(size_t bytes) {
    if (bytes < kTensorMapBytes) return std::aligned_alloc(Tensor::kAlignment, bytes);
    if (bytes >= kHugeMapBytes) return map_huge(bytes);
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

void free_tensor_memory(void* p, size_t bytes) {
    if (!p) return;
    if (bytes < kTensorMapBytes)
        std::free(p);
    else if (bytes >= kHugeMapBytes)
        unmap_huge(p, bytes);
    else
        ::munmap(p, bytes);
}

void* allocate_streamed_memory(size_t bytes) {
    if (bytes >= kHugeMapBytes) return map_huge(bytes);
    return std::aligned_alloc(64, round_up(std::max<size_t>(bytes, 1), 64));
}

void free_streamed_memory(void* p, size_t bytes) {
    if (!p) return;
    if (bytes >= kHugeMapBytes)
        unmap_huge(p, bytes);
    else
        std::free(p);
}

AllocatorScope::AllocatorScope(TensorAllocator* allocator) : previous_(t_allocator) {
    t_allocator = allocator;
}

AllocatorScope::~AllocatorScope() { t_allocator = previous_; }

Tensor::Tensor(ElementType type, Shape shape) : type_(type), shape_(std::move(shape)) {
    KILN_CHECK(type != ElementType::undefined && type != ElementType::dynamic,
               "cannot allocate a tensor of element type ", to_string(type));
    for (auto d : shape_) KILN_CHECK(d >= 0, "negative dimension in tensor shape ", to_string(shape_));
    storage_ = allocate(type, static_cast<size_t>(shape_size(shape_)));
    data_ = storage_.get();
}

Tensor::Tensor(ElementType type, Shape shape, void* data, std::shared_ptr<void> keep_alive)
    : type_(type), shape_(std::move(shape)), storage_(std::move(keep_alive)), data_(data) {}

Tensor Tensor::clone() const {
    if (empty()) return {};
    Tensor t(type_, shape_);
    if (type_ == ElementType::string) {
        const auto* src = static_cast<const std::string*>(data_);
        auto* dst = static_cast<std::string*>(t.data_);
        for (int64_t i = 0; i < size(); ++i) dst[i] = src[i];
    } else if (byte_size()) {
        std::memcpy(t.data_, data_, byte_size());
    }
    return t;
}

Tensor Tensor::reshaped(Shape shape) const {
    KILN_CHECK(shape_size(shape) == size(), "cannot reshape ", describe(*this), " to ",
               to_string(shape));
    Tensor t = *this;
    t.shape_ = std::move(shape);
    return t;
}

Tensor Tensor::slice_outer(int64_t begin, int64_t end) const {
    KILN_CHECK(!shape_.empty() && begin >= 0 && begin <= end && end <= shape_[0],
               "slice [", begin, ",", end, ") out of range for ", describe(*this));
    KILN_CHECK(bit_width(type_) % 8 == 0, "cannot slice a packed tensor");
    Tensor t = *this;
    t.shape_[0] = end - begin;
    const int64_t inner = shape_[0] ? size() / shape_[0] : 0;
    t.data_ = static_cast<char*>(data_) + begin * inner * static_cast<int64_t>(bit_width(type_) / 8);
    return t;
}

double Tensor::value_as_double(int64_t i) const {
    KILN_CHECK(i >= 0 && i < size(), "element ", i, " is out of range for ", describe(*this));
    return dispatch_numeric(type_, [&](auto tag) -> double {
        using T = KILN_TYPE_OF(tag);
        return static_cast<double>(static_cast<const T*>(data_)[i]);
    });
}

int64_t Tensor::value_as_int(int64_t i) const {
    KILN_CHECK(i >= 0 && i < size(), "element ", i, " is out of range for ", describe(*this));
    return dispatch_numeric(type_, [&](auto tag) -> int64_t {
        using T = KILN_TYPE_OF(tag);
        const T v = static_cast<const T*>(data_)[i];
        if constexpr (std::is_same_v<T, float16> || std::is_same_v<T, bfloat16> ||
                      std::is_floating_point_v<T>) {
            // Converting NaN or an out-of-range float to an integer is undefined: saturate.
            const double d = static_cast<double>(static_cast<float>(v));
            if (std::isnan(d)) return 0;
            if (d >= 9.2233720368547758e18) return INT64_MAX;
            if (d <= -9.2233720368547758e18) return INT64_MIN;
            return static_cast<int64_t>(d);
        } else if constexpr (std::is_same_v<T, uint64_t>) {
            return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
        } else {
            return static_cast<int64_t>(v);
        }
    });
}

std::vector<int64_t> Tensor::to_int_vector() const {
    std::vector<int64_t> v(static_cast<size_t>(size()));
    for (int64_t i = 0; i < size(); ++i) v[i] = value_as_int(i);
    return v;
}

std::vector<double> Tensor::to_double_vector() const {
    std::vector<double> v(static_cast<size_t>(size()));
    for (int64_t i = 0; i < size(); ++i) v[i] = value_as_double(i);
    return v;
}

bool Tensor::identical(const Tensor& o) const {
    if (type_ != o.type_ || shape_ != o.shape_) return false;
    if (empty()) return true;
    if (type_ == ElementType::string) {
        for (int64_t i = 0; i < size(); ++i)
            if (data<std::string>()[i] != o.data<std::string>()[i]) return false;
        return true;
    }
    return byte_size() == 0 || std::memcmp(data_, o.data_, byte_size()) == 0;
}

std::string describe(const Tensor& t) {
    if (t.empty()) return "<empty tensor>";
    return str_cat(to_string(t.element_type()), to_string(t.shape()));
}

}  // namespace kiln
