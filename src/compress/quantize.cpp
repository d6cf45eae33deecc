#include "compress/quantize.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "core/int4_packing.hpp"

namespace kiln::compress {
namespace {

struct GroupParams {
    float scale = 1.f;
    int zero_point = 0;
    float qmin = 0.f, qmax = 0.f;
};

GroupParams group_params(const float* v, int64_t g, const QuantScheme& s) {
    float lo = 0.f, hi = 0.f;  // asymmetric ranges always hold 0, so the zero point is in range
    for (int64_t i = 0; i < g; ++i) {
        KILN_CHECK(std::isfinite(v[i]), "weight value ", v[i], " at position ", i,
                   " of a group is not finite");
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
    }
    GroupParams p;
    float range = 0.f;
    if (!s.symmetric) {
        const int levels = (1 << s.bits) - 1;
        p.qmax = static_cast<float>(levels);
        range = hi - lo;
        p.scale = range / static_cast<float>(levels);
    } else if (s.bits == 8) {
        p.qmin = -128.f;
        p.qmax = 127.f;
        range = std::max(-lo, hi);
        p.scale = range / 127.f;
    } else {
        // The largest magnitude maps to -8, the end with a level more, whatever its sign.
        p.qmin = -8.f;
        p.qmax = 7.f;
        range = std::max(-lo, hi);
        p.scale = (-lo >= hi ? -lo : -hi) / 8.f;
    }
    if (range == 0.f) {
        p.scale = 1.f;
        return p;
    }
    // A range so small that the scale underflows: keep a tiny scale rather than divide by zero.
    if (std::fabs(p.scale) < FLT_MIN) p.scale = std::copysign(FLT_MIN, p.scale);
    if (!s.symmetric)
        p.zero_point = static_cast<int>(std::clamp(std::nearbyint(-lo / p.scale), 0.f, p.qmax));
    return p;
}

// Round half to even (the default rounding mode), then clamp to the integer range.
int quantize_value(float w, const GroupParams& p) {
    const float q = std::nearbyint(w / p.scale) + static_cast<float>(p.zero_point);
    return static_cast<int>(std::clamp(q, p.qmin, p.qmax));
}

int64_t group_of(int64_t k, const QuantScheme& s) {
    KILN_CHECK(s.bits == 4 || s.bits == 8, "quantization to ", s.bits, " bits is not supported");
    KILN_CHECK(s.group_size >= 0, "group size ", s.group_size, " is negative");
    const int64_t g = s.group_size == 0 ? k : s.group_size;
    KILN_CHECK(g > 0 && k % g == 0, "group size ", g, " does not divide the ", k,
               " input channels");
    return g;
}

ElementType value_type(const QuantScheme& s) {
    if (s.bits == 8) return s.symmetric ? ElementType::i8 : ElementType::u8;
    return s.symmetric ? ElementType::i4 : ElementType::u4;
}

void store(Tensor& t, int64_t i, int v) {
    auto* p = static_cast<uint8_t*>(t.raw_data());
    if (bit_width(t.element_type()) == 4)
        int4::set_4bit(p, i, v);
    else
        p[i] = static_cast<uint8_t>(v);  // i8 stored as its two's complement byte
}

int load(const Tensor& t, int64_t i) {
    const auto* p = static_cast<const uint8_t*>(t.raw_data());
    switch (t.element_type()) {
        case ElementType::i4:
            return int4::get_i4(p, i);
        case ElementType::u4:
            return int4::get_u4(p, i);
        case ElementType::i8:
            return static_cast<int8_t>(p[i]);
        default:
            return p[i];
    }
}

}  // namespace

size_t QuantizedWeight::byte_size() const {
    return values.byte_size() + scale.byte_size() + (zero_point ? zero_point.byte_size() : 0);
}

QuantizedWeight quantize(const float* w, int64_t n, int64_t k, const QuantScheme& s) {
    const int64_t g = group_of(k, s), groups = k / g;
    const Shape values_shape = s.group_size == 0 ? Shape{n, k} : Shape{n, groups, g};
    const Shape scale_shape = s.group_size == 0 ? Shape{n, 1} : Shape{n, groups, 1};
    QuantizedWeight q;
    q.values = Tensor(value_type(s), values_shape);
    q.scale = Tensor(ElementType::f32, scale_shape);
    if (!s.symmetric)
        q.zero_point = Tensor(s.bits == 8 ? ElementType::u8 : ElementType::u4, scale_shape);
    float* scales = q.scale.data<float>();
    for (int64_t gi = 0; gi < n * groups; ++gi) {
        const float* v = w + gi * g;
        GroupParams p;
        try {
            p = group_params(v, g, s);
        } catch (const Error& e) {
            KILN_THROW("row ", gi / groups, ": ", e.what());
        }
        scales[gi] = p.scale;
        if (q.zero_point) store(q.zero_point, gi, p.zero_point);
        for (int64_t i = 0; i < g; ++i) store(q.values, gi * g + i, quantize_value(v[i], p));
    }
    return q;
}

Tensor dequantize(const QuantizedWeight& q, int64_t n, int64_t k) {
    Tensor out(ElementType::f32, {n, k});
    const int64_t groups = q.scale.size(), g = groups ? n * k / groups : 0;
    const float* scales = q.scale.data<float>();
    float* o = out.data<float>();
    for (int64_t gi = 0; gi < groups; ++gi) {
        const float zp = q.zero_point ? static_cast<float>(load(q.zero_point, gi)) : 0.f;
        for (int64_t i = 0; i < g; ++i)
            o[gi * g + i] = (static_cast<float>(load(q.values, gi * g + i)) - zp) * scales[gi];
    }
    return out;
}

double relative_error(const float* w, int64_t n, int64_t k, const QuantScheme& s) {
    const int64_t g = group_of(k, s), groups = n * (k / g);
    double err = 0, norm = 0;
    for (int64_t gi = 0; gi < groups; ++gi) {
        const float* v = w + gi * g;
        const GroupParams p = group_params(v, g, s);
        for (int64_t i = 0; i < g; ++i) {
            const float dq = static_cast<float>(quantize_value(v[i], p) - p.zero_point) * p.scale;
            const double d = static_cast<double>(v[i]) - dq;
            err += d * d;
            norm += static_cast<double>(v[i]) * v[i];
        }
    }
    return norm > 0 ? std::sqrt(err / norm) : 0.0;
}

}  // namespace kiln::compress
