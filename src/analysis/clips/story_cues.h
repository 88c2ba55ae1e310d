// What the words of one sentence say about whether it belongs to a story
// (something that happened, to someone, with something at stake, and what
// came of it) or to the housekeeping around it (greetings, thanks,
// logistics, announcements, sign-offs).
//
// Cues are word classes rather than phrases: past-tense verbs (regular
// "-ed" forms and the irregular ones), people acting (personal pronouns),
// anchors in time ("last spring", "two years ago", "that night"), stakes
// (disruption, loss, danger, emotion, money), turns ("but", "instead",
// "until", "realised") and resolutions ("the lesson", "since then", "that's
// why", "now we"); against them, talk about the talk (greetings, thanks,
// please, the agenda, links and dates, the future tense of plans). They
// work on unpunctuated lower-case recogniser output and tolerate a wrong
// word here and there: a sentence is judged by how many cues agree.
//
// English only; cheap and explainable. Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace cutroom::analysis {

struct StoryCues {
  int past = 0;          // past-tense verbs (not after has/have/will/be: reports, not events)
  bool actor = false;    // a person acts: I, we, she, he, they, someone, nobody
  bool anchor = false;   // anchored in time: "last spring", "years ago", "that night", "in june"
  int stakes = 0;        // disruption, loss, danger, emotion, money
  bool turn = false;     // "but", "instead", "until", "suddenly", "realised", "turned out"
  bool resolution = false;  // "the lesson", "since then", "that's why", "now we", "to this day"
  int housekeeping = 0;  // greeting, thanks, logistics, plans, sign-off cues
  bool greeting = false; // a greeting, thanks or sign-off (the talk's frame, never its content)
  // 0..1: how much the sentence reads as part of a story rather than
  // housekeeping (narration minus housekeeping, see story_cues.cc).
  double narrative = 0;
  // The cues found, for features and reasons ("past_tense", "stakes", ...).
  std::vector<std::string> names;
};

// text: the sentence as displayed (punctuation and case optional).
StoryCues AnalyseStory(const std::string& text);

}  // namespace cutroom::analysis
