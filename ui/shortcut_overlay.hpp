#pragma once
// A translucent panel over the window listing every keyboard shortcut (F1 or ?), built from the
// window's actions so it never goes out of date.
#include <QWidget>

namespace blocklens::ui {

class ShortcutOverlay : public QWidget {
    Q_OBJECT
public:
    explicit ShortcutOverlay(QWidget* parent);
    void showOver(const QList<QAction*>& actions); // actions with shortcuts, in menu order
    QStringList lines() const { return lines_; }   // "Ctrl+O  Open…", for tests

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    QStringList lines_;
    QList<std::pair<QString, QString>> entries_;
};

} // namespace blocklens::ui
