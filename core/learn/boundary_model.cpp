#include "learn/boundary_model.hpp"

#include "document/document.hpp"
#include "util/error.hpp"
#include "util/json_input.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <unordered_map>

namespace blocklens::learn {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

[[noreturn]] void fail(const std::string& source, const std::string& item, const std::string& message)
{
    throw Error(message, {.file = source, .item = item});
}

const json& field(const json& j, const std::string& name, const std::string& source, const std::string& where = {})
{
    const auto it = j.find(name);
    if (it == j.end())
        fail(source, where.empty() ? name : where + "." + name, "missing");
    return *it;
}

std::vector<float> floats(const json& j, const std::string& source, const std::string& item)
{
    if (!j.is_array())
        fail(source, item, "must be an array of numbers");
    std::vector<float> out;
    out.reserve(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) {
        if (!j[i].is_number())
            fail(source, item + "[" + std::to_string(i) + "]", "must be a number");
        const double v = j[i].get<double>();
        if (!std::isfinite(v) || std::abs(v) > 3.0e38)
            fail(source, item + "[" + std::to_string(i) + "]", "must be a finite number");
        out.push_back(static_cast<float>(v));
    }
    return out;
}

// 5 significant digits: the file stays small; logits move by about 1e-4.
double rounded(float v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.5g", static_cast<double>(v));
    return std::strtod(buf, nullptr);
}

ojson array(const std::vector<float>& v, std::size_t begin = 0, std::size_t count = static_cast<std::size_t>(-1))
{
    ojson a = ojson::array();
    const std::size_t end = count == static_cast<std::size_t>(-1) ? v.size() : begin + count;
    for (std::size_t i = begin; i < end; ++i)
        a.push_back(rounded(v[i]));
    return a;
}

} // namespace

void BoundaryModel::validate(const std::string& source) const
{
    if (features.empty())
        fail(source, "features", "the model has no features");
    if (mean.size() != features.size() || scale.size() != features.size())
        fail(source, "normalization", "needs one mean and one scale per feature (" + std::to_string(features.size())
                                          + " features, " + std::to_string(mean.size()) + " means, "
                                          + std::to_string(scale.size()) + " scales)");
    for (std::size_t i = 0; i < scale.size(); ++i)
        if (!(scale[i] > 0) || !std::isfinite(scale[i]) || !std::isfinite(mean[i]))
            fail(source, "normalization.scale[" + std::to_string(i) + "]", "must be a finite number above 0");
    if (layers.empty())
        fail(source, "layers", "the model has no layers");
    std::size_t in = features.size();
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const DenseLayer& layer = layers[l];
        const std::string item = "layers[" + std::to_string(l) + "]";
        if (layer.in != in)
            fail(source, item, "takes " + std::to_string(layer.in) + " inputs, the layer before gives " + std::to_string(in));
        if (layer.out == 0 || layer.weight.size() != layer.in * layer.out || layer.bias.size() != layer.out)
            fail(source, item, "weight must be [out][in] and bias [out]");
        for (float w : layer.weight)
            if (!std::isfinite(w))
                fail(source, item + ".weight", "must hold finite numbers");
        for (float b : layer.bias)
            if (!std::isfinite(b))
                fail(source, item + ".bias", "must hold finite numbers");
        in = layer.out;
    }
    if (in != 1)
        fail(source, "layers", "the last layer must have one output (the boundary logit), it has " + std::to_string(in));
    if (activation != "tanh" && activation != "relu")
        fail(source, "activation", "unknown activation '" + activation + "' (known: tanh, relu)");
    if (!std::isfinite(scoreOffset))
        fail(source, "score_offset", "must be a finite number");
    if (!(scoreTemperature > 0) || !std::isfinite(scoreTemperature))
        fail(source, "score_temperature", "must be a finite number above 0");
    (void)featureColumns(); // names this build computes
}

