#pragma once
// How run numbers are written in the side-by-side view (one place, so tests can check what is
// shown). In their own namespace: other views format the same quantities their own way.
#include <QString>

#include <cstdint>

namespace blocklens::ui::display {

QString formatMs(double ms);             // "412 ms", "38.2 ms", "3.41 ms"
QString formatFlops(double flops);       // "1.23 GFLOP", "845 MFLOP"
QString formatKvBytes(std::uint64_t b);  // engine::formatBytes
QString formatPercent(double fraction);  // "87.5%"
QString formatKl(double nats);           // "0.0123 nats"

} // namespace blocklens::ui::display
