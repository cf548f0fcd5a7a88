#include "engine/runner.hpp"
#include <c10/core/GradMode.h> // c10::NoGradGuard: the same in libtorch 1.13 and 2.x

#include "engine/torch/block_kv_cache_impl.hpp"
#include "engine/torch/kernels_bridge.hpp"
#include "engine/torch/model_impl.hpp"
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

namespace {

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

// What the phases of one run share: the request, the model, the blocks, the KV buffer and the
// hidden states of the prompt (per block [len, hidden]; one piece in full mode).
struct Pass {
    const RunRequest& req;
    const Progress& progress;
    const Model::Impl& impl;
    const detail::Transformer& tf;
    const ModelConfig& c;
    at::Device device;
    std::vector<std::int64_t> blocks;
    std::int64_t n = 0, last = 0;
    RunStats& st;
    RunCapture mass;
    Clock::time_point t0;
    at::Tensor ids; // [n] on the device
    detail::KvBuffer kv;
    std::vector<at::Tensor> hidden;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    // Phases are timed on the device's stream: a host synchronization between the assembly and
    // the last block would leave the GPU idle while the host enqueues the last block.
    std::optional<detail::bridge::DeviceMark> startMark, assembledMark;
#endif

    void checkStop() const
    {
        if (progress.stopRequested())
            throw Error("run cancelled");
    }
};

// Full attention: one forward pass, progress and cancel per layer (a long document's capture takes minutes).
void prefillFull(Pass& p)
{
    detail::ForwardArgs args{p.ids, positions(0, p.n, p.device), 0, 0};
    args.afterLayer = [&](std::int64_t done) {
        p.checkStop();
        p.progress(done, p.c.numLayers, "layer");
    };
    p.hidden.push_back(p.mass.forward(p.tf, p.kv, std::move(args)));
    p.st.prefillFlops += forwardFlops(p.c, p.n, attendedPairs(0, p.n, 0, p.c.slidingWindow), 0);
}

// Block attention: every block but the last alone (block-cached: from the cache, or encoded at
// positions 0.. and cached, then moved to its place by RoPE re-encoding), then the last block,
// which attends to everything before it.
void prefillBlocks(Pass& p, BlockKvCache& cache)
{
    const RunRequest& req = p.req;
    const ModelConfig& c = p.c;
    const auto window = c.slidingWindow;
    const std::string dtypeName(toString(p.impl.dtype));
    at::Tensor shiftCos, shiftSin; // [blocks, head_dim/2]: rotation by each block's start
    if (req.mode == AttentionMode::BlockCached)
        std::tie(shiftCos, shiftSin) = p.tf.rope().shiftTables(p.blocks, p.tf.dtype(), p.device);
    for (std::size_t b = 0; b + 1 < p.blocks.size(); ++b) {
        p.checkStop();
        const std::int64_t s = p.blocks[b], e = p.blocks[b + 1], len = e - s;
        const FlopCount blockFlops = forwardFlops(c, len, attendedPairs(s, len, s, window), 0);
        if (req.mode == AttentionMode::Block) {
            // In place, global positions, attending only to itself.
            p.hidden.push_back(p.mass.forward(p.tf, p.kv, {p.ids.narrow(0, s, len), positions(s, e, p.device), s, s}));
            p.st.prefillFlops += blockFlops;
        } else {
            const std::span<const std::int32_t> blockIds(req.ids.data() + s, static_cast<std::size_t>(len));
            const std::string key = blockCacheKey(p.impl.fingerprint, dtypeName, req.tokenizerHash, blockIds);
            detail::EntryPtr entry = cache.impl().lookup(key, p.device);
            if (entry) {
                ++p.st.cacheHits;
                p.st.savedFlops += blockFlops;
            } else {
                // Encode the block alone at positions 0..len-1.
                ++p.st.cacheMisses;
                p.st.prefillFlops += blockFlops;
                detail::KvBuffer alone(c, len, p.tf.options());
                auto fresh = std::make_shared<detail::BlockKvEntry>();
                fresh->hidden = p.tf.forward(alone, {p.ids.narrow(0, s, len), positions(0, len, p.device), 0, 0});
                fresh->k = std::move(alone.k);
                fresh->v = std::move(alone.v);
                fresh->tokens = len;
                cache.impl().insert(key, fresh);
                entry = fresh;
            }
            // RoPE re-encoding: the keys were rotated for positions 0..len-1; rotated further by
            // s (rotations compose) they are the keys of positions s..e-1, written in place.
            const auto row = static_cast<std::int64_t>(b);
            bool placed = false;
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
            // One kernel reads the cached K once and writes it rotated into the run's buffer.
            if (detail::bridge::ropeShiftSupported(p.kv.k, entry->k)) {
                detail::bridge::ropeShiftInto(p.kv.k, s, entry->k, s, p.tf.rope().invFreqFloat());
                placed = true;
            }
#endif
            if (!placed)
                detail::Rope::placeShifted(p.kv.k.narrow(2, s, len), entry->k, shiftCos.select(0, row), shiftSin.select(0, row));
            p.kv.v.narrow(2, s, len).copy_(entry->v);
            p.hidden.push_back(entry->hidden);
            p.mass.oneHotRows(b, len);
        }
        p.progress(static_cast<std::int64_t>(b + 1), p.st.blocks, "block");
    }
    if (req.mode == AttentionMode::BlockCached) {
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
        if (p.startMark)
            p.assembledMark.emplace(p.device);
        else
#endif
        {
            detail::synchronize(p.device);
            p.st.assembleMs = msSince(p.t0);
        }
    }
    p.checkStop();
    // The last block: global positions, attends to everything before it.
    const std::int64_t last = p.last, n = p.n;
    p.hidden.push_back(p.mass.forward(p.tf, p.kv, {p.ids.narrow(0, last, n - last), positions(last, n, p.device), last, 0}));
    p.st.prefillFlops += forwardFlops(c, n - last, attendedPairs(last, n - last, 0, window), 0);
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
        const at::Tensor h = p.req.mode == AttentionMode::Full ? p.hidden.back().narrow(0, p.last, p.n - p.last) : p.hidden.back();
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

} // namespace

RunResult Runner::run(const RunRequest& req, const Progress& progress) const
{
    c10::NoGradGuard noGrad;
    const Model::Impl& impl = state_->model.impl();
    const detail::Transformer& tf = *impl.transformer;
    const ModelConfig& c = impl.config;
    checkRequest(req, c);
    const auto n = static_cast<std::int64_t>(req.ids.size());
    std::vector<std::int64_t> blocks = normalizeBlocks(req.blocks, n);

    RunResult result;
    RunStats& st = result.stats;
    st.tokens = n;
    st.blocks = static_cast<std::int64_t>(blocks.size());
    st.fullFlops = forwardFlops(c, n, attendedPairs(0, n, 0, c.slidingWindow), 1);
    RunCapture mass(req, c, blocks, n, tf.device());
    const std::int64_t last = blocks.back();
    Pass p{req, progress, impl, tf, c, tf.device(), std::move(blocks), n, last, st, std::move(mass), Clock::now(), {}, {}, {}};
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    if (p.device.is_cuda())
        p.startMark.emplace(p.device);
#endif
    std::vector<std::int64_t> ids64(req.ids.begin(), req.ids.end());
    p.ids = at::tensor(ids64, at::TensorOptions().dtype(at::kLong)).to(p.device); // [n]
    p.kv = detail::KvBuffer(c, n + std::max<std::int64_t>(req.maxNewTokens, 1), tf.options());

    if (req.mode == AttentionMode::Full)
        prefillFull(p);
    else
        prefillBlocks(p, *state_->cache);
    detail::synchronize(p.device);
    st.prefillMs = msSince(p.t0);
#if BLOCKLENS_HAVE_KERNELS_BRIDGE
    if (p.startMark && p.assembledMark)
        st.assembleMs = p.assembledMark->msSince(*p.startMark);
#endif

    // The first generated token: the last position's logits.
    const at::Tensor& tail = p.hidden.back();                            // [rows, hidden]
    const at::Tensor lastLogits = tf.logits(tail.narrow(0, tail.size(0) - 1, 1)); // [1, vocab]
    requireFinite(lastLogits, "the last prompt position", impl.directory);
    TokenPicker pick(req);
    const std::int32_t next = pick(lastLogits);
    st.ttftMs = msSince(p.t0);
    st.prefillFlops.lmHead += forwardFlops(c, 0, 0, 1).lmHead;

    collectOutputs(p, lastLogits, result);
    p.mass.finish(result.attention, p.blocks, n);
    const std::int64_t fed = generate(p, pick, next, result);
    st.generatedTokens = static_cast<std::int64_t>(result.generated.size());
    st.kvBytes = p.kv.bytesPerToken() * static_cast<std::uint64_t>(fed);
    return result;
}

} // namespace blocklens::engine