std::vector<std::size_t> BoundaryModel::featureColumns() const
{
    const auto names = allFeatureNames(true); // language-model columns follow the others
    std::unordered_map<std::string_view, std::size_t> column;
    for (std::size_t i = 0; i < names.size(); ++i)
        column.emplace(names[i], i);
    std::vector<std::size_t> out;
    out.reserve(features.size());
    for (std::size_t i = 0; i < features.size(); ++i) {
        const auto it = column.find(features[i]);
        if (it == column.end())
            throw Error("the model uses the feature '" + features[i]
                            + "', which this build of BlockLens does not compute (retrain the model with this build)",
                        {.item = "features[" + std::to_string(i) + "]"});
        out.push_back(it->second);
    }
    return out;
}

BoundaryModel BoundaryModel::fromJson(const json& j, const std::string& source)
{
    if (!j.is_object())
        fail(source, "", "not a learned segmenter model (expected a JSON object)");
    const auto fmt = j.find("format");
    if (fmt == j.end() || !fmt->is_string() || fmt->get<std::string>() != kModelFormat)
        fail(source, "format", "not a learned segmenter model (expected \"format\": \"" + std::string(kModelFormat) + "\")");
    const json& version = field(j, "version", source);
    if (!version.is_number_integer() || version.get<int>() != kModelVersion)
        fail(source, "version", "model version " + version.dump() + " is not supported (this build reads version "
                                    + std::to_string(kModelVersion) + ")");
    BoundaryModel m;
    const json& names = field(j, "features", source);
    if (!names.is_array())
        fail(source, "features", "must be an array of feature names");
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!names[i].is_string())
            fail(source, "features[" + std::to_string(i) + "]", "must be a string");
        m.features.push_back(names[i].get<std::string>());
    }
    const json& norm = field(j, "normalization", source);
    m.mean = floats(field(norm, "mean", source, "normalization"), source, "normalization.mean");
    m.scale = floats(field(norm, "scale", source, "normalization"), source, "normalization.scale");
    const json& layers = field(j, "layers", source);
    if (!layers.is_array())
        fail(source, "layers", "must be an array of layers");
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const std::string item = "layers[" + std::to_string(l) + "]";
        const json& w = field(layers[l], "weight", source, item);
        if (!w.is_array() || w.empty())
            fail(source, item + ".weight", "must be a non-empty array of rows");
        DenseLayer layer;
        layer.out = w.size();
        for (std::size_t r = 0; r < w.size(); ++r) {
            const auto row = floats(w[r], source, item + ".weight[" + std::to_string(r) + "]");
            if (r == 0)
                layer.in = row.size();
            else if (row.size() != layer.in)
                fail(source, item + ".weight[" + std::to_string(r) + "]", "rows must have the same length");
            layer.weight.insert(layer.weight.end(), row.begin(), row.end());
        }
        layer.bias = floats(field(layers[l], "bias", source, item), source, item + ".bias");
        m.layers.push_back(std::move(layer));
    }
    if (const auto a = j.find("activation"); a != j.end()) {
        if (!a->is_string())
            fail(source, "activation", "must be a string");
        m.activation = a->get<std::string>();
    }
    if (const auto o = j.find("score_offset"); o != j.end()) {
        if (!o->is_number())
            fail(source, "score_offset", "must be a number");
        m.scoreOffset = o->get<double>();
    }
    if (const auto t = j.find("score_temperature"); t != j.end()) {
        if (!t->is_number())
            fail(source, "score_temperature", "must be a number");
        m.scoreTemperature = t->get<double>();
    }
    if (const auto t = j.find("training"); t != j.end())
        m.training = ojson::parse(t->dump());
    try {
        m.validate(source);
    } catch (const Error& e) {
        if (!e.context().file.empty() || source.empty())
            throw;
        throw Error(e.message(), {.file = source, .item = e.context().item});
    }
    return m;
}

BoundaryModel BoundaryModel::load(const std::filesystem::path& path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw Error("the learned segmenter's model file does not exist", {.file = path.string()});
    if (std::filesystem::is_directory(path, ec))
        throw Error("is a directory; expected the model file (learned.json) inside it", {.file = path.string()});
    const std::string bytes = readFileBytes(path, 64ull << 20);
    return fromJson(parseJsonInput(bytes, {.file = path.string()}), path.string());
}

