#pragma once
// The adjudication feature (issue 21): Segment > Adjudicate Dataset (Ctrl+Shift+J) shows the
// adjudication view (adjudicationDock) over the dataset on screen: its documents that several
// annotators segmented, most disagreed first, and their contested boundaries to accept or reject.
// The reviewer is the annotator named in the settings (key "annotator"), else $USER.
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

// The annotator named in the settings ("annotator"), else $USER, else "annotator".
QString settingsAnnotator();

} // namespace blocklens::ui
