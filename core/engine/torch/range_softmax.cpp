#include "engine/torch/range_softmax.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include <immintrin.h>

// GCC 12 warns of an uninitialised operand inside its own masked-load intrinsics.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace blocklens::engine::detail {
namespace {

// exp(x) for x <= 0 (scores minus their row's max): x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a
// degree-6 polynomial (Cephes expf's coefficients), then times 2^n. Below -87.3 the result is
// under FLT_MIN: clamped there, where it adds nothing a float sum can hold.
constexpr float kExpLow = -87.3f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f; // ln 2 split in two, so n * kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;
// exp(r) = 1 + r + r^2 p(r), p's coefficients from the highest power down
constexpr float kPoly[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The three passes of a softmax row, per instruction set: the max of x[0, n); x[i] = exp(x[i] -
// shift) with their sum returned; x[i] *= factor.
struct Isa {
    float (*max)(const float* x, std::int64_t n);
    float (*expSum)(float* x, std::int64_t n, float shift);
    void (*scale)(float* x, std::int64_t n, float factor);
};

float maxScalar(const float* x, std::int64_t n)
{
    float m = kNegInf;
    for (std::int64_t i = 0; i < n; ++i)
        m = std::max(m, x[i]);
    return m;
}

float expSumScalar(float* x, std::int64_t n, float shift)
{
    float sum = 0;
    for (std::int64_t i = 0; i < n; ++i)
        sum += x[i] = std::exp(std::max(x[i] - shift, kExpLow));
    return sum;
}

void scaleScalar(float* x, std::int64_t n, float factor)
{
    for (std::int64_t i = 0; i < n; ++i)
        x[i] *= factor;
}

// AVX2: 8 lanes, the tail one value at a time through the same polynomial. The AVX2 and AVX-512
// functions take the same steps in each set's own intrinsics (a shared template would need one
// target attribute for both, and AVX-512 code must not reach an AVX2-only CPU).
__attribute__((target("avx2,fma"))) __m256 exp8(__m256 x)
{
    x = _mm256_max_ps(x, _mm256_set1_ps(kExpLow));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
    __m256 y = _mm256_setzero_ps();
    for (const float p : kPoly)
        y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(p));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    // 2^n from the exponent bits: n >= -126 after the clamp, so the biased exponent stays >= 1
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma"))) float lanes8(__m256 v, bool max)
{
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, v);
    float out = max ? kNegInf : 0.0f;
    for (const float x : lanes)
        out = max ? std::max(out, x) : out + x;
    return out;
}

__attribute__((target("avx2,fma"))) float maxAvx2(const float* x, std::int64_t n)
{
    std::int64_t i = 0;
    __m256 v = _mm256_set1_ps(kNegInf);
    for (; i + 8 <= n; i += 8)
        v = _mm256_max_ps(v, _mm256_loadu_ps(x + i));
    float m = lanes8(v, true);
    for (; i < n; ++i)
        m = std::max(m, x[i]);
    return m;
}

__attribute__((target("avx2,fma"))) float expSumAvx2(float* x, std::int64_t n, float shift)
{
    const __m256 s = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 y = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
        _mm256_storeu_ps(x + i, y);
        acc = _mm256_add_ps(acc, y);
    }
    float sum = lanes8(acc, false);
    for (; i < n; ++i)
        sum += x[i] = _mm256_cvtss_f32(exp8(_mm256_set1_ps(x[i] - shift)));
    return sum;
}

__attribute__((target("avx2,fma"))) void scaleAvx2(float* x, std::int64_t n, float factor)
{
    const __m256 f = _mm256_set1_ps(factor);
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), f));
    for (; i < n; ++i)
        x[i] *= factor;
}

// AVX-512: 16 lanes, the tail under a lane mask.
__attribute__((target("avx512f"))) __m512 exp16(__m512 x)
{
    x = _mm512_max_ps(x, _mm512_set1_ps(kExpLow));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
    __m512 y = _mm512_setzero_ps();
    for (const float p : kPoly)
        y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(p));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, n); // y * 2^n
}

