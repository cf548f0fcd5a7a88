#include "engine/torch/cpu_attention.hpp"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cstring>

#include <dlfcn.h>

namespace blocklens::engine::detail {

namespace {

// Fortran BLAS sgemm (column-major), the routine ATen's own CPU products call.
using Sgemm = void (*)(const char* transa, const char* transb, const int* m, const int* n, const int* k, const float* alpha,
                       const float* a, const int* lda, const float* b, const int* ldb, const float* beta, float* c, const int* ldc);

Sgemm blasSgemm()
{
    static const Sgemm f = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "sgemm_"));
    return f;
}

// c [m, n] = op(a) x b, column-major (op: a transposed or not), through BLAS when the process has
// it and `products` allows, else ATen's mm.
void gemm(CpuProducts products, bool transA, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, std::int64_t lda, const float* b,
          std::int64_t ldb, float* c, std::int64_t ldc)
{
    if (const Sgemm f = products == CpuProducts::Best ? blasSgemm() : nullptr) {
        const char ta = transA ? 'T' : 'N', tb = 'N';
        const int mi = static_cast<int>(m), ni = static_cast<int>(n), ki = static_cast<int>(k);
        const int la = static_cast<int>(lda), lb = static_cast<int>(ldb), lc = static_cast<int>(ldc);
        const float one = 1.0f, zero = 0.0f;
        f(&ta, &tb, &mi, &ni, &ki, &one, a, &la, b, &lb, &zero, c, &lc);
        return;
    }
    // Row-major views of the column-major operands: c^T [n, m] = op(b)^T [n, k] x op(a)^T [k, m].
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    const at::Tensor bt = at::from_blob(const_cast<float*>(b), {n, k}, {ldb, 1}, opts);
    const at::Tensor at_ = at::from_blob(const_cast<float*>(a), {k, m}, transA ? at::IntArrayRef{1, lda} : at::IntArrayRef{lda, 1}, opts);
    at::Tensor ct = at::from_blob(c, {n, m}, {ldc, 1}, opts);
    at::mm_out(ct, bt, at_);
}

// t [batch, rows, cols] as BLAS takes a matrix per batch: a contiguous last dimension and rows at
// least a row apart.
at::Tensor withContiguousRows(const at::Tensor& t)
{
    const bool ok = t.size(2) <= 1 || (t.stride(2) == 1 && (t.size(1) <= 1 || t.stride(1) >= t.size(2)));
    return ok ? t : t.contiguous();
}

// The distance between rows of t (from withContiguousRows), as BLAS's leading dimension.
std::int64_t rowStride(const at::Tensor& t) { return t.size(1) > 1 ? t.stride(1) : t.size(2); }

} // namespace

bool chunkedCpuAttentionApplies(const at::Tensor& q)
{
    return q.device().is_cpu() && q.scalar_type() == at::kFloat && !c10::GradMode::is_enabled();
}

at::Tensor attendChunksOnCpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                             const std::vector<QueryChunk>& chunks, const std::vector<RowRange>& ranges, CpuProducts products, at::Tensor* workspace)
{
    const std::int64_t heads = q.size(0), n = q.size(1), d = q.size(2);
    const std::int64_t kvHeads = k.size(0), m = k.size(1), group = heads / kvHeads;
    TORCH_CHECK(chunkedCpuAttentionApplies(q) && k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat && !k.is_cuda()
                    && !v.is_cuda() && heads % kvHeads == 0 && k.sizes() == v.sizes() && k.size(2) == d
                    && static_cast<std::int64_t>(ranges.size()) == n,
                "attendChunksOnCpu: inputs it cannot take");
    std::int64_t mostRows = 0, mostScores = 0;
    for (const QueryChunk& c : chunks) {
        TORCH_CHECK(c.row0 >= 0 && c.rows >= 0 && c.row0 + c.rows <= n && c.keyBegin >= 0 && c.keys >= 0 && c.keyBegin + c.keys <= m,
                    "attendChunksOnCpu: a chunk outside the queries or keys");
        mostRows = std::max(mostRows, c.rows);
        mostScores = std::max(mostScores, c.rows * c.keys);
    }
    const at::Tensor qr = withContiguousRows(q), kr = withContiguousRows(k), vr = withContiguousRows(v);
    const std::int64_t ldk = rowStride(kr), ldv = rowStride(vr);
    const float* qp = qr.data_ptr<float>();
    const float* kp = kr.data_ptr<float>();
    const float* vp = vr.data_ptr<float>();
    // Per chunk and KV head: the queries of its heads, scaled, [group x rows, d]; their scores, then
    // probabilities, [group x rows, keys]; their outputs [group x rows, d]. Rows head-major: row
    // g * rows + t is query head (KV head x group + g) at query row0 + t.
    const std::int64_t values = group * (2 * mostRows * d + mostScores);
    at::Tensor own;
    at::Tensor& scratch = workspace ? *workspace : own;
    if (!scratch.defined() || scratch.numel() < values || scratch.scalar_type() != at::kFloat || !scratch.device().is_cpu())
        scratch = at::empty({values}, q.options());
    float* packed = scratch.data_ptr<float>();
    float* scores = packed + group * mostRows * d;
    float* outputs = scores + group * mostScores;
    at::Tensor out = at::empty({n, heads, d}, q.options()); // [n, heads, d]
    float* o = out.data_ptr<float>();
    const float s = static_cast<float>(scale);
    for (const QueryChunk& c : chunks) {
        const std::int64_t rows = group * c.rows;
        for (std::int64_t h = 0; h < kvHeads; ++h) {
            if (c.keys > 0) {
                for (std::int64_t g = 0; g < group; ++g)
                    for (std::int64_t t = 0; t < c.rows; ++t) {
                        const float* from = qp + (h * group + g) * qr.stride(0) + (c.row0 + t) * qr.stride(1);
                        float* to = packed + (g * c.rows + t) * d;
                        for (std::int64_t i = 0; i < d; ++i)
                            to[i] = from[i] * s; // the scale on the queries, as attend()'s other paths
                    }
                // BLAS is column-major: scores^T [keys, rows] = K [keys, d] (stored as K^T) x packed^T
                gemm(products, true, c.keys, rows, d, kp + h * kr.stride(0) + c.keyBegin * ldk, ldk, packed, d, scores, c.keys);
                softmaxInRowRanges(scores, group, c.rows, c.keys, ranges.data() + c.row0);
                // outputs^T [d, rows] = V^T [d, keys] x probabilities^T [keys, rows]
                gemm(products, false, d, rows, c.keys, vp + h * vr.stride(0) + c.keyBegin * ldv, ldv, scores, c.keys, outputs, d);
            } else {
                std::fill(outputs, outputs + rows * d, 0.0f); // no key to see
            }
            for (std::int64_t g = 0; g < group; ++g)
                for (std::int64_t t = 0; t < c.rows; ++t)
                    std::memcpy(o + ((c.row0 + t) * heads + h * group + g) * d, outputs + (g * c.rows + t) * d,
                                static_cast<std::size_t>(d) * sizeof(float));
        }
    }
    return out.permute({1, 0, 2}); // [heads, n, d]
}

} // namespace blocklens::engine::detail
