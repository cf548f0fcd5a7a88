#include "engine/runner.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/torch/block_kv_cache_impl.hpp"
#include "engine/torch/kernels_bridge.hpp"
#include "engine/torch/model_impl.hpp"
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
#include "engine/torch/question_graph.hpp"
#endif
#include "engine/torch/recompute.hpp"
#include "engine/memory.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>
#include <tuple>
#include <unordered_map>

namespace blocklens::engine {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

at::Tensor positions(std::int64_t begin, std::int64_t end, const at::Device& device)
{
    return at::arange(begin, end, at::TensorOptions().dtype(at::kLong).device(device)); // [end - begin]
}

std::vector<float> toVector(const at::Tensor& t)
{
    const at::Tensor c = t.to(at::kFloat).contiguous().cpu();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// A run whose logits hold NaN or infinity has no meaningful result (a config.json with a nonsense
// epsilon or RoPE base, broken weights): fail instead of handing back NaNs and greedy token 0.
// One reduction over [rows, vocab]: cheap next to the forward pass that made them.
Error nonFiniteLogits(const std::string& where, const std::filesystem::path& model)
{
    return Error("the model's logits for " + where +
                     " contain NaN or infinity: its weights or config.json values (rms_norm_eps, rope_theta, ...) are not usable",
                 {.file = model.string()});
}

void requireFinite(const at::Tensor& logits, const std::string& where, const std::filesystem::path& model)
{
    if (!at::isfinite(logits).all().item<bool>())
        throw nonFiniteLogits(where, model);
}

void requireFinite(const std::vector<float>& logits, const std::string& where, const std::filesystem::path& model)
{
    if (!std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }))
        throw nonFiniteLogits(where, model);
}

} // namespace

std::string_view toString(AttentionMode mode)
{
    switch (mode) {
    case AttentionMode::Full: return "full";
    case AttentionMode::Block: return "block";
    case AttentionMode::BlockCached: return "block-cached";
    }
    return "?";
}

std::optional<AttentionMode> parseAttentionMode(std::string_view name)
{
    if (name == "full") return AttentionMode::Full;
    if (name == "block") return AttentionMode::Block;
    if (name == "block-cached" || name == "cached") return AttentionMode::BlockCached;
    return std::nullopt;
}

std::vector<std::int64_t> normalizeBlocks(std::vector<std::int64_t> blocks, std::int64_t tokens)
{
    if (blocks.empty() || blocks.front() != 0)
        blocks.insert(blocks.begin(), 0);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (blocks[i] < 0 || blocks[i] >= tokens)
            throw Error("block start " + std::to_string(blocks[i]) + " is outside the " + std::to_string(tokens) +
                            " tokens (starts must be in 0.." + std::to_string(tokens - 1) + ")",
                        {.item = "blocks"});
        if (i > 0 && blocks[i] <= blocks[i - 1])
            throw Error("block starts must be strictly increasing, got " + std::to_string(blocks[i - 1]) + " then " +
                            std::to_string(blocks[i]),
                        {.item = "blocks"});
    }
    return blocks;
}

struct Runner::State {
    State(Model m, BlockKvCache* c) : model(std::move(m)), cache(c) {}
    Model model;
    std::unique_ptr<BlockKvCache> own;
    BlockKvCache* cache = nullptr;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    // On CUDA the run's KV buffer is kept for the next run of the same size: the question pass's
    // CUDA graphs (keyed by it) then replay. Runs on CUDA are serialised by this mutex.
    std::mutex cudaRun;
    detail::KvBuffer runKv;
    detail::QuestionGraphs graphs;
#endif
};

Runner::Runner(Model model, BlockKvCache* cache) : state_(std::make_unique<State>(std::move(model), cache))
{
    if (!state_->cache) {
        state_->own = std::make_unique<BlockKvCache>();
        state_->cache = state_->own.get();
    }
}

Runner::~Runner() = default;
Runner::Runner(Runner&&) noexcept = default;
Runner& Runner::operator=(Runner&&) noexcept = default;
const Model& Runner::model() const { return state_->model; }
BlockKvCache& Runner::cache() const { return *state_->cache; }

