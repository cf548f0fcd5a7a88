#include "engine/runner.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/full_prefill_flops.hpp"
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
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
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

// A cached block the run's kept KV buffer holds (CUDA): its first slot, length and entry. The
// entry is watched, not owned: once the cache drops it, the slot no longer counts as in place.
struct PlacedSlot {
    std::int64_t length = 0;
    std::weak_ptr<const detail::BlockKvEntry> entry;
};
using PlacedSlots = std::unordered_map<std::int64_t, PlacedSlot>; // by first slot

// BLOCKLENS_REUSE_PLACED=0: every cached block is placed again in every run (A/B timings of the
// placement itself).
bool reusePlacedEnabled()
{
    static const bool off = [] {
        const char* v = std::getenv("BLOCKLENS_REUSE_PLACED");
        return v && std::string(v) == "0";
    }();
    return !off;
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
    // The cached blocks runKv holds at their slots since the last block-cached run (emptied when a
    // run of another kind, a repair or a new buffer may have written there).
    PlacedSlots inPlace;
#endif

    // The run's KV buffer of `capacity` slots: `own`, allocated now; on CUDA the one kept from the
    // last run (replaced when the size differs), with `cudaLock` holding cudaRun for the run.
    detail::KvBuffer& runBuffer(const detail::Transformer& tf, std::int64_t capacity, detail::KvBuffer& own,
                                [[maybe_unused]] std::unique_lock<std::mutex>& cudaLock)
    {
        const ModelConfig& c = model.impl().config;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (tf.device().is_cuda()) {
            cudaLock = std::unique_lock<std::mutex>(cudaRun);
            detail::KvBuffer& keep = runKv;
            if (keep.capacity() != capacity) {
                graphs.clear(); // they read the buffer being replaced
                inPlace.clear();
                keep = detail::KvBuffer();
                keep = detail::KvBuffer(c, capacity, tf.options());
            }
            return keep;
        }
#endif
        own = detail::KvBuffer(c, capacity, tf.options());
        return own;
    }
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

namespace {

// The request's own rules: tokens in the vocabulary, the new tokens' count, the temperature.
void checkRequest(const RunRequest& req, const ModelConfig& c)
{
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
    if (req.maxNewTokens > kMaxRunTokens - n) // n + maxNewTokens sizes the KV buffer
        throw Error(std::to_string(req.maxNewTokens) + " new tokens after " + std::to_string(n) +
                        " prompt tokens exceed the " + std::to_string(kMaxRunTokens) + " tokens a run can hold",
                    {.item = "max-new-tokens"});
    if (!std::isfinite(req.temperature) || req.temperature < 0)
        throw Error("must be a finite number, 0 or more", {.item = "temperature"});
}

// The attention capture of one run: which layers, the block of every slot (generated tokens: the
// last), and the mass collected, as rows or (byBlock) summed per query block.
class RunCapture {
public:
    RunCapture(const RunRequest& req, const ModelConfig& c, const std::vector<std::int64_t>& blocks, std::int64_t n,
               const at::Device& device)
        : active_(!req.attention.layers.empty()), heads_(c.numHeads), device_(device)
    {
        if (!active_)
            return;
        capture_.layers = req.attention.layers;
        std::sort(capture_.layers.begin(), capture_.layers.end());
        capture_.layers.erase(std::unique(capture_.layers.begin(), capture_.layers.end()), capture_.layers.end());
        for (const auto l : capture_.layers)
            if (l < 0 || l >= c.numLayers)
                throw Error("layer " + std::to_string(l) + " does not exist (the model has " + std::to_string(c.numLayers) + ")",
                            {.item = "attention layers"});
        std::vector<std::int64_t> blockOf(static_cast<std::size_t>(n + std::max<std::int64_t>(req.maxNewTokens, 1)));
        for (std::size_t b = 0; b < blocks.size(); ++b)
            std::fill(blockOf.begin() + blocks[b], b + 1 < blocks.size() ? blockOf.begin() + blocks[b + 1] : blockOf.end(),
                      static_cast<std::int64_t>(b));
        capture_.blockOfSlot = at::tensor(blockOf, at::TensorOptions().dtype(at::kLong)).to(device);
        capture_.blocks = static_cast<std::int64_t>(blocks.size());
        capture_.blockStarts = blocks;
        capture_.byQueryBlock = req.attention.byBlock;
        // What the capture holds is bounded before any of it is allocated (see estimateAttentionCapture).
        const AttentionCaptureEstimate need = estimateAttentionCapture(c, n, capture_.blocks,
                                                                       static_cast<std::int64_t>(capture_.layers.size()),
                                                                       capture_.byQueryBlock);
        checkAttentionCaptureFits(need, attentionCaptureLimit());
    }

    bool active() const { return active_; }

    // One forward pass, its captured mass kept: [captured layers, heads, rows, blocks].
    at::Tensor forward(const detail::Transformer& tf, detail::KvBuffer& buffer, detail::ForwardArgs args)
    {
        std::vector<at::Tensor> mass;
        if (active_) {
            args.capture = &capture_;
            args.mass = &mass;
        }
        at::Tensor h = tf.forward(buffer, args);
        if (active_)
            keep(at::stack(mass));
        return h;
    }

    // Rows of a block that saw only itself: all mass on block b.
    void oneHotRows(std::size_t b, std::int64_t len)
    {
        if (!active_)
            return;
        const std::int64_t rows = capture_.byQueryBlock ? capture_.blocks : len;
        at::Tensor m = at::zeros({static_cast<std::int64_t>(capture_.layers.size()), heads_, rows, capture_.blocks},
                                 at::TensorOptions().dtype(at::kFloat).device(device_));
        if (capture_.byQueryBlock) // the block's len rows, summed: len on (b, b)
            m.select(2, static_cast<std::int64_t>(b)).select(2, static_cast<std::int64_t>(b)).fill_(static_cast<float>(len));
        else
            m.select(3, static_cast<std::int64_t>(b)).fill_(1.0f);
        keep(m);
    }

    // The mass of the whole prompt into `am` (nothing when no layer was asked for).
    void finish(AttentionMass& am, const std::vector<std::int64_t>& blocks, std::int64_t n)
    {
        if (!active_)
            return;
        am.layers = capture_.layers;
        am.heads = heads_;
        am.blocks = capture_.blocks;
        am.byBlock = capture_.byQueryBlock;
        at::Tensor mass;
        if (am.byBlock) { // the sums over each query block's tokens, divided: the mean
            std::vector<float> lengths;
            for (std::size_t b = 0; b < blocks.size(); ++b)
                lengths.push_back(static_cast<float>((b + 1 < blocks.size() ? blocks[b + 1] : n) - blocks[b]));
            mass = sums_.div_(at::tensor(lengths).to(device_).view({1, 1, capture_.blocks, 1})); // [layers, heads, blocks, blocks]
        } else {
            mass = rows_.size() == 1 ? rows_.front() : at::cat(rows_, 2); // [layers, heads, n, blocks]
            rows_.clear();
        }
        am.rows = mass.size(2);
        am.values = toVector(mass);
    }

private:
    // Adds one forward's (or one block's) mass: rows appended, or byBlock summed.
    void keep(at::Tensor m)
    {
        if (!capture_.byQueryBlock)
            rows_.push_back(std::move(m));
        else if (!sums_.defined())
            sums_ = std::move(m);
        else
            sums_.add_(m);
    }

    bool active_;
    std::int64_t heads_;
    at::Device device_;
    detail::CaptureRequest capture_;
    std::vector<at::Tensor> rows_; // each [captured layers, heads, rows, blocks], in sequence order
    at::Tensor sums_;              // byBlock: [captured layers, heads, blocks, blocks] sums over query tokens
};

// The prefill's times: on the host from the start, and on CUDA also on the device's stream (a host
// synchronization between the assembly and the last block would leave the GPU idle while the host
// enqueues the last block).
class PhaseClock {
public:
    explicit PhaseClock(const at::Device& device) : device_(device), t0_(Clock::now())
    {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (device.is_cuda())
            startMark_.emplace(device);
#endif
    }

    double ms() const { return msSince(t0_); }

    // Block-cached: every context block is in the run's buffer.
    void assembled(RunStats& st)
    {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (startMark_) {
            assembledMark_.emplace(device_);
            return;
        }
#endif
        detail::synchronize(device_);
        st.assembleMs = ms();
    }

    // The whole prompt is in: waits for the device.
    void prefilled(RunStats& st)
    {
        detail::synchronize(device_);
        st.prefillMs = ms();
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (startMark_ && assembledMark_)
            st.assembleMs = assembledMark_->msSince(*startMark_);
#endif
    }

private:
    at::Device device_;
    Clock::time_point t0_;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    std::optional<detail::bridge::DeviceMark> startMark_, assembledMark_;
#endif
};

// What the phases of one run share: the request, the model, the blocks, the repair, the KV buffer
// and the hidden states of the prompt (per block [len, hidden]; one piece in full and batched block mode).
struct Pass {
    const RunRequest& req;
    const Progress& progress;
    const Model::Impl& impl;
    const detail::Transformer& tf;
    const ModelConfig& c;
    at::Device device;
    const std::vector<std::int64_t>& blocks;
    std::int64_t n = 0, last = 0;
    const RepairPlan& repair;
    BlockKvCache& cache;
    RunResult& result;
    RunStats& st;
    RunCapture& mass;
    PhaseClock& clock;
    const at::Tensor& ids; // [n] on the device
    detail::KvBuffer& kv;
    std::vector<at::Tensor> hidden{};
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    detail::QuestionGraphs* graphs = nullptr; // the question pass's CUDA graphs (Runner::State)
#endif
    PlacedSlots inPlaceBefore{};        // CUDA: the cached blocks the kept buffer held at the start of this run
    PlacedSlots* inPlaceAfter = nullptr; // CUDA: where this run records what it leaves in place (Runner::State)

    void checkStop() const
    {
        if (progress.stopRequested())
            throw Error("run cancelled");
    }
    // Many blocks in one forward pass (block mode, and the misses of block-cached mode): one set of
    // launches per layer instead of one per block and layer, and on CUDA bf16 the block-prefill
    // kernel for all blocks' attention at once. Elsewhere (the CPU, fp32) attention inside the pass
    // stays SDPA per block (attendBlocks). Captures keep a pass per block (mass rows per forward).
    bool batched() const { return !mass.active(); }
    // Blocks after the first are encoded after the sink, if any (repairs.hpp): its length.
    std::int64_t sinkOf(std::size_t b) const { return b > 0 ? repair.sinkTokens : std::int64_t(0); }
};

// Full attention: one forward pass, progress and cancel per layer (a long document's capture takes minutes).
void prefillFull(Pass& p)
{
    detail::ForwardArgs args{p.ids, positions(0, p.n, p.device), 0, 0};
    args.afterLayer = [&](std::int64_t done) {
        p.checkStop();
        p.progress(done, p.c.numLayers, "layer");
    };
    // Only the last position's logits asked for: the last layer finishes that row alone (every
    // row's K/V is still written for the tokens generated next).
    if ((p.req.logits == LogitsWanted::None || p.req.logits == LogitsWanted::LastToken) && !p.req.wantHidden && !p.mass.active())
        args.outputRows = 1;
    const std::int64_t outputRows = args.outputRows;
    p.hidden.push_back(p.mass.forward(p.tf, p.kv, std::move(args)));
    p.st.prefillFlops += fullPrefillFlops(p.c, p.n, outputRows); // the last layer's skipped rows not counted
}

// Block mode, every block in one pass: global positions, each block attending to itself and the
// last block to everything (the block-prefill kernel on CUDA bf16: one launch per layer).
void prefillBlocksBatched(Pass& p)
{
    const auto window = p.c.slidingWindow;
    detail::ForwardArgs args{p.ids, positions(0, p.n, p.device), 0, 0};
    args.blockStarts = p.blocks;
    args.afterLayer = [&](std::int64_t done) {
        p.checkStop();
        p.progress(done, p.c.numLayers, "layer");
    };
    p.hidden.push_back(p.tf.forward(p.kv, args)); // [n, hidden]
    for (std::size_t b = 0; b + 1 < p.blocks.size(); ++b) {
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        p.st.prefillFlops += forwardFlops(p.c, len, attendedPairs(s, len, s, window), 0);
    }
    p.st.prefillFlops += forwardFlops(p.c, p.n - p.last, attendedPairs(p.last, p.n - p.last, 0, window), 0);
}

// Block-cached: each context block's cache entry and key, and its placement into the run's buffer.
class CachedBlocks {
public:
    explicit CachedBlocks(const Pass& p)
        : entries(p.blocks.size() - 1), keys(p.blocks.size() - 1), sameAs(p.blocks.size() - 1, SIZE_MAX),
          placed_(p.blocks.size() - 1, false)
    {
        for (std::size_t b = 0; b < p.blocks.size(); ++b) // each block's rotation: from where it was encoded to its start
            shifts_.push_back(p.blocks[b] - p.sinkOf(b));
    }

    // Block b's cached K (rotated from positions 0..len-1 to s..e-1: rotations compose) and V into
    // the run's buffer: queued, and written by flush() (on CUDA one launch for all queued blocks).
    // Nothing to write when the kept buffer already holds this very entry at these slots (the run
    // before placed it and nothing has written there since).
    void place(Pass& p, std::size_t b)
    {
        placed_[b] = true;
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        if (const auto it = p.inPlaceBefore.find(s);
            it != p.inPlaceBefore.end() && it->second.length == len && it->second.entry.lock() == entries[b]) {
            ++p.st.blocksInPlace;
            return;
        }
        queued_.push_back(b);
    }
    bool placed(std::size_t b) const { return placed_[b]; }
    std::size_t queued() const { return queued_.size(); }

    // Writes the queued blocks. Enqueued only: no host synchronisation.
    void flush(Pass& p)
    {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        std::vector<detail::bridge::PlacedBlock> together;
        for (const std::size_t b : queued_) {
            detail::bridge::PlacedBlock one{entries[b]->k, entries[b]->v, p.blocks[b], shifts_[b]};
            if (detail::bridge::placeBlocksSupported(p.kv.k, p.kv.v, one))
                together.push_back(std::move(one));
            else
                placeOne(p, b);
        }
        detail::bridge::placeBlocks(p.kv.k, p.kv.v, together, p.tf.rope().invFreqFloat());
#else
        for (const std::size_t b : queued_)
            placeOne(p, b);
#endif
        queued_.clear();
    }

    // What the run's buffer holds once every block is placed (for the next run).
    PlacedSlots inPlace(const Pass& p) const
    {
        PlacedSlots out;
        for (std::size_t b = 0; b < entries.size(); ++b)
            if (placed_[b] && entries[b])
                out[p.blocks[b]] = {p.blocks[b + 1] - p.blocks[b], entries[b]};
        return out;
    }

    // A block encoded by this run becomes its entry, in the cache too (an entry may be evicted or
    // demoted on its own: it owns its tensors).
    void keep(Pass& p, std::size_t b, at::Tensor h, at::Tensor k, at::Tensor v)
    {
        auto fresh = std::make_shared<detail::BlockKvEntry>();
        fresh->hidden = std::move(h);
        fresh->k = std::move(k);
        fresh->v = std::move(v);
        fresh->tokens = p.blocks[b + 1] - p.blocks[b];
        p.cache.impl().insert(keys[b], fresh);
        entries[b] = fresh;
    }

    std::vector<detail::EntryPtr> entries;
    std::vector<std::string> keys;
    std::vector<std::size_t> sameAs; // a block repeated within the request: the earlier block that encodes it

private:
    // One block by itself: the rotation kernel for K where it applies, else ATen; V copied.
    void placeOne(Pass& p, std::size_t b)
    {
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        const detail::EntryPtr& entry = entries[b];
        bool done = false;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (detail::bridge::ropeShiftSupported(p.kv.k, entry->k)) {
            detail::bridge::ropeShiftInto(p.kv.k, s, entry->k, shifts_[b], p.tf.rope().invFreqFloat());
            done = true;
        }
#endif
        if (!done) {
            if (!shiftCos_.defined()) // one host-to-device copy for all blocks, made when first needed
                std::tie(shiftCos_, shiftSin_) = p.tf.rope().shiftTables(shifts_, p.tf.dtype(), p.device);
            const auto row = static_cast<std::int64_t>(b);
            detail::Rope::placeShifted(p.kv.k.narrow(2, s, len), entry->k, shiftCos_.select(0, row), shiftSin_.select(0, row));
        }
        p.kv.v.narrow(2, s, len).copy_(entry->v);
    }

    std::vector<std::int64_t> shifts_; // each block's rotation: from where it was encoded to its start
    at::Tensor shiftCos_, shiftSin_;   // [blocks, head_dim/2]: rotation by each block's shift (ATen path only)
    std::vector<bool> placed_;
    std::vector<std::size_t> queued_;  // placed but not yet written (flush)
};

// Hits placed per launch while the lookup goes on.
constexpr std::size_t kPlaceBatch = 16;

// Block-cached: every block's entry, looked up first (hits placed in batches as they come: the
// device works while the next ones are looked up). Returns the misses, each to encode alone (positions 0..len-1, after
// the sink if any); a block repeated within the request is encoded once.
// The cache keys of all context blocks: SHA-256 of ~2 KB each, ~10 us a block on one core, all
// of it before the question can start (0.6 ms at 64 blocks), so long requests hash on a few threads.
std::vector<std::string> blockKeys(const Pass& p)
{
    const std::string dtypeName(toString(p.impl.dtype));
    const std::size_t blocks = p.blocks.size() - 1;
    std::vector<std::string> keys(blocks);
    auto hash = [&](std::size_t first, std::size_t end) {
        for (std::size_t b = first; b < end; ++b) {
            const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
            const std::span<const std::int32_t> blockIds(p.req.ids.data() + s, static_cast<std::size_t>(len));
            const std::span<const std::int32_t> sinkIds(p.req.ids.data(), static_cast<std::size_t>(p.sinkOf(b)));
            keys[b] = blockCacheKey(p.impl.fingerprint, dtypeName, p.req.tokenizerHash, blockIds, sinkIds);
        }
    };
    constexpr std::size_t kBlocksPerThread = 8;
    const std::size_t threads = std::min<std::size_t>({blocks / kBlocksPerThread, std::max(1u, std::thread::hardware_concurrency()), 8});
    if (threads <= 1) {
        hash(0, blocks);
        return keys;
    }
    const std::size_t per = (blocks + threads - 1) / threads;
    std::vector<std::future<void>> others;
    for (std::size_t t = 1; t < threads; ++t)
        others.push_back(std::async(std::launch::async, hash, std::min(blocks, t * per), std::min(blocks, (t + 1) * per)));
    hash(0, std::min(blocks, per));
    for (auto& f : others)
        f.get();
    return keys;
}

std::vector<std::size_t> lookupCached(Pass& p, CachedBlocks& cached)
{
    std::vector<std::size_t> misses;
    std::unordered_map<std::string, std::size_t> pending; // key -> the block that encodes it
    cached.keys = blockKeys(p);
    for (std::size_t b = 0; b + 1 < p.blocks.size(); ++b) {
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        const FlopCount blockFlops = detail::sinkBlockFlops(p.c, p.sinkOf(b), len); // encoding it: alone, or after the sink
        if ((cached.entries[b] = p.cache.impl().lookup(cached.keys[b], p.device))) {
            ++p.st.cacheHits;
            p.st.savedFlops += blockFlops;
            cached.place(p, b);
            if (cached.queued() >= kPlaceBatch)
                cached.flush(p); // enqueued now: the device works while the next ones are looked up
        } else if (const auto it = pending.find(cached.keys[b]); it != pending.end()) {
            ++p.st.cacheHits; // encoded by this run, earlier in the request
            p.st.savedFlops += blockFlops;
            cached.sameAs[b] = it->second;
        } else {
            ++p.st.cacheMisses;
            p.st.prefillFlops += blockFlops;
            p.st.repairFlops += detail::sinkExtraFlops(p.c, p.sinkOf(b), len);
            pending.emplace(cached.keys[b], b);
            misses.push_back(b);
        }
    }
    cached.flush(p);
    return misses;
}

// The misses in one pass, side by side, each at positions 0..len-1 and attending to itself only
// (the kernel's blocks, the last one local too).
void encodeMissesTogether(Pass& p, CachedBlocks& cached, const std::vector<std::size_t>& misses)
{
    std::vector<at::Tensor> pieceIds, piecePositions;
    std::vector<std::int64_t> starts;
    std::int64_t total = 0;
    for (const std::size_t b : misses) {
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        pieceIds.push_back(p.ids.narrow(0, s, len));
        piecePositions.push_back(positions(0, len, p.device));
        starts.push_back(total);
        total += len;
    }
    detail::KvBuffer alone(p.c, total, p.tf.options());
    detail::ForwardArgs args{at::cat(pieceIds), at::cat(piecePositions), 0, 0};
    args.blockStarts = starts;
    args.lastBlockGlobal = false;
    args.afterLayer = [&](std::int64_t) { p.checkStop(); };
    const at::Tensor h = p.tf.forward(alone, args); // [total, hidden]
    // Each entry owns its rows (an entry may be evicted or demoted on its own).
    for (std::size_t i = 0; i < misses.size(); ++i) {
        const std::int64_t len = p.blocks[misses[i] + 1] - p.blocks[misses[i]];
        cached.keep(p, misses[i], h.narrow(0, starts[i], len).clone(), alone.k.narrow(2, starts[i], len).contiguous(),
                    alone.v.narrow(2, starts[i], len).contiguous());
    }
}

// The misses one pass each: alone at positions 0..len-1, or after the sink (repairs.hpp).
void encodeMissesEach(Pass& p, CachedBlocks& cached, const std::vector<std::size_t>& misses)
{
    for (const std::size_t b : misses) {
        p.checkStop();
        const std::int64_t s = p.blocks[b], len = p.blocks[b + 1] - s;
        if (p.sinkOf(b) > 0) { // encoded after the sink (repairs.hpp)
            auto fresh = detail::encodeAfterSink(p.tf, p.ids, p.sinkOf(b), s, len);
            cached.keep(p, b, std::move(fresh->hidden), std::move(fresh->k), std::move(fresh->v));
            continue;
        }
        detail::KvBuffer alone(p.c, len, p.tf.options());
        at::Tensor h = p.tf.forward(alone, {p.ids.narrow(0, s, len), positions(0, len, p.device), 0, 0});
        cached.keep(p, b, std::move(h), std::move(alone.k), std::move(alone.v));
    }
}

// Block-cached: the entries of all context blocks, from the cache or encoded now.
void lookupAndEncode(Pass& p, CachedBlocks& cached)
{
    const std::vector<std::size_t> misses = lookupCached(p, cached);
    if (p.batched() && misses.size() > 1 && p.repair.sinkTokens == 0) // blocks after a sink: one pass each
        encodeMissesTogether(p, cached, misses);
    else
        encodeMissesEach(p, cached, misses);
    for (std::size_t b = 0; b + 1 < p.blocks.size(); ++b)
        if (cached.sameAs[b] != SIZE_MAX)
            cached.entries[b] = cached.entries[cached.sameAs[b]];
}

// The context blocks into the run's buffer, in order: block mode encodes each in place (global
// positions, attending only to itself); block-cached places the entries not placed yet.
void assembleContext(Pass& p, CachedBlocks& cached)
{
    const auto window = p.c.slidingWindow;
    for (std::size_t b = 0; b + 1 < p.blocks.size(); ++b) {
        p.checkStop();
        const std::int64_t s = p.blocks[b], e = p.blocks[b + 1], len = e - s;
        if (p.req.mode == AttentionMode::Block) {
            p.hidden.push_back(p.mass.forward(p.tf, p.kv, {p.ids.narrow(0, s, len), positions(s, e, p.device), s, s}));
            p.st.prefillFlops += forwardFlops(p.c, len, attendedPairs(s, len, s, window), 0);
        } else {
            if (!cached.placed(b))
                cached.place(p, b);
            p.hidden.push_back(cached.entries[b]->hidden);
            p.mass.oneHotRows(b, len);
        }
        p.progress(static_cast<std::int64_t>(b + 1), p.st.blocks, "block");
    }
    cached.flush(p);
}

// The question's pass goes through the block-cached question graphs (CUDA, no capture).
bool questionByGraph(const Pass& p)
{
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    return p.req.mode == AttentionMode::BlockCached && p.device.is_cuda() && !p.mass.active();
#else
    (void)p;
    return false;
#endif
}

void countQuestion(Pass& p)
{
    p.st.prefillFlops += forwardFlops(p.c, p.n - p.last, attendedPairs(p.last, p.n - p.last, 0, p.c.slidingWindow), 0);
}

// Recompute repairs: chosen context tokens again, in place (repairs.hpp). Unless the question's
// pass is captured (attention mass) or a CUDA graph, the question's tokens go through the same
// layer calls (recompute.hpp: the same values, products with more rows); then true, the
// question done.
bool recomputeRepair(Pass& p)
{
    if (!p.req.repair.active())
        return false;
    const bool withQuestion = !p.mass.active() && !questionByGraph(p);
    detail::Recomputed again = detail::recompute(p.tf, p.kv, p.ids, p.repair, [&p] { p.checkStop(); }, withQuestion ? p.last : -1);
    p.st.prefillFlops += again.flops;
    p.st.repairFlops += again.flops;
    p.result.recomputed = std::move(again.slots);
    if (!again.questionHidden.defined())
        return false;
    p.hidden.push_back(again.questionHidden);
    countQuestion(p);
    return true;
}

// The last block (the question): global positions, attends to everything before it. Block-cached
// on CUDA: a CUDA graph from the second run of a shape on (QuestionGraphs).
void questionPass(Pass& p)
{
    const std::int64_t last = p.last, n = p.n;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    if (questionByGraph(p))
        p.hidden.push_back(p.graphs->forward(p.tf, p.kv, p.ids.narrow(0, last, n - last), last));
    else
#endif
        p.hidden.push_back(p.mass.forward(p.tf, p.kv, {p.ids.narrow(0, last, n - last), positions(last, n, p.device), last, 0}));
    countQuestion(p);
}

// Block mode a pass per block (captures), and block-cached: the context blocks, the repair, the question.
void prefillBlocks(Pass& p)
{
    CachedBlocks cached(p);
    if (p.req.mode == AttentionMode::BlockCached)
        lookupAndEncode(p, cached);
    assembleContext(p, cached);
    if (p.req.mode == AttentionMode::BlockCached) {
        p.clock.assembled(p.st);
        // Only context slots were written so far; a repair would write some again.
        if (p.inPlaceAfter && !p.req.repair.active() && reusePlacedEnabled())
            *p.inPlaceAfter = cached.inPlace(p);
    }
    p.checkStop();
    if (!recomputeRepair(p))
        questionPass(p);
}

// The next token from a logits row [1, vocab]: argmax, or a draw at the temperature.
class TokenPicker {
public:
    explicit TokenPicker(const RunRequest& req) : temperature_(req.temperature), rng_(req.seed) {}
    std::int32_t operator()(const at::Tensor& row)
    {
        if (temperature_ == 0)
            return static_cast<std::int32_t>(row.argmax(-1).item<std::int64_t>());
        const at::Tensor p = at::softmax(row.to(at::kDouble) / temperature_, -1).contiguous().cpu();
        const double* probs = p.data_ptr<double>();
        double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
        for (std::int64_t i = 0; i < p.numel(); ++i)
            if ((u -= probs[i]) <= 0)
                return static_cast<std::int32_t>(i);
        return static_cast<std::int32_t>(p.numel() - 1);
    }

private:
    double temperature_;
    std::mt19937_64 rng_;
};

// The logits asked for (lastLogits: the last prompt position's, [1, vocab]) and the hidden states.
void collectOutputs(const Pass& p, const at::Tensor& lastLogits, RunResult& result)
{
    Logits& out = result.logits;
    out.vocab = p.c.vocabSize;
    switch (p.req.logits) {
    case LogitsWanted::None:
        break;
    case LogitsWanted::LastToken:
        out.firstRow = p.n - 1;
        out.rows = 1;
        out.values = toVector(lastLogits);
        break;
    case LogitsWanted::LastBlock: {
        const at::Tensor h = p.hidden.size() == 1 ? p.hidden.back().narrow(0, p.last, p.n - p.last) : p.hidden.back(); // one piece: all n rows
        out.firstRow = p.last;
        out.rows = p.n - p.last;
        out.values = toVector(p.tf.logits(h));
        requireFinite(out.values, "the logits asked for", p.impl.directory);
        break;
    }
    case LogitsWanted::All:
        out.firstRow = 0;
        out.rows = p.n;
        out.values = toVector(p.tf.logits(p.hidden.size() == 1 ? p.hidden.front() : at::cat(p.hidden, 0)));
        requireFinite(out.values, "the logits asked for", p.impl.directory);
        break;
    }
    if (p.req.wantHidden) {
        const at::Tensor all = p.hidden.size() == 1 ? p.hidden.front() : at::cat(p.hidden, 0); // [n, hidden]
        result.hidden.rows = all.size(0);
        result.hidden.width = all.size(1);
        result.hidden.values = toVector(all);
    }
}

// Generation after the first token `next`: each new token attends to everything. Returns the
// number of slots of the KV buffer filled.
std::int64_t generate(Pass& p, TokenPicker& pick, std::int32_t next, RunResult& result)
{
    const RunRequest& req = p.req;
    const auto t1 = Clock::now();
    std::int64_t fed = p.n;
    if (req.maxNewTokens <= 0)
        return fed;
    result.generated.push_back(next);
    if (req.onToken)
        req.onToken(next);
    while (static_cast<std::int64_t>(result.generated.size()) < req.maxNewTokens && !(req.stopToken && next == *req.stopToken)) {
        p.checkStop();
        if (fed >= p.kv.capacity())
            break;
        const at::Tensor one = at::tensor(std::vector<std::int64_t>{next}, at::TensorOptions().dtype(at::kLong)).to(p.device);
        const at::Tensor h = p.tf.forward(p.kv, {one, positions(fed, fed + 1, p.device), fed, 0});
        ++fed;
        const at::Tensor logits = p.tf.logits(h);
        requireFinite(logits, "generated token " + std::to_string(result.generated.size() + 1), p.impl.directory);
        next = pick(logits);
        result.generated.push_back(next);
        if (req.onToken)
            req.onToken(next);
    }
    p.st.decodeMs = msSince(t1);
    return fed;
}

// libtorch's errors carry a C++ backtrace over dozens of lines; the user gets one line that names
// the problem (an allocation that failed is "out of memory", with what libtorch tried to allocate).
[[noreturn]] void throwAsEngineError(const c10::Error& e)
{
    std::string what = e.what_without_backtrace();
    what = what.substr(0, what.find('\n'));
    for (const char* oom : {"can't allocate memory", "not enough memory", "out of memory"}) {
        if (what.find(oom) == std::string::npos)
            continue;
        // "[enforce fail at alloc_cpu.cpp:75] ... you tried to allocate 833000000 bytes. Error code 12 ..."
        std::string size;
        const std::string tried = "you tried to allocate ";
        if (const auto at = what.find(tried); at != std::string::npos)
            size = " of " + what.substr(at + tried.size(), what.find(" bytes", at) - at - tried.size()) + " bytes";
        throw Error("out of memory during the run: an allocation" + size +
                    " failed; try a shorter input, fewer captured layers or a smaller model");
    }
    throw Error("the engine failed: " + what);
}

} // namespace

RunResult Runner::run(const RunRequest& req, const Progress& progress) const
try {
    c10::NoGradGuard noGrad;
    const Model::Impl& impl = state_->model.impl();
    const detail::Transformer& tf = *impl.transformer;
    const ModelConfig& c = impl.config;
    const at::Device device = tf.device();
    checkRequest(req, c);
    const auto n = static_cast<std::int64_t>(req.ids.size());
    const std::vector<std::int64_t> blocks = normalizeBlocks(req.blocks, n);
    const RepairPlan repair = planRepair(req.repair, req.mode, req.ids, blocks, c); // repairs.hpp
    if (req.repair.active() && !req.attention.layers.empty())
        throw Error("attention capture is not available with a repair (" + repairName(req.repair) + "); capture plain block-cached",
                    {.item = "attention layers"});

    RunResult result;
    RunStats& st = result.stats;
    st.tokens = n;
    st.blocks = static_cast<std::int64_t>(blocks.size());
    // The cheapest full prefill that yields the first token: its last layer finishes the last row alone.
    st.fullFlops = fullPrefillFlops(c, n, 1);
    st.fullFlops.lmHead = forwardFlops(c, 0, 0, 1).lmHead;
    RunCapture mass(req, c, blocks, n, device);

    PhaseClock clock(device);
    std::vector<std::int64_t> ids64(req.ids.begin(), req.ids.end());
    const at::Tensor ids = at::tensor(ids64, at::TensorOptions().dtype(at::kLong)).to(device); // [n]
    detail::KvBuffer ownKv;
    std::unique_lock<std::mutex> cudaLock; // on CUDA: held for the run (State::cudaRun)
    detail::KvBuffer& kv = state_->runBuffer(tf, n + std::max<std::int64_t>(req.maxNewTokens, 1), ownKv, cudaLock);
    Pass p{req, progress, impl, tf, c, device, blocks, n, blocks.back(), repair, *state_->cache, result, st, mass, clock, ids, kv};
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    p.graphs = &state_->graphs;
    if (device.is_cuda()) { // what the kept buffer holds; this run may write anywhere, so it is forgotten until recorded again
        if (req.mode == AttentionMode::BlockCached && reusePlacedEnabled())
            p.inPlaceBefore = std::move(state_->inPlace);
        state_->inPlace.clear();
        p.inPlaceAfter = &state_->inPlace;
    }
#endif

    if (req.mode == AttentionMode::Full)
        prefillFull(p);
    else if (req.mode == AttentionMode::Block && p.batched())
        prefillBlocksBatched(p);
    else
        prefillBlocks(p);
    clock.prefilled(st);

    // The first generated token: the last position's logits.
    const at::Tensor& tail = p.hidden.back();                                // [rows, hidden]
    const at::Tensor lastLogits = tf.logits(tail.narrow(0, tail.size(0) - 1, 1)); // [1, vocab]
    requireFinite(lastLogits, "the last prompt position", impl.directory);
    TokenPicker pick(req);
    const std::int32_t next = pick(lastLogits);
    st.ttftMs = clock.ms();
    st.prefillFlops.lmHead += forwardFlops(c, 0, 0, 1).lmHead;

    collectOutputs(p, lastLogits, result);
    mass.finish(result.attention, blocks, n);
    const std::int64_t fed = generate(p, pick, next, result);
    st.generatedTokens = static_cast<std::int64_t>(result.generated.size());
    st.kvBytes = kv.bytesPerToken() * static_cast<std::uint64_t>(fed);
    return result;
} catch (const c10::Error& e) {
    throwAsEngineError(e);
}

} // namespace blocklens::engine
