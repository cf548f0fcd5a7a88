#pragma once
// The adjudication feature (issue 21): Segment > Adjudicate Dataset (Ctrl+Shift+J) shows the
// adjudication view (adjudicationDock) over the dataset on screen: its documents that several
// annotators segmented, most disagreed first, and their contested boundaries to accept or reject.
// The reviewer is settingsAnnotator() (workspace_gateway.hpp).
#include <QObject>

namespace blocklens::ui {

class AdjudicationView;
class FeatureHost;
class Workbench;

class AdjudicationFeature : public QObject {
    Q_OBJECT
public:
    AdjudicationFeature(FeatureHost& host, Workbench& workbench);

    AdjudicationView* view() const { return view_; } // null without a workspace

private:
    void adjudicateDatasetOnScreen();

    FeatureHost& host_;
    Workbench& workbench_;
    AdjudicationView* view_ = nullptr;
};

} // namespace blocklens::ui
