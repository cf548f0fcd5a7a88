#include "net/peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace blocklens::net {
namespace {

// The textual address and port of a socket address, as httplib writes them.
bool addressOf(const sockaddr_storage& a, std::string& ip, int& port)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
        inet_ntop(AF_INET, &v4.sin_addr, buf, sizeof buf);
        port = ntohs(v4.sin_port);
    } else if (a.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
        inet_ntop(AF_INET6, &v6.sin6_addr, buf, sizeof buf);
        port = ntohs(v6.sin6_port);
    } else
        return false;
    ip = buf;
    return true;
}

} // namespace

PeerWatch::PeerWatch(const std::string& remoteAddr, int remotePort, int localPort)
{
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
        int fd = -1;
        try {
            fd = std::stoi(entry.path().filename().string());
        } catch (...) {
            continue;
        }
        sockaddr_storage peer{}, local{};
        socklen_t pl = sizeof peer, ll = sizeof local;
        if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0)
            continue;
        std::string pip, lip;
        int pport = 0, lport = 0;
        if (addressOf(peer, pip, pport) && addressOf(local, lip, lport) && pport == remotePort && lport == localPort && pip == remoteAddr) {
            fd_ = fd;
            return;
        }
    }
}

bool PeerWatch::gone() const
{
    if (fd_ < 0)
        return false;
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        return true;
    char c;
    const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

} // namespace blocklens::net
