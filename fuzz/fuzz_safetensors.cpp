// The safetensors reader: any bytes as a .safetensors file (8-byte header length, JSON header,
// data). A file that opens must keep every tensor inside the file, and reading any float tensor
// must work.
#include "fuzz_util.hpp"

#include "engine/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace blocklens;
    const auto path = fuzz::writeTempFile("model.safetensors", fuzz::bytes(data, size));
    fuzz::onlyProjectErrors("SafetensorsFile::open", [&] {
        const auto file = engine::SafetensorsFile::open(path);
        for (const auto& t : file.tensors()) {
            if (t.begin > t.end || t.end > file.fileSize())
                fuzz::fail("SafetensorsFile::open", "tensor '" + t.name + "' lies outside the file");
            const auto raw = file.bytes(t);
            if (raw.size() != t.bytes())
                fuzz::fail("SafetensorsFile::bytes", "tensor '" + t.name + "' has the wrong byte count");
            if (t.dtype)
                (void)file.toFloat(t);
            else
                fuzz::onlyProjectErrors("SafetensorsFile::floatDType", [&] { (void)file.floatDType(t); });
        }
        (void)file.metadata();
    });
    return 0;
}
