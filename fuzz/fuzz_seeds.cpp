// Writes the seed corpora of every harness, made from the project's own fixtures at build time
// (so no large binary seeds are committed):
//   fuzz_seeds OUT_DIR      -> OUT_DIR/<harness>/<seed files>
// - tokenizer_json: the demo tokenizer and the Llama 2 / Llama 3 / Qwen3 fixtures, each cut down
//   to its first few hundred tokens, a few added tokens and the merges among them (the real files are 0.4-11 MB,
//   far above a useful -max_len), every other field as published.
// - encode: each text of tests/fixtures/tokenizers/texts.json (cut to 4 KB) under each tokenizer.
// - safetensors: the demo model and the engine fixtures with every dimension cut to 2 (names,
//   dtypes, ranks, metadata and the first bytes of each tensor as published).
// - model_config: the demo model's and the engine fixtures' config.json.
// - dataset_record, import: the texts as dataset records (record and chunks form) with a
//   boundary at each line start.
// - cli_args: every command with each of its options given a value, from its own --help.
// Hand-made seeds for shapes the fixtures lack are committed in fuzz/seeds/<harness>/.
#include "cli/command.hpp"
#include "document/dataset.hpp"
#include "engine/safetensors.hpp"
#include "tokenizer/tokenizer.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace {

const fs::path kSource = BLOCKLENS_SOURCE_DIR;
const fs::path kFixtures = BLOCKLENS_FIXTURES_DIR;

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeSeed(const fs::path& dir, const std::string& name, std::string_view content)
{
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out)
        throw std::runtime_error("cannot write " + (dir / name).string());
}

struct NamedTokenizer {
    std::string name;
    fs::path path;
};

std::vector<NamedTokenizer> tokenizerFiles()
{
    return {{"demo", kSource / "resources/models/demo/tokenizer.json"},
            {"llama3", kFixtures / "tokenizers/llama3/tokenizer.json"},
            {"qwen3", kFixtures / "tokenizers/qwen3/tokenizer.json"},
            {"llama2", kFixtures / "tokenizers/llama2/tokenizer.json"}};
}

// The first `keep` vocabulary entries, the first added tokens, and the merges whose parts and
// result are all kept.
std::string reducedTokenizer(const std::string& json, std::int64_t keep)
{
    auto t = nlohmann::json::parse(json); // not ordered_json: its lookups are linear, and vocabularies are large
    auto& model = t["model"];
    std::set<std::string> kept;
    nlohmann::json vocab = nlohmann::json::object();
    for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it)
        if (it.value().get<std::int64_t>() < keep) {
            vocab[it.key()] = it.value();
            kept.insert(it.key());
        }
    model["vocab"] = vocab;
    nlohmann::json merges = nlohmann::json::array();
    for (const auto& m : model["merges"]) {
        std::string a, b;
        if (m.is_array()) {
            a = m[0].get<std::string>();
            b = m[1].get<std::string>();
        } else {
            const auto s = m.get<std::string>();
            const auto space = s.find(' ');
            a = s.substr(0, space);
            b = space == std::string::npos ? "" : s.substr(space + 1);
        }
        if (kept.count(a) && kept.count(b) && kept.count(a + b))
            merges.push_back(m);
    }
    model["merges"] = merges;
    // Llama 3 has 256 reserved special tokens: a few show the shape.
    if (t["added_tokens"].is_array() && t["added_tokens"].size() > 24)
        t["added_tokens"].erase(t["added_tokens"].begin() + 24, t["added_tokens"].end());
    return t.dump(1);
}

void tokenizerSeeds(const fs::path& out)
{
    for (const auto& [name, path] : tokenizerFiles()) {
        const std::string reduced = reducedTokenizer(readFile(path), 400);
        try {
            (void)blocklens::Tokenizer::fromJson(reduced, name);
        } catch (const std::exception& e) {
            std::cerr << "fuzz_seeds: note: the cut-down " << name << " tokenizer does not load: " << e.what() << "\n";
        }
        writeSeed(out / "tokenizer_json", name + ".json", reduced);
    }
}

std::vector<std::pair<std::string, std::string>> texts()
{
    std::vector<std::pair<std::string, std::string>> out;
    const auto j = nlohmann::json::parse(readFile(kSource / "tests/fixtures/tokenizers/texts.json"));
    for (auto it = j.begin(); it != j.end(); ++it) {
        std::string text = it.value().get<std::string>();
        if (text.size() > 4000) { // cut at a code-point boundary
            std::size_t cut = 4000;
            while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
                --cut;
            text.resize(cut);
        }
        out.emplace_back(it.key(), text);
    }
    return out;
}

