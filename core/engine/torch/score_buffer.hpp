#pragma once
// One buffer for the attention scores of every query chunk of an attention call (CPU inference).
//
// Why (issue 18): a chunk's scores [kv_heads, group x rows, keys] change size from chunk to chunk
// (a causal prefill's chunks see more keys as they go; scattered queries come in groups of any
// length), so allocating them per chunk, and the softmax's output beside them, asked the allocator
// for dozens of sizes per layer: no pool of freed buffers can hold them all within the address
// space a pass needs, and fresh buffers mean fresh pages (page faults cost a CPU pass 10-50% of its
// time in the dev VM). With one buffer per call, sized for its largest chunk, and the softmax
// written over the scores, a layer asks for the same sizes as the layer before, and the host
// buffer pool (engine/host_memory.hpp) hands back memory already faulted in. The products are the
// ones at::matmul runs (bmm), the same values to the bit. In fp32 the masked softmax is the range
// kernel (torch/range_softmax.hpp): each row's softmax over the keys it may see, without a mask
// (the same probabilities within a few ulp); in other dtypes the caller masks and calls softmax().
// fp32 inference that needs no probabilities back (no attention mass captured) skips this buffer
// and ATen altogether: torch/cpu_attention.hpp.
//
// On CUDA (the caching allocator already reuses memory) and under autograd (out= products have
// no gradient: the trainer's forward) the calls are the plain at::matmul and at::softmax.
#include "engine/torch/common.hpp"
#include "engine/torch/range_softmax.hpp"

#include <algorithm>
#include <vector>

#include <c10/core/GradMode.h>

namespace blocklens::engine::detail {

class ScoreBuffer {
public:
    // like: a tensor of the scores' dtype and device; maxValues: the largest chunk's score count.
    ScoreBuffer(const at::Tensor& like, std::int64_t maxValues) : on_(!like.is_cuda() && !c10::GradMode::is_enabled())
    {
        if (on_)
            values_ = at::empty({maxValues}, like.options());
    }

    // a [batch, rows, inner] x b [batch, inner, cols] -> [batch, rows, cols], in the buffer.
    at::Tensor product(const at::Tensor& a, const at::Tensor& b)
    {
        if (!on_)
            return at::matmul(a, b);
        const std::int64_t batch = a.size(0), rows = a.size(1), cols = b.size(2);
        TORCH_CHECK(batch * rows * cols <= values_.numel(), "ScoreBuffer: a chunk larger than the buffer");
        at::Tensor out = values_.narrow(0, 0, batch * rows * cols).view({batch, rows, cols});
        return at::bmm_out(out, a, b);
    }

    // Softmax over the last dimension: over `scores` itself when they are the buffer's.
    at::Tensor softmax(const at::Tensor& scores)
    {
        if (!on_)
            return at::softmax(scores, -1);
        return at::_softmax_out(const_cast<at::Tensor&>(scores), scores, -1, /*half_to_float=*/false);
    }

    // Whether softmaxInRanges() may be used: CPU inference in fp32.
    bool ranged() const { return on_ && values_.scalar_type() == at::kFloat; }

    // scores [..., rows, cols], from product(): in each [rows, cols] matrix row r's softmax over
    // columns [ranges[r].begin, ranges[r].end), 0 elsewhere; in place. Only when ranged().
    at::Tensor softmaxInRanges(const at::Tensor& scores, const std::vector<RowRange>& ranges)
    {
        const std::int64_t rows = scores.size(-2), cols = scores.size(-1);
        TORCH_CHECK(ranged() && scores.is_contiguous() && static_cast<std::int64_t>(ranges.size()) == rows,
                    "ScoreBuffer: ranged softmax on scores it cannot take");
        softmaxInRowRanges(scores.data_ptr<float>(), scores.numel() / std::max<std::int64_t>(1, rows * cols), rows, cols,
                           ranges.data());
        return scores;
    }

private:
    bool on_;
    at::Tensor values_; // [maxValues]
};

} // namespace blocklens::engine::detail
