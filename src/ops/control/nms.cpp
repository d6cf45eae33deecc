// NonMaxSuppression (OpenVINO opset9 semantics, hard suppression only).
//   inputs  boxes [N, boxes, 4], scores [N, classes, boxes], max_output_boxes_per_class?,
//           iou_threshold?, score_threshold?, soft_nms_sigma? (scalars)
//   outputs selected_indices [?, 3] (batch, class, box), selected_scores [?, 3] (batch, class,
//           score), valid_outputs [1]
//   attributes box_encoding (corner|center), sort_result_descending (bool), output_type (i32|i64)
// A box is kept when its score is above score_threshold and its IoU with every box already kept
// for the same batch and class is at most iou_threshold.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/dispatch.hpp"
#include "core/op_def.hpp"

namespace kiln {
namespace {

ElementType index_type(const ShapeContext& ctx) {
    const std::string t = ctx.attrs().get_string("output_type", "i64");
    ctx.check(t == "i64" || t == "i32", "output_type must be i32 or i64, got '", t, "'");
    return t == "i64" ? ElementType::i64 : ElementType::i32;
}

void infer_nms(ShapeContext& ctx) {
    ctx.expect_inputs(2, 6);
    const auto& bs = ctx.input_shape(0);
    const auto& ss = ctx.input_shape(1);
    ctx.check(!bs.rank_is_static() || (bs.rank() == 3 && bs[2].compatible(4)),
              "boxes must have shape [batches, boxes, 4], got ", to_string(bs));
    ctx.check(!ss.rank_is_static() || ss.rank() == 3,
              "scores must have shape [batches, classes, boxes], got ", to_string(ss));
    if (bs.rank_is_static() && ss.rank_is_static())
        ctx.check(bs[0].compatible(ss[0]) && bs[1].compatible(ss[2]), "boxes shape ", to_string(bs),
                  " does not match scores shape ", to_string(ss));
    for (size_t i = 0; i < 2; ++i)
        ctx.check(ctx.input_type(i) == ElementType::dynamic || is_float(ctx.input_type(i)),
                  "input ", i, " must be floating point, got ", to_string(ctx.input_type(i)));
    for (size_t i = 2; i < ctx.input_count(); ++i) {
        const auto& s = ctx.input_shape(i);
        // A zero-element tensor stands for an absent optional input.
        ctx.check(!s.rank_is_static() || s.rank() == 0 ||
                      (s.rank() == 1 && (s[0].compatible(1) || s[0] == Dimension(0))),
                  "input ", i, " must be a scalar, got ", to_string(s));
    }
    const std::string enc = ctx.attrs().get_string("box_encoding", "corner");
    ctx.check(enc == "corner" || enc == "center", "unknown box_encoding '", enc, "'");
    const ElementType it = index_type(ctx);
    const ElementType st =
        ctx.input_type(1) == ElementType::dynamic ? ElementType::f32 : ctx.input_type(1);
    ctx.set_output(0, it, PartialShape{Dimension(), 3});
    ctx.set_output(1, st, PartialShape{Dimension(), 3});
    ctx.set_output(2, it, PartialShape{1});
}

struct Box {
    double y1, x1, y2, x2;
};

double iou(const Box& a, const Box& b) {
    const double area_a = (a.y2 - a.y1) * (a.x2 - a.x1);
    const double area_b = (b.y2 - b.y1) * (b.x2 - b.x1);
    if (area_a <= 0 || area_b <= 0) return 0;
    const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
    const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
    if (ih <= 0 || iw <= 0) return 0;
    const double inter = ih * iw;
    return inter / (area_a + area_b - inter);
}

struct Selected {
    int64_t batch, cls, box;
    double score;
};

void eval_nms(const Node& n, const TensorVector& in, TensorVector& out, ExecContext&) {
    const Shape& bs = in[0].shape();
    const Shape& ss = in[1].shape();
    KILN_CHECK(bs.size() == 3 && bs[2] == 4 && ss.size() == 3 && ss[0] == bs[0] && ss[2] == bs[1],
               n.context(), " boxes ", to_string(bs), " and scores ", to_string(ss),
               " do not match");
    auto scalar = [&](size_t i, double dflt) {
        if (i >= in.size() || in[i].size() == 0) return dflt;
        KILN_CHECK(in[i].size() == 1, n.context(), " input ", i, " must be a scalar");
        return in[i].value_as_double(0);
    };
    const double max_out_d = scalar(2, 0);
    const int64_t max_out = max_out_d >= 9e18 ? INT64_MAX
                            : max_out_d <= 0 || std::isnan(max_out_d)
                                ? 0
                                : static_cast<int64_t>(max_out_d);
    const double iou_thr = scalar(3, 0);
    const double score_thr = scalar(4, -INFINITY);
    KILN_CHECK(scalar(5, 0) == 0, n.context(), " soft NMS (soft_nms_sigma != 0) is not supported");
    const bool center = n.attrs().get_string("box_encoding", "corner") == "center";
    const auto boxes = in[0].to_double_vector();
    const auto scores = in[1].to_double_vector();
    const int64_t N = bs[0], M = bs[1], C = ss[1];

    std::vector<Selected> sel;
    std::vector<Box> norm(static_cast<size_t>(M));
    for (int64_t b = 0; b < N; ++b) {
        for (int64_t m = 0; m < M; ++m) {
            const double* p = &boxes[static_cast<size_t>((b * M + m) * 4)];
            Box& bx = norm[static_cast<size_t>(m)];
            if (center) {
                bx = {p[1] - p[3] / 2, p[0] - p[2] / 2, p[1] + p[3] / 2, p[0] + p[2] / 2};
            } else {
                // Corners may come in either order.
                bx = {std::min(p[0], p[2]), std::min(p[1], p[3]), std::max(p[0], p[2]),
                      std::max(p[1], p[3])};
            }
        }
        for (int64_t c = 0; c < C && max_out > 0; ++c) {
            const double* sc = &scores[static_cast<size_t>((b * C + c) * M)];
            std::vector<int64_t> cand;
            for (int64_t m = 0; m < M; ++m)
                if (sc[m] > score_thr) cand.push_back(m);
            std::stable_sort(cand.begin(), cand.end(),
                             [&](int64_t a, int64_t d) { return sc[a] > sc[d]; });
            std::vector<int64_t> kept;
            for (int64_t m : cand) {
                if (static_cast<int64_t>(kept.size()) >= max_out) break;
                bool ok = true;
                for (int64_t k : kept)
                    if (iou(norm[static_cast<size_t>(k)], norm[static_cast<size_t>(m)]) > iou_thr) {
                        ok = false;
                        break;
                    }
                if (!ok) continue;
                kept.push_back(m);
                sel.push_back({b, c, m, sc[m]});
            }
        }
    }
    if (n.attrs().get_bool("sort_result_descending", true))
        std::stable_sort(sel.begin(), sel.end(),
                         [](const Selected& a, const Selected& b) { return a.score > b.score; });
    const int64_t count = static_cast<int64_t>(sel.size());
    out.resize(3);
    out[0] = Tensor(n.output_type(0), {count, 3});
    out[1] = Tensor(n.output_type(1), {count, 3});
    out[2] = Tensor(n.output_type(2), {1});
    dispatch_index(n.output_type(0), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* idx = out[0].data<T>();
        for (int64_t i = 0; i < count; ++i) {
            idx[i * 3] = static_cast<T>(sel[static_cast<size_t>(i)].batch);
            idx[i * 3 + 1] = static_cast<T>(sel[static_cast<size_t>(i)].cls);
            idx[i * 3 + 2] = static_cast<T>(sel[static_cast<size_t>(i)].box);
        }
        out[2].data<T>()[0] = static_cast<T>(count);
    });
    dispatch_float(n.output_type(1), [&](auto tag) {
        using T = KILN_TYPE_OF(tag);
        T* s = out[1].data<T>();
        for (int64_t i = 0; i < count; ++i) {
            s[i * 3] = static_cast<T>(static_cast<float>(sel[static_cast<size_t>(i)].batch));
            s[i * 3 + 1] = static_cast<T>(static_cast<float>(sel[static_cast<size_t>(i)].cls));
            s[i * 3 + 2] = static_cast<T>(sel[static_cast<size_t>(i)].score);
        }
    });
}

}  // namespace

void register_nms_ops(OpRegistry& r) {
    r.add({"NonMaxSuppression", "opset9", infer_nms, eval_nms});
}

}  // namespace kiln
