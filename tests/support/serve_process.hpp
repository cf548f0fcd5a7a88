#pragma once
// A real `blocklens-cli serve` process for the tests of issue 22: started on a free loopback port
// (--port 0) and stopped when the object goes; url() is read from the line it prints once ready.
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>

#include <fstream>
#include <string>

namespace blocklens::test {

class ServeProcess {
public:
    // `args` after "serve" (--model DIR, --token-file F, ...); waits up to a minute for it to listen.
    explicit ServeProcess(const QStringList& args)
    {
        process_.setProgram(QStringLiteral(BLOCKLENS_CLI_PATH));
        process_.setArguments(QStringList{QStringLiteral("serve"), QStringLiteral("--port"), QStringLiteral("0")} + args);
        process_.start();
        QString out;
        const QRegularExpression listening(QStringLiteral("listening on (http://[^ ]+)"));
        while (process_.state() != QProcess::NotRunning && process_.waitForReadyRead(60000)) {
            out += QString::fromUtf8(process_.readAllStandardOutput());
            const auto m = listening.match(out);
            if (m.hasMatch()) {
                url_ = m.captured(1).toStdString();
                return;
            }
        }
        error_ = QString::fromUtf8(process_.readAllStandardError()).toStdString();
    }
    ~ServeProcess()
    {
        process_.terminate();
        if (!process_.waitForFinished(10000))
            process_.kill();
        process_.waitForFinished(5000);
    }
    bool ok() const { return !url_.empty(); }
    const std::string& url() const { return url_; }
    const std::string& error() const { return error_; }
    bool running() const { return process_.state() == QProcess::Running; }
    qint64 pid() const { return process_.processId(); }
    // Resident memory of the server in kB (VmRSS), 0 when unreadable.
    long rssKb() const
    {
        std::ifstream status("/proc/" + std::to_string(pid()) + "/status");
        std::string line;
        while (std::getline(status, line))
            if (line.rfind("VmRSS:", 0) == 0)
                return std::stol(line.substr(6));
        return 0;
    }

private:
    QProcess process_;
    std::string url_, error_;
};

} // namespace blocklens::test
