#include "inference/run_format.hpp"

#include "engine/memory.hpp"

#include <cmath>

namespace blocklens::ui::display {

QString formatMs(double ms)
{
    const int decimals = ms < 10 ? 2 : ms < 100 ? 1 : 0;
    return QStringLiteral("%1 ms").arg(ms, 0, 'f', decimals);
}

QString formatFlops(double flops)
{
    static const char* units[] = {"FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP"};
    int u = 0;
    while (std::abs(flops) >= 1000 && u < 5) {
        flops /= 1000;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(flops, 0, 'f', flops < 10 ? 2 : flops < 100 ? 1 : 0).arg(QLatin1String(units[u]));
}

QString formatKvBytes(std::uint64_t b)
{
    return QString::fromStdString(engine::formatBytes(b));
}

QString formatPercent(double fraction)
{
    return QStringLiteral("%1%").arg(100 * fraction, 0, 'f', 1);
}

QString formatKl(double nats)
{
    return QStringLiteral("%1 nats").arg(nats, 0, 'g', 3);
}

} // namespace blocklens::ui::display