void encodeSeeds(const fs::path& out)
{
    const auto all = texts();
    const std::size_t tokenizers = tokenizerFiles().size();
    for (const auto& [name, text] : all)
        for (std::size_t selector = 0; selector < 2 * tokenizers; ++selector)
            writeSeed(out / "encode", name + "-" + std::to_string(selector), std::string(1, char(selector)) + text);
}

void datasetSeeds(const fs::path& out)
{
    using namespace blocklens;
    const auto all = texts();
    std::string file;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& [name, text] = all[i];
        std::vector<Boundary> boundaries;
        std::size_t cp = 0;
        for (std::size_t b = 0; b < text.size(); ++b) {
            if ((static_cast<unsigned char>(text[b]) & 0xC0) != 0x80)
                ++cp;
            if (text[b] == '\n' && b + 1 < text.size())
                boundaries.push_back({cp, boundaries.size() % 3 == 0 ? 2 : 1});
        }
        DocumentMeta meta;
        meta.id = name;
        meta.category = i % 2 ? "prose" : "code";
        meta.lang = "en";
        const Document doc(text, meta, boundaries);
        const auto form = i % 2 ? RecordForm::Chunks : RecordForm::Record;
        const std::string line = formatDatasetRecord(doc, boundaries, form);
        writeSeed(out / "dataset_record", name + ".jsonl", line + "\n");
        writeSeed(out / "import", name + ".jsonl", line + "\n");
        if (file.size() + line.size() < 6000)
            file += line + "\n";
    }
    writeSeed(out / "import", "several.jsonl", file);
}

void safetensorsSeeds(const fs::path& out)
{
    using namespace blocklens::engine;
    std::vector<std::pair<std::string, fs::path>> files = {{"demo", kSource / "resources/models/demo/model.safetensors"}};
    for (const auto& entry : fs::directory_iterator(kFixtures / "engine"))
        if (entry.is_directory())
            for (const auto& f : fs::directory_iterator(entry.path()))
                if (f.path().extension() == ".safetensors")
                    files.emplace_back(entry.path().filename().string() + "-" + f.path().stem().string(), f.path());
    for (const auto& [name, path] : files) {
        const auto file = SafetensorsFile::open(path);
        std::vector<std::vector<std::byte>> data;
        std::vector<TensorToWrite> tensors;
        for (const auto& t : file.tensors()) {
            if (!t.dtype)
                continue;
            TensorToWrite w{t.name, *t.dtype, t.shape, {}};
            std::int64_t numel = 1;
            for (auto& d : w.shape)
                numel *= (d = std::min<std::int64_t>(d, 2));
            const auto raw = file.bytes(t);
            data.emplace_back(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(numel * byteSize(*t.dtype)));
            tensors.push_back(w);
        }
        for (std::size_t i = 0; i < tensors.size(); ++i)
            tensors[i].bytes = data[i];
        const fs::path seed = out / "safetensors" / (name + ".safetensors");
        fs::create_directories(seed.parent_path());
        writeSafetensors(seed, tensors, file.metadata());
    }
}

void configSeeds(const fs::path& out)
{
    writeSeed(out / "model_config", "demo.json", readFile(kSource / "resources/models/demo/config.json"));
    for (const auto& entry : fs::directory_iterator(kFixtures / "engine"))
        if (fs::exists(entry.path() / "config.json"))
            writeSeed(out / "model_config", entry.path().filename().string() + ".json",
                      readFile(entry.path() / "config.json"));
}

void cliSeeds(const fs::path& out)
{
    using namespace blocklens::cli;
    for (const auto& c : allCommands()) {
        std::string seed = c.name;
        std::istringstream help(c.spec.help("blocklens-cli " + c.name));
        for (std::string line; std::getline(help, line);) {
            // "  --name VALUE   help" or "  --flag   help"
            if (line.rfind("  --", 0) != 0 || line.rfind("  --help", 0) == 0)
                continue;
            std::istringstream words(line);
            std::string option, placeholder;
            words >> option >> placeholder;
            seed += '\0' + option;
            if (!placeholder.empty() && std::isupper(static_cast<unsigned char>(placeholder[0])))
                seed += std::string(1, '\0') + "1";
        }
        seed += std::string(1, '\0') + "input.txt";
        writeSeed(out / "cli_args", c.name, seed);
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::cerr << "usage: fuzz_seeds OUT_DIR\n";
        return 2;
    }
    const fs::path out = argv[1];
    try {
        tokenizerSeeds(out);
        encodeSeeds(out);
        datasetSeeds(out);
        safetensorsSeeds(out);
        configSeeds(out);
        cliSeeds(out);
    } catch (const std::exception& e) {
        std::cerr << "fuzz_seeds: error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
