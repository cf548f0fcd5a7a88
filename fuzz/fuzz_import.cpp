// The workspace's import path: any bytes as a JSONL file, loaded as `import` loads it and imported
// into a temporary workspace. A dataset that imports must list as many rows as it had records.
// One workspace serves many inputs (creating one costs more than an import); it is started again
// every few hundred imports so it stays small.
#include "fuzz_util.hpp"

#include "document/dataset.hpp"
#include "store/store.hpp"

#include <optional>

namespace {

std::optional<blocklens::store::Store>& workspace()
{
    static std::optional<blocklens::store::Store> store;
    return store;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    static std::size_t imports = 0;
    const auto dbPath = fuzz::tempDir() / "workspace.db";
    if (imports % 500 == 0) {
        workspace().reset();
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(dbPath.string() + suffix, ec);
        store::OpenOptions o;
        o.quickCheck = false;
        workspace().emplace(store::Store::open(dbPath, o));
    }
    ++imports;
    const auto path = fuzz::writeTempFile("dataset.jsonl", fuzz::bytes(data, size));
    const bool replaceInvalid = size > 0 && data[0] % 2 == 1; // as `import --replace-invalid`
    fuzz::onlyProjectErrors("import", [&] {
        DatasetLoadOptions options;
        options.replaceInvalidUtf8 = replaceInvalid;
        const Dataset ds = loadDataset(path, options);
        store::ImportOptions opt;
        opt.name = "fuzz" + std::to_string(imports);
        const auto result = workspace()->importDataset(ds, opt);
        if (result.rows != ds.documents.size())
            fuzz::fail("Store::importDataset", "imported " + std::to_string(result.rows) + " rows of "
                                                   + std::to_string(ds.documents.size()));
        const auto rows = workspace()->datasetRows(result.datasetId);
        if (rows.size() != ds.documents.size())
            fuzz::fail("Store::datasetRows", "lists " + std::to_string(rows.size()) + " rows of "
                                                 + std::to_string(ds.documents.size()));
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (workspace()->loadDocument(rows[i].documentId).text() != ds.documents[i].text())
                fuzz::fail("Store::loadDocument", "row " + std::to_string(i) + " reads back another text");
    });
    return 0;
}
