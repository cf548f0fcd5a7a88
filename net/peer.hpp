#pragma once
// Whether the client of a request is still connected, from inside its handler (issue 22: a client
// that disconnects cancels its work). cpp-httplib 0.11 gives a handler no socket, so the socket is
// found among the process's descriptors by the connection's two addresses; it stays open, and
// the same, while the handler runs (httplib closes it only after the handler returns).
#include <string>

namespace blocklens::net {

class PeerWatch {
public:
    // -1 (never "gone") when no socket matches.
    PeerWatch(const std::string& remoteAddr, int remotePort, int localPort);
    // True once the client has closed or reset the connection.
    bool gone() const;

private:
    int fd_ = -1;
};

} // namespace blocklens::net
