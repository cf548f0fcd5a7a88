#pragma once
// The bar above the document for errors and notices (hidden until needed), with a close button
// and, where the message offers a remedy (e.g. open a file with invalid UTF-8 anyway), a button
// that runs it once.
#include <QWidget>

#include <functional>

class QLabel;
class QPushButton;

namespace blocklens::ui {

class Banner : public QWidget {
    Q_OBJECT
public:
    explicit Banner(QWidget* parent = nullptr);

    // Shows `message` in error or notice colours (light or dark, from the window's palette); with
    // actionText, a button that hides the banner and runs `action`.
    void showMessage(const QString& message, bool isError, const QString& actionText = {}, std::function<void()> action = {});
    QString text() const; // "" when hidden
    QPushButton* actionButton() const { return action_; } // hidden when the message offers none

private:
    QLabel* text_;
    QPushButton* action_;
    std::function<void()> callback_;
};

} // namespace blocklens::ui