RunResult Runner::run(const RunRequest& req, const Progress& progress) const
{
    c10::NoGradGuard noGrad;
    const Model::Impl& impl = state_->model.impl();
    const detail::Transformer& tf = *impl.transformer;
    const ModelConfig& c = impl.config;
    const at::Device device = tf.device();
    const auto n = static_cast<std::int64_t>(req.ids.size());
    if (n == 0)
        throw Error("no tokens to run", {.item = "ids"});
    for (std::int64_t i = 0; i < n; ++i)
        if (req.ids[static_cast<std::size_t>(i)] < 0 || req.ids[static_cast<std::size_t>(i)] >= c.vocabSize)
            throw Error("token id " + std::to_string(req.ids[static_cast<std::size_t>(i)]) + " at index " + std::to_string(i) +
                            " is outside the model's vocabulary of " + std::to_string(c.vocabSize),
                        {.item = "ids"});
    if (req.maxNewTokens < 0)
        throw Error("must not be negative", {.item = "max-new-tokens"});
    if (req.maxNewTokens > kMaxRunTokens - n) // n + maxNewTokens sizes the KV buffer below
        throw Error(std::to_string(req.maxNewTokens) + " new tokens after " + std::to_string(n) +
                        " prompt tokens exceed the " + std::to_string(kMaxRunTokens) + " tokens a run can hold",
                    {.item = "max-new-tokens"});
    if (!std::isfinite(req.temperature) || req.temperature < 0)
        throw Error("must be a finite number, 0 or more", {.item = "temperature"});
    const std::vector<std::int64_t> blocks = normalizeBlocks(req.blocks, n);
    const std::int64_t last = blocks.back();
    const auto window = c.slidingWindow;
    const RepairPlan repair = planRepair(req.repair, req.mode, req.ids, blocks, c); // repair.hpp
    if (req.repair.active() && !req.attention.layers.empty())
        throw Error("attention capture is not available with a repair (" + repairName(req.repair) + "); capture plain block-cached",
                    {.item = "attention layers"});

    RunResult result;
    RunStats& st = result.stats;
    st.tokens = n;
    st.blocks = static_cast<std::int64_t>(blocks.size());
    st.fullFlops = forwardFlops(c, n, attendedPairs(0, n, 0, window), 1);

    // Attention capture: which layers, and the block of every slot (generated tokens: the last).
    detail::CaptureRequest capture;
    std::vector<at::Tensor> massRows; // each [captured layers, heads, rows, blocks], in sequence order
    at::Tensor massSums;              // byBlock: [captured layers, heads, blocks, blocks] sums over query tokens
    const bool capturing = !req.attention.layers.empty();
    if (capturing) {
        capture.layers = req.attention.layers;
        std::sort(capture.layers.begin(), capture.layers.end());
        capture.layers.erase(std::unique(capture.layers.begin(), capture.layers.end()), capture.layers.end());
        for (const auto l : capture.layers)
            if (l < 0 || l >= c.numLayers)
                throw Error("layer " + std::to_string(l) + " does not exist (the model has " + std::to_string(c.numLayers) + ")",
                            {.item = "attention layers"});
        std::vector<std::int64_t> blockOf(static_cast<std::size_t>(n + std::max<std::int64_t>(req.maxNewTokens, 1)));
        for (std::size_t b = 0; b < blocks.size(); ++b)
            std::fill(blockOf.begin() + blocks[b], b + 1 < blocks.size() ? blockOf.begin() + blocks[b + 1] : blockOf.end(),
                      static_cast<std::int64_t>(b));
        capture.blockOfSlot = at::tensor(blockOf, at::TensorOptions().dtype(at::kLong)).to(device);
        capture.blocks = static_cast<std::int64_t>(blocks.size());
        capture.blockStarts = blocks;
        capture.byQueryBlock = req.attention.byBlock;
        // What the capture holds is bounded before any of it is allocated (see estimateAttentionCapture).
        const AttentionCaptureEstimate need = estimateAttentionCapture(c, n,
                                                                       capture.blocks,
                                                                       static_cast<std::int64_t>(capture.layers.size()),
                                                                       capture.byQueryBlock);
        checkAttentionCaptureFits(need, attentionCaptureLimit());
    }
    // Adds one forward's (or one block's) mass: rows appended, or byBlock summed into massSums.
    auto keepMass = [&](at::Tensor m) {
        if (!capture.byQueryBlock)
            massRows.push_back(std::move(m));
        else if (!massSums.defined())
            massSums = std::move(m);
        else
            massSums.add_(m);
    };
    // One forward's captured mass, stacked over layers: [captured layers, heads, rows, blocks].
    auto forwardCaptured = [&](detail::KvBuffer& buffer, detail::ForwardArgs args) {
        std::vector<at::Tensor> mass;
        if (capturing) {
            args.capture = &capture;
            args.mass = &mass;
        }
        at::Tensor h = tf.forward(buffer, args);
        if (capturing)
            keepMass(at::stack(mass));
        return h;
    };
    // Rows of a block that saw only itself: all mass on block b.
    auto oneHotRows = [&](std::size_t b, std::int64_t len) {
        if (!capturing)
            return;
        const std::int64_t rows = capture.byQueryBlock ? capture.blocks : len;
        at::Tensor m = at::zeros({static_cast<std::int64_t>(capture.layers.size()), c.numHeads, rows, capture.blocks},
                                 at::TensorOptions().dtype(at::kFloat).device(device));
        if (capture.byQueryBlock) // the block's len rows, summed: len on (b, b)
            m.select(2, static_cast<std::int64_t>(b)).select(2, static_cast<std::int64_t>(b)).fill_(static_cast<float>(len));
        else
            m.select(3, static_cast<std::int64_t>(b)).fill_(1.0f);
        keepMass(m);
    };

    // Many blocks in one forward pass (block mode, and the misses of block-cached mode): one set of
    // launches per layer instead of one per block and layer, and on CUDA bf16 the block-prefill
    // kernel for all blocks' attention at once. Elsewhere (the CPU, fp32) attention inside the pass
    // stays SDPA per block (attendBlocks). Captures keep a pass per block (mass rows per forward).
    const bool batched = !capturing;

    const auto t0 = Clock::now();
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    // Phases are timed on the device's stream: a host synchronization between the assembly and
    // the last block would leave the GPU idle while the host enqueues the last block.
    std::optional<detail::bridge::DeviceMark> startMark, assembledMark;
    if (device.is_cuda())
        startMark.emplace(device);
#endif
    std::vector<std::int64_t> ids64(req.ids.begin(), req.ids.end());
    const at::Tensor ids = at::tensor(ids64, at::TensorOptions().dtype(at::kLong)).to(device); // [n]
    const std::int64_t capacity = n + std::max<std::int64_t>(req.maxNewTokens, 1);
    detail::KvBuffer ownKv;
    detail::KvBuffer* kvp = &ownKv;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    std::unique_lock<std::mutex> cudaLock(state_->cudaRun, std::defer_lock);
    if (device.is_cuda()) {
        cudaLock.lock();
        detail::KvBuffer& keep = state_->runKv;
        if (keep.capacity() != capacity) {
            state_->graphs.clear(); // they read the buffer being replaced
            keep = detail::KvBuffer();
            keep = detail::KvBuffer(c, capacity, tf.options());
        }
        kvp = &keep;
    }
#endif
    if (kvp == &ownKv)
        ownKv = detail::KvBuffer(c, capacity, tf.options());
    detail::KvBuffer& kv = *kvp;
    std::vector<at::Tensor> hidden; // per block [len, hidden] (one piece in full mode)

    auto checkStop = [&] {
        if (progress.stopRequested())
            throw Error("run cancelled");
    };

    if (req.mode == AttentionMode::Full) {
        // One forward pass: progress and cancel per layer (a long document's capture takes minutes).
        detail::ForwardArgs args{ids, positions(0, n, device), 0, 0};
        args.afterLayer = [&](std::int64_t done) {
            checkStop();
            progress(done, c.numLayers, "layer");
        };
        hidden.push_back(forwardCaptured(kv, std::move(args)));
        st.prefillFlops += forwardFlops(c, n, attendedPairs(0, n, 0, window), 0);
    } else if (req.mode == AttentionMode::Block && batched) {
        // Every block in one pass: global positions, each block attending to itself and the last
        // block to everything (the block-prefill kernel on CUDA bf16: one launch per layer).
        detail::ForwardArgs args{ids, positions(0, n, device), 0, 0};
        args.blockStarts = blocks;
        args.afterLayer = [&](std::int64_t done) {
            checkStop();
            progress(done, c.numLayers, "layer");
        };
        hidden.push_back(tf.forward(kv, args)); // [n, hidden]
        for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
            const std::int64_t s = blocks[b], len = blocks[b + 1] - s;
            st.prefillFlops += forwardFlops(c, len, attendedPairs(s, len, s, window), 0);
        }
        st.prefillFlops += forwardFlops(c, n - last, attendedPairs(last, n - last, 0, window), 0);
    } else {
        const std::string dtypeName(toString(impl.dtype));
        at::Tensor shiftCos, shiftSin; // [blocks, head_dim/2]: rotation by each block's shift
        // Blocks after the first are encoded after the sink, if any (repair.hpp): its length.
        auto sinkOf = [&](std::size_t b) { return b > 0 ? repair.sinkTokens : std::int64_t(0); };
        std::vector<std::int64_t> shifts; // each block's rotation: from where it was encoded to its start
        for (std::size_t b = 0; b < blocks.size(); ++b)
            shifts.push_back(blocks[b] - sinkOf(b));
        if (req.mode == AttentionMode::BlockCached)
            std::tie(shiftCos, shiftSin) = tf.rope().shiftTables(shifts, tf.dtype(), device);
        // Block-cached: every block's entry, looked up first; the misses are then encoded alone
        // (positions 0..len-1), all of them in one pass where batching applies, one pass each
        // otherwise. A block repeated within the request is encoded once.
        std::vector<detail::EntryPtr> entries(blocks.size() - 1);
        std::vector<bool> placed(blocks.size() - 1, false);
        // Writes block b's cached K (rotated from positions 0..len-1 to s..e-1: rotations compose)
        // and V into the run's buffer.
        auto place = [&](std::size_t b) {
            const std::int64_t s = blocks[b], len = blocks[b + 1] - s;
            const detail::EntryPtr& entry = entries[b];
            bool done = false;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
            // One kernel reads the cached K once and writes it rotated into the run's buffer.
            if (detail::bridge::ropeShiftSupported(kv.k, entry->k)) {
                detail::bridge::ropeShiftInto(kv.k, s, entry->k, shifts[b], tf.rope().invFreqFloat());
                done = true;
            }
#endif
            if (!done) {
                const auto row = static_cast<std::int64_t>(b);
                detail::Rope::placeShifted(kv.k.narrow(2, s, len), entry->k, shiftCos.select(0, row), shiftSin.select(0, row));
            }
            kv.v.narrow(2, s, len).copy_(entry->v);
            placed[b] = true;
        };
        if (req.mode == AttentionMode::BlockCached) {
            std::vector<std::size_t> misses;             // block indices to encode
            std::vector<std::string> keys(blocks.size() - 1);
            std::unordered_map<std::string, std::size_t> pending; // key -> the block that encodes it
            std::vector<std::size_t> sameAs(blocks.size() - 1, SIZE_MAX);
            for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
                const std::int64_t s = blocks[b], len = blocks[b + 1] - s;
                const std::span<const std::int32_t> blockIds(req.ids.data() + s, static_cast<std::size_t>(len));
                const std::span<const std::int32_t> sinkIds(req.ids.data(), static_cast<std::size_t>(sinkOf(b)));
                keys[b] = blockCacheKey(impl.fingerprint, dtypeName, req.tokenizerHash, blockIds, sinkIds);
                const FlopCount blockFlops = detail::sinkBlockFlops(c, sinkOf(b), len); // encoding it: alone, or after the sink
                if ((entries[b] = state_->cache->impl().lookup(keys[b], device))) {
                    ++st.cacheHits;
                    st.savedFlops += blockFlops;
                    place(b); // enqueued now: the device works while the next keys are hashed
                } else if (const auto it = pending.find(keys[b]); it != pending.end()) {
                    ++st.cacheHits; // encoded by this run, earlier in the request
                    st.savedFlops += blockFlops;
                    sameAs[b] = it->second;
                } else {
                    ++st.cacheMisses;
                    st.prefillFlops += blockFlops;
                    st.repairFlops += detail::sinkExtraFlops(c, sinkOf(b), len);
                    pending.emplace(keys[b], b);
                    misses.push_back(b);
                }
            }
            auto keep = [&](std::size_t b, at::Tensor h, at::Tensor k, at::Tensor v) {
                auto fresh = std::make_shared<detail::BlockKvEntry>();
                fresh->hidden = std::move(h);
                fresh->k = std::move(k);
                fresh->v = std::move(v);
                fresh->tokens = blocks[b + 1] - blocks[b];
                state_->cache->impl().insert(keys[b], fresh);
                entries[b] = fresh;
            };
            if (batched && misses.size() > 1 && repair.sinkTokens == 0) { // blocks after a sink: one pass each, below
                // One pass over the misses side by side, each at positions 0..len-1 and attending
                // to itself only (the kernel's blocks, the last one local too).
                std::vector<at::Tensor> pieceIds, piecePositions;
                std::vector<std::int64_t> starts;
                std::int64_t total = 0;
                for (const std::size_t b : misses) {
                    const std::int64_t s = blocks[b], len = blocks[b + 1] - s;
                    pieceIds.push_back(ids.narrow(0, s, len));
                    piecePositions.push_back(positions(0, len, device));
                    starts.push_back(total);
                    total += len;
                }
                detail::KvBuffer alone(c, total, tf.options());
                detail::ForwardArgs args{at::cat(pieceIds), at::cat(piecePositions), 0, 0};
                args.blockStarts = starts;
                args.lastBlockGlobal = false;
                args.afterLayer = [&](std::int64_t) { checkStop(); };
                const at::Tensor h = tf.forward(alone, args); // [total, hidden]
                // Each entry owns its rows (an entry may be evicted or demoted on its own).
                for (std::size_t i = 0; i < misses.size(); ++i) {
                    const std::int64_t len = blocks[misses[i] + 1] - blocks[misses[i]];
                    keep(misses[i], h.narrow(0, starts[i], len).clone(), alone.k.narrow(2, starts[i], len).contiguous(),
                         alone.v.narrow(2, starts[i], len).contiguous());
                }
            } else {
                for (const std::size_t b : misses) {
                    checkStop();
                    const std::int64_t s = blocks[b], len = blocks[b + 1] - s;
                    if (sinkOf(b) > 0) { // encoded after the sink (repair.hpp)
                        auto fresh = detail::encodeAfterSink(tf, ids, sinkOf(b), s, len);
                        keep(b, std::move(fresh->hidden), std::move(fresh->k), std::move(fresh->v));
                        continue;
                    }
                    detail::KvBuffer alone(c, len, tf.options());
                    at::Tensor h = tf.forward(alone, {ids.narrow(0, s, len), positions(0, len, device), 0, 0});
                    keep(b, std::move(h), std::move(alone.k), std::move(alone.v));
                }
            }
            for (std::size_t b = 0; b + 1 < blocks.size(); ++b)
                if (sameAs[b] != SIZE_MAX)
                    entries[b] = entries[sameAs[b]];
        }
        for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
            checkStop();
            const std::int64_t s = blocks[b], e = blocks[b + 1], len = e - s;
            if (req.mode == AttentionMode::Block) {
                // In place, global positions, attending only to itself.
                hidden.push_back(forwardCaptured(kv, {ids.narrow(0, s, len), positions(s, e, device), s, s}));
                st.prefillFlops += forwardFlops(c, len, attendedPairs(s, len, s, window), 0);
            } else {
                if (!placed[b])
                    place(b);
                hidden.push_back(entries[b]->hidden);
                oneHotRows(b, len);
            }
            progress(static_cast<std::int64_t>(b + 1), st.blocks, "block");
        }
        if (req.mode == AttentionMode::BlockCached) {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
            if (startMark)
                assembledMark.emplace(device);
            else
#endif
            {
                detail::synchronize(device);
                st.assembleMs = msSince(t0);
            }
        }
        checkStop();
        if (req.repair.active()) { // recompute repairs: chosen context tokens again, in place (repair.hpp)
            detail::Recomputed again = detail::recompute(tf, kv, ids, repair, checkStop);
            st.prefillFlops += again.flops;
            st.repairFlops += again.flops;
            result.recomputed = std::move(again.slots);
        }
        // The last block: global positions, attends to everything before it. Block-cached on
        // CUDA: a CUDA graph from the second run of a shape on (QuestionGraphs).
        bool done = false;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (req.mode == AttentionMode::BlockCached && device.is_cuda() && !capturing) {
            hidden.push_back(state_->graphs.forward(tf, kv, ids.narrow(0, last, n - last), last));
            done = true;
        }
