// JSONL dataset records: every line of the input through the record parser. A record that parses
// must survive formatDatasetRecord and parse back to the same text and boundaries.
#include "fuzz_util.hpp"

#include "document/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    const auto lines = fuzz::split(fuzz::bytes(data, size), '\n');
    for (std::size_t i = 0; i < lines.size(); ++i) {
        fuzz::onlyProjectErrors("parseDatasetRecord", [&] {
            const Document doc = parseDatasetRecord(lines[i], static_cast<std::int64_t>(i + 1), "fuzz.jsonl");
            for (const auto form : {RecordForm::Record, RecordForm::Chunks}) {
                const std::string written = formatDatasetRecord(doc, doc.reference(), form);
                Document again;
                try {
                    again = parseDatasetRecord(written, 1, "written back");
                } catch (const Error& e) {
                    fuzz::fail("formatDatasetRecord", std::string("its output does not parse: ") + e.what()
                                                          + "\n" + written);
                }
                if (again.text() != doc.text())
                    fuzz::fail("formatDatasetRecord", "written back, the text differs:\n" + written);
                if (form == RecordForm::Record && again.reference() != doc.reference())
                    fuzz::fail("formatDatasetRecord", "written back, the boundaries differ:\n" + written);
            }
        });
    }
    return 0;
}
