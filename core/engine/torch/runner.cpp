#include "engine/runner.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/torch/block_kv_cache_impl.hpp"
#include "engine/torch/kernels_bridge.hpp"
#include "engine/torch/model_impl.hpp"
#include "engine/torch/recompute.hpp"
#include "engine/memory.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <tuple>

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
    Model model;
    std::unique_ptr<BlockKvCache> own;
    BlockKvCache* cache = nullptr;
};

Runner::Runner(Model model, BlockKvCache* cache) : state_(std::make_unique<State>(State{std::move(model), nullptr, cache}))
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
    detail::KvBuffer kv(c, n + std::max<std::int64_t>(req.maxNewTokens, 1), tf.options());
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
        for (std::size_t b = 0; b + 1 < blocks.size(); ++b) {
            checkStop();
            const std::int64_t s = blocks[b], e = blocks[b + 1], len = e - s;
            const FlopCount blockFlops = detail::sinkBlockFlops(c, sinkOf(b), len); // encoding it: alone, or after the sink
            if (req.mode == AttentionMode::Block) {
                // In place, global positions, attending only to itself.
                hidden.push_back(forwardCaptured(kv, {ids.narrow(0, s, len), positions(s, e, device), s, s}));
                st.prefillFlops += blockFlops;
            } else {
                const std::span<const std::int32_t> blockIds(req.ids.data() + s, static_cast<std::size_t>(len));
                const std::span<const std::int32_t> sinkIds(req.ids.data(), static_cast<std::size_t>(sinkOf(b)));
                const std::string key = blockCacheKey(impl.fingerprint, dtypeName, req.tokenizerHash, blockIds, sinkIds);
                detail::EntryPtr entry = state_->cache->impl().lookup(key, device);
                if (entry) {
                    ++st.cacheHits;
                    st.savedFlops += blockFlops;
                } else {
                    ++st.cacheMisses;
                    st.prefillFlops += blockFlops;
                    std::shared_ptr<detail::BlockKvEntry> fresh;
                    if (sinkOf(b) > 0) { // encoded after the sink (repair.hpp)
                        fresh = detail::encodeAfterSink(tf, ids, sinkOf(b), s, len);
                        st.repairFlops += detail::sinkExtraFlops(c, sinkOf(b), len);
                    } else { // alone at positions 0..len-1
                        detail::KvBuffer alone(c, len, tf.options());
                        fresh = std::make_shared<detail::BlockKvEntry>();
                        fresh->hidden = tf.forward(alone, {ids.narrow(0, s, len), positions(0, len, device), 0, 0});
                        fresh->k = std::move(alone.k);
                        fresh->v = std::move(alone.v);
                        fresh->tokens = len;
                    }
                    state_->cache->impl().insert(key, fresh);
                    entry = fresh;
                }
                // RoPE re-encoding: the keys were rotated for positions 0..len-1; rotated further by
                // s (rotations compose) they are the keys of positions s..e-1, written in place.
                const auto row = static_cast<std::int64_t>(b);
                bool placed = false;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
                // One kernel reads the cached K once and writes it rotated into the run's buffer.
                if (detail::bridge::ropeShiftSupported(kv.k, entry->k)) {
                    detail::bridge::ropeShiftInto(kv.k, s, entry->k, shifts[b], tf.rope().invFreqFloat());
                    placed = true;
                }
#endif
                if (!placed)
                    detail::Rope::placeShifted(kv.k.narrow(2, s, len), entry->k, shiftCos.select(0, row), shiftSin.select(0, row));
                kv.v.narrow(2, s, len).copy_(entry->v);
                hidden.push_back(entry->hidden);
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
        // The last block: global positions, attends to everything before it.
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
        const at::Tensor h = req.mode == AttentionMode::Full ? hidden.back().narrow(0, last, n - last) : hidden.back();
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