#endif
        if (!done)
            hidden.push_back(forwardCaptured(kv, {ids.narrow(0, last, n - last), positions(last, n, device), last, 0}));
        st.prefillFlops += forwardFlops(c, n - last, attendedPairs(last, n - last, 0, window), 0);
    }
    detail::synchronize(device);
    st.prefillMs = msSince(t0);
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    if (startMark && assembledMark)
        st.assembleMs = assembledMark->msSince(*startMark);
#endif

    // The first generated token: the last position's logits.
    const at::Tensor& tail = hidden.back();                              // [rows, hidden]
    at::Tensor lastLogits = tf.logits(tail.narrow(0, tail.size(0) - 1, 1)); // [1, vocab]
    requireFinite(lastLogits, "the last prompt position", impl.directory);
    std::mt19937_64 rng(req.seed);
    // The next token from a logits row [1, vocab]: argmax, or a draw at the temperature.
    auto pick = [&](const at::Tensor& row) {
        if (req.temperature == 0)
            return static_cast<std::int32_t>(row.argmax(-1).item<std::int64_t>());
        const at::Tensor p = at::softmax(row.to(at::kDouble) / req.temperature, -1).contiguous().cpu();
        const double* probs = p.data_ptr<double>();
        double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        for (std::int64_t i = 0; i < p.numel(); ++i)
            if ((u -= probs[i]) <= 0)
                return static_cast<std::int32_t>(i);
        return static_cast<std::int32_t>(p.numel() - 1);
    };
    auto next = pick(lastLogits);
    st.ttftMs = msSince(t0);
    st.prefillFlops.lmHead += forwardFlops(c, 0, 0, 1).lmHead;

    // Logits asked for.
    Logits& out = result.logits;
    out.vocab = c.vocabSize;
    switch (req.logits) {
    case LogitsWanted::None:
        break;
    case LogitsWanted::LastToken:
        out.firstRow = n - 1;
        out.rows = 1;
        out.values = toVector(lastLogits);
        break;
    case LogitsWanted::LastBlock: {
        const at::Tensor h = hidden.size() == 1 ? hidden.back().narrow(0, last, n - last) : hidden.back(); // one piece: all n rows
        out.firstRow = last;
        out.rows = n - last;
        out.values = toVector(tf.logits(h));
        requireFinite(out.values, "the logits asked for", impl.directory);
        break;
    }
    case LogitsWanted::All:
        out.firstRow = 0;
        out.rows = n;
        out.values = toVector(tf.logits(hidden.size() == 1 ? hidden.front() : at::cat(hidden, 0)));
        requireFinite(out.values, "the logits asked for", impl.directory);
        break;
    }

    if (req.wantHidden) {
        const at::Tensor all = hidden.size() == 1 ? hidden.front() : at::cat(hidden, 0); // [n, hidden]
        result.hidden.rows = all.size(0);
        result.hidden.width = all.size(1);
        result.hidden.values = toVector(all);
    }

    if (capturing) {
        AttentionMass& am = result.attention;
        am.layers = capture.layers;
        am.heads = c.numHeads;
        am.blocks = capture.blocks;
        am.byBlock = req.attention.byBlock;
        at::Tensor mass;
        if (am.byBlock) { // the sums over each query block's tokens, divided: the mean
            std::vector<float> lengths;
            for (std::size_t b = 0; b < blocks.size(); ++b)
                lengths.push_back(static_cast<float>((b + 1 < blocks.size() ? blocks[b + 1] : n) - blocks[b]));
            mass = massSums.div_(at::tensor(lengths).to(device).view({1, 1, capture.blocks, 1})); // [layers, heads, blocks, blocks]
        } else {
            mass = massRows.size() == 1 ? massRows.front() : at::cat(massRows, 2); // [layers, heads, n, blocks]
            massRows.clear();
        }
        am.rows = mass.size(2);
        am.values = toVector(mass);
    }

    // Generation: each new token attends to everything.
    const auto t1 = Clock::now();
    std::int64_t fed = n;
    if (req.maxNewTokens > 0) {
        result.generated.push_back(next);
        if (req.onToken)
            req.onToken(next);
        while (static_cast<std::int64_t>(result.generated.size()) < req.maxNewTokens && !(req.stopToken && next == *req.stopToken)) {
            checkStop();
            if (fed >= kv.capacity())
                break;
            const at::Tensor one = at::tensor(std::vector<std::int64_t>{next}, at::TensorOptions().dtype(at::kLong)).to(device);
            const at::Tensor h = tf.forward(kv, {one, positions(fed, fed + 1, device), fed, 0});
            ++fed;
            const at::Tensor logits = tf.logits(h);
            requireFinite(logits, "generated token " + std::to_string(result.generated.size() + 1), impl.directory);
            next = pick(logits);
            result.generated.push_back(next);
            if (req.onToken)
                req.onToken(next);
        }
        st.decodeMs = msSince(t1);
    }
    st.generatedTokens = static_cast<std::int64_t>(result.generated.size());
    st.kvBytes = kv.bytesPerToken() * static_cast<std::uint64_t>(fed);
    return result;
}

} // namespace blocklens::engine
