// CUDA graphs of the last block's forward pass (see question_graph.hpp). Built only with the
// kernels bridge, i.e. a libtorch with CUDA (2.x on the GPU machines).
#include "engine/torch/question_graph.hpp"

#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

namespace blocklens::engine::detail {
namespace {

std::atomic<bool> graphsRefused{false};
std::atomic<std::int64_t> replayCount{0};

struct Key {
    const void* k;
    const void* v;
    std::int64_t capacity, writeAt, rows;
    bool operator<(const Key& o) const
    {
        return std::tie(k, v, capacity, writeAt, rows) < std::tie(o.k, o.v, o.capacity, o.writeAt, o.rows);
    }
};

struct Entry {
    int seen = 0;
    at::Tensor ids;       // [rows] int64: the graph's input, copied into before each replay
    at::Tensor positions; // [rows] int64
    at::Tensor out;       // [rows, hidden]: the graph's output (its private memory pool)
    std::unique_ptr<at::cuda::CUDAGraph> graph;
};

} // namespace

struct QuestionGraphs::Impl {
    std::map<Key, Entry> entries;
};

std::int64_t questionGraphReplays() { return replayCount.load(std::memory_order_relaxed); }

bool questionGraphsEnabled()
{
    static const bool off = [] {
        const char* v = std::getenv("BLOCKLENS_CUDA_GRAPHS");
        return v && std::string(v) == "0";
    }();
    return !off && !graphsRefused.load(std::memory_order_relaxed);
}

QuestionGraphs::QuestionGraphs() : impl_(std::make_unique<Impl>()) {}
QuestionGraphs::~QuestionGraphs() = default;
void QuestionGraphs::clear() { impl_->entries.clear(); }

at::Tensor QuestionGraphs::forward(const Transformer& tf, KvBuffer& kv, const at::Tensor& ids, std::int64_t writeAt)
{
    const std::int64_t rows = ids.size(0);
    const at::Device device = tf.device();
    auto plain = [&] {
        return tf.forward(kv, {ids, at::arange(writeAt, writeAt + rows, ids.options()), writeAt, 0});
    };
    if (!device.is_cuda() || !questionGraphsEnabled())
        return plain();
    Entry& e = impl_->entries[Key{kv.k.data_ptr(), kv.v.data_ptr(), kv.capacity(), writeAt, rows}];
    if (e.graph) {
        e.ids.copy_(ids);
        e.graph->replay(); // on the current stream, after everything enqueued before it
        replayCount.fetch_add(1, std::memory_order_relaxed);
        return e.out.clone(); // the next replay overwrites e.out
    }
    if (++e.seen < 2)
        return plain(); // a shape seen once may never come again: no capture cost for it

    // Capture on a side stream (graphs cannot be captured on the default stream), after one plain
    // run there (it creates what the stream's first kernels need, e.g. cuBLAS's workspace, which
    // must not happen inside a capture; its result is this call's answer).
    const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device.index());
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, device.index());
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(side);
    e.ids = ids.clone();
    e.positions = at::arange(writeAt, writeAt + rows, ids.options());
    at::Tensor result;
    auto graph = std::make_unique<at::cuda::CUDAGraph>();
    try {
        c10::cuda::CUDAStreamGuard onSide(side);
        result = tf.forward(kv, {e.ids, e.positions, writeAt, 0});
#if TORCH_VERSION_MAJOR >= 2
        graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
#else
        graph->capture_begin();
#endif
        try {
            e.out = tf.forward(kv, {e.ids, e.positions, writeAt, 0});
        } catch (...) {
            try {
                graph->capture_end();
            } catch (...) {
            }
            throw;
        }
        graph->capture_end();
        e.graph = std::move(graph);
    } catch (const std::exception& ex) {
        graphsRefused = true;
        impl_->entries.clear();
        (void)cudaGetLastError();
        std::fprintf(stderr, "blocklens: the question pass could not be captured as a CUDA graph (%s); running it without\n", ex.what());
    }
    at::cuda::CUDAEvent done;
    done.record(side);
    done.block(current);
    if (!result.defined())
        return plain();
    // Made on the side stream, read on the current one: not reused before that reading is done.
    c10::cuda::CUDACachingAllocator::recordStream(result.storage().data_ptr(), current);
    return result;
}

} // namespace blocklens::engine::detail
