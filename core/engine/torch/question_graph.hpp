#pragma once
// The last block's forward pass (the question of a block-cached run) replayed as a CUDA graph
// (issue 23, item 2). Its ~50 rows through every layer are bound by kernel launches (about 17 per
// layer), not by bytes: a graph replays them with one launch. A graph is tied to the memory it
// was captured with (the run's KV buffer, the slot of the question, its length), so the runner
// keeps one KV buffer across runs of the same shape (see Runner) and the graphs are keyed by it.
// Built only with the kernels bridge (a libtorch with CUDA); elsewhere the plain forward runs.
#include "engine/torch/transformer.hpp"

#include <cstdint>
#include <memory>

namespace blocklens::engine::detail {

class QuestionGraphs {
public:
    QuestionGraphs();
    ~QuestionGraphs();
    QuestionGraphs(const QuestionGraphs&) = delete;
    QuestionGraphs& operator=(const QuestionGraphs&) = delete;

    // hidden [rows, hidden] of tf.forward(kv, {ids, positions writeAt.., writeAt, keyBegin 0}) on
    // the current stream. The first time a (kv buffer, writeAt, rows) comes: the plain forward.
    // The second time: the forward on a side stream, then captured as a graph. From then on: the
    // graph replayed (ids copied into its input first). If capture fails, graphs are off for the
    // process and the plain forward runs (one line on stderr says why).
    at::Tensor forward(const Transformer& tf, KvBuffer& kv, const at::Tensor& ids, std::int64_t writeAt);

    // Forgets every graph (their memory too): call when the KV buffer they read is replaced.
    void clear();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Graph replays in this process (tests check that the graph route was taken).
std::int64_t questionGraphReplays();

// False when BLOCKLENS_CUDA_GRAPHS=0 is set (for A/B timings), or after a capture failed.
bool questionGraphsEnabled();

} // namespace blocklens::engine::detail