ojson BoundaryModel::toJson() const
{
    ojson j;
    j["format"] = std::string(kModelFormat);
    j["version"] = kModelVersion;
    j["features"] = features;
    j["normalization"] = {{"mean", array(mean)}, {"scale", array(scale)}};
    ojson ls = ojson::array();
    for (const auto& layer : layers) {
        ojson w = ojson::array();
        for (std::size_t r = 0; r < layer.out; ++r)
            w.push_back(array(layer.weight, r * layer.in, layer.in));
        ls.push_back({{"weight", w}, {"bias", array(layer.bias)}});
    }
    j["layers"] = ls;
    j["activation"] = activation;
    j["score_offset"] = rounded(static_cast<float>(scoreOffset));
    j["score_temperature"] = rounded(static_cast<float>(scoreTemperature));
    j["training"] = training;
    return j;
}

void BoundaryModel::save(const std::filesystem::path& path) const
{
    validate(path.string());
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            throw Error("cannot write the model file", {.file = tmp.string()});
        // One line per top-level field, each value compact: small, and still readable with jq.
        const ojson j = toJson();
        out << "{\n";
        bool first = true;
        for (const auto& [key, value] : j.items()) {
            out << (first ? "" : ",\n") << ojson(key).dump() << ": " << value.dump();
            first = false;
        }
        out << "\n}\n";
        out.flush();
        if (!out)
            throw Error("writing the model file failed (disk full?)", {.file = tmp.string()});
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        throw Error("cannot move the model file into place: " + ec.message(), {.file = path.string()});
}

bool BoundaryModel::usesLanguageModel() const
{
    const auto lm = lmFeatureNames();
    return std::any_of(features.begin(), features.end(),
                       [&](const std::string& f) { return std::find(lm.begin(), lm.end(), f) != lm.end(); });
}

std::vector<double> BoundaryModel::logits(const FeatureMatrix& x) const
{
    const auto cols = featureColumns();
    for (std::size_t c : cols)
        if (x.rows > 0 && c >= x.cols)
            throw Error("the learned segmenter's model uses language-model features ('" + std::string(allFeatureNames(true)[c])
                        + "'), but no language model was given to compute them");
    std::vector<double> out(x.rows, 0.0);
    std::size_t widest = features.size();
    for (const auto& l : layers)
        widest = std::max(widest, l.out);
    std::vector<float> a(widest), b(widest);
    const bool relu = activation == "relu";
    for (std::size_t r = 0; r < x.rows; ++r) {
        const float* row = x.row(r);
        for (std::size_t f = 0; f < cols.size(); ++f)
            a[f] = (row[cols[f]] - mean[f]) / scale[f];
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const DenseLayer& layer = layers[l];
            const bool last = l + 1 == layers.size();
            for (std::size_t o = 0; o < layer.out; ++o) {
                const float* w = layer.weight.data() + o * layer.in;
                // Eight partial sums, so the compiler can keep them in one vector register.
                float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                std::size_t k = 0;
                for (; k + 8 <= layer.in; k += 8)
                    for (std::size_t u = 0; u < 8; ++u)
                        part[u] += w[k + u] * a[k + u];
                float s = layer.bias[o];
                for (; k < layer.in; ++k)
                    s += w[k] * a[k];
                s += ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                if (!last)
                    s = relu ? std::max(0.0f, s) : std::tanh(s);
                b[o] = s;
            }
            std::swap(a, b);
        }
        out[r] = a[0];
    }
    return out;
}

std::vector<double> BoundaryModel::scores(const FeatureMatrix& x) const
{
    auto s = logits(x);
    for (double& v : s)
        v = 1.0 / (1.0 + std::exp(-(v - scoreOffset) / scoreTemperature));
    return s;
}

std::size_t BoundaryModel::parameterCount() const
{
    std::size_t n = 0;
    for (const auto& l : layers)
        n += l.weight.size() + l.bias.size();
    return n;
}

} // namespace blocklens::learn