__attribute__((target("avx512f"))) float lanes16(__m512 v, bool max)
{
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, v);
    float out = max ? kNegInf : 0.0f;
    for (const float x : lanes)
        out = max ? std::max(out, x) : out + x;
    return out;
}

__mmask16 tailMask(std::int64_t left) { return static_cast<__mmask16>((1u << left) - 1u); }

__attribute__((target("avx512f"))) float maxAvx512(const float* x, std::int64_t n)
{
    const __m512 negInf = _mm512_set1_ps(kNegInf);
    __m512 v = negInf;
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        v = _mm512_max_ps(v, _mm512_loadu_ps(x + i));
    if (i < n)
        v = _mm512_max_ps(v, _mm512_mask_loadu_ps(negInf, tailMask(n - i), x + i));
    return lanes16(v, true);
}

__attribute__((target("avx512f"))) float expSumAvx512(float* x, std::int64_t n, float shift)
{
    const __m512 s = _mm512_set1_ps(shift);
    __m512 acc = _mm512_setzero_ps();
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 y = exp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
        _mm512_storeu_ps(x + i, y);
        acc = _mm512_add_ps(acc, y);
    }
    if (i < n) {
        const __mmask16 m = tailMask(n - i);
        const __m512 y = exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(s, m, x + i), s));
        _mm512_mask_storeu_ps(x + i, m, y);
        acc = _mm512_mask_add_ps(acc, m, acc, y);
    }
    return lanes16(acc, false);
}

__attribute__((target("avx512f"))) void scaleAvx512(float* x, std::int64_t n, float factor)
{
    const __m512 f = _mm512_set1_ps(factor);
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), f));
    if (i < n) {
        const __mmask16 m = tailMask(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), f));
    }
}

constexpr Isa kScalar{maxScalar, expSumScalar, scaleScalar};
constexpr Isa kAvx2{maxAvx2, expSumAvx2, scaleAvx2};
constexpr Isa kAvx512{maxAvx512, expSumAvx512, scaleAvx512};

const Isa* isaNamed(std::string_view name)
{
    __builtin_cpu_init();
    if (name == "avx512" && __builtin_cpu_supports("avx512f"))
        return &kAvx512;
    if (name == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &kAvx2;
    if (name == "scalar")
        return &kScalar;
    return nullptr;
}

const Isa& bestIsa()
{
    static const Isa* chosen = isaNamed("avx512") ? isaNamed("avx512") : isaNamed("avx2") ? isaNamed("avx2") : &kScalar;
    return *chosen;
}

// A grain of rows worth about 32k values: small calls stay on the calling thread.
std::int64_t rowGrain(std::int64_t cols) { return std::max<std::int64_t>(1, (std::int64_t(1) << 15) / std::max<std::int64_t>(1, cols)); }

void rangesWith(const Isa& isa, float* data, std::int64_t matrices, std::int64_t rows, std::int64_t cols, const RowRange* ranges)
{
    at::parallel_for(0, matrices * rows, rowGrain(cols), [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t index = first; index < last; ++index) {
            float* row = data + index * cols;
            const RowRange& r = ranges[index % rows];
            const std::int64_t b = std::clamp<std::int64_t>(r.begin, 0, cols), e = std::clamp<std::int64_t>(r.end, b, cols);
            if (e > b) {
                const float sum = isa.expSum(row + b, e - b, isa.max(row + b, e - b));
                isa.scale(row + b, e - b, 1.0f / sum);
            }
            std::memset(row, 0, static_cast<std::size_t>(b) * sizeof(float));
            std::memset(row + e, 0, static_cast<std::size_t>(cols - e) * sizeof(float));
        }
    });
}

} // namespace

void softmaxInRowRanges(float* data, std::int64_t matrices, std::int64_t rows, std::int64_t cols, const RowRange* ranges)
{
    rangesWith(bestIsa(), data, matrices, rows, cols, ranges);
}

bool softmaxInRowRangesWith(const char* name, float* data, std::int64_t matrices, std::int64_t rows, std::int64_t cols,
                            const RowRange* ranges)
{
    const Isa* isa = isaNamed(name);
    if (!isa)
        return false;
    rangesWith(*isa, data, matrices, rows, cols, ranges);
    return true;
}

} // namespace blocklens::engine::detail
